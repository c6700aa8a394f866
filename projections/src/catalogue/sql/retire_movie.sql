UPDATE catalogue_movies SET retired = true WHERE movie_id = $1
