-- A payment that could not buy the hold's seats is refunded in full.
UPDATE order_history SET status = 'refunded', refunded_minor = refunded_minor + $2,
    updated_at = greatest(updated_at, $3)
WHERE hold_id = $1
