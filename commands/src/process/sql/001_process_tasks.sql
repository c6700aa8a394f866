-- Work the payments process manager found in the log and still has to carry out (refunds
-- and charges through the provider, promo uses to give back, settlements, exchanges to
-- finish). Databases made before this step got the table from the sandbox provider's first
-- migration, hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS process_tasks (
    task_id uuid PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    not_before timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS process_tasks_due ON process_tasks (not_before);

-- The worker that has claimed a task (until `not_before`, its lease); NULL when free.
ALTER TABLE process_tasks ADD COLUMN IF NOT EXISTS claim uuid;
