-- Chapter 8: who follows whom. The primary key makes a second identical row impossible, so
-- two concurrent clicks on Follow cannot create a duplicate.
CREATE TABLE followers (
    follower_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followed_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (follower_id, followed_id)
);
-- "Who follows this user" (follower counts) reads by followed_id.
CREATE INDEX ix_followers_followed_id ON followers (followed_id);
