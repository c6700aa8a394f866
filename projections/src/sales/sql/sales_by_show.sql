-- A page of sales per show by start time (after the show $5 starting at $6), filtered by
-- show, movie and start when given.
SELECT show_id, movie_id, title, starts_at, currency, orders, tickets_sold, tickets_refunded,
    gross_minor, refunds_minor
FROM sales_by_show
WHERE ($1::uuid IS NULL OR show_id = $1)
    AND ($2::uuid IS NULL OR movie_id = $2)
    AND ($3::timestamptz IS NULL OR starts_at >= $3)
    AND ($4::timestamptz IS NULL OR starts_at < $4)
    AND ($5::uuid IS NULL OR (starts_at, show_id) > ($6::timestamptz, $5))
ORDER BY starts_at, show_id
LIMIT $7
