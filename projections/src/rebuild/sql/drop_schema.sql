-- The rebuild is over (its tables were swapped in, or it gave up): its schema goes.
DROP SCHEMA IF EXISTS boxoffice_rebuild CASCADE
