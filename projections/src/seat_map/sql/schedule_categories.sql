-- The batch's new shows' seat categories, all seats available, with the other ticket types'
-- prices on each ({"child": 2250}).
INSERT INTO seat_map_categories (show_id, category, capacity, available, price_minor, currency,
    ticket_prices)
SELECT c.show_id, c.category, c.capacity, c.capacity, c.price_minor, c.currency,
    c.ticket_prices
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::jsonb[])
    AS c(show_id, category, capacity, price_minor, currency, ticket_prices)
