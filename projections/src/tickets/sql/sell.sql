-- Seats sold to an order ($2) get their next ticket ($4: the ticket ids, by seat).
INSERT INTO tickets (show_id, seat_id, issued, order_id, ticket_id)
SELECT $1, seat, 1, $2, ticket FROM unnest($3::text[], $4::uuid[]) AS s (seat, ticket)
ON CONFLICT (show_id, seat_id) DO UPDATE
SET issued = tickets.issued + 1, order_id = EXCLUDED.order_id, ticket_id = EXCLUDED.ticket_id,
    checked_in_at = NULL, door = NULL
