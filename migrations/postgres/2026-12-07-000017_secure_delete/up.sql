-- SQLite's search index needs an option to forget deleted posts' words (its migration of the
-- same name). PostgreSQL's index entries go with their row, and the row's space is reused
-- after VACUUM: nothing to change here.
SELECT 1;
