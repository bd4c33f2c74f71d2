DROP INDEX ix_mails_recipients_created_at;
ALTER TABLE mails DROP COLUMN holds_link;
