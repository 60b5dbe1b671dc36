-- The access record (issue 10): every access event reported by a relying party or recorded
-- by Any-ID, in the order of the log's Merkle tree (RFC 9162): `seq` is the leaf index and
-- `leaf_hash` the hash of the record's fixed encoding. Append-only. Keep in step with
-- ../postgres.

CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    reporter TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    offset_s INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
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
    record_count INTEGER,
    reason TEXT,
    marks TEXT NOT NULL,
    leaf_hash BLOB NOT NULL,
    UNIQUE (reporter, event_id)
);
CREATE INDEX audit_events_subject ON audit_events (subject_id, at_ms);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at_ms);

-- The tree's state: its size and frontier (the roots of the perfect subtrees covering it).
CREATE TABLE audit_tree (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL,
    frontier BLOB NOT NULL
);

-- Perfect subtrees of height 8 and more (each covers 256 leaves or more), for proofs; lower
-- nodes are recomputed from at most 255 leaf hashes.
CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);
