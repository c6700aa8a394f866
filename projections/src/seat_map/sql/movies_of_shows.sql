-- The movie each of the given shows is of (unknown shows have no row).
SELECT show_id, movie_id FROM seat_map_shows WHERE show_id = ANY($1)
