INSERT INTO ticket_orders (order_id, show_id, customer_id, pickup_code)
VALUES ($1, $2, $3, $4)
ON CONFLICT (order_id) DO NOTHING
