-- The decision log (DESIGN §6): every policy decision with a summary of the request (who,
-- which action, on what), the determining policies and their reasons; no secrets.
-- Keep in step with ../postgres.

CREATE TABLE policy_decisions (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    decision TEXT NOT NULL,
    detail TEXT,
    principal TEXT NOT NULL,
    resource TEXT NOT NULL,
    zone TEXT NOT NULL,
    policies TEXT NOT NULL,
    reasons TEXT NOT NULL
);
CREATE INDEX policy_decisions_at ON policy_decisions (at);
CREATE INDEX policy_decisions_principal ON policy_decisions (principal, at);
