INSERT INTO catalogue_cities (city_id, name, time_zone) VALUES ($1, $2, $3)
