-- A cinema as the reports name it (its city is given when it opens: NULL keeps it).
INSERT INTO report_cinemas (cinema_id, city_id, name) VALUES ($1, coalesce($2, '00000000-0000-0000-0000-000000000000'::uuid), $3)
ON CONFLICT (cinema_id) DO UPDATE SET name = excluded.name,
    city_id = CASE WHEN $2::uuid IS NULL THEN report_cinemas.city_id ELSE excluded.city_id END
