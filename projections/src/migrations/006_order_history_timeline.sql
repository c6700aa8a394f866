-- Order history from the first hold on: one row per hold (what a customer set out to buy),
-- the order it became, payments, refunds and exchanges, and a timeline of what happened.
-- The old tables are replaced and the projector starts again from the beginning of the log.
DROP TABLE order_history;
DROP TABLE order_history_shows;
DELETE FROM projection_checkpoints WHERE name = 'order_history';

CREATE TABLE order_history_shows (
    show_id uuid PRIMARY KEY,
    title text NOT NULL,
    starts_at timestamptz NOT NULL
);

CREATE TABLE order_history (
    hold_id uuid PRIMARY KEY,
    order_id uuid UNIQUE,
    show_id uuid NOT NULL,
    customer_id text NOT NULL,
    seats text[] NOT NULL,
    refunded_seats text[] NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('held', 'released', 'expired', 'paid',
        'partially_refunded', 'refunded', 'exchanged')),
    -- What it costs: list prices less the discount, plus what exchanges charged.
    total_minor bigint NOT NULL,
    discount_minor bigint NOT NULL DEFAULT 0,
    promo_code text,
    refunded_minor bigint NOT NULL DEFAULT 0,
    fees_minor bigint NOT NULL DEFAULT 0,
    currency text NOT NULL,
    payment_reference text,
    payment_id uuid,
    payment_status text,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    -- The steps every hold goes through are kept here, not as timeline rows (a busy on-sale
    -- makes many holds): held, paid, and released or expired, each with its log position.
    held_detail jsonb NOT NULL,
    held_commit bigint NOT NULL,
    held_prepare bigint NOT NULL,
    paid_at timestamptz,
    paid_after_expiry boolean NOT NULL DEFAULT false,
    paid_total_minor bigint,
    paid_commit bigint,
    paid_prepare bigint,
    ended_as text,
    ended_at timestamptz,
    ended_commit bigint,
    ended_prepare bigint
);
CREATE INDEX order_history_by_customer ON order_history (customer_id, created_at DESC, hold_id DESC);

CREATE TABLE order_history_payments (
    payment_id uuid PRIMARY KEY,
    hold_id uuid NOT NULL
);

-- Refunds and charges (by their ids) and the hold they belong to: the provider's
-- confirmations arrive on the payment's stream, which may pay for several orders (an
-- order made by an exchange from another show is paid by the first order's payment).
CREATE TABLE order_history_settlements (
    settlement_id uuid PRIMARY KEY,
    hold_id uuid NOT NULL
);

-- The other steps (payments, refunds, exchanges), newest first by log position.
CREATE TABLE order_history_timeline (
    hold_id uuid NOT NULL,
    commit_position bigint NOT NULL,
    prepare_position bigint NOT NULL,
    at timestamptz NOT NULL,
    kind text NOT NULL,
    detail jsonb NOT NULL
);
CREATE INDEX order_history_timeline_by_hold
    ON order_history_timeline (hold_id, commit_position, prepare_position);
