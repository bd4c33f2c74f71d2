-- Federation (ActivityPub, docs/24-federation.md). A local user's key pair, made the first time
-- another server needs it and kept: remote servers cache the public key by its id.
CREATE TABLE actor_keys (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- A remote account is a row of `users` named `name@host` (a local name cannot hold '@'), with
-- a password hash nothing verifies, plus this row: where the actor lives and its public key.
CREATE TABLE remote_actors (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    uri TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    key_id TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    fetched_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ix_remote_actors_uri ON remote_actors (uri);
CREATE INDEX ix_remote_actors_key_id ON remote_actors (key_id);
-- A post received from another server: its object id (a Delete names it) and its sanitised HTML.
ALTER TABLE posts ADD COLUMN ap_id TEXT;
ALTER TABLE posts ADD COLUMN body_html TEXT;
CREATE UNIQUE INDEX ix_posts_ap_id ON posts (ap_id) WHERE ap_id IS NOT NULL;
