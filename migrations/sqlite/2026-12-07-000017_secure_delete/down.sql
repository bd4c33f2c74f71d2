INSERT INTO posts_search (posts_search, rank) VALUES ('secure-delete', 0);
