-- The event log. Rows are never updated or deleted.
--
-- `position` is a sequence number handed out when the row is inserted; `xid` is the id of the
-- appending transaction. Sequence numbers are not handed out in commit order, so readers order
-- by (xid, position) and only read events of transactions older than every transaction still
-- running (the snapshot's xmin): such transactions have all ended, so nothing can later appear
-- in front of what was read. See postgres/mod.rs.
CREATE TABLE streams (
    stream text PRIMARY KEY,
    version bigint NOT NULL
);

CREATE TABLE events (
    position bigint GENERATED ALWAYS AS IDENTITY,
    xid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    stream text NOT NULL,
    version bigint NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    schema_version integer NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (xid, position),
    CONSTRAINT events_stream_version_key UNIQUE (stream, version),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;

CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();
