-- A city, retired or not.
SELECT city_id, name, time_zone FROM catalogue_cities WHERE city_id = $1
