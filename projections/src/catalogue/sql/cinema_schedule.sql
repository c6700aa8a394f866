-- A cinema's schedule (排期) for one local day $2: every show of every hall, cancelled ones
-- too, by hall name and start, with its movie's title and each seat category's price and
-- availability band, as four arrays by category name.
SELECT s.show_id, s.movie_id, coalesce(m.title, '') AS title, s.starts_at, s.ends_at,
    s.cancelled, s.hall_id, h.name AS hall_name,
    k.categories, k.prices, k.currencies, k.statuses, k.ticket_prices
FROM catalogue_shows s
JOIN catalogue_halls h ON h.hall_id = s.hall_id
LEFT JOIN catalogue_movies m ON m.movie_id = s.movie_id
LEFT JOIN LATERAL (
    SELECT array_agg(category ORDER BY category) AS categories,
        array_agg(price_minor ORDER BY category) AS prices,
        array_agg(currency ORDER BY category) AS currencies,
        array_agg(availability_band(available, capacity) ORDER BY category) AS statuses,
        array_agg(ticket_prices ORDER BY category) AS ticket_prices
    FROM seat_map_categories WHERE show_id = s.show_id
) k ON true
WHERE s.cinema_id = $1 AND s.local_date = $2
ORDER BY h.name, h.hall_id, s.starts_at, s.show_id
