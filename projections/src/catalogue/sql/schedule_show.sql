-- A show scheduled in a catalogue hall, with its cinema's city and its local date there
-- (nothing if the cinema is unknown; a show already known stays as it is).
INSERT INTO catalogue_shows (show_id, movie_id, cinema_id, hall_id, city_id, starts_at,
    ends_at, local_date)
SELECT $1, $2, c.cinema_id, $4, c.city_id, $5, $6, ($5 AT TIME ZONE t.time_zone)::date
FROM catalogue_cinemas c JOIN catalogue_cities t USING (city_id)
WHERE c.cinema_id = $3
ON CONFLICT (show_id) DO NOTHING
