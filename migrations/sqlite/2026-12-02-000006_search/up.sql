-- Chapter 16: full-text search of posts with SQLite's FTS5. The index holds only the words; the
-- text stays in `posts` (an external-content table), and triggers keep the index in step with
-- every insert, edit and delete, in the same transaction. Words match whatever their case and
-- accents ("cafe" finds "café"), and English word forms match ("running" finds "run", Porter).
CREATE VIRTUAL TABLE posts_search USING fts5(
    body,
    content = 'posts',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- Each post is written in a transaction of its own, so each adds a small segment to the index,
-- which FTS5 merges as they pile up. Merging 16 at a time instead of its default 4 makes a post
-- much cheaper to write (docs/performance.md) and searches no slower.
INSERT INTO posts_search (posts_search, rank) VALUES ('automerge', 16);

-- The posts that already exist.
INSERT INTO posts_search (posts_search) VALUES ('rebuild');

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
