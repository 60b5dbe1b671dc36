-- Personal-data access events (DESIGN §6, issue 9): every evaluation of
-- access_personal_data through the AuthZEN decision API, allowed or not: who asked (the
-- relying party and its official), whose record, which data, what for, the decision and the
-- policies that made it. The access-record work of the audit issue extends this table.
-- Keep in step with ../sqlite.

CREATE TABLE personal_data_access (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    client_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_agency TEXT,
    actor_role TEXT,
    subject_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    data_categories TEXT NOT NULL,
    purpose TEXT,
    case_id TEXT,
    decision TEXT NOT NULL,
    policies TEXT NOT NULL,
    source_ip TEXT,
    request_id TEXT
);
CREATE INDEX personal_data_access_subject ON personal_data_access (subject_id, at);
CREATE INDEX personal_data_access_actor ON personal_data_access (actor_id, at);
