-- Whether the box office knows the city, cinema, movie and show asked about (NULL: none
-- asked about).
SELECT ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM report_cities WHERE city_id = $1)) AS city_id,
    ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM report_cinemas WHERE cinema_id = $2)) AS cinema_id,
    ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM report_shows WHERE movie_id = $3)
        OR EXISTS (SELECT 1 FROM report_movies WHERE movie_id = $3)) AS movie_id,
    ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM report_shows WHERE show_id = $4)) AS show_id
