-- The shows a search matches, which every search statement starts with ($1 to $12, see
-- `ShowParams` in search.rs): not cancelled, starting at or after $1 and before $2, in city
-- $3, on local date $4, at a cinema with postal code $5, and within $8 km of the point
-- ($6, $7) (the cinema's latitude in $9 to $10 and longitude in $11 to $12 first: a box
-- around the circle that the latitude index finds). A filter not given is NULL and drops
-- out when the statement is planned for its values; so does the cinema when neither a
-- postal code nor a point is given (its columns fold to NULL, and the planner removes a
-- left join on a key whose columns nothing uses).
WITH matching AS (
    SELECT show_id, movie_id, cinema_id, hall_id, starts_at, ends_at, distance_km
    FROM (
        SELECT s.show_id, s.movie_id, s.cinema_id, s.hall_id, s.city_id, s.starts_at,
            s.ends_at, s.local_date, s.cancelled, c.postal_code, c.latitude, c.longitude,
            -- Great-circle distance in km (haversine, mean Earth radius).
            CASE WHEN $6::float8 IS NOT NULL THEN 6371.0088 * 2 * asin(least(1.0, sqrt(
                power(sin(radians(c.latitude - $6::float8) / 2), 2)
                + cos(radians($6::float8)) * cos(radians(c.latitude))
                  * power(sin(radians(c.longitude - $7::float8) / 2), 2)))) END AS distance_km
        FROM catalogue_shows s
        LEFT JOIN catalogue_cinemas c ON c.cinema_id = s.cinema_id
    ) s
    WHERE NOT cancelled
        AND starts_at >= $1::timestamptz
        AND ($2::timestamptz IS NULL OR starts_at < $2)
        AND ($3::uuid IS NULL OR city_id = $3)
        AND ($4::date IS NULL OR local_date = $4)
        AND ($5::text IS NULL OR postal_code = $5)
        AND ($9::float8 IS NULL OR latitude BETWEEN $9 AND $10::float8)
        AND ($11::float8 IS NULL OR longitude BETWEEN $11 AND $12::float8)
        AND ($8::float8 IS NULL OR distance_km <= $8)
)
