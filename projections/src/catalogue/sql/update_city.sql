UPDATE catalogue_cities SET name = $2, time_zone = $3 WHERE city_id = $1
