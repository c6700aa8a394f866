-- Tickets at the door. A row per seat ever sold on a show: how many tickets it has had, its
-- valid ticket (none once void: refunded, exchanged or transferred away) and when and where
-- that ticket was let in; and a row per order with its pickup code.
CREATE TABLE ticket_orders (
    order_id uuid PRIMARY KEY,
    show_id uuid NOT NULL,
    customer_id text NOT NULL,
    pickup_code text
);
CREATE INDEX ticket_orders_by_code ON ticket_orders (pickup_code) WHERE pickup_code IS NOT NULL;
CREATE TABLE tickets (
    show_id uuid NOT NULL,
    seat_id text NOT NULL,
    issued integer NOT NULL,
    order_id uuid,
    ticket_id uuid,
    checked_in_at timestamptz,
    door text,
    PRIMARY KEY (show_id, seat_id)
);
CREATE INDEX tickets_by_order ON tickets (order_id) WHERE order_id IS NOT NULL;
