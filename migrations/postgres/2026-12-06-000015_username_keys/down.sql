DROP TABLE username_keys;
