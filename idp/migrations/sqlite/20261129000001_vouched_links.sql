-- The binding rule (DESIGN §4): a linked identity proves at most the level of the binding
-- that tied it to its citizen. `vouched_loa` is that level (an acr value): high for the
-- identity that created the account and for one joined by a matching strong identifier, the
-- level of the signed-in session for one linked from it. Keep in step with ../postgres.

ALTER TABLE identities ADD COLUMN vouched_loa TEXT NOT NULL DEFAULT 'urn:anyid:loa:low';

-- Existing links: only each citizen's first identity (the one that created the account) is
-- known to be the citizen's own; a later link may have been made from a weaker session, so
-- it keeps the conservative default.
UPDATE identities SET vouched_loa = 'urn:anyid:loa:high'
WHERE NOT EXISTS (
    SELECT 1 FROM identities earlier
    WHERE earlier.citizen_id = identities.citizen_id
      AND (earlier.created_at < identities.created_at
           OR (earlier.created_at = identities.created_at AND earlier.id < identities.id))
);
