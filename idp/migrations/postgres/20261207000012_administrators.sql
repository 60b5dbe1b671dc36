-- Administrators' own credentials (issue 10): each administrator signs admin calls with a
-- token of their own, kept as its SHA-256 (a 256-bit random secret needs no slow hash), so
-- every call in the access record names who made it. Removed administrators stay listed,
-- with when they were removed, so the record's names keep their meaning.

CREATE TABLE administrators (
    name TEXT PRIMARY KEY,
    token_hash BYTEA NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    removed_at BIGINT
);
