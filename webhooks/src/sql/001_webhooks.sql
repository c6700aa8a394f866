-- Outbound webhooks. Endpoints are registered by operators; their secrets stay here, out of
-- the log (the access stream records who registered which URL). Deliveries are written by
-- the `webhooks` projector in the transaction that moves its checkpoint, so each event
-- makes each endpoint's delivery exactly once; the deliverer sends them, at least once,
-- in stream order per endpoint and show.
CREATE TABLE webhook_endpoints (
    webhook_id uuid PRIMARY KEY,
    url text NOT NULL,
    kinds text[] NOT NULL,
    description text NOT NULL DEFAULT '',
    secret text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

CREATE TABLE webhook_deliveries (
    delivery_id uuid PRIMARY KEY,
    webhook_id uuid NOT NULL REFERENCES webhook_endpoints,
    event_id uuid NOT NULL,
    kind text NOT NULL,
    show_id uuid NOT NULL,
    stream_version bigint NOT NULL,
    -- The exact bytes sent (and signed) on every attempt.
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- The deliverer that is sending it, until `leased_until`; NULL when nobody is.
    lease uuid,
    leased_until timestamptz,
    delivered_at timestamptz,
    last_status integer,
    last_error text,
    UNIQUE (webhook_id, event_id)
);
-- What is still to send, in the order it must go.
CREATE INDEX webhook_deliveries_waiting ON webhook_deliveries (webhook_id, show_id, stream_version)
    WHERE delivered_at IS NULL;
-- An endpoint's deliveries, newest first.
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (webhook_id, created_at DESC, delivery_id DESC);

CREATE TABLE webhook_attempts (
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    attempt integer NOT NULL,
    attempted_at timestamptz NOT NULL,
    -- The receiver's HTTP status; NULL when none came (refused, reset, timed out).
    status integer,
    error text,
    duration_ms integer NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
