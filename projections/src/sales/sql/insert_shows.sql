-- New shows, nothing sold yet, in the currency of their prices.
INSERT INTO sales_by_show (show_id, movie_id, title, starts_at, currency)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[])
