-- OIDC Core §11: a grant made with offline_access outlives the session it was made in
-- (signing out or the session's expiry ends every other grant's refresh tokens).
-- Keep in step with ../sqlite.

ALTER TABLE grants ADD COLUMN offline BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE grants SET offline = TRUE WHERE (' ' || scope || ' ') LIKE '% offline_access %';
