-- A group append: many streams' batches in one statement (postgres/mod.rs, "Group commit").
--
-- $1..$3 name each stream once, with the version it must be at (-1: it must not exist) and
-- how many events it gets. First every stream's turn is taken (its advisory lock, in the
-- order of the locks' keys), so a group waits for a writer holding one of them (postgres/
-- mod.rs, "Turns"). Then each existing stream's head row is locked in stream order (so two
-- processes committing overlapping groups never wait for each other in a circle), moved when
-- it is where its batch expects, and left alone otherwise; a new stream's row is created
-- unless it exists. Only the events of streams whose head moved or was created are written
-- ($4..$12, one element per event, versions numbered by the caller from the expectation): a
-- stream that is not where its batch expected gets no row back and nothing written, and the
-- others commit.
WITH turns AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(k.key)
    FROM (
        SELECT DISTINCT hashtextextended(s, 0) AS key FROM unnest($1::text[]) AS s ORDER BY 1
    ) AS k
),
taken AS MATERIALIZED (
    SELECT count(*) AS n FROM turns
),
req AS (
    SELECT r.stream, r.expected, r.n
    FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS r(stream, expected, n)
),
locked AS MATERIALIZED (
    SELECT s.stream, s.version
    FROM streams s, taken
    WHERE s.stream = ANY($1::text[])
    ORDER BY s.stream
    FOR UPDATE
),
moved AS (
    UPDATE streams s SET version = r.expected + r.n
    FROM req r, locked l
    WHERE r.expected >= 0 AND s.stream = r.stream AND l.stream = r.stream
        AND l.version = r.expected
    RETURNING s.stream
),
created AS (
    INSERT INTO streams (stream, version)
    SELECT r.stream, r.n - 1 FROM req r, taken WHERE r.expected < 0 ORDER BY r.stream
    ON CONFLICT (stream) DO NOTHING
    RETURNING stream
),
heads AS (
    SELECT stream FROM moved UNION ALL SELECT stream FROM created
),
appended AS (
    INSERT INTO events (stream, version, event_id, event_type, schema_version, data, metadata,
        recorded_at, hash)
    SELECT e.stream, e.version, e.event_id, e.event_type, e.schema_version, e.data, e.metadata,
        e.recorded_at, e.hash
    FROM unnest($4::text[], $5::bigint[], $6::uuid[], $7::text[], $8::int[], $9::jsonb[],
            $10::jsonb[], $11::timestamptz[], $12::bytea[])
            WITH ORDINALITY AS e(stream, version, event_id, event_type, schema_version, data,
                metadata, recorded_at, hash, ord)
    WHERE e.stream IN (SELECT stream FROM heads)
    ORDER BY e.ord
    RETURNING stream, version, xid, position
)
-- The notification is delivered at commit, waking subscribers; a group that wrote nothing
-- sends none.
SELECT a.stream, max(a.version), max(a.xid), max(a.position)
FROM appended a, (SELECT pg_notify('boxoffice_events', '')) AS wake
GROUP BY a.stream
