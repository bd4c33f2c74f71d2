-- A username is unique whatever its case: "Alice" cannot register beside "alice", and either
-- logs in typed in any case. Accounts that already differ only by case keep their names and
-- log in with their exact name: every such account but the oldest is marked `case_twin`, and
-- the unique index leaves the marked ones out. Renaming an account clears its mark, so its
-- new name is held to the rule. (SQLite's lower() folds only A-Z; the app also refuses names
-- that fold alike in any script, by the keys of `username_keys`.)
ALTER TABLE users ADD COLUMN case_twin BOOLEAN NOT NULL DEFAULT 0;
UPDATE users SET case_twin = 1
WHERE EXISTS (
    SELECT 1 FROM users AS older
    WHERE lower(older.username) = lower(users.username) AND older.id < users.id
);
CREATE UNIQUE INDEX ix_users_username_lower ON users (lower(username)) WHERE case_twin = 0;
