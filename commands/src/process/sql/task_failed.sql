-- A task that failed: free again after a delay of $4 seconds, with the error kept for
-- operators.
UPDATE process_tasks
SET attempts = attempts + 1, last_error = $3, claim = NULL,
    not_before = now() + make_interval(secs => $4)
WHERE task_id = $1 AND claim = $2
