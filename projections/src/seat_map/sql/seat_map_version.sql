-- The version of the show's stream its seat map reflects.
SELECT version FROM seat_map_shows WHERE show_id = $1
