-- A batch's tickets, folded per seat: `sold` tickets issued to the seat in the batch; when
-- `owner_changed`, its order, ticket and ticket type (null: adult) at the end of the batch
-- (null order: void); when
-- `entry_changed`, when and where it was let in (null: not, as a new or void ticket is not).
-- What the batch did not change stays as it was.
WITH batch AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::bool[], $5::uuid[],
        $6::uuid[], $7::bool[], $8::timestamptz[], $9::text[], $10::text[])
        AS b (show_id, seat_id, sold, owner_changed, order_id, ticket_id, entry_changed,
            checked_in_at, door, ticket_type)
)
INSERT INTO tickets (show_id, seat_id, issued, order_id, ticket_id, checked_in_at, door,
    ticket_type)
SELECT b.show_id, b.seat_id, coalesce(t.issued, 0) + b.sold,
    CASE WHEN b.owner_changed THEN b.order_id ELSE t.order_id END,
    CASE WHEN b.owner_changed THEN b.ticket_id ELSE t.ticket_id END,
    CASE WHEN b.entry_changed THEN b.checked_in_at ELSE t.checked_in_at END,
    CASE WHEN b.entry_changed THEN b.door ELSE t.door END,
    CASE WHEN b.owner_changed THEN b.ticket_type ELSE t.ticket_type END
FROM batch b
LEFT JOIN tickets t ON t.show_id = b.show_id AND t.seat_id = b.seat_id
ON CONFLICT (show_id, seat_id) DO UPDATE
SET issued = EXCLUDED.issued, order_id = EXCLUDED.order_id, ticket_id = EXCLUDED.ticket_id,
    checked_in_at = EXCLUDED.checked_in_at, door = EXCLUDED.door,
    ticket_type = EXCLUDED.ticket_type
