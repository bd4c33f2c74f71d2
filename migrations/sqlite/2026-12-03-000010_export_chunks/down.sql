ALTER TABLE exports ADD COLUMN body TEXT NOT NULL DEFAULT '';
UPDATE exports SET body = '{"posts": [' || COALESCE(
    (SELECT group_concat(body, '') FROM
        (SELECT body FROM export_chunks c WHERE c.export_id = exports.id ORDER BY seq)),
    '') || ']}';
ALTER TABLE exports DROP COLUMN size;
ALTER TABLE exports DROP COLUMN ready;
DROP TABLE export_chunks;
