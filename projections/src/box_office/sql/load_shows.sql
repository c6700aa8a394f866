-- The place, layout and prices of the shows a batch sells on.
SELECT show_id, movie_id, cinema_id, city_id, currency, seat_ids, seat_categories, prices_minor,
    ticket_prices_minor
FROM report_shows WHERE show_id = ANY($1)
