-- Chapter 10 and the background work of later chapters.

-- The job runner's queue (src/jobs.rs): work done beside the requests, by whichever app
-- instance claims it first. A claim is a lease: `locked_by` keeps it while `locked_until` is
-- ahead, and the worker moves `locked_until` on while the job runs, so a job whose worker died
-- (even by SIGKILL) is claimed again once its lease has run out.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind VARCHAR(64) NOT NULL,
    payload TEXT NOT NULL,
    -- queued, running, done or failed
    state VARCHAR(16) NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    locked_by VARCHAR(64),
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
-- The claim looks for the oldest job due in one state.
CREATE INDEX ix_jobs_state_run_at ON jobs (state, run_at);

-- The outbox: every mail the app sends, written in the same transaction as what causes it and
-- delivered by a job. The row stays as the record of what was sent (or, with no mail server,
-- of what would have been).
CREATE TABLE mails (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    message_id VARCHAR(255) NOT NULL,
    sender VARCHAR(255) NOT NULL,
    -- comma-separated addresses
    recipients TEXT NOT NULL,
    subject VARCHAR(255) NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT,
    -- queued, sent, logged (no mail server) or failed
    status VARCHAR(16) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);

-- Password reset links: at most one live link per user (a newer request replaces the row). The
-- link holds a random token; only its SHA-256 is stored. Using the link deletes the row.
CREATE TABLE password_resets (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ix_password_resets_token_hash ON password_resets (token_hash);
