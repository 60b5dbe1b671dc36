-- Brokered login: pending upstream logins, strong-identifier linking, per-identity claims,
-- and the citizen's own login history. Keep in step with ../sqlite.

-- A keyed hash (HMAC) of a verified national identity-linking value; never the value itself.
ALTER TABLE citizens ADD COLUMN strong_id_hash BYTEA;
CREATE UNIQUE INDEX citizens_strong_id ON citizens (strong_id_hash);

ALTER TABLE identities ADD COLUMN claims TEXT NOT NULL DEFAULT '{}';

-- Protocol state of an upstream login between begin and callback, consumed once.
CREATE TABLE pending_logins (
    state_hash BYTEA PRIMARY KEY,
    flow_id TEXT,
    link_citizen_id TEXT,
    provider TEXT NOT NULL,
    data TEXT NOT NULL,
    callback TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_logins_expiry ON pending_logins (expires_at);

CREATE TABLE login_events (
    id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    method TEXT NOT NULL,
    acr TEXT NOT NULL,
    client_id TEXT,
    address TEXT
);
CREATE INDEX login_events_citizen ON login_events (citizen_id, at);

CREATE INDEX grants_session ON grants (session_id);
