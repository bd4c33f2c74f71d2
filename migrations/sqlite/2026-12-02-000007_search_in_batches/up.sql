-- Chapter 16, faster publishing: the search index is written in batches instead of once per post.
--
-- Writing each post into FTS5 in the post's own transaction made every post write a new index
-- segment, and publishing about a third slower. Now a post is only written to `posts`; the
-- posts not yet in the index are those whose id is above `indexed_through` (ids only grow:
-- `posts.id` is AUTOINCREMENT, and SQLite commits one writer at a time). The app adds them to
-- the index in one transaction, before every search and once a second, so a search still finds
-- every post published before it, and a crash loses nothing: what is not indexed yet is known
-- from the posts themselves.
CREATE TABLE posts_search_mark (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);

-- Every post that exists now is in the index (the previous migration's triggers saw to it).
INSERT INTO posts_search_mark (id, indexed_through) SELECT 1, coalesce(max(id), 0) FROM posts;

DROP TRIGGER posts_search_insert;
DROP TRIGGER posts_search_delete;
DROP TRIGGER posts_search_update;

-- A post that is already in the index leaves it, or changes in it, with the post's own
-- transaction; one that is not yet there needs nothing.
CREATE TRIGGER posts_search_delete AFTER DELETE ON posts
WHEN old.id <= (SELECT indexed_through FROM posts_search_mark) BEGIN
    INSERT INTO posts_search (posts_search, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER posts_search_update AFTER UPDATE OF body ON posts
WHEN old.id <= (SELECT indexed_through FROM posts_search_mark) BEGIN
    INSERT INTO posts_search (posts_search, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO posts_search (rowid, body) VALUES (new.id, new.body);
END;
