-- Chapter 4: users and posts (Flask: the first `flask db migrate`).
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username VARCHAR(64) NOT NULL,
    email VARCHAR(120) NOT NULL,
    password_hash VARCHAR(128) NOT NULL,
    about_me VARCHAR(140),
    last_seen TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ix_users_username ON users (username);
CREATE UNIQUE INDEX ix_users_email ON users (email);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    body VARCHAR(140) NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_posts_timestamp ON posts (timestamp);
-- One index serves "posts of this user, newest first" and the foreign key.
CREATE INDEX ix_posts_user_id_timestamp ON posts (user_id, timestamp);
