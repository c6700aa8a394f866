UPDATE catalogue_cities SET retired = true WHERE city_id = $1
