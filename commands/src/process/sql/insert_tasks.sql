-- A batch's tasks, once each: a task found again (a replay, another process) is already there.
INSERT INTO process_tasks (task_id, kind, payload)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])
ON CONFLICT (task_id) DO NOTHING
