-- The statement that opens the cursor `verify_rows` over the table $1 of schema $2 in the
-- order of its primary key (found in the catalog): the key's columns, then the whole row as
-- JSON. Text keys sort byte by byte (COLLATE "C"), as the merge in Rust compares them.
-- No row when the table has no primary key. Names are quoted by format's %I, never pasted.
WITH key AS (
    SELECT a.attname, a.attcollation <> 0 AS collatable, k.n
    FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = to_regclass(format('%I.%I', $2::text, $1::text)) AND i.indisprimary
)
SELECT array_agg(attname::text ORDER BY n) AS key_columns,
    format('DECLARE verify_rows NO SCROLL CURSOR FOR SELECT %s, to_jsonb(t) AS row '
        'FROM %I.%I t ORDER BY %s',
        string_agg(format('t.%I', attname), ', ' ORDER BY n), $2::text, $1::text,
        string_agg(format('t.%I', attname)
            || CASE WHEN collatable THEN ' COLLATE "C"' ELSE '' END, ', ' ORDER BY n))
        AS statement
FROM key
HAVING count(*) > 0
