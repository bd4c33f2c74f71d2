-- The login throttle's counts of wrong passwords (and of reset mails asked for, and of wrong API
-- tokens), kept in the database on PostgreSQL so that every instance of the site reads and adds
-- to the same counts: with several instances, a guesser gets no more tries than with one. (On
-- SQLite the one instance keeps them in its memory, which is faster: no table there.)
--
-- One row per count: `key` names it (an address, an account from an address, ...), `account`
-- the account it is of, if any (a right password forgives all of them at once), and
-- `forgiven_at` the moment, by the database's clock, when every failure in it is forgiven:
-- a failure moves it on by the count's interval, so the failures still held at a time are
-- (forgiven_at - that time) / interval. Rows past their `forgiven_at` are deleted every minute.
CREATE TABLE throttle_counts (
    key TEXT PRIMARY KEY,
    account TEXT,
    forgiven_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_throttle_counts_account ON throttle_counts (account);
CREATE INDEX ix_throttle_counts_forgiven_at ON throttle_counts (forgiven_at);
