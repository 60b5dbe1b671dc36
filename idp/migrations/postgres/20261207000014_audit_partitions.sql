-- The access record on PostgreSQL is partitioned by month of receipt (issue 10): a month's
-- events sit in one partition, created ahead by the server (`ensure_audit_partitions`), and
-- retention drops a month's partition once all its events are pruned, instead of deleting
-- row by row. Events of a month without its partition land in the default partition, so an
-- append never fails for want of one.
--
-- PostgreSQL needs the partition key in every unique constraint, so the primary key is
-- (seq, received_at), and (reporter, event_id) is kept unique by the appender, which holds
-- the tree's row lock while it looks for duplicates and appends (`store::audit`). A row
-- slipped in at a position already taken is reported by `anyid audit verify` (INSERTED).
-- SQLite keeps the plain table.

ALTER TABLE audit_events RENAME TO audit_events_unpartitioned;
ALTER INDEX audit_events_subject RENAME TO audit_events_unpartitioned_subject;
ALTER INDEX audit_events_actor RENAME TO audit_events_unpartitioned_actor;

CREATE TABLE audit_events (
    seq BIGINT NOT NULL,
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
    client_id TEXT,
    method TEXT,
    level TEXT,
    policies TEXT,
    PRIMARY KEY (seq, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
CREATE INDEX audit_events_reporter_event ON audit_events (reporter, event_id);
CREATE INDEX audit_events_subject ON audit_events (subject_id, at_ms);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at_ms);

INSERT INTO audit_events SELECT * FROM audit_events_unpartitioned;
DROP TABLE audit_events_unpartitioned;
