//! Personal-data access events: written in batches (one statement per batch of rows), read
//! by whose record they concern.

use sqlx::FromRow;

use super::{
    AccessEvent, AccessStore, ROWS_PER_STATEMENT, SqlStore, StoreResult, json_list, to_json_list,
    values_list,
};

const COLUMNS: &str = "id, at, client_id, actor_id, actor_agency, actor_role, subject_id, \
    operation, data_categories, purpose, case_id, decision, policies, source_ip, request_id";
const PER_ROW: usize = 15;

#[derive(FromRow)]
struct AccessRow {
    id: String,
    at: i64,
    client_id: String,
    actor_id: String,
    actor_agency: Option<String>,
    actor_role: Option<String>,
    subject_id: String,
    operation: String,
    data_categories: String,
    purpose: Option<String>,
    case_id: Option<String>,
    decision: String,
    policies: String,
    source_ip: Option<String>,
    request_id: Option<String>,
}

impl TryFrom<AccessRow> for AccessEvent {
    type Error = super::StoreError;
    fn try_from(r: AccessRow) -> StoreResult<Self> {
        Ok(AccessEvent {
            data_categories: json_list(&r.data_categories)?,
            policies: json_list(&r.policies)?,
            id: r.id,
            at: r.at,
            client_id: r.client_id,
            actor_id: r.actor_id,
            actor_agency: r.actor_agency,
            actor_role: r.actor_role,
            subject_id: r.subject_id,
            operation: r.operation,
            purpose: r.purpose,
            case_id: r.case_id,
            decision: r.decision,
            source_ip: r.source_ip,
            request_id: r.request_id,
        })
    }
}

impl AccessStore for SqlStore {
    async fn record_access(&self, events: &[AccessEvent]) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO personal_data_access ({COLUMNS}) VALUES {}",
                values_list(self.backend(), chunk.len(), PER_ROW)
            ));
            let mut query = sqlx::query(sql);
            for e in chunk {
                query = query
                    .bind(&e.id)
                    .bind(e.at)
                    .bind(&e.client_id)
                    .bind(&e.actor_id)
                    .bind(&e.actor_agency)
                    .bind(&e.actor_role)
                    .bind(&e.subject_id)
                    .bind(&e.operation)
                    .bind(to_json_list(&e.data_categories))
                    .bind(&e.purpose)
                    .bind(&e.case_id)
                    .bind(&e.decision)
                    .bind(to_json_list(&e.policies))
                    .bind(&e.source_ip)
                    .bind(&e.request_id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn access_events_about(
        &self,
        subject_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<AccessEvent>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM personal_data_access WHERE subject_id = $1 \
             ORDER BY at DESC, id DESC LIMIT $2"
        ));
        let rows: Vec<AccessRow> = sqlx::query_as(sql)
            .bind(subject_id)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.into_iter().map(AccessEvent::try_from).collect()
    }
}
