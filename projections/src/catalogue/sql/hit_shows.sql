-- The shows picked for a page of hits: the first $14 matching shows of each movie of $13,
-- by start (then distance), or by distance first when $15. Each movie's are looked up on
-- their own and cut at $14 there, so a movie's first shows of the day come straight from
-- `catalogue_shows_by_movie_day` in order, however many it has.
, picked AS (
    SELECT s.*, row_number() OVER (PARTITION BY s.movie_id
        ORDER BY CASE WHEN $15::bool THEN s.distance_km END, s.starts_at, s.distance_km,
            s.show_id) AS n
    FROM unnest($13::uuid[]) AS hit(movie_id)
    CROSS JOIN LATERAL (
        SELECT * FROM matching m WHERE m.movie_id = hit.movie_id
        ORDER BY CASE WHEN $15::bool THEN m.distance_km END, m.starts_at, m.distance_km,
            m.show_id
        LIMIT $14::bigint
    ) s
)
