-- Any-ID's own events in the access record (issue 10): logins, claim releases, decisions on
-- officials' lookups, administrators' calls. `policies` is a JSON list. The rows of
-- personal_data_access (written before decisions went into this log) are kept as they are
-- until retention removes them.

ALTER TABLE audit_events ADD COLUMN client_id TEXT;
ALTER TABLE audit_events ADD COLUMN method TEXT;
ALTER TABLE audit_events ADD COLUMN level TEXT;
ALTER TABLE audit_events ADD COLUMN policies TEXT;
