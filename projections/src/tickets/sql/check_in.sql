UPDATE tickets SET checked_in_at = $3, door = $4
WHERE show_id = $1 AND seat_id = ANY($2::text[])
