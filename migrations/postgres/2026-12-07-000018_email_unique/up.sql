-- An e-mail address is one account's whatever its case: "Susan@example.com" cannot register
-- beside "susan@example.com". The app looks before it writes (`user::email_taken`), but two
-- registrations at the same moment could both pass its look; the index refuses the second.
-- Accounts that already share an address in different cases keep their addresses: every such
-- account but the oldest is marked `email_case_twin`, and the unique index leaves the marked
-- ones out. A reset request finds the account whose address is exactly the one typed, else the
-- oldest (`user::find_by_email`). A new address clears the mark, so it is held to the rule.
ALTER TABLE users ADD COLUMN email_case_twin BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET email_case_twin = TRUE
WHERE id NOT IN (SELECT min(id) FROM users GROUP BY lower(email));
CREATE UNIQUE INDEX ix_users_email_lower ON users (lower(email)) WHERE NOT email_case_twin;
