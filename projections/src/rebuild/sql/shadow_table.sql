-- The statements that make an empty shadow copy of the live read-model table $1 in the
-- rebuild's schema, under the same name, in steps:
--   0  the table: columns, defaults, checks, storage, comments (no index yet);
--   1  its keys, unique constraints and unique indexes, which its projector's upserts need
--      while it loads;
--   2  its other indexes, made once it is loaded (one sort each instead of one insertion
--      per row).
-- Indexes and constraints keep their live names (they live in another schema until the
-- swap), so the table swapped in is the one the migrations made, names and all. Names are
-- quoted by format's %I or printed by PostgreSQL itself, never pasted from input. No row
-- when there is no such live table; `live_schema` says where the live one is.
WITH live AS (
    SELECT c.oid, n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = to_regclass(quote_ident($1)) AND c.relpersistence = 'p' AND c.relkind = 'r'
)
SELECT 0 AS step, live.nspname AS live_schema,
    format('CREATE TABLE boxoffice_rebuild.%I (LIKE %I.%I INCLUDING ALL EXCLUDING INDEXES)',
        live.relname, live.nspname, live.relname) AS statement
FROM live
UNION ALL
SELECT 1, live.nspname, format('ALTER TABLE boxoffice_rebuild.%I ADD CONSTRAINT %I %s',
    live.relname, con.conname, pg_get_constraintdef(con.oid))
FROM live JOIN pg_constraint con ON con.conrelid = live.oid AND con.contype IN ('p', 'u', 'x')
UNION ALL
SELECT CASE WHEN i.indisunique THEN 1 ELSE 2 END, live.nspname,
    replace(pg_get_indexdef(i.indexrelid), format(' ON %I.%I ', live.nspname, live.relname),
        format(' ON boxoffice_rebuild.%I ', live.relname))
FROM live JOIN pg_index i ON i.indrelid = live.oid
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
ORDER BY step
