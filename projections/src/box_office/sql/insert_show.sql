-- A scheduled show: its place, its start in its city's time zone (UTC without a cinema),
-- its layout and prices; then a fact row per seat category of its layout, with the
-- category's capacity, counted into the day's rollups per city and per movie, and an empty
-- funnel row.
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
), categories AS (
    SELECT p.*, seat.category, count(*)::int AS capacity,
        (seat.category = min(seat.category) OVER ())::int AS shows_first
    FROM placed p CROSS JOIN unnest(p.seat_categories) AS seat(category)
    GROUP BY p.show_id, p.movie_id, p.title, p.cinema_id, p.city_id, p.hall_id, p.starts_at,
        p.local_date, p.weekday, p.local_hour, p.currency, p.cancelled, p.seat_ids,
        p.seat_categories, p.price_categories, p.prices_minor, seat.category
), facts AS (
    INSERT INTO box_office_facts (show_id, category, movie_id, cinema_id, city_id, local_date,
        weekday, local_hour, starts_at, currency, capacity, shows_first)
    SELECT show_id, category, movie_id, cinema_id, city_id, local_date, weekday, local_hour,
        starts_at, currency, capacity, shows_first
    FROM categories
), city_days AS (
    INSERT INTO box_office_city_days AS r (local_date, weekday, city_id, category, currency,
        capacity, shows, shows_first)
    SELECT local_date, weekday, coalesce(city_id, '00000000-0000-0000-0000-000000000000'),
        category, currency, capacity, 1, shows_first
    FROM categories
    ON CONFLICT (local_date, city_id, category, currency) DO UPDATE SET
        capacity = r.capacity + excluded.capacity, shows = r.shows + 1,
        shows_first = r.shows_first + excluded.shows_first
), movie_days AS (
    INSERT INTO box_office_movie_days AS r (local_date, weekday, movie_id, category, currency,
        capacity, shows, shows_first)
    SELECT local_date, weekday, movie_id, category, currency, capacity, 1, shows_first
    FROM categories
    ON CONFLICT (local_date, movie_id, category, currency) DO UPDATE SET
        capacity = r.capacity + excluded.capacity, shows = r.shows + 1,
        shows_first = r.shows_first + excluded.shows_first
)
INSERT INTO box_office_funnel (show_id, movie_id, cinema_id, city_id, local_date, weekday,
    local_hour, starts_at)
SELECT show_id, movie_id, cinema_id, city_id, local_date, weekday, local_hour, starts_at
FROM placed
