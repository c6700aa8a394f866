-- A cinema's halls with their layouts, by name.
SELECT hall_id, name, capacity, retired, layout, prices FROM catalogue_halls
WHERE cinema_id = $1 ORDER BY name, hall_id
