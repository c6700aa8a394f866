-- A page of a customer's orders, newest first, after the cursor ($2, $3) when given; one
-- more than the page ($4) tells whether another page follows. Or only the one with the hold
-- $5 or the order $6. Follows `order_rows.sql`.
WHERE o.customer_id = $1
    AND ($2::timestamptz IS NULL OR (o.created_at, o.hold_id) < ($2, $3::uuid))
    AND ($5::uuid IS NULL OR o.hold_id = $5)
    AND ($6::uuid IS NULL OR o.order_id = $6)
ORDER BY o.created_at DESC, o.hold_id DESC
LIMIT $4
