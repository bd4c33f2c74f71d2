ALTER TABLE exports ADD COLUMN body TEXT NOT NULL DEFAULT '';
UPDATE exports SET body = '{"posts": [' || COALESCE(
    (SELECT string_agg(body, '' ORDER BY seq) FROM export_chunks c WHERE c.export_id = exports.id),
    '') || ']}';
ALTER TABLE exports DROP COLUMN size;
ALTER TABLE exports DROP COLUMN ready;
DROP TABLE export_chunks;
