-- As `hit_shows.sql`, for a search that matches shows everywhere (no city, postal code or
-- point): each movie's shows are looked up on their own and cut at $14 there, so a movie's
-- first shows of the day come straight from `catalogue_shows_by_movie_day` in order,
-- where numbering every matching show of the day first would read and sort them all (8,000
-- for a word like "the"). A narrower search numbers the few it matched instead: looked up
-- per movie, a search near a point would read each movie's shows everywhere.
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
