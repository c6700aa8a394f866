-- Claims up to $2 due tasks for claim $1 until now + $3 seconds, in one short statement: the
-- work happens after it committed, outside any transaction. A claimed task is not due again
-- until its lease runs out, so a crashed worker's tasks are taken up again then.
UPDATE process_tasks t
SET claim = $1, not_before = now() + make_interval(secs => $3)
FROM (
    SELECT task_id FROM process_tasks
    WHERE not_before <= now()
    ORDER BY created_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) due
WHERE t.task_id = due.task_id
RETURNING t.task_id, t.payload, t.attempts, t.created_at
