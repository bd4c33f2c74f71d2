-- A mail that carries a link working like a password (a password reset, an address change):
-- once a mail server has it, its text is not kept in the outbox.
ALTER TABLE mails ADD COLUMN holds_link BOOLEAN NOT NULL DEFAULT FALSE;
