-- The search path for the rest of the swap's transaction: the live tables' ($1 without the
-- rebuild's schema) or the shadow tables' ($1 with it first).
SELECT set_config('search_path', $1, true)
