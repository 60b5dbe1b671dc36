//! SSO sessions: the cookie holds a random token; the row holds its hash.

use sqlx::FromRow;

use super::{SessionStore, SqlStore, SsoSession, StoreResult, json_list, to_json_list};
use crate::clock::UnixTime;

#[derive(FromRow)]
struct SessionRow {
    id: String,
    citizen_id: String,
    auth_time: i64,
    acr: String,
    amr: String,
    created_at: i64,
    expires_at: i64,
}

impl SessionStore for SqlStore {
    async fn insert_session(&self, s: &SsoSession, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sso_sessions (id, token_hash, citizen_id, auth_time, acr, amr, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.id)
        .bind(token_hash)
        .bind(&s.citizen_id)
        .bind(s.auth_time)
        .bind(&s.acr)
        .bind(to_json_list(&s.amr))
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn live_session(
        &self,
        token_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<SsoSession>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT id, citizen_id, auth_time, acr, amr, created_at, expires_at FROM sso_sessions \
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(SsoSession {
                amr: json_list(&r.amr)?,
                id: r.id,
                citizen_id: r.citizen_id,
                auth_time: r.auth_time,
                acr: r.acr,
                created_at: r.created_at,
                expires_at: r.expires_at,
            })
        })
        .transpose()
    }

    async fn revoke_session(&self, id: &str, now: UnixTime) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sso_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
