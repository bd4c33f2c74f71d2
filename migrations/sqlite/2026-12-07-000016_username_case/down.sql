DROP INDEX ix_users_username_lower;
ALTER TABLE users DROP COLUMN case_twin;
