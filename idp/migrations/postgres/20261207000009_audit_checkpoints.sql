-- Signed checkpoints of the access record (issue 10): the tree's size and root at a moment,
-- signed with the log's own Ed25519 key in the C2SP signed-note form. Keep in step with
-- ../sqlite.

CREATE TABLE audit_log_keys (
    name TEXT PRIMARY KEY,
    -- PKCS#8, sealed with the key-encryption key.
    sealed_key BYTEA NOT NULL,
    public_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE audit_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL,
    at BIGINT NOT NULL
);
