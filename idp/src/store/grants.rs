//! Authorization codes, grants, refresh-token families and access-token revocation.
//!
//! A grant is the family of every token issued from one code redemption: revoking it (code
//! replay, refresh-token replay, RFC 7009 revocation of a refresh token) stops them all.

use sqlx::FromRow;

use super::{
    CodeRecord, CodeRedemption, GrantRecord, GrantStore, RefreshRotation, RefreshTokenInfo,
    SqlStore, StoreResult, json_list, to_json_list,
};
use crate::clock::UnixTime;

/// Consumed codes are kept this long past expiry so a late replay is still recognised.
const CODE_REPLAY_MEMORY_S: i64 = 24 * 3600;

#[derive(FromRow)]
struct CodeRow {
    grant_id: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
    citizen_id: String,
    session_id: String,
    scope: String,
    auth_time: i64,
    acr: String,
    amr: String,
    created_at: i64,
    expires_at: i64,
    session_live: i64,
    consented: Option<String>,
    session_risk: Option<i64>,
    session_risk_at: Option<i64>,
}

#[derive(FromRow)]
struct GrantRow {
    id: String,
    client_id: String,
    citizen_id: String,
    session_id: String,
    scope: String,
    auth_time: i64,
    acr: String,
    amr: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<GrantRow> for GrantRecord {
    type Error = super::StoreError;
    fn try_from(r: GrantRow) -> StoreResult<Self> {
        Ok(GrantRecord {
            amr: json_list(&r.amr)?,
            id: r.id,
            client_id: r.client_id,
            citizen_id: r.citizen_id,
            session_id: r.session_id,
            scope: r.scope,
            auth_time: r.auth_time,
            acr: r.acr,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// A code being redeemed: consumed inside a transaction that is still open, with what the
/// code depends on read in the same statement. [`Redemption::grant`] commits the grant (and
/// its first refresh token) with the consumption; [`Redemption::refuse`] commits the
/// consumption alone. Dropped without either, nothing happened: the code is still unused.
pub struct Redemption {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    pub code: CodeRecord,
    /// The session the code was issued under is neither signed out nor expired.
    pub session_live: bool,
    /// The scopes the citizen's consent to the client covers now, if it stands.
    pub consented: Option<String>,
    /// The session's risk and when it was set (`crate::risk`), if the session is there.
    pub session_risk: Option<(i64, i64)>,
}

impl std::fmt::Debug for Redemption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redemption")
            .field("grant", &self.code.grant.id)
            .field("session_live", &self.session_live)
            .finish_non_exhaustive()
    }
}

impl Redemption {
    /// Record `grant`, made from this code, with its first refresh token (if any).
    pub async fn grant(
        mut self,
        grant: &GrantRecord,
        refresh: Option<(&[u8], UnixTime)>,
    ) -> StoreResult<()> {
        insert_grant(&mut self.tx, grant, refresh).await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// The code is refused: it stays consumed, and nothing is granted.
    pub async fn refuse(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

async fn insert_grant(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    g: &GrantRecord,
    refresh: Option<(&[u8], UnixTime)>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO grants (id, client_id, citizen_id, session_id, scope, auth_time, acr, \
         amr, created_at, offline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&g.id)
    .bind(&g.client_id)
    .bind(&g.citizen_id)
    .bind(&g.session_id)
    .bind(&g.scope)
    .bind(g.auth_time)
    .bind(&g.acr)
    .bind(to_json_list(&g.amr))
    .bind(g.created_at)
    .bind(g.offline())
    .execute(&mut **tx)
    .await?;
    if let Some((hash, expires_at)) = refresh {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(hash)
        .bind(&g.id)
        .bind(g.created_at)
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

const GRANT_COLUMNS: &str =
    "id, client_id, citizen_id, session_id, scope, auth_time, acr, amr, created_at, revoked_at";

impl GrantStore for SqlStore {
    async fn insert_code(&self, c: &CodeRecord, now: UnixTime) -> StoreResult<()> {
        let g = &c.grant;
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, grant_id, client_id, redirect_uri, \
             code_challenge, nonce, citizen_id, session_id, scope, auth_time, acr, amr, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14)",
        )
        .bind(&c.code_hash)
        .bind(&g.id)
        .bind(&g.client_id)
        .bind(&c.redirect_uri)
        .bind(&c.code_challenge)
        .bind(&c.nonce)
        .bind(&g.citizen_id)
        .bind(&g.session_id)
        .bind(&g.scope)
        .bind(g.auth_time)
        .bind(&g.acr)
        .bind(to_json_list(&g.amr))
        .bind(now)
        .bind(c.expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn redeem_code(&self, code_hash: &[u8], now: UnixTime) -> StoreResult<CodeRedemption> {
        let mut tx = self.write.begin().await?;
        // RFC 6749 §4.1.2: a code is used once. The conditional update is the only check;
        // what the code still depends on (its session, the consent behind it) is read in
        // the same statement.
        let row: Option<CodeRow> = sqlx::query_as(
            "UPDATE authorization_codes SET consumed_at = $1 \
             WHERE code_hash = $2 AND consumed_at IS NULL \
             RETURNING grant_id, client_id, redirect_uri, code_challenge, nonce, citizen_id, \
             session_id, scope, auth_time, acr, amr, created_at, expires_at, \
             (SELECT COUNT(*) FROM sso_sessions s WHERE s.id = authorization_codes.session_id \
              AND s.revoked_at IS NULL AND s.expires_at > $1) AS session_live, \
             (SELECT c.scopes FROM consents c \
              WHERE c.citizen_id = authorization_codes.citizen_id \
              AND c.client_id = authorization_codes.client_id) AS consented, \
             (SELECT s.risk FROM sso_sessions s WHERE s.id = authorization_codes.session_id) \
              AS session_risk, \
             (SELECT s.risk_at FROM sso_sessions s WHERE s.id = authorization_codes.session_id) \
              AS session_risk_at",
        )
        .bind(now)
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = row {
            let code = CodeRecord {
                code_hash: code_hash.to_vec(),
                grant: GrantRecord {
                    id: r.grant_id,
                    client_id: r.client_id,
                    citizen_id: r.citizen_id,
                    session_id: r.session_id,
                    scope: r.scope,
                    auth_time: r.auth_time,
                    acr: r.acr,
                    amr: json_list(&r.amr)?,
                    created_at: r.created_at,
                    revoked_at: None,
                },
                redirect_uri: r.redirect_uri,
                code_challenge: r.code_challenge,
                nonce: r.nonce,
                expires_at: r.expires_at,
            };
            return Ok(CodeRedemption::Consumed(Box::new(Redemption {
                tx,
                code,
                session_live: r.session_live > 0,
                consented: r.consented,
                session_risk: r.session_risk.zip(r.session_risk_at),
            })));
        }
        let seen: Option<(String,)> =
            sqlx::query_as("SELECT grant_id FROM authorization_codes WHERE code_hash = $1")
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(match seen {
            Some((grant_id,)) => CodeRedemption::Replayed { grant_id },
            None => CodeRedemption::Unknown,
        })
    }

    async fn insert_grant(
        &self,
        g: &GrantRecord,
        refresh: Option<(&[u8], UnixTime)>,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        insert_grant(&mut tx, g, refresh).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn grant(&self, id: &str) -> StoreResult<Option<GrantRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {GRANT_COLUMNS} FROM grants WHERE id = $1"));
        let row: Option<GrantRow> = sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(GrantRecord::try_from).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &[u8],
        new_hash: &[u8],
        new_expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<RefreshRotation> {
        let mut tx = self.write.begin().await?;
        // RFC 9700 §4.14.2: rotation. Only a current token of a live grant rotates; OIDC
        // Core §11: without offline_access, only while the grant's session lives.
        let rotated: Option<(String, i64)> = sqlx::query_as(
            "UPDATE refresh_tokens SET rotated_at = $1 \
             WHERE token_hash = $2 AND rotated_at IS NULL AND expires_at > $1 \
             AND grant_id IN (SELECT g.id FROM grants g WHERE g.revoked_at IS NULL \
               AND (g.offline OR EXISTS (SELECT 1 FROM sso_sessions s \
                 WHERE s.id = g.session_id AND s.revoked_at IS NULL AND s.expires_at > $1))) \
             RETURNING grant_id, expires_at",
        )
        .bind(now)
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((grant_id, _old_expiry)) = rotated else {
            let seen: Option<(String, Option<i64>)> = sqlx::query_as(
                "SELECT grant_id, rotated_at FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(old_hash)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(match seen {
                Some((grant_id, Some(_))) => RefreshRotation::Replayed { grant_id },
                _ => RefreshRotation::Invalid,
            });
        };
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(new_hash)
        .bind(&grant_id)
        .bind(now)
        .bind(new_expires_at)
        .execute(&mut *tx)
        .await?;
        let sql = sqlx::AssertSqlSafe(format!("SELECT {GRANT_COLUMNS} FROM grants WHERE id = $1"));
        let grant: GrantRow = sqlx::query_as(sql)
            .bind(&grant_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(RefreshRotation::Rotated {
            grant: grant.try_into()?,
            expires_at: new_expires_at,
        })
    }

    async fn refresh_token(
        &self,
        hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<RefreshTokenInfo>> {
        #[allow(clippy::type_complexity)]
        let row: Option<(String, i64, Option<i64>, i64, Option<i64>, Option<i64>)> =
            sqlx::query_as(
                "SELECT r.grant_id, r.expires_at, r.rotated_at, \
             (SELECT COUNT(*) FROM grants g JOIN sso_sessions s ON s.id = g.session_id \
              WHERE g.id = r.grant_id AND s.revoked_at IS NULL AND s.expires_at > $2), \
             (SELECT s.risk FROM grants g JOIN sso_sessions s ON s.id = g.session_id \
              WHERE g.id = r.grant_id), \
             (SELECT s.risk_at FROM grants g JOIN sso_sessions s ON s.id = g.session_id \
              WHERE g.id = r.grant_id) \
             FROM refresh_tokens r WHERE r.token_hash = $1",
            )
            .bind(hash)
            .bind(now)
            .fetch_optional(&self.read)
            .await?;
        let Some((grant_id, expires_at, rotated_at, live, risk, risk_at)) = row else {
            return Ok(None);
        };
        Ok(self.grant(&grant_id).await?.map(|grant| RefreshTokenInfo {
            grant,
            expires_at,
            rotated_at,
            session_live: live > 0,
            session_risk: risk.zip(risk_at),
        }))
    }

    async fn revoke_grant(&self, id: &str, now: UnixTime) -> StoreResult<()> {
        sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&self.write)
            .await?;
        self.changes.revoked();
        Ok(())
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at)
        .execute(&self.write)
        .await?;
        self.changes.revoked();
        Ok(())
    }

    async fn access_token_revoked(&self, jti: &str) -> StoreResult<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT jti FROM revoked_access_tokens WHERE jti = $1")
                .bind(jti)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.is_some())
    }

    async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64> {
        let statements: [(&str, i64); 7] = [
            ("DELETE FROM pending_logins WHERE expires_at < $1", now),
            ("DELETE FROM spent_tokens WHERE expires_at < $1", now),
            (
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                now - CODE_REPLAY_MEMORY_S,
            ),
            ("DELETE FROM login_flows WHERE expires_at < $1", now),
            (
                "DELETE FROM revoked_access_tokens WHERE expires_at < $1",
                now,
            ),
            ("DELETE FROM refresh_tokens WHERE expires_at < $1", now),
            ("DELETE FROM sso_sessions WHERE expires_at < $1", now),
        ];
        let mut removed = 0;
        for (sql, cutoff) in statements {
            removed += sqlx::query(sql)
                .bind(cutoff)
                .execute(&self.write)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }
}
