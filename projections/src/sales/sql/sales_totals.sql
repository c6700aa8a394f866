-- Totals per currency over every show the filter matches.
SELECT currency, count(*) AS shows, sum(orders)::bigint AS orders,
    sum(tickets_sold)::bigint AS tickets_sold, sum(tickets_refunded)::bigint AS tickets_refunded,
    sum(gross_minor)::bigint AS gross_minor, sum(refunds_minor)::bigint AS refunds_minor
FROM sales_by_show
WHERE ($1::uuid IS NULL OR show_id = $1)
    AND ($2::uuid IS NULL OR movie_id = $2)
    AND ($3::timestamptz IS NULL OR starts_at >= $3)
    AND ($4::timestamptz IS NULL OR starts_at < $4)
GROUP BY currency
ORDER BY currency
