-- An order's pickup code and its valid tickets, seat by seat, with their ticket types
-- (null: adult).
SELECT o.show_id, o.customer_id, o.pickup_code, t.seat_id, t.ticket_id, t.issued,
       t.checked_in_at, t.door, t.ticket_type
FROM ticket_orders o
LEFT JOIN tickets t ON t.order_id = o.order_id
WHERE o.order_id = $1
ORDER BY t.seat_id
