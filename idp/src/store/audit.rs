//! The access record's store: records appended in the order of the log's Merkle tree, with
//! the tree's frontier and its larger nodes kept in the same transaction, so the stored
//! records, the tree and its root can never disagree unless someone edits the tables (which
//! `anyid audit verify` finds).

use std::collections::HashMap;

use sqlx::FromRow;

use super::{
    AuditStore, Backend, CheckpointStore, ROWS_PER_STATEMENT, SqlStore, StoreError, StoreResult,
    json_list, to_json_list, values_list,
};
use crate::audit::event::{AccessRecord, Kind};
use crate::audit::merkle::{self, Frontier, Hash};
use crate::clock::UnixTime;

/// Perfect subtrees at this height and above are stored (each covers 256 leaves or more).
pub const STORED_LEVEL: u32 = 8;

const COLUMNS: &str = "seq, reporter, event_id, at_ms, offset_s, received_at, kind, actor_id, \
    actor_agency, actor_role, source_ip, outcome, subject_id, action, data_categories, \
    purpose, case_id, record_count, reason, marks, leaf_hash, client_id, method, level, policies";
const PER_ROW: usize = 25;

/// What became of one record of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Added at this position of the log.
    Added(u64),
    /// The reporter had sent this event id before; it is at this position.
    Duplicate(u64),
}

impl Appended {
    pub fn seq(self) -> u64 {
        match self {
            Appended::Added(seq) | Appended::Duplicate(seq) => seq,
        }
    }
}

#[derive(FromRow)]
struct EventRow {
    seq: i64,
    reporter: String,
    event_id: String,
    at_ms: i64,
    offset_s: i64,
    #[allow(
        dead_code,
        reason = "selected with the other columns; not part of the record"
    )]
    received_at: i64,
    kind: String,
    actor_id: Option<String>,
    actor_agency: Option<String>,
    actor_role: Option<String>,
    source_ip: Option<String>,
    outcome: String,
    subject_id: Option<String>,
    action: String,
    data_categories: String,
    purpose: Option<String>,
    case_id: Option<String>,
    record_count: Option<i64>,
    reason: Option<String>,
    marks: String,
    leaf_hash: Vec<u8>,
    client_id: Option<String>,
    method: Option<String>,
    level: Option<String>,
    policies: Option<String>,
}

/// A stored record with its position and the leaf hash stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub seq: u64,
    pub record: AccessRecord,
    pub leaf_hash: Vec<u8>,
}

impl TryFrom<EventRow> for StoredRecord {
    type Error = StoreError;
    fn try_from(r: EventRow) -> StoreResult<Self> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("audit event {}: {what}", r.seq));
        Ok(StoredRecord {
            seq: u64::try_from(r.seq).map_err(|_| corrupt("seq"))?,
            record: AccessRecord {
                reporter: r.reporter.clone(),
                event_id: r.event_id.clone(),
                at_ms: r.at_ms,
                offset_s: i32::try_from(r.offset_s).map_err(|_| corrupt("offset"))?,
                kind: Kind::parse(&r.kind).ok_or_else(|| corrupt("kind"))?,
                actor_id: r.actor_id.clone(),
                actor_agency: r.actor_agency.clone(),
                actor_role: r.actor_role.clone(),
                source_ip: match &r.source_ip {
                    Some(ip) => Some(ip.parse().map_err(|_| corrupt("source_ip"))?),
                    None => None,
                },
                outcome: r.outcome.clone(),
                subject_id: r.subject_id.clone(),
                action: r.action.clone(),
                data_categories: json_list(&r.data_categories)?,
                purpose: r.purpose.clone(),
                case_id: r.case_id.clone(),
                record_count: match r.record_count {
                    Some(n) => Some(u64::try_from(n).map_err(|_| corrupt("record_count"))?),
                    None => None,
                },
                reason: r.reason.clone(),
                marks: json_list(&r.marks)?,
                client_id: r.client_id.clone(),
                method: r.method.clone(),
                level: r.level.clone(),
                policies: match &r.policies {
                    Some(list) => json_list(list)?,
                    None => Vec::new(),
                },
            },
            leaf_hash: r.leaf_hash,
        })
    }
}

