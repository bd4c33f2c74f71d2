-- Chapter 22: a user's long-running tasks (the export of their posts), what an export made, and
-- mails that carry it as an attachment.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name VARCHAR(128) NOT NULL,
    description VARCHAR(128) NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 0 to 100, written at most once a second while the task runs.
    progress INTEGER NOT NULL DEFAULT 0,
    complete BOOLEAN NOT NULL DEFAULT FALSE,
    -- Set when the task ended without its result (its job failed for good).
    failed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
-- At most one unfinished task of each name per user, enforced by the database: a second
-- "Export your posts" while one runs cannot slip in between a check and an insert.
CREATE UNIQUE INDEX ix_tasks_one_running ON tasks (user_id, name) WHERE NOT complete;
CREATE INDEX ix_tasks_user_id ON tasks (user_id);

-- The file an export made, kept for a day for the profile's download link.
CREATE TABLE exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename VARCHAR(128) NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ix_exports_task_id ON exports (task_id);

-- A mail may carry one export as its attachment (an export is kept while a mail waits for it).
ALTER TABLE mails ADD COLUMN attachment_export_id INTEGER;
