DROP TABLE translation_usage;
DROP TABLE translations;
