-- Attendance in the box-office facts and their rollups: tickets let in at the door (each
-- admission counted once, in the seat's category; a seat refunded by staff after it was let
-- in stays counted). Check-ins are new with this step's release, so nothing is backfilled.
ALTER TABLE box_office_facts ADD COLUMN tickets_checked_in integer NOT NULL DEFAULT 0;
ALTER TABLE box_office_city_days ADD COLUMN tickets_checked_in integer NOT NULL DEFAULT 0;
ALTER TABLE box_office_movie_days ADD COLUMN tickets_checked_in integer NOT NULL DEFAULT 0;
ALTER TABLE box_office_days ADD COLUMN tickets_checked_in integer NOT NULL DEFAULT 0;
