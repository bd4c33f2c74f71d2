-- Chapter 16: full-text search of posts with PostgreSQL's text search. Each post's words are a
-- generated column, computed by the database in the same statement that writes the post, and a
-- GIN index finds the posts that hold them. Words match whatever their case and accents
-- ("cafe" finds "café": the unaccent extension, trusted since PostgreSQL 13, so the database's
-- owner may create it), and English word forms match ("running" finds "run").
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is only STABLE (its dictionary could change); a generated column needs an
-- IMMUTABLE expression, so this names the dictionary and promises it will not.
CREATE FUNCTION microblog_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- Fills the column for the posts that already exist.
ALTER TABLE posts ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('english'::regconfig, microblog_unaccent(body))) STORED;

CREATE INDEX ix_posts_search ON posts USING GIN (search);
