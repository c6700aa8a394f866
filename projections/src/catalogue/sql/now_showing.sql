-- The movies with shows still to start (at or after $2) in city $1, each with its first $3
-- shows by start and how many it has.
SELECT x.show_id, x.starts_at, x.cinema_id, x.cinema_name, x.total, m.movie_id, m.title,
    m.original_title, m.description, m.duration_minutes, m.genres, m.language, m.country,
    m.release_date, m.rating, m.retired
FROM (
    SELECT s.movie_id, s.show_id, s.starts_at, s.cinema_id, c.name AS cinema_name,
        count(*) OVER (PARTITION BY s.movie_id) AS total,
        row_number() OVER (PARTITION BY s.movie_id ORDER BY s.starts_at, s.show_id) AS n
    FROM catalogue_shows s JOIN catalogue_cinemas c ON c.cinema_id = s.cinema_id
    WHERE s.city_id = $1 AND s.starts_at >= $2 AND NOT s.cancelled
) x JOIN catalogue_movies m ON m.movie_id = x.movie_id
WHERE x.n <= $3
ORDER BY x.movie_id, x.n
