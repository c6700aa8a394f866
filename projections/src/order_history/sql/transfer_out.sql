-- Seats left the order for another show.
UPDATE order_history SET
    seats = ARRAY(SELECT s FROM unnest(seats) s WHERE s <> ALL($2::text[])),
    ticket_types = ticket_types - $2::text[],
    status = 'exchanged', updated_at = greatest(updated_at, $3)
WHERE order_id = $1
