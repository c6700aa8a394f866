-- The statement that makes an empty copy of the live read-model table $1 in this session's
-- temporary schema, under the same name: same columns, defaults, constraints and indexes.
-- No row when there is no such live table. Names are quoted by format's %I, never pasted.
SELECT format('CREATE TEMP TABLE %I (LIKE %I.%I INCLUDING ALL)',
    c.relname, n.nspname, c.relname) AS statement
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(quote_ident($1)) AND c.relpersistence <> 't'
