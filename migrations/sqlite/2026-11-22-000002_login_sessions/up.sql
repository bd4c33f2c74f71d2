-- Revocable logins (DESIGN.md, "Login sessions are revocable"): one row per logged-in browser.
-- The cookie holds a random token; only its SHA-256 is stored, so a leaked database
-- does not hand out live sessions.
CREATE TABLE login_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_hash VARCHAR(64) NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_used TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    remember BOOLEAN NOT NULL,
    user_agent VARCHAR(256) NOT NULL
);
CREATE UNIQUE INDEX ix_login_sessions_token_hash ON login_sessions (token_hash);
CREATE INDEX ix_login_sessions_user_id ON login_sessions (user_id);
