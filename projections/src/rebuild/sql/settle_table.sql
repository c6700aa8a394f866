-- Settles the loaded shadow table $1 before it serves: visibility map and statistics, so
-- its first queries are planned and run as the live table's were.
SELECT format('VACUUM (ANALYZE) boxoffice_rebuild.%I', $1::text) AS statement
