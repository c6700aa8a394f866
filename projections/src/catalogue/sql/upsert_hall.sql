-- A hall added or changed, with its layout, prices and how many seats the layout has.
INSERT INTO catalogue_halls (hall_id, cinema_id, name, layout, prices, capacity)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (hall_id) DO UPDATE SET name = $3, layout = $4, prices = $5, capacity = $6
