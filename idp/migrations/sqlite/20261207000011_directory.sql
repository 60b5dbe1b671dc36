-- Reference data for the access record's detectors (issue 10), imported with `anyid audit
-- import-directory`: one table per kind, keyed as an import replaces it, with the columns
-- detectors select by and the checked entry in its canonical written form (`record`, JSON;
-- anyid_policy::directory). An empty `agency` or `reporter` in a key means "all". Keep in
-- step with ../postgres.

CREATE TABLE directory_officials (
    id TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    role TEXT NOT NULL,
    record TEXT NOT NULL,
    imported_at INTEGER NOT NULL
);
CREATE INDEX directory_officials_agency ON directory_officials (agency, role);

CREATE TABLE directory_agencies (
    id TEXT PRIMARY KEY,
    agency_type TEXT,
    record TEXT NOT NULL,
    imported_at INTEGER NOT NULL
);

CREATE TABLE directory_networks (
    cidr TEXT PRIMARY KEY,
    network_type TEXT NOT NULL,
    record TEXT NOT NULL,
    imported_at INTEGER NOT NULL
);

-- `day`: an ISO weekday (1-7) for working hours, a date (YYYY-MM-DD) for a holiday.
CREATE TABLE directory_calendar (
    agency TEXT NOT NULL,
    day TEXT NOT NULL,
    record TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (agency, day)
);

CREATE TABLE directory_flagged (
    reporter TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    category TEXT NOT NULL,
    record TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (reporter, subject_id)
);

CREATE TABLE directory_cases (
    agency TEXT NOT NULL,
    case_id TEXT NOT NULL,
    opened_ms INTEGER NOT NULL,
    closed_ms INTEGER,
    record TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (agency, case_id)
);

-- Who is assigned to which case, for "the cases of this official"; replaced with its case.
CREATE TABLE directory_case_officials (
    agency TEXT NOT NULL,
    case_id TEXT NOT NULL,
    official_id TEXT NOT NULL,
    PRIMARY KEY (agency, case_id, official_id)
);
CREATE INDEX directory_case_officials_official ON directory_case_officials (official_id);
