-- A batch's actions, each with its events' types; an action whose events came in an
-- earlier batch (one append split across two) gains the rest.
INSERT INTO audit_actions (stream, action_key, actor, command, idempotency_key,
    correlation_id, causation_id, first_version, last_version, recorded_at,
    commit_position, prepare_position, outcome)
SELECT a.stream, a.action_key, a.actor, a.command, a.idempotency_key, a.correlation_id,
    a.causation_id, a.first_version, a.last_version, a.recorded_at, a.commit_position,
    a.prepare_position, ARRAY(SELECT jsonb_array_elements_text(a.outcome))
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::bigint[], $9::bigint[], $10::timestamptz[], $11::bigint[],
    $12::bigint[], $13::jsonb[])
    AS a(stream, action_key, actor, command, idempotency_key, correlation_id, causation_id,
        first_version, last_version, recorded_at, commit_position, prepare_position, outcome)
ON CONFLICT (stream, action_key) DO UPDATE SET
    last_version = greatest(audit_actions.last_version, EXCLUDED.last_version),
    outcome = audit_actions.outcome || EXCLUDED.outcome
