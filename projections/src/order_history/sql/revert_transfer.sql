-- A transfer undone: the seats are the order's again, with their ticket types ($4).
UPDATE order_history SET seats = seats || $2::text[], ticket_types = ticket_types || $4::jsonb,
    updated_at = greatest(updated_at, $3)
WHERE order_id = $1
