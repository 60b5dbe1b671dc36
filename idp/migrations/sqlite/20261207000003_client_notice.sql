-- What a consent notice must say about the recipient (Personal Information Protection Act
-- art. 17(2), provision to a third party): the recipient's purpose of use and how long it
-- keeps what it receives, and where its privacy policy is; and the sector identifier URI
-- (OIDC Core §8.1) a sector was verified with. Registrations made before have none: consent pages say so.
-- Keep in step with ../postgres.

ALTER TABLE clients ADD COLUMN purpose TEXT;
ALTER TABLE clients ADD COLUMN retention TEXT;
ALTER TABLE clients ADD COLUMN policy_uri TEXT;
ALTER TABLE clients ADD COLUMN sector_identifier_uri TEXT;
