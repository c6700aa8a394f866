-- A page of actions in log order after position ($1, $2): by actor $3, command $4, stream
-- $5, recorded from $6 and before $7 (each when given), at most $8.
SELECT stream, actor, command, idempotency_key, correlation_id, causation_id,
    first_version, last_version, recorded_at, commit_position, prepare_position, outcome
FROM audit_actions
WHERE (commit_position, prepare_position) > ($1, $2)
    AND ($3::text IS NULL OR actor = $3)
    AND ($4::text IS NULL OR command = $4)
    AND ($5::text IS NULL OR stream = $5)
    AND ($6::timestamptz IS NULL OR recorded_at >= $6)
    AND ($7::timestamptz IS NULL OR recorded_at < $7)
ORDER BY commit_position, prepare_position
LIMIT $8
