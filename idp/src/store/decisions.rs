//! The decision log: written in batches, listed newest first with simple filters.

use sqlx::FromRow;

use super::{
    DecisionStore, ROWS_PER_STATEMENT, SqlStore, StoreResult, json_list, to_json_list, values_list,
};
use crate::decisions::{DecisionQuery, DecisionRecord};

const COLUMNS: &str =
    "id, at, action, decision, detail, principal, resource, zone, policies, reasons";
const PER_ROW: usize = 10;

#[derive(FromRow)]
struct DecisionRow {
    id: String,
    at: i64,
    action: String,
    decision: String,
    detail: Option<String>,
    principal: String,
    resource: String,
    zone: String,
    policies: String,
    reasons: String,
}

impl DecisionStore for SqlStore {
    async fn record_decisions(&self, records: &[DecisionRecord]) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO policy_decisions ({COLUMNS}) VALUES {}",
                values_list(self.backend(), chunk.len(), PER_ROW)
            ));
            let mut query = sqlx::query(sql);
            for r in chunk {
                query = query
                    .bind(&r.id)
                    .bind(r.at)
                    .bind(&r.action)
                    .bind(&r.decision)
                    .bind(&r.detail)
                    .bind(&r.principal)
                    .bind(&r.resource)
                    .bind(&r.zone)
                    .bind(to_json_list(&r.policies))
                    .bind(to_json_list(&r.reasons));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_decisions_before(&self, cutoff: crate::clock::UnixTime) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM policy_decisions WHERE at < $1")
            .bind(cutoff)
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    async fn decisions(&self, q: &DecisionQuery) -> StoreResult<Vec<DecisionRecord>> {
        // Each filter is a bound parameter that is either NULL (no filter) or the value.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM policy_decisions \
             WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR decision = $2) \
             AND ($3 IS NULL OR principal = $3) AND ($4 IS NULL OR at >= $4) \
             AND ($5 IS NULL OR at < $5) \
             ORDER BY at DESC, id DESC LIMIT $6"
        ));
        let rows: Vec<DecisionRow> = sqlx::query_as(sql)
            .bind(&q.action)
            .bind(&q.decision)
            .bind(&q.principal)
            .bind(q.since)
            .bind(q.before)
            .bind(q.limit())
            .fetch_all(&self.read)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(DecisionRecord {
                    policies: json_list(&r.policies)?,
                    reasons: json_list(&r.reasons)?,
                    id: r.id,
                    at: r.at,
                    action: r.action,
                    decision: r.decision,
                    detail: r.detail,
                    principal: r.principal,
                    resource: r.resource,
                    zone: r.zone,
                })
            })
            .collect()
    }
}
