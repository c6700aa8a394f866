-- The next page of `verify_rows`: pages keep a verification's memory small whatever the
-- table's size.
FETCH FORWARD 1000 FROM verify_rows
