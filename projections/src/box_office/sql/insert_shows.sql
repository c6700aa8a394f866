-- A batch's scheduled shows: each one's place, its start in its city's time zone (UTC
-- without a cinema), its layout and prices (adult per category; $15 the other ticket
-- types' per type and category); a fact row per seat category of its layout
-- ($11 to $14: show, category, capacity, whether it is the show's first category), counted
-- into the day's rollups per city, per movie and for the chain; and an empty funnel row.
WITH placed AS (
    INSERT INTO report_shows (show_id, movie_id, title, cinema_id, city_id, hall_id, starts_at,
        local_date, weekday, local_hour, currency, seat_ids, seat_categories, prices_minor,
        ticket_prices_minor)
    SELECT i.show_id, i.movie_id, i.title, i.cinema_id, c.city_id, i.hall_id, i.starts_at,
        (local.at)::date, extract(isodow FROM local.at)::smallint,
        extract(hour FROM local.at)::smallint, i.currency, i.seat_ids, i.seat_categories,
        i.prices, i.ticket_prices
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[],
        $6::timestamptz[], $7::text[], $8::jsonb[], $9::jsonb[], $10::jsonb[], $15::jsonb[])
        AS i(show_id, movie_id, title, cinema_id, hall_id, starts_at, currency, seat_ids,
            seat_categories, prices, ticket_prices)
    LEFT JOIN report_cinemas c ON c.cinema_id = i.cinema_id
    LEFT JOIN report_cities ci ON ci.city_id = c.city_id
    CROSS JOIN LATERAL (
        SELECT i.starts_at AT TIME ZONE coalesce(ci.time_zone, 'UTC') AS at) local
    ON CONFLICT (show_id) DO NOTHING
    RETURNING show_id, movie_id, cinema_id, city_id, local_date, weekday, local_hour,
        starts_at, currency
), categories AS (
    SELECT p.*, k.category, k.capacity, k.shows_first
    FROM placed p
    JOIN unnest($11::uuid[], $12::text[], $13::int[], $14::int[])
        AS k(show_id, category, capacity, shows_first) ON k.show_id = p.show_id
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
        category, currency, sum(capacity), count(*), sum(shows_first)
    FROM categories
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (local_date, city_id, category, currency) DO UPDATE SET
        capacity = r.capacity + excluded.capacity, shows = r.shows + excluded.shows,
        shows_first = r.shows_first + excluded.shows_first
), movie_days AS (
    INSERT INTO box_office_movie_days AS r (local_date, weekday, movie_id, category, currency,
        capacity, shows, shows_first)
    SELECT local_date, weekday, movie_id, category, currency, sum(capacity), count(*),
        sum(shows_first)
    FROM categories
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (local_date, movie_id, category, currency) DO UPDATE SET
        capacity = r.capacity + excluded.capacity, shows = r.shows + excluded.shows,
        shows_first = r.shows_first + excluded.shows_first
), days AS (
    INSERT INTO box_office_days AS r (local_date, weekday, category, currency, capacity, shows,
        shows_first)
    SELECT local_date, weekday, category, currency, sum(capacity), count(*), sum(shows_first)
    FROM categories
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (local_date, category, currency) DO UPDATE SET
        capacity = r.capacity + excluded.capacity, shows = r.shows + excluded.shows,
        shows_first = r.shows_first + excluded.shows_first
)
INSERT INTO box_office_funnel (show_id, movie_id, cinema_id, city_id, local_date, weekday,
    local_hour, starts_at)
SELECT show_id, movie_id, cinema_id, city_id, local_date, weekday, local_hour, starts_at
FROM placed
