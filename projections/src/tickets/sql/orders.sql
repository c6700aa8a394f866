-- A batch's new orders with their pickup codes.
INSERT INTO ticket_orders (order_id, show_id, customer_id, pickup_code)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
ON CONFLICT (order_id) DO NOTHING
