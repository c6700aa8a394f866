-- The rebuild's schema, empty: whatever a rebuild that died left there goes first.
DROP SCHEMA IF EXISTS boxoffice_rebuild CASCADE;
CREATE SCHEMA boxoffice_rebuild;
