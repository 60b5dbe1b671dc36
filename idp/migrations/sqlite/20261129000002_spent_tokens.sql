-- Protocol state that travels in the page (passkey ceremonies, certificate challenges) is
-- written only when it is used: its hash, so it is used once, until it would have expired
-- anyway. Keep in step with ../postgres.

CREATE TABLE spent_tokens (
    token_hash BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX spent_tokens_expiry ON spent_tokens (expires_at);
