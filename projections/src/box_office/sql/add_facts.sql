-- Each (show, category)'s facts moved by the batch's sums, and the day's rollups per city,
-- per movie and for the chain by the same sums.
WITH d AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[],
        $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
        $13::int[])
        AS d(show_id, category, tickets_sold, tickets_refunded, tickets_exchanged_in,
            tickets_exchanged_out, gross_minor, discounts_minor, refunds_minor, fees_minor,
            exchanged_in_minor, exchanged_out_minor, tickets_checked_in)
), moved AS (
    UPDATE box_office_facts f SET
        tickets_sold = f.tickets_sold + d.tickets_sold,
        tickets_refunded = f.tickets_refunded + d.tickets_refunded,
        tickets_exchanged_in = f.tickets_exchanged_in + d.tickets_exchanged_in,
        tickets_exchanged_out = f.tickets_exchanged_out + d.tickets_exchanged_out,
        gross_minor = f.gross_minor + d.gross_minor,
        discounts_minor = f.discounts_minor + d.discounts_minor,
        refunds_minor = f.refunds_minor + d.refunds_minor,
        fees_minor = f.fees_minor + d.fees_minor,
        exchanged_in_minor = f.exchanged_in_minor + d.exchanged_in_minor,
        exchanged_out_minor = f.exchanged_out_minor + d.exchanged_out_minor,
        tickets_checked_in = f.tickets_checked_in + d.tickets_checked_in
    FROM d
    WHERE f.show_id = d.show_id AND f.category = d.category
    RETURNING f.local_date, coalesce(f.city_id, '00000000-0000-0000-0000-000000000000') AS city_id,
        f.movie_id, f.category, f.currency, d.tickets_sold, d.tickets_refunded,
        d.tickets_exchanged_in, d.tickets_exchanged_out, d.gross_minor, d.discounts_minor,
        d.refunds_minor, d.fees_minor, d.exchanged_in_minor, d.exchanged_out_minor,
        d.tickets_checked_in
), city_days AS (
    UPDATE box_office_city_days r SET
        tickets_sold = r.tickets_sold + m.tickets_sold,
        tickets_refunded = r.tickets_refunded + m.tickets_refunded,
        tickets_exchanged_in = r.tickets_exchanged_in + m.tickets_exchanged_in,
        tickets_exchanged_out = r.tickets_exchanged_out + m.tickets_exchanged_out,
        gross_minor = r.gross_minor + m.gross_minor,
        discounts_minor = r.discounts_minor + m.discounts_minor,
        refunds_minor = r.refunds_minor + m.refunds_minor,
        fees_minor = r.fees_minor + m.fees_minor,
        exchanged_in_minor = r.exchanged_in_minor + m.exchanged_in_minor,
        exchanged_out_minor = r.exchanged_out_minor + m.exchanged_out_minor,
        tickets_checked_in = r.tickets_checked_in + m.tickets_checked_in
    FROM (SELECT local_date, city_id, category, currency, sum(tickets_sold) AS tickets_sold,
            sum(tickets_refunded) AS tickets_refunded,
            sum(tickets_exchanged_in) AS tickets_exchanged_in,
            sum(tickets_exchanged_out) AS tickets_exchanged_out,
            sum(gross_minor) AS gross_minor, sum(discounts_minor) AS discounts_minor,
            sum(refunds_minor) AS refunds_minor, sum(fees_minor) AS fees_minor,
            sum(exchanged_in_minor) AS exchanged_in_minor,
            sum(exchanged_out_minor) AS exchanged_out_minor,
            sum(tickets_checked_in) AS tickets_checked_in
          FROM moved GROUP BY local_date, city_id, category, currency) m
    WHERE r.local_date = m.local_date AND r.city_id = m.city_id AND r.category = m.category
        AND r.currency = m.currency
), days AS (
    UPDATE box_office_days r SET
        tickets_sold = r.tickets_sold + m.tickets_sold,
        tickets_refunded = r.tickets_refunded + m.tickets_refunded,
        tickets_exchanged_in = r.tickets_exchanged_in + m.tickets_exchanged_in,
        tickets_exchanged_out = r.tickets_exchanged_out + m.tickets_exchanged_out,
        gross_minor = r.gross_minor + m.gross_minor,
        discounts_minor = r.discounts_minor + m.discounts_minor,
        refunds_minor = r.refunds_minor + m.refunds_minor,
        fees_minor = r.fees_minor + m.fees_minor,
        exchanged_in_minor = r.exchanged_in_minor + m.exchanged_in_minor,
        exchanged_out_minor = r.exchanged_out_minor + m.exchanged_out_minor,
        tickets_checked_in = r.tickets_checked_in + m.tickets_checked_in
    FROM (SELECT local_date, category, currency, sum(tickets_sold) AS tickets_sold,
            sum(tickets_refunded) AS tickets_refunded,
            sum(tickets_exchanged_in) AS tickets_exchanged_in,
            sum(tickets_exchanged_out) AS tickets_exchanged_out,
            sum(gross_minor) AS gross_minor, sum(discounts_minor) AS discounts_minor,
            sum(refunds_minor) AS refunds_minor, sum(fees_minor) AS fees_minor,
            sum(exchanged_in_minor) AS exchanged_in_minor,
            sum(exchanged_out_minor) AS exchanged_out_minor,
            sum(tickets_checked_in) AS tickets_checked_in
          FROM moved GROUP BY local_date, category, currency) m
    WHERE r.local_date = m.local_date AND r.category = m.category AND r.currency = m.currency
)
UPDATE box_office_movie_days r SET
    tickets_sold = r.tickets_sold + m.tickets_sold,
    tickets_refunded = r.tickets_refunded + m.tickets_refunded,
    tickets_exchanged_in = r.tickets_exchanged_in + m.tickets_exchanged_in,
    tickets_exchanged_out = r.tickets_exchanged_out + m.tickets_exchanged_out,
    gross_minor = r.gross_minor + m.gross_minor,
    discounts_minor = r.discounts_minor + m.discounts_minor,
    refunds_minor = r.refunds_minor + m.refunds_minor,
    fees_minor = r.fees_minor + m.fees_minor,
    exchanged_in_minor = r.exchanged_in_minor + m.exchanged_in_minor,
    exchanged_out_minor = r.exchanged_out_minor + m.exchanged_out_minor,
    tickets_checked_in = r.tickets_checked_in + m.tickets_checked_in
FROM (SELECT local_date, movie_id, category, currency, sum(tickets_sold) AS tickets_sold,
        sum(tickets_refunded) AS tickets_refunded,
        sum(tickets_exchanged_in) AS tickets_exchanged_in,
        sum(tickets_exchanged_out) AS tickets_exchanged_out,
        sum(gross_minor) AS gross_minor, sum(discounts_minor) AS discounts_minor,
        sum(refunds_minor) AS refunds_minor, sum(fees_minor) AS fees_minor,
        sum(exchanged_in_minor) AS exchanged_in_minor,
        sum(exchanged_out_minor) AS exchanged_out_minor,
            sum(tickets_checked_in) AS tickets_checked_in
      FROM moved GROUP BY local_date, movie_id, category, currency) m
WHERE r.local_date = m.local_date AND r.movie_id = m.movie_id AND r.category = m.category
    AND r.currency = m.currency
