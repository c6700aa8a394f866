-- Each event's link in its stream's hash chain (eventstore/src/chain.rs): SHA-256 of the
-- previous event's hash and the event's canonical encoding. Events appended before this
-- step have none until `prepare_database` computes theirs (postgres::chain_existing), the
-- one change the log ever accepts to a row: setting a missing hash once.
ALTER TABLE events ADD COLUMN hash bytea;

CREATE OR REPLACE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
        AND (NEW.position, NEW.xid, NEW.stream, NEW.version, NEW.event_id, NEW.event_type,
             NEW.schema_version, NEW.data, NEW.metadata, NEW.recorded_at)
            IS NOT DISTINCT FROM
            (OLD.position, OLD.xid, OLD.stream, OLD.version, OLD.event_id, OLD.event_type,
             OLD.schema_version, OLD.data, OLD.metadata, OLD.recorded_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the event log is append-only';
END;
$$;
