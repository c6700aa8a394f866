-- A movie added or changed, with the lower-cased text a keyword search matches ($11).
INSERT INTO catalogue_movies (movie_id, title, original_title, description, duration_minutes,
    genres, language, country, release_date, rating, search_text)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (movie_id) DO UPDATE SET title = $2, original_title = $3, description = $4,
    duration_minutes = $5, genres = $6, language = $7, country = $8, release_date = $9,
    rating = $10, search_text = $11
