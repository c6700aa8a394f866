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

-- The process manager's task list was created here before it had a migration of its own
-- (commands/src/process/sql/001_process_tasks.sql, which creates it if it is missing).
