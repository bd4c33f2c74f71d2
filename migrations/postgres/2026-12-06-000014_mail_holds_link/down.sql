ALTER TABLE mails DROP COLUMN holds_link;
