-- A movie as the reports name it.
INSERT INTO report_movies (movie_id, title) VALUES ($1, $2)
ON CONFLICT (movie_id) DO UPDATE SET title = excluded.title
