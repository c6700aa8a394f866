-- The rebuild's own copy of the checkpoint table, empty: the projectors' ETag updates land
-- there (and change nothing) while they load the shadow tables.
SELECT format('CREATE TABLE boxoffice_rebuild.%I (LIKE %I.%I INCLUDING ALL)',
    c.relname, n.nspname, c.relname) AS statement
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass('projection_checkpoints')
