-- New holds, active until they end; seat lists travel as one JSON array per hold.
INSERT INTO seat_map_holds (hold_id, show_id, customer_id, seats, total_minor, currency,
    status, held_at, expires_at)
SELECT h.hold_id, h.show_id, h.customer_id,
    ARRAY(SELECT jsonb_array_elements_text(h.seats)), h.total_minor, h.currency,
    'active', h.held_at, h.expires_at
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::bigint[], $6::text[],
    $7::timestamptz[], $8::timestamptz[])
    AS h(hold_id, show_id, customer_id, seats, total_minor, currency, held_at, expires_at)
