-- The statement that locks the live tables $1 (in the schemas $2) for the swap, waiting for
-- their readers ($3 false) or giving up at once if any is in use ($3 true: `NOWAIT`).
SELECT format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE%s',
    string_agg(format('%I.%I', t.schema, t.name), ', ' ORDER BY t.n),
    CASE WHEN $3 THEN ' NOWAIT' ELSE '' END) AS statement
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(name, schema, n)
