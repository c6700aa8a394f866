-- The cities not retired, by name.
SELECT city_id, name, time_zone FROM catalogue_cities WHERE NOT retired
ORDER BY name, city_id
