-- Chapter 21: private messages, the notifications the pages read (the unread count, and later
-- a task's progress), and blocks (one user refusing another's messages).
ALTER TABLE users ADD COLUMN last_message_read_time TIMESTAMP;

CREATE TABLE messages (
    id SERIAL PRIMARY KEY,
    sender_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recipient_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body VARCHAR(140) NOT NULL,
    timestamp TIMESTAMP NOT NULL
);
-- A user's messages newest first, and the unread ones (newer than last_message_read_time).
CREATE INDEX ix_messages_recipient_id_timestamp ON messages (recipient_id, timestamp);
-- How many messages a sender sent lately (the sending budget).
CREATE INDEX ix_messages_sender_id_timestamp ON messages (sender_id, timestamp);

-- One row per user and name, replaced when it changes: `timestamp` is Unix time in seconds
-- (with fractions) and `payload_json` the JSON the page gets as "data".
CREATE TABLE notifications (
    id SERIAL PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    timestamp DOUBLE PRECISION NOT NULL,
    payload_json TEXT NOT NULL
);
CREATE UNIQUE INDEX ix_notifications_user_id_name ON notifications (user_id, name);
CREATE INDEX ix_notifications_user_id_timestamp ON notifications (user_id, timestamp);

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (blocker_id, blocked_id)
);
