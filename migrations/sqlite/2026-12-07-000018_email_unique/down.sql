DROP INDEX ix_users_email_lower;
ALTER TABLE users DROP COLUMN email_case_twin;