fn to_i64(n: u64) -> StoreResult<i64> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} does not fit the store")))
}

/// The month `t` falls in (UTC): its partition's name, its start and the next month's
/// start (Unix seconds).
fn month_of(t: UnixTime) -> (String, UnixTime, UnixTime) {
    use time::{Date, Month, OffsetDateTime};
    let date = OffsetDateTime::from_unix_timestamp(t)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date();
    let first = |year: i32, month: Month| {
        Date::from_calendar_date(year, month, 1)
            .map(|d| d.midnight().assume_utc().unix_timestamp())
            .unwrap_or_default()
    };
    let (year, month) = (date.year(), date.month());
    let next_year = if month == Month::December {
        year + 1
    } else {
        year
    };
    (
        format!("audit_events_y{year:04}m{:02}", u8::from(month)),
        first(year, month),
        first(next_year, month.next()),
    )
}

/// The month partitions of the access record: name, start and end (Unix seconds).
async fn audit_partitions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> StoreResult<Vec<(String, i64, i64)>> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'audit_events' \
         ORDER BY c.relname",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(names
        .into_iter()
        .filter_map(|(name,)| {
            let (year, month) = name.strip_prefix("audit_events_y")?.split_once('m')?;
            let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
            let start = time::Date::from_calendar_date(year.parse().ok()?, month, 1)
                .ok()?
                .midnight()
                .assume_utc()
                .unix_timestamp();
            let (_, start, end) = month_of(start);
            Some((name, start, end))
        })
        .collect())
}

