-- The shows picked for a page of hits: the first $14 matching shows of each movie of $13,
-- by start (then distance), or by distance first when $15.
, picked AS (
    SELECT * FROM (
        SELECT s.*, row_number() OVER (PARTITION BY s.movie_id
            ORDER BY CASE WHEN $15::bool THEN s.distance_km END, s.starts_at, s.distance_km,
                s.show_id) AS n
        FROM matching s
        WHERE s.movie_id = ANY ($13::uuid[])
    ) numbered
    WHERE n <= $14::bigint
)
