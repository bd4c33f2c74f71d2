-- Chapter 14's Translate link, with a budget: each translation the service made, so the same
-- text in the same languages is paid for once (key_hash: the SHA-256 of the source language,
-- the destination and the text); and the characters sent to the service each day, per user and
-- for the whole site (user_id 0), for the daily caps. Both are kept a short while only.
CREATE TABLE translations (
    key_hash VARCHAR(64) PRIMARY KEY NOT NULL,
    translated TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_translations_created_at ON translations (created_at);
CREATE TABLE translation_usage (
    day DATE NOT NULL,
    user_id INTEGER NOT NULL,
    characters BIGINT NOT NULL,
    PRIMARY KEY (day, user_id)
);
