-- The movies not retired whose title or original title contains $1 in any case (every one
-- when $1 is null), by title, at most $2. strpos, not LIKE: the keyword is text, never a
-- pattern.
SELECT movie_id, title, original_title, description, duration_minutes, genres, language,
    country, release_date, rating, retired
FROM catalogue_movies
WHERE NOT retired
    AND ($1::text IS NULL
        OR strpos(lower(title), lower($1)) > 0
        OR strpos(lower(coalesce(original_title, '')), lower($1)) > 0)
ORDER BY title, movie_id
LIMIT $2
