ALTER TABLE mails DROP COLUMN attachment_export_id;
DROP TABLE exports;
DROP TABLE tasks;
