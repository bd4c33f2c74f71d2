-- Back to one index write per post: first the posts that wait for the index.
INSERT INTO posts_search (rowid, body)
SELECT id, body FROM posts WHERE id > (SELECT indexed_through FROM posts_search_mark);

DROP TRIGGER posts_search_update;
DROP TRIGGER posts_search_delete;
DROP TABLE posts_search_mark;

CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO posts_search (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
    INSERT INTO posts_search (posts_search, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER posts_search_update AFTER UPDATE OF body ON posts BEGIN
    INSERT INTO posts_search (posts_search, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO posts_search (rowid, body) VALUES (new.id, new.body);
END;
