-- The order made by a transfer from another show: what was paid back of the difference.
UPDATE order_history SET status = 'exchanged', refunded_minor = refunded_minor + $2,
    updated_at = greatest(updated_at, $3)
WHERE order_id = $1
