-- Read models. Each table belongs to exactly one projector, which is the only writer of it;
-- every table can be truncated and rebuilt from the event log.

CREATE TABLE projection_checkpoints (
    name text PRIMARY KEY,
    commit_position bigint NOT NULL DEFAULT 0,
    prepare_position bigint NOT NULL DEFAULT 0,
    events_applied bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- seat_map projector
CREATE TABLE seat_map_shows (
    show_id uuid PRIMARY KEY,
    movie_id uuid NOT NULL,
    title text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    capacity integer NOT NULL,
    available integer NOT NULL,
    held integer NOT NULL,
    sold integer NOT NULL,
    version bigint NOT NULL
);

CREATE TABLE seat_map_seats (
    show_id uuid NOT NULL,
    seat_id text NOT NULL,
    ordinal integer NOT NULL,
    row_label text NOT NULL,
    number integer NOT NULL,
    category text NOT NULL,
    price_minor bigint NOT NULL,
    currency text NOT NULL,
    status text NOT NULL CHECK (status IN ('available', 'held', 'sold')),
    hold_id uuid,
    order_id uuid,
    PRIMARY KEY (show_id, seat_id)
);
CREATE INDEX seat_map_seats_in_layout_order ON seat_map_seats (show_id, ordinal);

CREATE TABLE seat_map_holds (
    hold_id uuid PRIMARY KEY,
    show_id uuid NOT NULL,
    customer_id text NOT NULL,
    seats text[] NOT NULL,
    total_minor bigint NOT NULL,
    currency text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'released', 'expired', 'confirmed')),
    held_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at timestamptz
);
CREATE INDEX seat_map_active_holds_by_expiry ON seat_map_holds (expires_at) WHERE status = 'active';

-- order_history projector
CREATE TABLE order_history_shows (
    show_id uuid PRIMARY KEY,
    title text NOT NULL,
    starts_at timestamptz NOT NULL
);

CREATE TABLE order_history (
    order_id uuid PRIMARY KEY,
    show_id uuid NOT NULL,
    customer_id text NOT NULL,
    seats text[] NOT NULL,
    refunded_seats text[] NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('paid', 'partially_refunded', 'refunded')),
    total_minor bigint NOT NULL,
    refunded_minor bigint NOT NULL DEFAULT 0,
    currency text NOT NULL,
    payment_reference text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX order_history_by_customer ON order_history (customer_id, created_at DESC, order_id DESC);

-- sales projector
CREATE TABLE sales_by_show (
    show_id uuid PRIMARY KEY,
    movie_id uuid NOT NULL,
    title text NOT NULL,
    starts_at timestamptz NOT NULL,
    currency text NOT NULL,
    orders integer NOT NULL DEFAULT 0,
    tickets_sold integer NOT NULL DEFAULT 0,
    tickets_refunded integer NOT NULL DEFAULT 0,
    gross_minor bigint NOT NULL DEFAULT 0,
    refunds_minor bigint NOT NULL DEFAULT 0
);
CREATE INDEX sales_by_show_start ON sales_by_show (starts_at);