impl AuditStore for SqlStore {
    async fn append_audit(
        &self,
        records: &[AccessRecord],
        received_at: UnixTime,
    ) -> StoreResult<Vec<Appended>> {
        let mut tx = self.write.begin().await?;
        // One appender at a time across replicas: the tree's row is locked (SQLite has a
        // single writer already).
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let state: Option<(i64, Vec<u8>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT size, frontier FROM audit_tree WHERE id = 1{lock}"
        )))
        .fetch_optional(&mut *tx)
        .await?;
        let mut frontier = match state {
            Some((size, bytes)) => Frontier::from_bytes(&bytes)
                .filter(|f| i64::try_from(f.size()).ok() == Some(size))
                .ok_or_else(|| StoreError::Corrupt("the audit tree's frontier".into()))?,
            None => Frontier::default(),
        };

        // Events the reporters sent before, and repeats inside the batch.
        let mut known: HashMap<(String, String), u64> = HashMap::new();
        let mut by_reporter: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in records {
            by_reporter
                .entry(&r.reporter)
                .or_default()
                .push(&r.event_id);
        }
        let ids_per_statement = match self.backend() {
            Backend::Postgres => 10_000,
            Backend::Sqlite => ROWS_PER_STATEMENT,
        };
        for (reporter, ids) in by_reporter {
            for chunk in ids.chunks(ids_per_statement) {
                let params: Vec<String> = (0..chunk.len())
                    .map(|i| match self.backend() {
                        Backend::Sqlite => "?".to_owned(),
                        Backend::Postgres => format!("${}", i + 2),
                    })
                    .collect();
                let first = match self.backend() {
                    Backend::Sqlite => "?",
                    Backend::Postgres => "$1",
                };
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT event_id, seq FROM audit_events WHERE reporter = {first} \
                     AND event_id IN ({})",
                    params.join(", ")
                ));
                let mut query = sqlx::query_as::<_, (String, i64)>(sql).bind(reporter);
                for id in chunk {
                    query = query.bind(*id);
                }
                for (event_id, seq) in query.fetch_all(&mut *tx).await? {
                    let seq = u64::try_from(seq)
                        .map_err(|_| StoreError::Corrupt("audit event seq".into()))?;
                    known.insert((reporter.to_owned(), event_id), seq);
                }
            }
        }

        let mut outcome = Vec::with_capacity(records.len());
        let mut added: Vec<(u64, &AccessRecord, Hash)> = Vec::new();
        let mut nodes: Vec<merkle::Completed> = Vec::new();
        for r in records {
            let key = (r.reporter.clone(), r.event_id.clone());
            if let Some(seq) = known.get(&key) {
                outcome.push(Appended::Duplicate(*seq));
                continue;
            }
            let seq = frontier.size();
            let leaf = merkle::leaf_hash(&r.leaf_input());
            nodes.extend(
                frontier
                    .append(leaf)
                    .into_iter()
                    .filter(|c| c.level >= STORED_LEVEL),
            );
            known.insert(key, seq);
            added.push((seq, r, leaf));
            outcome.push(Appended::Added(seq));
        }

        // On PostgreSQL each statement costs a network round trip, and a large one a delayed
        // acknowledgement (sqlx leaves Nagle's algorithm on): as few statements as the
        // 65,535-parameter limit allows.
        let rows_per_statement = match self.backend() {
            Backend::Postgres => 65_535 / PER_ROW,
            Backend::Sqlite => ROWS_PER_STATEMENT,
        };
        for chunk in added.chunks(rows_per_statement) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO audit_events ({COLUMNS}) VALUES {}",
                values_list(self.backend(), chunk.len(), PER_ROW)
            ));
            let mut query = sqlx::query(sql);
            for (seq, r, leaf) in chunk {
                query = query
                    .bind(to_i64(*seq)?)
                    .bind(&r.reporter)
                    .bind(&r.event_id)
                    .bind(r.at_ms)
                    .bind(i64::from(r.offset_s))
                    .bind(received_at)
                    .bind(r.kind.name())
                    .bind(&r.actor_id)
                    .bind(&r.actor_agency)
                    .bind(&r.actor_role)
                    .bind(r.source_ip.map(|ip| ip.to_string()))
                    .bind(&r.outcome)
                    .bind(&r.subject_id)
                    .bind(&r.action)
                    .bind(to_json_list(&r.data_categories))
                    .bind(&r.purpose)
                    .bind(&r.case_id)
                    .bind(r.record_count.map(to_i64).transpose()?)
                    .bind(&r.reason)
                    .bind(to_json_list(&r.marks))
                    .bind(leaf.to_vec())
                    .bind(&r.client_id)
                    .bind(&r.method)
                    .bind(&r.level)
                    .bind((!r.policies.is_empty()).then(|| to_json_list(&r.policies)));
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in nodes.chunks(ROWS_PER_STATEMENT) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO audit_nodes (level, idx, hash) VALUES {}",
                values_list(self.backend(), chunk.len(), 3)
            ));
            let mut query = sqlx::query(sql);
            for node in chunk {
                query = query
                    .bind(i64::from(node.level))
                    .bind(to_i64(node.index)?)
                    .bind(node.hash.to_vec());
            }
            query.execute(&mut *tx).await?;
        }
        if !added.is_empty() {
            sqlx::query(
                "INSERT INTO audit_tree (id, size, frontier) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier",
            )
            .bind(to_i64(frontier.size())?)
            .bind(frontier.to_bytes())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn audit_frontier(&self) -> StoreResult<Frontier> {
        let state: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT frontier FROM audit_tree WHERE id = 1")
                .fetch_optional(&self.read)
                .await?;
        match state {
            Some((bytes,)) => Frontier::from_bytes(&bytes)
                .ok_or_else(|| StoreError::Corrupt("the audit tree's frontier".into())),
            None => Ok(Frontier::default()),
        }
    }

    async fn audit_records(&self, from: u64, limit: u32) -> StoreResult<Vec<StoredRecord>> {
        let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2"
        )))
        .bind(to_i64(from)?)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(StoredRecord::try_from).collect()
    }

    async fn audit_pruned(&self) -> StoreResult<u64> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT pruned FROM audit_tree WHERE id = 1")
            .fetch_optional(&self.read)
            .await?;
        let pruned = row.map_or(0, |(p,)| p);
        u64::try_from(pruned).map_err(|_| StoreError::Corrupt("audit_tree.pruned".into()))
    }

    async fn prune_audit(&self, before_ms: i64) -> StoreResult<u64> {
        let mut tx = self.write.begin().await?;
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let state: Option<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT size, pruned FROM audit_tree WHERE id = 1{lock}"
        )))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((size, pruned)) = state else {
            return Ok(0);
        };
        // The first event still within its retention; everything before it is older. Events
        // reported late with old times after it stay (kept longer, never shorter).
        let young: Option<(i64,)> = sqlx::query_as(
            "SELECT seq FROM audit_events WHERE seq >= $1 AND at_ms >= $2 ORDER BY seq LIMIT 1",
        )
        .bind(pruned)
        .bind(before_ms)
        .fetch_optional(&mut *tx)
        .await?;
        let end = young.map_or(size, |(seq,)| seq);
        // Whole blocks of 256 only: each is covered by a stored node, so nothing that proofs
        // of later events or the tree's root need goes with it.
        let end = end - end % (1 << STORED_LEVEL);
        if end <= pruned {
            return Ok(0);
        }
        // On PostgreSQL whole months go at once: a month's partition is dropped once every
        // event in it is pruned and no more can arrive in it.
        let mut removed = 0;
        if self.backend() == Backend::Postgres {
            let newest: Option<(i64,)> =
                sqlx::query_as("SELECT received_at FROM audit_events WHERE seq = $1")
                    .bind(size - 1)
                    .fetch_optional(&mut *tx)
                    .await?;
            let newest = newest.map_or(i64::MIN, |(r,)| r);
            for (name, _, upper) in audit_partitions(&mut tx).await? {
                if upper > newest {
                    continue;
                }
                let (low, high): (Option<i64>, Option<i64>) = sqlx::query_as(sqlx::AssertSqlSafe(
                    format!("SELECT min(seq), max(seq) FROM {name}"),
                ))
                .fetch_one(&mut *tx)
                .await?;
                if high.is_none_or(|high| high < end) {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {name}")))
                        .execute(&mut *tx)
                        .await?;
                    let rows = high.zip(low).map_or(0, |(h, l)| h - l + 1);
                    removed += u64::try_from(rows).unwrap_or(0);
                }
            }
        }
        removed += sqlx::query("DELETE FROM audit_events WHERE seq >= $1 AND seq < $2")
            .bind(pruned)
            .bind(end)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE audit_tree SET pruned = $1 WHERE id = 1")
            .bind(end)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(removed)
    }

    async fn ensure_audit_partitions(&self, now: UnixTime) -> StoreResult<u32> {
        if self.backend() != Backend::Postgres {
            return Ok(0);
        }
        let mut created = 0;
        let this = month_of(now);
        let next = month_of(this.2);
        for (name, start, end) in [this, next] {
            let exists: Option<(i32,)> =
                sqlx::query_as("SELECT 1 FROM pg_class WHERE relname = $1")
                    .bind(&name)
                    .fetch_optional(&self.read)
                    .await?;
            if exists.is_some() {
                continue;
            }
            // Fails when the default partition already holds events of that month: they
            // then stay there, and the caller says so.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE IF NOT EXISTS {name} PARTITION OF audit_events \
                 FOR VALUES FROM ({start}) TO ({end})"
            )))
            .execute(&self.write)
            .await?;
            created += 1;
        }
        Ok(created)
    }

    async fn audit_records_about(
        &self,
        subjects: &[(String, String)],
        period: std::ops::Range<i64>,
        kinds: &[Kind],
        limit: u32,
    ) -> StoreResult<Vec<StoredRecord>> {
        // The reporters that name the citizen by each subject id: a subject id counts only
        // as its own reporters use it (another reporter's identical string is someone else).
        let mut by_subject: Vec<(&str, Vec<&str>)> = Vec::new();
        for (reporter, subject) in subjects {
            match by_subject.iter_mut().find(|(s, _)| s == subject) {
                Some((_, reporters)) => reporters.push(reporter),
                None => by_subject.push((subject, vec![reporter])),
            }
        }
        if by_subject.is_empty() {
            return Ok(Vec::new());
        }
        let mut n = 3;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let alternatives: Vec<String> = by_subject
            .iter()
            .map(|(_, reporters)| {
                let subject = next();
                let reporters: Vec<String> = reporters.iter().map(|_| next()).collect();
                format!(
                    "(subject_id = {subject} AND reporter IN ({}))",
                    reporters.join(", ")
                )
            })
            .collect();
        // Kinds are our own names, written into the statement.
        let kind_filter = if kinds.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = kinds.iter().map(|k| format!("'{}'", k.name())).collect();
            format!(" AND kind IN ({})", names.join(", "))
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_events WHERE at_ms >= $1 AND at_ms < $2{kind_filter} \
             AND ({}) ORDER BY at_ms DESC, seq DESC LIMIT $3",
            alternatives.join(" OR ")
        ));
        let mut query = sqlx::query_as::<_, EventRow>(sql)
            .bind(period.start)
            .bind(period.end)
            .bind(i64::from(limit));
        for (subject, reporters) in &by_subject {
            query = query.bind(*subject);
            for reporter in reporters {
                query = query.bind(*reporter);
            }
        }
        let rows = query.fetch_all(&self.read).await?;
        rows.into_iter().map(StoredRecord::try_from).collect()
    }

    async fn audit_leaves(&self, from: u64, to: u64) -> StoreResult<Vec<Hash>> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, leaf_hash FROM audit_events WHERE seq >= $1 AND seq < $2 ORDER BY seq",
        )
        .bind(to_i64(from)?)
        .bind(to_i64(to)?)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, (seq, hash)) in rows.into_iter().enumerate() {
            let expected = from + i as u64;
            let hash = Hash::try_from(hash.as_slice())
                .ok()
                .filter(|_| u64::try_from(seq).ok() == Some(expected));
            out.push(hash.ok_or_else(|| {
                StoreError::Corrupt(format!("audit leaf {expected} is missing or malformed"))
            })?);
        }
        if out.len() as u64 != to.saturating_sub(from) {
            return Err(StoreError::Corrupt(format!(
                "audit leaves {from}..{to}: {} found",
                out.len()
            )));
        }
        Ok(out)
    }

    async fn audit_node(&self, level: u32, index: u64) -> StoreResult<Option<Hash>> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT hash FROM audit_nodes WHERE level = $1 AND idx = $2")
                .bind(i64::from(level))
                .bind(to_i64(index)?)
                .fetch_optional(&self.read)
                .await?;
        row.map(|(h,)| {
            Hash::try_from(h.as_slice())
                .map_err(|_| StoreError::Corrupt(format!("audit node {level}/{index}")))
        })
        .transpose()
    }
}

