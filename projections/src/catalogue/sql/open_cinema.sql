-- A cinema opened in city $7.
INSERT INTO catalogue_cinemas (cinema_id, name, address, latitude, longitude, postal_code,
    city_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
