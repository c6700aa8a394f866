-- Every movie with matching shows that has every LIKE pattern of $13 in its search text,
-- genre $14 and language $15 (when given): with its earliest matching show, its nearest
-- cinema's distance and how many shows matched. Sorting and paging happen in the caller.
SELECT m.movie_id, m.title, m.original_title, m.description, m.duration_minutes, m.genres,
    m.language, m.country, m.release_date, m.rating, m.retired,
    min(s.starts_at) AS first_show, min(s.distance_km) AS distance_km, count(*) AS shows
FROM matching s
JOIN catalogue_movies m ON m.movie_id = s.movie_id
WHERE m.search_text LIKE ALL ($13::text[])
    AND ($14::text IS NULL OR $14 = ANY (m.genres))
    AND ($15::text IS NULL OR m.language = $15)
GROUP BY m.movie_id
