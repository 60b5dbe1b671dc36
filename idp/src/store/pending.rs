//! Upstream logins between their start and their callback: found by the hash of the `state`
//! sent upstream, consumed once; and the spent marks of state that travels in pages.

use sqlx::FromRow;

use super::{PendingLoginStore, PendingRecord, SqlStore, StoreResult};
use crate::clock::UnixTime;

#[derive(FromRow)]
struct PendingRow {
    state_hash: Vec<u8>,
    flow_id: Option<String>,
    link_citizen_id: Option<String>,
    provider: String,
    data: String,
    callback: Option<String>,
    created_at: i64,
    expires_at: i64,
}

impl PendingLoginStore for SqlStore {
    async fn insert_pending(&self, p: &PendingRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO pending_logins (state_hash, flow_id, link_citizen_id, provider, data, \
             callback, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&p.state_hash)
        .bind(&p.flow_id)
        .bind(&p.link_citizen_id)
        .bind(&p.provider)
        .bind(&p.data)
        .bind(&p.callback)
        .bind(p.created_at)
        .bind(p.expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn attach_callback(
        &self,
        state_hash: &[u8],
        callback: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE pending_logins SET callback = $1 \
             WHERE state_hash = $2 AND callback IS NULL AND expires_at > $3",
        )
        .bind(callback)
        .bind(state_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn take_pending(
        &self,
        state_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<PendingRecord>> {
        let row: Option<PendingRow> = sqlx::query_as(
            "DELETE FROM pending_logins WHERE state_hash = $1 AND expires_at > $2 \
             RETURNING state_hash, flow_id, link_citizen_id, provider, data, callback, created_at, \
             expires_at",
        )
        .bind(state_hash)
        .bind(now)
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|r| PendingRecord {
            state_hash: r.state_hash,
            flow_id: r.flow_id,
            link_citizen_id: r.link_citizen_id,
            provider: r.provider,
            data: r.data,
            callback: r.callback,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }))
    }

    async fn spend_once(&self, token_hash: &[u8], expires_at: UnixTime) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO spent_tokens (token_hash, expires_at) VALUES ($1, $2) \
             ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(token_hash)
        .bind(expires_at)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
