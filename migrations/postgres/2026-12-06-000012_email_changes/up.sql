-- A change of e-mail address waiting for its confirmation: the new address becomes the user's
-- only once the link mailed to it is opened. One per user (a newer request replaces it); the
-- row holds the link's SHA-256, never the link.
CREATE TABLE email_changes (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    new_email VARCHAR(120) NOT NULL,
    token_hash VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ix_email_changes_token_hash ON email_changes (token_hash);
