-- Timeline entries. Entries by order or payment find their hold through the rows written
-- before them in the batch (for a payment's entry, the order column carries the refund or
-- charge id it names); an entry whose hold is unknown is left out.
INSERT INTO order_history_timeline (hold_id, commit_position, prepare_position, at, kind,
    detail)
SELECT coalesce(t.hold_id, o.hold_id, s.hold_id, p.hold_id), t.c, t.p, t.at, t.kind, t.detail
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::bigint[],
    $6::timestamptz[], $7::text[], $8::jsonb[])
    AS t(hold_id, order_id, payment_id, c, p, at, kind, detail)
LEFT JOIN order_history o ON o.order_id = t.order_id AND t.payment_id IS NULL
LEFT JOIN order_history_settlements s ON s.settlement_id = t.order_id
    AND t.payment_id IS NOT NULL
LEFT JOIN order_history_payments p ON p.payment_id = t.payment_id
WHERE coalesce(t.hold_id, o.hold_id, s.hold_id, p.hold_id) IS NOT NULL
