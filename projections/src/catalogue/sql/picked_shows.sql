-- The picked shows, each movie's in the order picked, with their cinema and hall and each
-- seat category's price and availability band (from the seat map), as four arrays by
-- category name.
SELECT p.movie_id, p.n, p.show_id, p.starts_at, p.ends_at, p.distance_km, c.cinema_id,
    c.city_id, c.name, c.address, c.latitude, c.longitude, c.postal_code, p.hall_id,
    h.name AS hall_name, k.categories, k.prices, k.currencies, k.statuses, k.ticket_prices
FROM picked p
JOIN catalogue_cinemas c ON c.cinema_id = p.cinema_id
JOIN catalogue_halls h ON h.hall_id = p.hall_id
LEFT JOIN LATERAL (
    SELECT array_agg(category) AS categories, array_agg(price_minor) AS prices,
        array_agg(currency) AS currencies,
        array_agg(availability_band(available, capacity)) AS statuses,
        array_agg(ticket_prices) AS ticket_prices
    -- In category order, from the key: one order for the five arrays, and no sort.
    FROM (SELECT * FROM seat_map_categories WHERE show_id = p.show_id ORDER BY category) c
) k ON true
ORDER BY p.movie_id, p.n
