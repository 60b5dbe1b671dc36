-- Risk (DESIGN §6, issue 9): a session's score from the signals of its login (and raised by
-- alerts), when it was last set (it decays from then), and the signals' names; the devices
-- each citizen signed in from, as keyed hashes of the device cookie with the citizen id (no
-- device can be followed across citizens); and alerts raised against actors (citizens,
-- officials) by the security team or the anomaly detectors. Keep in step with ../postgres.

ALTER TABLE sso_sessions ADD COLUMN risk INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sso_sessions ADD COLUMN risk_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sso_sessions ADD COLUMN risk_signals TEXT NOT NULL DEFAULT '[]';

CREATE TABLE known_devices (
    citizen_id TEXT NOT NULL REFERENCES citizens(id) ON DELETE CASCADE,
    device_hash BLOB NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (citizen_id, device_hash)
);

CREATE TABLE risk_alerts (
    id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    score INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX risk_alerts_actor ON risk_alerts (actor, at);
