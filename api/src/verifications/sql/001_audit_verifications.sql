-- Verifications that auditors started over HTTP: the read models rebuilt and compared with
-- the log, and the log's walk. One row per verification, kept with its result.
CREATE TABLE audit_verifications (
    verification_id uuid PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'error')),
    requested_by text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- The process running it renews this while it runs; a `running` row whose lease has
    -- passed belongs to a process that died, and the next verification to start ends it.
    lease_until timestamptz,
    events_rebuilt bigint NOT NULL DEFAULT 0,
    events_walked bigint NOT NULL DEFAULT 0,
    result jsonb,
    error text
);

-- One verification runs at a time, whichever server process started it.
CREATE UNIQUE INDEX audit_verifications_one_running ON audit_verifications ((true))
    WHERE status = 'running';
