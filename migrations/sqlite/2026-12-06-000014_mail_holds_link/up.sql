-- A mail that carries a link working like a password (a password reset, an address change):
-- once a mail server has it, its text is not kept in the outbox.
ALTER TABLE mails ADD COLUMN holds_link BOOLEAN NOT NULL DEFAULT FALSE;
-- The mails an address was sent in a day, whatever the case of the address, are counted on every
-- mail queued (its daily allowance).
CREATE INDEX ix_mails_recipients_created_at ON mails (lower(recipients), created_at);
