-- One show as a client shows it before a sale: its seat map's times and counts, with the
-- catalogue's movie, cinema and hall when it was scheduled from the catalogue (NULL
-- otherwise), and each seat category's price and availability band, as four arrays by
-- category name.
SELECT s.show_id, s.movie_id, s.title AS show_title, s.starts_at, s.ends_at, s.cancelled,
    s.capacity, s.available, s.held, s.sold,
    m.movie_id AS catalogue_movie_id, m.title, m.original_title, m.description,
    m.duration_minutes, m.genres, m.language, m.country, m.release_date, m.rating, m.retired,
    c.cinema_id, c.city_id, c.name, c.address, c.latitude, c.longitude, c.postal_code,
    h.hall_id, h.name AS hall_name,
    k.categories, k.prices, k.currencies, k.statuses, k.ticket_prices
FROM seat_map_shows s
LEFT JOIN catalogue_shows cs ON cs.show_id = s.show_id
LEFT JOIN catalogue_cinemas c ON c.cinema_id = cs.cinema_id
LEFT JOIN catalogue_halls h ON h.hall_id = cs.hall_id
LEFT JOIN catalogue_movies m ON m.movie_id = s.movie_id
LEFT JOIN LATERAL (
    SELECT array_agg(category ORDER BY category) AS categories,
        array_agg(price_minor ORDER BY category) AS prices,
        array_agg(currency ORDER BY category) AS currencies,
        array_agg(availability_band(available, capacity) ORDER BY category) AS statuses,
        array_agg(ticket_prices ORDER BY category) AS ticket_prices
    FROM seat_map_categories WHERE show_id = s.show_id
) k ON true
WHERE s.show_id = $1
