-- The rows of these holds ($1), newest first. Follows `order_rows.sql`.
WHERE o.hold_id = ANY($1::uuid[])
ORDER BY o.created_at DESC, o.hold_id DESC
