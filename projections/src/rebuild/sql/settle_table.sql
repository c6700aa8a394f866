-- Settles the loaded shadow table $1 before it serves, in two statements (VACUUM cannot
-- share a transaction): made durable (it loaded unlogged: one write of the whole table to
-- the WAL instead of a record per row and index entry; a crash meanwhile only empties what
-- the next rebuild drops anyway), then its visibility map and statistics, so its first
-- queries are planned and run as the live table's were.
SELECT format('ALTER TABLE boxoffice_rebuild.%I SET LOGGED', $1::text) AS logged,
    format('VACUUM (ANALYZE) boxoffice_rebuild.%I', $1::text) AS vacuum
