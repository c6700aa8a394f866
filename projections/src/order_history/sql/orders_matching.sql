-- The holds staff look for, newest first: of a customer ($1), of a show ($2), paid through
-- a payment ($3), or of these orders ($4); after the cursor ($5, $6); one more than the page
-- ($7) tells whether another follows; only of these cinemas' shows ($8) for staff of some. The staff desk's search, not a hot path: a show's
-- orders are found by scanning.
SELECT o.hold_id FROM order_history o
WHERE ($1::text IS NULL OR o.customer_id = $1)
    AND ($2::uuid IS NULL OR o.show_id = $2)
    AND ($3::uuid IS NULL
        OR o.hold_id IN (SELECT hold_id FROM order_history_payments WHERE payment_id = $3))
    AND ($4::uuid[] IS NULL OR o.order_id = ANY($4))
    AND ($5::timestamptz IS NULL OR (o.created_at, o.hold_id) < ($5, $6::uuid))
    AND ($8::uuid[] IS NULL
        OR o.show_id IN (SELECT show_id FROM order_history_shows WHERE cinema_id = ANY($8)))
ORDER BY o.created_at DESC, o.hold_id DESC
LIMIT $7
