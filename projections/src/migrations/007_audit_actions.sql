-- Who did what: one row per command (or system step) that changed the log, from its events'
-- metadata (the actions read model, projections/src/actions).
CREATE TABLE audit_actions (
    stream text NOT NULL,
    -- `{actor}/{idempotency key}` (one command per stream), or the first event's id for an
    -- event that carries neither.
    action_key text NOT NULL,
    actor text,
    command text,
    idempotency_key text,
    correlation_id text,
    causation_id text,
    first_version bigint NOT NULL,
    last_version bigint NOT NULL,
    recorded_at timestamptz NOT NULL,
    commit_position bigint NOT NULL,
    prepare_position bigint NOT NULL,
    -- The event types it appended, in order.
    outcome text[] NOT NULL,
    PRIMARY KEY (stream, action_key)
);
CREATE INDEX audit_actions_in_log_order ON audit_actions (commit_position, prepare_position);
CREATE INDEX audit_actions_by_actor ON audit_actions (actor, commit_position, prepare_position);
CREATE INDEX audit_actions_by_command ON audit_actions (command, commit_position, prepare_position);
