-- Retention of the access record (issue 10): events before position `pruned` (a multiple
-- of 256) were removed after their retention period. The stored nodes of 256 events and
-- more stay, so the tree's root, proofs for later events and later checkpoints still verify.

ALTER TABLE audit_tree ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;
