UPDATE catalogue_halls SET retired = true WHERE hall_id = $1
