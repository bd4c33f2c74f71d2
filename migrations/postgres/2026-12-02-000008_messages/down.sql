DROP TABLE blocks;
DROP TABLE notifications;
DROP TABLE messages;
ALTER TABLE users DROP COLUMN last_message_read_time;
