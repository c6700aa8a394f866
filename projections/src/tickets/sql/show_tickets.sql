-- A show's valid tickets with their orders' pickup codes, those not in yet first.
SELECT t.seat_id, t.order_id, o.pickup_code, t.checked_in_at, t.door
FROM tickets t
JOIN ticket_orders o ON o.order_id = t.order_id
WHERE t.show_id = $1 AND t.order_id IS NOT NULL
ORDER BY t.checked_in_at IS NOT NULL, t.seat_id
