-- Accessible seating: how each show keeps its wheelchair spaces and companion seats for
-- those who need them (the rule as scheduled; NULL: nothing kept back), whether it still
-- does, when it lets them go by time (the expiry scheduler's timetable), and when and why
-- it did. Shows scheduled before the rule existed keep nothing back: nothing to fill in.
ALTER TABLE seat_map_shows ADD COLUMN accessible_seating jsonb;
ALTER TABLE seat_map_shows ADD COLUMN accessible_kept boolean NOT NULL DEFAULT false;
ALTER TABLE seat_map_shows ADD COLUMN accessible_release_at timestamptz;
ALTER TABLE seat_map_shows ADD COLUMN accessible_released_reason text;
ALTER TABLE seat_map_shows ADD COLUMN accessible_released_at timestamptz;
CREATE INDEX seat_map_shows_accessible_release ON seat_map_shows (accessible_release_at)
    WHERE accessible_kept;
