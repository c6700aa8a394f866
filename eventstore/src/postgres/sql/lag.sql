-- How far a reader at ($1, $2) is behind the readable end of the log, without reading the
-- events in between: the oldest event it has not read (no row: none follow) and the sequence
-- numbers of that event and of the newest readable one. Their difference counts the events
-- between, plus any numbers that rolled-back appends took (an estimate, never below 1).
WITH readable AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
), next AS (
    SELECT e.position, e.recorded_at
    FROM events e, readable r
    WHERE (e.xid, e.position) > ($1, $2) AND e.xid < r.xmin
    ORDER BY e.xid, e.position
    LIMIT 1
), newest AS (
    SELECT e.position
    FROM events e, readable r
    WHERE e.xid < r.xmin
    ORDER BY e.xid DESC, e.position DESC
    LIMIT 1
)
SELECT next.recorded_at, greatest(newest.position - next.position + 1, 1) AS events
FROM next, newest
