-- Chapter 22: an export's file is kept in pieces of a thousand posts, written as the export
-- reads them, so neither the export nor a download ever holds the whole file in memory.
-- A piece is posts as JSON separated by ", ", every piece after the first starting with ", ";
-- the file is `{"posts": [` + the pieces in order + `]}`.
CREATE TABLE export_chunks (
    export_id INTEGER NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (export_id, seq)
);
-- Ready once the export's last transaction has committed; before that the pieces are being
-- written (or were left by a run that died, and the next run replaces them).
ALTER TABLE exports ADD COLUMN ready BOOLEAN NOT NULL DEFAULT TRUE;
-- The whole file's length in bytes.
ALTER TABLE exports ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
UPDATE exports SET size = octet_length(body);
INSERT INTO export_chunks (export_id, seq, body)
    SELECT id, 0, substr(body, 12, length(body) - 13) FROM exports WHERE length(body) > 13;
ALTER TABLE exports DROP COLUMN body;
