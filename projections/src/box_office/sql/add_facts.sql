-- Each (show, category)'s facts moved by the batch's sums.
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
    exchanged_out_minor = f.exchanged_out_minor + d.exchanged_out_minor
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[],
    $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])
    AS d(show_id, category, tickets_sold, tickets_refunded, tickets_exchanged_in,
        tickets_exchanged_out, gross_minor, discounts_minor, refunds_minor, fees_minor,
        exchanged_in_minor, exchanged_out_minor)
WHERE f.show_id = d.show_id AND f.category = d.category
