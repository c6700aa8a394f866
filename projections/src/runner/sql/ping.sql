-- Answers at once if the database does.
SELECT 1