impl CheckpointStore for SqlStore {
    async fn audit_log_public_keys(&self) -> StoreResult<Vec<(String, Vec<u8>)>> {
        Ok(
            sqlx::query_as("SELECT name, public_key FROM audit_log_keys ORDER BY name")
                .fetch_all(&self.read)
                .await?,
        )
    }

    async fn audit_log_key(&self, name: &str) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(
            sqlx::query_as("SELECT sealed_key, public_key FROM audit_log_keys WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.write)
                .await?,
        )
    }

    async fn put_audit_log_key(
        &self,
        name: &str,
        sealed: &[u8],
        public: &[u8],
        at: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log_keys (name, sealed_key, public_key, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(sealed)
        .bind(public)
        .bind(at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn record_checkpoint(
        &self,
        size: u64,
        root: &Hash,
        note: &str,
        at: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (size, root, note, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size) DO NOTHING",
        )
        .bind(to_i64(size)?)
        .bind(root.to_vec())
        .bind(note)
        .bind(at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<(u64, String)>> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.read)
                .await?;
        row.map(|(size, note)| {
            u64::try_from(size)
                .map(|size| (size, note))
                .map_err(|_| StoreError::Corrupt("checkpoint size".into()))
        })
        .transpose()
    }

    async fn checkpoints(&self) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT note FROM audit_checkpoints ORDER BY size")
                .fetch_all(&self.read)
                .await?;
        Ok(rows.into_iter().map(|(note,)| note).collect())
    }
}
