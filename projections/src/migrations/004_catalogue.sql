-- Catalogue and discovery.

-- The last position at which a projector changed what clients of its ETag-bearing queries
-- see (for the seat map: a category's availability band). ETags are derived from it, so a
-- client's If-None-Match holds while the log moves on elsewhere.
ALTER TABLE projection_checkpoints
    ADD COLUMN etag_commit bigint NOT NULL DEFAULT 0,
    ADD COLUMN etag_prepare bigint NOT NULL DEFAULT 0;

-- seat_map projector: cancelled shows, how to draw each seat, and each category's counts.
ALTER TABLE seat_map_shows ADD COLUMN cancelled boolean NOT NULL DEFAULT false;
ALTER TABLE seat_map_seats ADD COLUMN grid_column integer, ADD COLUMN kind text;
CREATE TABLE seat_map_categories (
    show_id uuid NOT NULL,
    category text NOT NULL,
    capacity integer NOT NULL,
    available integer NOT NULL,
    price_minor bigint NOT NULL,
    currency text NOT NULL,
    PRIMARY KEY (show_id, category)
);
INSERT INTO seat_map_categories (show_id, category, capacity, available, price_minor, currency)
SELECT show_id, category, count(*), count(*) FILTER (WHERE status = 'available'),
    min(price_minor), min(currency)
FROM seat_map_seats GROUP BY show_id, category;

-- catalogue projector
CREATE TABLE catalogue_cities (
    city_id uuid PRIMARY KEY,
    name text NOT NULL,
    time_zone text NOT NULL,
    retired boolean NOT NULL DEFAULT false
);

CREATE TABLE catalogue_cinemas (
    cinema_id uuid PRIMARY KEY,
    city_id uuid NOT NULL,
    name text NOT NULL,
    address text NOT NULL,
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    postal_code text NOT NULL,
    retired boolean NOT NULL DEFAULT false
);
CREATE INDEX catalogue_cinemas_by_city ON catalogue_cinemas (city_id);
CREATE INDEX catalogue_cinemas_by_postal_code ON catalogue_cinemas (postal_code);

CREATE TABLE catalogue_halls (
    hall_id uuid PRIMARY KEY,
    cinema_id uuid NOT NULL,
    name text NOT NULL,
    layout jsonb NOT NULL,
    prices jsonb NOT NULL,
    capacity integer NOT NULL,
    retired boolean NOT NULL DEFAULT false
);
CREATE INDEX catalogue_halls_by_cinema ON catalogue_halls (cinema_id);

CREATE TABLE catalogue_movies (
    movie_id uuid PRIMARY KEY,
    title text NOT NULL,
    original_title text,
    description text NOT NULL,
    duration_minutes integer NOT NULL,
    genres text[] NOT NULL,
    language text NOT NULL,
    country text NOT NULL,
    release_date date NOT NULL,
    rating text,
    retired boolean NOT NULL DEFAULT false,
    -- Lower-cased title, original title and description: what a keyword matches.
    search_text text NOT NULL
);

CREATE TABLE catalogue_shows (
    show_id uuid PRIMARY KEY,
    movie_id uuid NOT NULL,
    cinema_id uuid NOT NULL,
    hall_id uuid NOT NULL,
    city_id uuid NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    -- The start's date in the city's time zone.
    local_date date NOT NULL,
    cancelled boolean NOT NULL DEFAULT false
);
CREATE INDEX catalogue_shows_by_city_date ON catalogue_shows (city_id, local_date, starts_at)
    WHERE NOT cancelled;
CREATE INDEX catalogue_shows_by_movie ON catalogue_shows (movie_id, starts_at) WHERE NOT cancelled;
CREATE INDEX catalogue_shows_by_start ON catalogue_shows (starts_at) WHERE NOT cancelled;
CREATE INDEX catalogue_shows_by_cinema ON catalogue_shows (cinema_id, starts_at) WHERE NOT cancelled;

-- How full a seat category is, as discovery reports it: 'available', 'almost_full' (under
-- 20% of its seats left) or 'full'.
CREATE FUNCTION availability_band(available integer, capacity integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN available <= 0 THEN 'full'
                WHEN available * 5 < capacity THEN 'almost_full'
                ELSE 'available' END
$$;
