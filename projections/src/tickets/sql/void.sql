-- Seats that left their order: their tickets are void.
UPDATE tickets SET order_id = NULL, ticket_id = NULL, checked_in_at = NULL, door = NULL
WHERE show_id = $1 AND seat_id = ANY($2::text[])
