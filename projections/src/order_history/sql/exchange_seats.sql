-- Seats exchanged within the show: the old seats leave the order, the new ones join it
-- with the old ones' ticket types ($7).
UPDATE order_history SET
    seats = ARRAY(SELECT s FROM unnest(seats) s WHERE s <> ALL($2::text[])) || $3::text[],
    ticket_types = (ticket_types - $2::text[]) || $7::jsonb,
    total_minor = total_minor + $4, refunded_minor = refunded_minor + $5,
    status = 'exchanged', updated_at = greatest(updated_at, $6)
WHERE order_id = $1
