-- The expiry scheduler finds lapsed holds in the seat map: it needs each show's grace.
-- Shows projected before this step read the default; `boxoffice projections rebuild --only
-- seat_map` fills in the recorded values.
ALTER TABLE seat_map_shows ADD COLUMN expiry_grace_seconds integer NOT NULL DEFAULT 5;
