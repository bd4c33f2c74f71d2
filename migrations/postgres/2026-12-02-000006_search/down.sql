DROP INDEX ix_posts_search;
ALTER TABLE posts DROP COLUMN search;
DROP FUNCTION microblog_unaccent(text);
