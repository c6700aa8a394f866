-- Which hold each provider payment is for (a payment started again is already known).
INSERT INTO order_history_payments (payment_id, hold_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING
