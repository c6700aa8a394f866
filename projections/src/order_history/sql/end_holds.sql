-- Holds that ended unpaid. A hold ends once: the step is kept whatever happened since, but
-- a row paid meanwhile (a late payment) keeps its status.
UPDATE order_history o SET
    status = CASE WHEN o.status = 'held' THEN e.status ELSE o.status END,
    updated_at = CASE WHEN o.status = 'held' THEN greatest(o.updated_at, e.at)
        ELSE o.updated_at END,
    ended_as = e.status, ended_at = e.at, ended_commit = e.c, ended_prepare = e.p
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[])
    AS e(hold_id, status, at, c, p)
WHERE o.hold_id = e.hold_id
