-- Each show's sales moved by the batch's sums.
UPDATE sales_by_show s SET orders = s.orders + d.orders,
    tickets_sold = s.tickets_sold + d.tickets_sold, gross_minor = s.gross_minor + d.gross_minor,
    tickets_refunded = s.tickets_refunded + d.tickets_refunded,
    refunds_minor = s.refunds_minor + d.refunds_minor
FROM unnest($1::uuid[], $2::int[], $3::int[], $4::bigint[], $5::int[], $6::bigint[])
    AS d(show_id, orders, tickets_sold, gross_minor, tickets_refunded, refunds_minor)
WHERE s.show_id = d.show_id
