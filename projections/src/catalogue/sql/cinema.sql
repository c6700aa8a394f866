-- A cinema, retired or not.
SELECT cinema_id, city_id, name, address, latitude, longitude, postal_code, retired
FROM catalogue_cinemas WHERE cinema_id = $1
