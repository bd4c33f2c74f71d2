-- The time index holds the whole order of a page of /explore, newest first and then the
-- highest id (`models::post::page`), and the id itself. With the time alone, PostgreSQL sorted
-- each run of equal times by id, and fetched every post it stepped over from the table to learn
-- its id: a deep page read thousands of the table's pages. Now the posts before a page are
-- skipped in the index alone (an Index Only Scan), and only the page's own rows are read
-- (docs/performance.md, "A deep page of /explore"). The index serves every query the old one
-- did, whose first column it shares.
-- SQLite needs no change: each entry of its ix_posts_timestamp already ends with the row's id
-- (the rowid), so its plan reads the index alone already (SCAN ... USING COVERING INDEX).
DROP INDEX ix_posts_timestamp;
CREATE INDEX ix_posts_timestamp ON posts (timestamp, id);
