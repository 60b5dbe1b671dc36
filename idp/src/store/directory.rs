//! The directory's store: reference data for the access record's detectors, one table per
//! kind, each entry under its kind's key (`Record::key`) with the columns detectors select by
//! and its canonical written form as JSON, which is read back through the same checks it was
//! imported with.

use std::collections::{HashMap, HashSet};

use anyid_policy::directory::{
    Agency, CalendarDay, Case, FlaggedCitizen, Kind, Network, OfKind, Official, Record,
};
use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection, Row};

use super::{
    DirectoryPut, DirectoryStore, ROWS_PER_STATEMENT, SqlStore, StoreError, StoreResult,
    values_list,
};
use crate::clock::UnixTime;

/// A kind's table: its key columns, then the columns detectors select by; every table also
/// has `record` (JSON) and `imported_at`.
struct Table {
    name: &'static str,
    keys: &'static [&'static str],
    columns: &'static [&'static str],
}

fn table(kind: Kind) -> Table {
    let (name, keys, columns): (_, &'static [&'static str], &'static [&'static str]) = match kind {
        Kind::Officials => ("directory_officials", &["id"], &["agency", "role"]),
        Kind::Agencies => ("directory_agencies", &["id"], &["agency_type"]),
        Kind::Networks => ("directory_networks", &["cidr"], &["network_type"]),
        Kind::Calendar => ("directory_calendar", &["agency", "day"], &[]),
        Kind::Flagged => (
            "directory_flagged",
            &["reporter", "subject_id"],
            &["category"],
        ),
        Kind::Cases => (
            "directory_cases",
            &["agency", "case_id"],
            &["opened_ms", "closed_ms"],
        ),
    };
    Table {
        name,
        keys,
        columns,
    }
}

/// One bound value of a row.
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

/// The key's and the selectable columns' values of a record, in its table's order.
fn cells(record: &Record) -> Vec<Cell> {
    let text = |s: &str| Cell::Text(Some(s.to_owned()));
    let mut cells: Vec<Cell> = record
        .key()
        .into_iter()
        .map(|k| Cell::Text(Some(k)))
        .collect();
    match record {
        Record::Official(o) => cells.extend([text(&o.agency), text(&o.role)]),
        Record::Agency(a) => cells.push(Cell::Text(a.agency_type.clone())),
        Record::Network(n) => cells.push(text(n.network_type.name())),
        Record::Calendar(_) => {}
        Record::Flagged(f) => cells.push(text(&f.category)),
        Record::Case(c) => cells.extend([Cell::Int(Some(c.opened_ms)), Cell::Int(c.closed_ms)]),
    }
    cells
}

type Query<'q> = sqlx::query::Query<'q, Any, AnyArguments>;

fn bind(query: Query<'_>, cell: Cell) -> Query<'_> {
    match cell {
        Cell::Text(value) => query.bind(value),
        Cell::Int(value) => query.bind(value),
    }
}

fn corrupt(kind: Kind, errors: &[anyid_policy::directory::FieldError]) -> StoreError {
    let why: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    StoreError::Corrupt(format!(
        "a stored {} entry: {}",
        kind.name(),
        why.join("; ")
    ))
}

/// Which of `keys` the table holds already.
async fn existing_keys(
    conn: &mut AnyConnection,
    store: &SqlStore,
    table: &Table,
    keys: &[Vec<String>],
) -> StoreResult<HashSet<Vec<String>>> {
    let names = table.keys.join(", ");
    let mut found = HashSet::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {names} FROM {} WHERE ({names}) IN (VALUES {})",
            table.name,
            values_list(store.backend(), chunk.len(), table.keys.len())
        ));
        let mut query = sqlx::query(sql);
        for part in chunk.iter().flatten() {
            query = query.bind(part.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let key = (0..table.keys.len())
                .map(|i| row.try_get::<String, _>(i))
                .collect::<Result<Vec<_>, _>>()?;
            found.insert(key);
        }
    }
    Ok(found)
}

