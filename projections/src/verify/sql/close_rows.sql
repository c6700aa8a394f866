-- Done with a table: the next one opens `verify_rows` again.
CLOSE verify_rows
