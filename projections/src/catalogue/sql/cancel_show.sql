UPDATE catalogue_shows SET cancelled = true WHERE show_id = $1
