-- The statement that swaps the loaded shadow table $1 in for the live one in schema $2:
-- the live table is dropped (a view or key of someone else's that depends on it makes the
-- swap fail rather than vanish) and the shadow moves into its place, indexes and all.
SELECT format('DROP TABLE %I.%I; ALTER TABLE boxoffice_rebuild.%I SET SCHEMA %I',
    $2::text, $1::text, $1::text, $2::text) AS statement
