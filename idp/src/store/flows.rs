//! Login flows (the authorization request while the citizen logs in) and remembered consent.

use sqlx::FromRow;

use super::{ConsentRecord, ConsentStore, FlowRecord, FlowStore, SqlStore, StoreResult};
use crate::clock::UnixTime;

#[derive(FromRow)]
struct FlowRow {
    id: String,
    browser_hash: Vec<u8>,
    client_id: String,
    request: String,
    state: String,
    session_id: Option<String>,
    csrf: String,
    created_at: i64,
    expires_at: i64,
}

impl FlowStore for SqlStore {
    async fn insert_flow(&self, f: &FlowRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_flows (id, browser_hash, client_id, request, state, session_id, \
             csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&f.id)
        .bind(&f.browser_hash)
        .bind(&f.client_id)
        .bind(&f.request)
        .bind(&f.state)
        .bind(&f.session_id)
        .bind(&f.csrf)
        .bind(f.created_at)
        .bind(f.expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn flow(&self, id: &str, now: UnixTime) -> StoreResult<Option<FlowRecord>> {
        let row: Option<FlowRow> = sqlx::query_as(
            "SELECT id, browser_hash, client_id, request, state, session_id, csrf, created_at, \
             expires_at FROM login_flows WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| FlowRecord {
            id: r.id,
            browser_hash: r.browser_hash,
            client_id: r.client_id,
            request: r.request,
            state: r.state,
            session_id: r.session_id,
            csrf: r.csrf,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }))
    }

    async fn transition_flow(
        &self,
        id: &str,
        from: &str,
        to: &str,
        session_id: Option<&str>,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE login_flows SET state = $1, session_id = COALESCE($2, session_id) \
             WHERE id = $3 AND state = $4 AND expires_at > $5",
        )
        .bind(to)
        .bind(session_id)
        .bind(id)
        .bind(from)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl ConsentStore for SqlStore {
    async fn consent(&self, citizen_id: &str, client_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT scopes FROM consents WHERE citizen_id = $1 AND client_id = $2")
                .bind(citizen_id)
                .bind(client_id)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(s,)| s))
    }

    async fn put_consent(
        &self,
        citizen_id: &str,
        client_id: &str,
        scopes: &str,
        now: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO consents (citizen_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (citizen_id, client_id) DO UPDATE SET scopes = excluded.scopes, \
             granted_at = excluded.granted_at",
        )
        .bind(citizen_id)
        .bind(client_id)
        .bind(scopes)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn consents_of(&self, citizen_id: &str) -> StoreResult<Vec<ConsentRecord>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT client_id, scopes, granted_at FROM consents WHERE citizen_id = $1 \
             ORDER BY granted_at DESC, client_id",
        )
        .bind(citizen_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(client_id, scopes, granted_at)| ConsentRecord {
                client_id,
                scopes,
                granted_at,
            })
            .collect())
    }

    async fn revoke_consent(
        &self,
        citizen_id: &str,
        client_id: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query("DELETE FROM consents WHERE citizen_id = $1 AND client_id = $2")
            .bind(citizen_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        // Withdrawn consent: the client's tokens for this citizen stop working.
        sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE citizen_id = $2 AND client_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(citizen_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.changes.revoked();
        Ok(done.rows_affected() == 1)
    }
}
