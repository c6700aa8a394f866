-- A movie, retired or not.
SELECT movie_id, title, original_title, description, duration_minutes, genres, language,
    country, release_date, rating, retired
FROM catalogue_movies WHERE movie_id = $1
