UPDATE catalogue_cinemas SET retired = true WHERE cinema_id = $1
