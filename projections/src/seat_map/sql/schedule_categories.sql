-- A new show's seat categories, all seats available.
INSERT INTO seat_map_categories (show_id, category, capacity, available, price_minor, currency)
SELECT $1, c.category, c.capacity, c.capacity, c.price_minor, c.currency
FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[])
    AS c(category, capacity, price_minor, currency)
