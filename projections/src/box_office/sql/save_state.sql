-- What the fold must remember, moved by a batch: seats that left orders ($1, $2) and seats
-- now in orders ($3 to $6); transfers ended ($7, $8) and begun ($9 to $13); offers ended
-- ($14) and made ($15, $16); payments started ($17, $18).
WITH left_seats AS (
    DELETE FROM report_seats s USING unnest($1::uuid[], $2::text[]) AS k(show_id, seat_id)
    WHERE s.show_id = k.show_id AND s.seat_id = k.seat_id
), in_seats AS (
    INSERT INTO report_seats (show_id, seat_id, category, paid_minor)
    SELECT * FROM unnest($3::uuid[], $4::text[], $5::text[], $6::bigint[])
    ON CONFLICT (show_id, seat_id) DO UPDATE
        SET category = excluded.category, paid_minor = excluded.paid_minor
), ended_transfers AS (
    DELETE FROM report_transfers t USING unnest($7::uuid[], $8::uuid[]) AS k(show_id, exchange_id)
    WHERE t.show_id = k.show_id AND t.exchange_id = k.exchange_id
), begun_transfers AS (
    INSERT INTO report_transfers (show_id, exchange_id, seat_ids, seat_categories, paid_minor)
    SELECT k.show_id, k.exchange_id,
        ARRAY(SELECT jsonb_array_elements_text(k.seats)),
        ARRAY(SELECT jsonb_array_elements_text(k.categories)),
        ARRAY(SELECT jsonb_array_elements_text(k.paid)::bigint)
    FROM unnest($9::uuid[], $10::uuid[], $11::jsonb[], $12::jsonb[], $13::jsonb[])
        AS k(show_id, exchange_id, seats, categories, paid)
    ON CONFLICT (show_id, exchange_id) DO NOTHING
), ended_offers AS (
    DELETE FROM report_offer_holds WHERE hold_id = ANY($14)
), made_offers AS (
    INSERT INTO report_offer_holds (hold_id, show_id)
    SELECT * FROM unnest($15::uuid[], $16::uuid[])
    ON CONFLICT (hold_id) DO NOTHING
)
INSERT INTO report_payments (payment_id, show_id)
SELECT * FROM unnest($17::uuid[], $18::uuid[])
ON CONFLICT (payment_id) DO NOTHING
