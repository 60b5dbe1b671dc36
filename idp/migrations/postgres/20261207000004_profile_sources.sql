-- A citizen's released profile is derived from what their linked methods verified
-- (identities.claims), with the citizen's own choice of which method's name, email or phone
-- is released (claim_sources: unit -> identity id). profile_version marks profiles derived
-- by the current rule; older ones are derived again at start. strong_id marks the
-- identities that carried the citizen's linking value, so unlinking the last of them drops
-- its hash. Keep in step with ../sqlite.

ALTER TABLE identities ADD COLUMN strong_id BIGINT NOT NULL DEFAULT 0;
-- Which identity brought an existing linking value is not known: every identity of such a
-- citizen counts, so the hash stays until the last of them is unlinked (as before).
UPDATE identities SET strong_id = 1
WHERE citizen_id IN (SELECT id FROM citizens WHERE strong_id_hash IS NOT NULL);
-- A certificate's name is not a person's name (issue 14): certificates verify no claims.
UPDATE identities SET claims = '{}' WHERE method = 'certificate';

ALTER TABLE citizens ADD COLUMN claim_sources TEXT NOT NULL DEFAULT '{}';
ALTER TABLE citizens ADD COLUMN profile_version BIGINT NOT NULL DEFAULT 0;
