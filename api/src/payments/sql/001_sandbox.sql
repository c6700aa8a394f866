-- The sandbox payment provider's own records: what a real provider keeps on its side.
CREATE TABLE sandbox_payments (
    payment_id uuid PRIMARY KEY,
    amount_minor bigint NOT NULL,
    currency text NOT NULL,
    method text NOT NULL,
    description text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sandbox_refunds (
    refund_id uuid PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES sandbox_payments,
    amount_minor bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sandbox_charges (
    charge_id uuid PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES sandbox_payments,
    amount_minor bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every notification the sandbox sent, as sent (so it can be inspected and replayed).
CREATE TABLE sandbox_notifications (
    event_id uuid PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES sandbox_payments,
    sent_timestamp bigint NOT NULL,
    body text NOT NULL,
    signature text NOT NULL,
    answer_status integer,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Work the payments process manager found in the log and still has to carry out
-- (refunds and charges through the provider, promo uses to give back, settlements).
CREATE TABLE process_tasks (
    task_id uuid PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    not_before timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX process_tasks_due ON process_tasks (not_before);
