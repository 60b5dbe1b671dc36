-- Passkeys (WebAuthn credentials) registered from the citizen portal, and what happened to
-- them. Keep in step with ../postgres.

CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    -- The authenticator's credential id: unique across all citizens.
    credential_id BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- The assurance a login with it reaches (an acr value).
    loa TEXT NOT NULL,
    -- The webauthn-rs credential (public key, counter, backup flags), JSON.
    data TEXT NOT NULL,
    sign_count INTEGER NOT NULL,
    backup_eligible INTEGER NOT NULL,
    backed_up INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX passkeys_citizen ON passkeys (citizen_id);

-- Registration, use, counter and backup-state changes, rename and removal.
CREATE TABLE passkey_events (
    id TEXT PRIMARY KEY,
    passkey_id TEXT NOT NULL,
    citizen_id TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX passkey_events_passkey ON passkey_events (passkey_id, at);
