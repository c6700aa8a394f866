-- The last payment started for a hold is the one its row shows, pending.
UPDATE order_history o SET payment_id = r.payment_id, payment_status = 'pending',
    updated_at = greatest(o.updated_at, r.at)
FROM (SELECT DISTINCT ON (hold_id) *
    FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) WITH ORDINALITY
        AS r(payment_id, hold_id, at, n)
    ORDER BY hold_id, n DESC) r
WHERE o.hold_id = r.hold_id
