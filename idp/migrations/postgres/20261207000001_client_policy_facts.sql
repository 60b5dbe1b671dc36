-- What policy knows about a relying party (DESIGN §6): whether it handles sensitive data
-- (the default policies then require a high-assurance login) and the agency it belongs to.
-- Keep in step with ../sqlite.

ALTER TABLE clients ADD COLUMN sensitive BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN agency TEXT;
