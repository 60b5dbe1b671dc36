-- The access record (issue 10): every access event reported by a relying party or recorded
-- by Any-ID, in the order of the log's Merkle tree (RFC 9162): `seq` is the leaf index and
-- `leaf_hash` the hash of the record's fixed encoding. Append-only. Keep in step with
-- ../sqlite.

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    reporter TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    offset_s BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_id TEXT,
    actor_agency TEXT,
    actor_role TEXT,
    source_ip TEXT,
    outcome TEXT NOT NULL,
    subject_id TEXT,
    action TEXT NOT NULL,
    data_categories TEXT NOT NULL,
    purpose TEXT,
    case_id TEXT,
    record_count BIGINT,
    reason TEXT,
    marks TEXT NOT NULL,
    leaf_hash BYTEA NOT NULL,
    UNIQUE (reporter, event_id)
);
CREATE INDEX audit_events_subject ON audit_events (subject_id, at_ms);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at_ms);

-- The tree's state: its size and frontier (the roots of the perfect subtrees covering it).
CREATE TABLE audit_tree (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    frontier BYTEA NOT NULL
);

-- Perfect subtrees of height 8 and more (each covers 256 leaves or more), for proofs; lower
-- nodes are recomputed from at most 255 leaf hashes.
CREATE TABLE audit_nodes (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
