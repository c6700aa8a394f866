-- The titles of the given movies (unknown movies have no row).
SELECT movie_id, title, original_title FROM catalogue_movies WHERE movie_id = ANY($1)
