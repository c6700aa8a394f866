-- A cinema's details changed (it stays in its city).
UPDATE catalogue_cinemas SET name = $2, address = $3, latitude = $4, longitude = $5,
    postal_code = $6
WHERE cinema_id = $1
