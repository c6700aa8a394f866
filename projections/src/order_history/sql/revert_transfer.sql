-- A transfer undone: the seats are the order's again.
UPDATE order_history SET seats = seats || $2::text[],
    updated_at = greatest(updated_at, $3)
WHERE order_id = $1
