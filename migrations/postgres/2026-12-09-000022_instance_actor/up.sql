-- The instance's own actor (`/actor`, docs/24-federation.md): the key this server signs its
-- fetches of other servers' documents with, as servers in Mastodon's "secure mode" ask. One row.
CREATE TABLE instance_keys (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
