-- Usernames are unique in the form they are compared in: NFKC, lower case, then Unicode's
-- confusables skeleton (UTS #39), so "Susan", "susan" and "ѕusan" (with a Cyrillic ѕ) are one
-- name and nobody can pass for someone else. SQL cannot compute that form: the app writes it
-- with every new or renamed user, and for the users it finds without one when it starts. Two
-- accounts that already collided before this rule both keep their names; the later one has no
-- key until it is renamed.
CREATE TABLE username_keys (
    user_id INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name_key TEXT NOT NULL
);
CREATE UNIQUE INDEX ix_username_keys_name_key ON username_keys (name_key);
