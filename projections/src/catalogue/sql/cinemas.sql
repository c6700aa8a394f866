-- The cinemas not retired, of city $1 when given, by name.
SELECT cinema_id, city_id, name, address, latitude, longitude, postal_code
FROM catalogue_cinemas
WHERE NOT retired AND ($1::uuid IS NULL OR city_id = $1)
ORDER BY name, cinema_id
