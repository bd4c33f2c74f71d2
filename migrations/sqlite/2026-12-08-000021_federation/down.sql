DROP INDEX ix_posts_ap_id;
ALTER TABLE posts DROP COLUMN body_html;
ALTER TABLE posts DROP COLUMN ap_id;
DROP TABLE remote_actors;
DROP TABLE actor_keys;
