-- Holds paid: each row becomes its order, `paid`, with the paid step's log position and
-- its seats' ticket types.
UPDATE order_history o SET order_id = p.order_id, status = 'paid', total_minor = p.total,
    seats = ARRAY(SELECT jsonb_array_elements_text(p.seats)), ticket_types = p.ticket_types,
    payment_reference = p.reference, payment_id = coalesce(p.payment_id, o.payment_id),
    payment_status = CASE WHEN p.payment_id IS NULL THEN o.payment_status
        ELSE 'succeeded' END,
    updated_at = greatest(o.updated_at, p.at), paid_at = p.at, paid_after_expiry = p.late,
    paid_total_minor = p.total, paid_commit = p.c, paid_prepare = p.p
FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::jsonb[], $5::text[], $6::uuid[],
    $7::timestamptz[], $8::bool[], $9::bigint[], $10::bigint[], $11::jsonb[])
    AS p(hold_id, order_id, total, seats, reference, payment_id, at, late, c, p, ticket_types)
WHERE o.hold_id = p.hold_id
