-- The schema the read-model table $1 is in, found as the projectors' unqualified SQL finds it.
SELECT n.nspname::text AS schema
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(quote_ident($1))