/// Insert `records` (of one kind, one per key) or replace what their keys hold.
async fn upsert(
    conn: &mut AnyConnection,
    store: &SqlStore,
    table: &Table,
    records: &[&Record],
    at: UnixTime,
) -> StoreResult<()> {
    let replaced: Vec<&str> = table
        .columns
        .iter()
        .copied()
        .chain(["record", "imported_at"])
        .collect();
    let columns: Vec<&str> = table.keys.iter().copied().chain(replaced.clone()).collect();
    let updates: Vec<String> = replaced
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            table.name,
            columns.join(", "),
            values_list(store.backend(), chunk.len(), columns.len()),
            table.keys.join(", "),
            updates.join(", ")
        ));
        let mut query = sqlx::query(sql);
        for record in chunk {
            for cell in cells(record) {
                query = bind(query, cell);
            }
            query = query.bind(record.to_json()).bind(at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The officials assigned to `cases` replace those assigned before.
async fn assign(conn: &mut AnyConnection, store: &SqlStore, cases: &[&Case]) -> StoreResult<()> {
    for chunk in cases.chunks(ROWS_PER_STATEMENT) {
        let sql = sqlx::AssertSqlSafe(format!(
            "DELETE FROM directory_case_officials WHERE (agency, case_id) IN (VALUES {})",
            values_list(store.backend(), chunk.len(), 2)
        ));
        let mut query = sqlx::query(sql);
        for case in chunk {
            query = query.bind(case.agency.as_str()).bind(case.case_id.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    let links: Vec<(&Case, &String)> = cases
        .iter()
        .flat_map(|c| c.assigned.iter().map(move |official| (*c, official)))
        .collect();
    for chunk in links.chunks(ROWS_PER_STATEMENT) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO directory_case_officials (agency, case_id, official_id) VALUES {} \
             ON CONFLICT DO NOTHING",
            values_list(store.backend(), chunk.len(), 3)
        ));
        let mut query = sqlx::query(sql);
        for (case, official) in chunk {
            query = query
                .bind(case.agency.as_str())
                .bind(case.case_id.as_str())
                .bind(official.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl SqlStore {
    /// Entries of `T`'s kind, `filter` (a `WHERE` clause over `binds`) applied, in key order.
    async fn directory<T: OfKind>(&self, filter: &str, binds: &[&str]) -> StoreResult<Vec<T>> {
        let table = table(T::KIND);
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT record FROM {} {filter} ORDER BY {}",
            table.name,
            table.keys.join(", ")
        ));
        let mut query = sqlx::query_as::<_, (String,)>(sql);
        for value in binds {
            query = query.bind(*value);
        }
        let rows = query.fetch_all(&self.read).await?;
        rows.into_iter()
            .map(|(json,)| {
                Record::from_json_text(T::KIND, &json)
                    .map_err(|errors| corrupt(T::KIND, &errors))
                    .and_then(|r| T::from_record(r).ok_or_else(|| corrupt(T::KIND, &[])))
            })
            .collect()
    }
}

impl DirectoryStore for SqlStore {
    async fn put_directory(
        &self,
        records: &[Record],
        at: UnixTime,
    ) -> StoreResult<Vec<DirectoryPut>> {
        let mut tx = self.write.begin().await?;
        let mut outcome = vec![DirectoryPut::Added; records.len()];
        for kind in Kind::ALL {
            let of_kind: Vec<usize> = (0..records.len())
                .filter(|&i| records[i].kind() == kind)
                .collect();
            if of_kind.is_empty() {
                continue;
            }
            let table = table(kind);
            let keys: Vec<Vec<String>> = of_kind.iter().map(|&i| records[i].key()).collect();
            let mut known = existing_keys(&mut tx, self, &table, &keys).await?;
            // A key given twice in one batch: the later entry replaces the earlier one (and
            // PostgreSQL refuses to update one row twice in a statement).
            let mut last: HashMap<&[String], usize> = HashMap::new();
            for (key, &i) in keys.iter().zip(&of_kind) {
                if !known.insert(key.clone()) {
                    outcome[i] = DirectoryPut::Replaced;
                }
                last.insert(key, i);
            }
            let kept: Vec<&Record> = keys
                .iter()
                .zip(&of_kind)
                .filter(|(key, i)| last.get(key.as_slice()) == Some(i))
                .map(|(_, &i)| &records[i])
                .collect();
            upsert(&mut tx, self, &table, &kept, at).await?;
            let cases: Vec<&Case> = kept
                .iter()
                .filter_map(|r| match r {
                    Record::Case(c) => Some(c),
                    _ => None,
                })
                .collect();
            assign(&mut tx, self, &cases).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    async fn officials(&self) -> StoreResult<Vec<Official>> {
        self.directory("", &[]).await
    }

    async fn official(&self, id: &str) -> StoreResult<Option<Official>> {
        Ok(self.directory("WHERE id = $1", &[id]).await?.pop())
    }

    async fn agencies(&self) -> StoreResult<Vec<Agency>> {
        self.directory("", &[]).await
    }

    async fn agency(&self, id: &str) -> StoreResult<Option<Agency>> {
        Ok(self.directory("WHERE id = $1", &[id]).await?.pop())
    }

    async fn networks(&self) -> StoreResult<Vec<Network>> {
        self.directory("", &[]).await
    }

    async fn calendar(&self) -> StoreResult<Vec<CalendarDay>> {
        self.directory("", &[]).await
    }

    async fn flagged_citizens(&self) -> StoreResult<Vec<FlaggedCitizen>> {
        self.directory("", &[]).await
    }

    async fn cases(&self) -> StoreResult<Vec<Case>> {
        self.directory("", &[]).await
    }

    async fn case(&self, agency: &str, case_id: &str) -> StoreResult<Option<Case>> {
        let filter = "WHERE agency = $1 AND case_id = $2";
        Ok(self.directory(filter, &[agency, case_id]).await?.pop())
    }

    async fn cases_of_official(&self, official_id: &str) -> StoreResult<Vec<Case>> {
        let filter = "WHERE (agency, case_id) IN (SELECT agency, case_id \
                      FROM directory_case_officials WHERE official_id = $1)";
        self.directory(filter, &[official_id]).await
    }
}
