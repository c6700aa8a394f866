-- Refunds, summed per order: their seats leave the order for its refunded seats, their
-- amounts and fees add up, and the last refund's status and time stand.
UPDATE order_history o SET
    refunded_seats = o.refunded_seats || ARRAY(SELECT jsonb_array_elements_text(d.seats)),
    seats = ARRAY(SELECT s FROM unnest(o.seats) s
        WHERE s <> ALL(ARRAY(SELECT jsonb_array_elements_text(d.seats)))),
    ticket_types = o.ticket_types - ARRAY(SELECT jsonb_array_elements_text(d.seats)),
    refunded_minor = o.refunded_minor + d.amount, fees_minor = o.fees_minor + d.fee,
    status = d.status, updated_at = greatest(o.updated_at, d.at)
FROM unnest($1::uuid[], $2::jsonb[], $3::bigint[], $4::bigint[], $5::text[],
    $6::timestamptz[]) AS d(order_id, seats, amount, fee, status, at)
WHERE o.order_id = d.order_id
