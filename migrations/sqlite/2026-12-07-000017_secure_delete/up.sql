-- A deleted post leaves the search index whole: its words are removed from the index's pages,
-- instead of being marked deleted and kept until a merge (FTS5's secure-delete option, kept in
-- the index's own configuration). Deleting costs a little more; searching nothing.
INSERT INTO posts_search (posts_search, rank) VALUES ('secure-delete', 1);
