-- OIDC Core §11: a grant made with offline_access outlives the session it was made in
-- (signing out or the session's expiry ends every other grant's refresh tokens).
-- Keep in step with ../postgres.

ALTER TABLE grants ADD COLUMN offline INTEGER NOT NULL DEFAULT 0;
UPDATE grants SET offline = 1 WHERE (' ' || scope || ' ') LIKE '% offline_access %';
