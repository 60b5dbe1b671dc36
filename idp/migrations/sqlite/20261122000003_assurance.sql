-- A relying party's minimum assurance level (an acr value), if it has one.
ALTER TABLE clients ADD COLUMN min_acr TEXT;
