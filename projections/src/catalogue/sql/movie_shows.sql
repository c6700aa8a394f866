-- The shows picked for a movie's page: the first $14 matching shows of movie $13, by start.
, picked AS (
    SELECT s.*, row_number() OVER (ORDER BY s.starts_at, s.show_id) AS n
    FROM (
        SELECT * FROM matching WHERE movie_id = $13::uuid
        ORDER BY starts_at, show_id
        LIMIT $14::bigint
    ) s
)
