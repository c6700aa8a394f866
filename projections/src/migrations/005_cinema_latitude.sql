-- Searches near a point look for cinemas in a box around it first.
CREATE INDEX catalogue_cinemas_by_latitude ON catalogue_cinemas (latitude);
