-- Each show's funnel moved by the batch's counts ($2: the counts of each show, in the
-- columns' order).
UPDATE box_office_funnel f SET
    holds_made = f.holds_made + d.c[1],
    holds_released = f.holds_released + d.c[2],
    holds_expired = f.holds_expired + d.c[3],
    holds_paid = f.holds_paid + d.c[4],
    paid_after_expiry = f.paid_after_expiry + d.c[5],
    payments_started = f.payments_started + d.c[6],
    payments_failed = f.payments_failed + d.c[7],
    payments_refused = f.payments_refused + d.c[8],
    waitlist_joined = f.waitlist_joined + d.c[9],
    waitlist_offers = f.waitlist_offers + d.c[10],
    offers_taken = f.offers_taken + d.c[11],
    offers_lapsed = f.offers_lapsed + d.c[12],
    promo_holds = f.promo_holds + d.c[13],
    promo_orders = f.promo_orders + d.c[14]
FROM (SELECT k.show_id, ARRAY(SELECT jsonb_array_elements_text(k.counts)::int) AS c
      FROM unnest($1::uuid[], $2::jsonb[]) AS k(show_id, counts)) d
WHERE f.show_id = d.show_id
