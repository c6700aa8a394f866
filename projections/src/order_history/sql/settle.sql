-- Which hold a refund or charge ($1) belongs to: the hold given ($2), or the hold of the
-- order given ($3); nothing if neither is known.
INSERT INTO order_history_settlements (settlement_id, hold_id)
SELECT $1, coalesce($2, (SELECT hold_id FROM order_history WHERE order_id = $3))
WHERE coalesce($2, (SELECT hold_id FROM order_history WHERE order_id = $3)) IS NOT NULL
ON CONFLICT DO NOTHING
