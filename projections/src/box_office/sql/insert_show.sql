-- A scheduled show: its place, its start in its city's time zone (UTC without a cinema),
-- its layout and prices; then an empty fact row per seat category of its layout, with the
-- category's capacity, and an empty funnel row.
WITH placed AS (
    INSERT INTO report_shows (show_id, movie_id, title, cinema_id, city_id, hall_id, starts_at,
        local_date, weekday, local_hour, currency, seat_ids, seat_categories, price_categories,
        prices_minor)
    SELECT $1, $2, $3, $4, c.city_id, $5, $6,
        (local.at)::date, extract(isodow FROM local.at)::smallint,
        extract(hour FROM local.at)::smallint, $7, $8, $9, $10, $11
    FROM (SELECT 1) one
    LEFT JOIN report_cinemas c ON c.cinema_id = $4
    LEFT JOIN report_cities ci ON ci.city_id = c.city_id
    CROSS JOIN LATERAL (SELECT $6::timestamptz AT TIME ZONE coalesce(ci.time_zone, 'UTC') AS at) local
    ON CONFLICT (show_id) DO NOTHING
    RETURNING *
), facts AS (
    INSERT INTO box_office_facts (show_id, category, movie_id, cinema_id, city_id, local_date,
        weekday, local_hour, starts_at, currency, capacity)
    SELECT p.show_id, seat.category, p.movie_id, p.cinema_id, p.city_id, p.local_date,
        p.weekday, p.local_hour, p.starts_at, p.currency, count(*)
    FROM placed p CROSS JOIN unnest(p.seat_categories) AS seat(category)
    GROUP BY p.show_id, seat.category, p.movie_id, p.cinema_id, p.city_id, p.local_date,
        p.weekday, p.local_hour, p.starts_at, p.currency
)
INSERT INTO box_office_funnel (show_id, movie_id, cinema_id, city_id, local_date, weekday,
    local_hour, starts_at)
SELECT show_id, movie_id, cinema_id, city_id, local_date, weekday, local_hour, starts_at
FROM placed
