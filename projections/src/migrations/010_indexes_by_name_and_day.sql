-- Box-office pages led by a cinema or a city walk those entities in the order of their
-- names and stop after a page's worth (projections/src/box_office/queries.rs): the names
-- are indexed in that order, and the day rollups per city by city, so that "has this city
-- a row in these days?" is one index probe (the facts have such indexes already).
CREATE INDEX report_cinemas_by_name ON report_cinemas (name, cinema_id);
CREATE INDEX report_cities_by_name ON report_cities (name, city_id);
CREATE INDEX box_office_city_days_by_city ON box_office_city_days (city_id, local_date);

-- A cinema's schedule for a day lists its cancelled shows too, which the partial index by
-- cinema leaves out.
CREATE INDEX catalogue_shows_by_cinema_day ON catalogue_shows (cinema_id, local_date);
