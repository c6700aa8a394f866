-- A city as the reports name it, and the time zone its shows' local times are in.
INSERT INTO report_cities (city_id, name, time_zone) VALUES ($1, $2, $3)
ON CONFLICT (city_id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone
