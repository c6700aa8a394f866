-- A verification's scratch session: its temporary schema first in the search path (where
-- PostgreSQL looks for tables first anyway; said here so that no setting can change it), so
-- the projectors' unqualified SQL writes to the scratch copies; and commits that need not
-- wait for disk (the copies die with the session).
SELECT set_config('search_path',
        concat_ws(', ', 'pg_temp', nullif(current_setting('search_path'), '')), false),
    set_config('synchronous_commit', 'off', false)
