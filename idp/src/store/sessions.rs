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
        row.map(SsoSession::try_from).transpose()
    }

    async fn revoke_session(&self, id: &str, now: UnixTime) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE sso_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Tokens issued under the session stop working with it, except those the citizen
        // granted offline access (OIDC Core §11; withdrawing consent ends those).
        sqlx::query(
            "UPDATE grants SET revoked_at = $1 \
             WHERE session_id = $2 AND revoked_at IS NULL AND NOT offline",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.changes.revoked();
        Ok(done.rows_affected() == 1)
    }

    async fn sessions_of(&self, citizen_id: &str, now: UnixTime) -> StoreResult<Vec<SsoSession>> {
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT id, citizen_id, auth_time, acr, amr, created_at, expires_at FROM sso_sessions \
             WHERE citizen_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(citizen_id)
        .bind(now)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(SsoSession::try_from).collect()
    }
}

impl TryFrom<SessionRow> for SsoSession {
    type Error = super::StoreError;
    fn try_from(r: SessionRow) -> StoreResult<Self> {
        Ok(SsoSession {
            amr: json_list(&r.amr)?,
            id: r.id,
            citizen_id: r.citizen_id,
            auth_time: r.auth_time,
            acr: r.acr,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}
