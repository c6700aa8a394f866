-- The shows a search in one city on one date matches (the search clients make most): as
-- `matching_shows.sql` with the city $3 and the local date $4 required, so the statement can
-- be prepared once and its plan kept (`catalogue_shows_by_city_date` serves every value).
-- No postal code and no point are given on this path: $5 to $12 are always NULL.
WITH matching AS (
    SELECT show_id, movie_id, cinema_id, hall_id, starts_at, ends_at,
        NULL::float8 AS distance_km
    FROM catalogue_shows
    WHERE NOT cancelled
        AND city_id = $3::uuid
        AND local_date = $4::date
        AND starts_at >= $1::timestamptz
        AND ($2::timestamptz IS NULL OR starts_at < $2)
)
