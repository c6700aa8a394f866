-- New holds: a row each, `held`, with the held step of its timeline and its log position.
INSERT INTO order_history (hold_id, show_id, customer_id, seats, status, total_minor,
    discount_minor, promo_code, currency, expires_at, created_at, updated_at, held_detail,
    held_commit, held_prepare)
SELECT h.hold_id, h.show_id, h.customer_id, ARRAY(SELECT jsonb_array_elements_text(h.seats)),
    'held', h.total, h.discount, h.code, h.currency, h.expires, h.at, h.at, h.detail, h.c, h.p
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::bigint[], $6::bigint[],
    $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::jsonb[],
    $12::bigint[], $13::bigint[])
    AS h(hold_id, show_id, customer_id, seats, total, discount, code, currency, expires, at,
        detail, c, p)
