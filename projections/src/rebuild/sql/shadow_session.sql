-- A loading session of the rebuild: its schema first in the search path, so the projectors'
-- unqualified SQL writes the shadow tables; the path it had is returned, to go back to it
-- for the swap. Commits need not wait for disk: a crash abandons the shadow tables anyway.
SELECT current_setting('search_path') AS live_path,
    set_config('search_path',
        concat_ws(', ', 'boxoffice_rebuild', nullif(current_setting('search_path'), '')),
        false) AS shadow_path,
    set_config('synchronous_commit', 'off', false)
