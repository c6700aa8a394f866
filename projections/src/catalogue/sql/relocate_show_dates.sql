-- The local dates of a city's shows, in its (new) time zone $2.
UPDATE catalogue_shows SET local_date = (starts_at AT TIME ZONE $2)::date WHERE city_id = $1
