-- The box-office read models (projections/src/box_office; definitions in docs/reports.md):
-- facts per show and seat category, the funnel per show, sales per hour of sale time, and
-- what the projector needs to remember to keep them (where each show sits, what each sold
-- seat counts as paid, transfers under way, waiting-list offers, payments' shows).

-- Where shows sit: the catalogue's cities, cinemas and movies as the reports name them.
CREATE TABLE report_cities (
    city_id uuid PRIMARY KEY,
    name text NOT NULL,
    time_zone text NOT NULL
);
CREATE TABLE report_cinemas (
    cinema_id uuid PRIMARY KEY,
    city_id uuid NOT NULL,
    name text NOT NULL
);
CREATE TABLE report_movies (
    movie_id uuid PRIMARY KEY,
    title text NOT NULL
);

-- Each show as it was scheduled: its place, its local start, its layout and its list prices.
CREATE TABLE report_shows (
    show_id uuid PRIMARY KEY,
    movie_id uuid NOT NULL,
    title text NOT NULL,
    cinema_id uuid,
    city_id uuid,
    hall_id uuid,
    starts_at timestamptz NOT NULL,
    local_date date NOT NULL,
    weekday smallint NOT NULL,
    local_hour smallint NOT NULL,
    currency text NOT NULL,
    cancelled boolean NOT NULL DEFAULT false,
    -- JSON arrays of the seats' ids and categories, in layout order, and a JSON object of
    -- the list price per category (kept as the projector reads them).
    seat_ids jsonb NOT NULL,
    seat_categories jsonb NOT NULL,
    prices_minor jsonb NOT NULL
);

-- Box-office facts at the grain of (show, seat category), with the show's place copied in
-- so that reports group and filter without joins.
CREATE TABLE box_office_facts (
    show_id uuid NOT NULL,
    category text NOT NULL,
    movie_id uuid NOT NULL,
    cinema_id uuid,
    city_id uuid,
    local_date date NOT NULL,
    weekday smallint NOT NULL,
    local_hour smallint NOT NULL,
    starts_at timestamptz NOT NULL,
    currency text NOT NULL,
    capacity integer NOT NULL,
    -- Shows counted: 1 here; `shows_first` is 1 on one category row of each show (its
    -- first category by name), so that a sum over rows of several categories counts each
    -- show once. The rollups below sum both.
    shows integer NOT NULL DEFAULT 1,
    shows_first integer NOT NULL,
    tickets_sold integer NOT NULL DEFAULT 0,
    tickets_refunded integer NOT NULL DEFAULT 0,
    tickets_exchanged_in integer NOT NULL DEFAULT 0,
    tickets_exchanged_out integer NOT NULL DEFAULT 0,
    gross_minor bigint NOT NULL DEFAULT 0,
    discounts_minor bigint NOT NULL DEFAULT 0,
    refunds_minor bigint NOT NULL DEFAULT 0,
    fees_minor bigint NOT NULL DEFAULT 0,
    exchanged_in_minor bigint NOT NULL DEFAULT 0,
    exchanged_out_minor bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (show_id, category)
);
CREATE INDEX box_office_facts_by_day ON box_office_facts (local_date);
CREATE INDEX box_office_facts_by_city ON box_office_facts (city_id, local_date);
CREATE INDEX box_office_facts_by_cinema ON box_office_facts (cinema_id, local_date);
CREATE INDEX box_office_facts_by_movie ON box_office_facts (movie_id, local_date);

-- The facts rolled up per local day and city, and per local day and movie (shows without a
-- city under the nil id): a report that groups and filters by nothing finer reads these,
-- a few thousand rows a week instead of one per show and category.
CREATE TABLE box_office_city_days (
    local_date date NOT NULL,
    weekday smallint NOT NULL,
    city_id uuid NOT NULL,
    category text NOT NULL,
    currency text NOT NULL,
    capacity integer NOT NULL DEFAULT 0,
    shows integer NOT NULL DEFAULT 0,
    shows_first integer NOT NULL DEFAULT 0,
    tickets_sold integer NOT NULL DEFAULT 0,
    tickets_refunded integer NOT NULL DEFAULT 0,
    tickets_exchanged_in integer NOT NULL DEFAULT 0,
    tickets_exchanged_out integer NOT NULL DEFAULT 0,
    gross_minor bigint NOT NULL DEFAULT 0,
    discounts_minor bigint NOT NULL DEFAULT 0,
    refunds_minor bigint NOT NULL DEFAULT 0,
    fees_minor bigint NOT NULL DEFAULT 0,
    exchanged_in_minor bigint NOT NULL DEFAULT 0,
    exchanged_out_minor bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (local_date, city_id, category, currency)
);
CREATE TABLE box_office_movie_days (LIKE box_office_city_days INCLUDING DEFAULTS);
ALTER TABLE box_office_movie_days RENAME COLUMN city_id TO movie_id;
ALTER TABLE box_office_movie_days ADD PRIMARY KEY (local_date, movie_id, category, currency);

-- The conversion funnel per show.
CREATE TABLE box_office_funnel (
    show_id uuid PRIMARY KEY,
    movie_id uuid NOT NULL,
    cinema_id uuid,
    city_id uuid,
    local_date date NOT NULL,
    weekday smallint NOT NULL,
    local_hour smallint NOT NULL,
    starts_at timestamptz NOT NULL,
    holds_made integer NOT NULL DEFAULT 0,
    holds_released integer NOT NULL DEFAULT 0,
    holds_expired integer NOT NULL DEFAULT 0,
    holds_paid integer NOT NULL DEFAULT 0,
    paid_after_expiry integer NOT NULL DEFAULT 0,
    payments_started integer NOT NULL DEFAULT 0,
    payments_failed integer NOT NULL DEFAULT 0,
    payments_refused integer NOT NULL DEFAULT 0,
    waitlist_joined integer NOT NULL DEFAULT 0,
    waitlist_offers integer NOT NULL DEFAULT 0,
    offers_taken integer NOT NULL DEFAULT 0,
    offers_lapsed integer NOT NULL DEFAULT 0,
    promo_holds integer NOT NULL DEFAULT 0,
    promo_orders integer NOT NULL DEFAULT 0
);
CREATE INDEX box_office_funnel_by_day ON box_office_funnel (local_date);
CREATE INDEX box_office_funnel_by_city ON box_office_funnel (city_id, local_date);
CREATE INDEX box_office_funnel_by_cinema ON box_office_funnel (cinema_id, local_date);
CREATE INDEX box_office_funnel_by_movie ON box_office_funnel (movie_id, local_date);

-- Sales per hour of sale time, per show and rolled up per movie, cinema and city (`scope`).
-- `hour` counts hours since 1970-01-01T00:00Z.
CREATE TABLE sales_timeline (
    scope text NOT NULL,
    scope_id uuid NOT NULL,
    hour bigint NOT NULL,
    currency text NOT NULL,
    tickets_sold integer NOT NULL DEFAULT 0,
    tickets_refunded integer NOT NULL DEFAULT 0,
    tickets_net integer NOT NULL DEFAULT 0,
    net_revenue_minor bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, scope_id, hour, currency)
);

-- What each seat in an order counts as paid, and its category.
CREATE TABLE report_seats (
    show_id uuid NOT NULL,
    seat_id text NOT NULL,
    category text NOT NULL,
    paid_minor bigint NOT NULL,
    PRIMARY KEY (show_id, seat_id)
);
-- Seats given up for another show, until the transfer completes or is undone.
CREATE TABLE report_transfers (
    show_id uuid NOT NULL,
    exchange_id uuid NOT NULL,
    seat_ids text[] NOT NULL,
    seat_categories text[] NOT NULL,
    paid_minor bigint[] NOT NULL,
    PRIMARY KEY (show_id, exchange_id)
);
-- Holds that are waiting-list offers, until they are paid or lapse.
CREATE TABLE report_offer_holds (
    hold_id uuid PRIMARY KEY,
    show_id uuid NOT NULL
);
-- The show each payment is for (payment streams name it only when they start).
CREATE TABLE report_payments (
    payment_id uuid PRIMARY KEY,
    show_id uuid NOT NULL
);
