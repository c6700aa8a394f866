-- Ticket types (adult, child, student, ...): a show's prices for the types other than
-- adult (type, then category, in minor units), so the box office prices each seat sold as
-- its type. Shows scheduled before ticket types sold adult tickets only: '{}'.
ALTER TABLE report_shows ADD COLUMN ticket_prices_minor jsonb NOT NULL DEFAULT '{}';

-- The other ticket types' prices on each seat category of a show ({"child": 2250}, minor
-- units in the category's currency), for the show's page. Shows scheduled before ticket
-- types sold adult tickets only: '{}'.
ALTER TABLE seat_map_categories ADD COLUMN ticket_prices jsonb NOT NULL DEFAULT '{}';

-- Each valid ticket's type when it is not adult (NULL: adult); tickets issued before ticket
-- types were adult.
ALTER TABLE tickets ADD COLUMN ticket_type text;

-- Attendance on the seat map: whether each sold seat's ticket has been let in (cleared when
-- the seat changes hands). Seats let in before this step are read from the tickets.
ALTER TABLE seat_map_seats ADD COLUMN checked_in boolean NOT NULL DEFAULT false;
UPDATE seat_map_seats s SET checked_in = true
FROM tickets t
WHERE t.show_id = s.show_id AND t.seat_id = s.seat_id AND t.checked_in_at IS NOT NULL
    AND s.status = 'sold';
