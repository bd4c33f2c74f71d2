DROP INDEX ix_posts_timestamp;
CREATE INDEX ix_posts_timestamp ON posts (timestamp);
