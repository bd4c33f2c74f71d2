-- Chapter 14: the language each post was written in (ISO 639-1, e.g. "es"), as detected when
-- it was published; NULL when it was not known (posts older than this column, or text too short
-- to tell).
ALTER TABLE posts ADD COLUMN language VARCHAR(5);
