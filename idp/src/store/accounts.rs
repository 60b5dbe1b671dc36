//! Citizens, their linked identities, strong-identifier linking and their login history.

use sqlx::FromRow;

use super::{
    AccountStore, Citizen, IdentityBinding, IdentityLink, LinkedIdentity, LoginEvent, SqlStore,
    StoreError, StoreResult, Unlink,
};
use crate::clock::UnixTime;

#[derive(FromRow)]
struct CitizenRow {
    id: String,
    claims: String,
    created_at: i64,
    suspended_at: Option<i64>,
}

#[derive(FromRow)]
struct IdentityRow {
    id: String,
    method: String,
    issuer: String,
    loa: String,
    vouched_loa: String,
    claims: String,
    created_at: i64,
    last_used_at: i64,
}

#[derive(FromRow)]
struct EventRow {
    id: String,
    citizen_id: String,
    at: i64,
    method: String,
    acr: String,
    client_id: Option<String>,
    address: Option<String>,
}

const INSERT_IDENTITY: &str = "INSERT INTO identities (id, citizen_id, method, issuer, subject, \
    loa, vouched_loa, claims, created_at, last_used_at, strong_id) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)";

fn json_of(text: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn insert_identity<'q>(
    citizen_id: &'q str,
    identity: &'q IdentityLink,
    now: UnixTime,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(INSERT_IDENTITY)
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(citizen_id)
        .bind(&identity.method)
        .bind(&identity.issuer)
        .bind(&identity.subject)
        .bind(&identity.loa)
        .bind(&identity.vouched_loa)
        .bind(identity.claims.to_string())
        .bind(now)
        .bind(i64::from(identity.strong_id))
}

impl AccountStore for SqlStore {
    async fn citizen_by_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT citizen_id FROM identities WHERE issuer = $1 AND subject = $2")
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(id,)| id))
    }

    async fn identity_binding(
        &self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<Option<IdentityBinding>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT citizen_id, vouched_loa, claims FROM identities \
             WHERE issuer = $1 AND subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(&self.read)
        .await?;
        row.map(|(citizen_id, vouched_loa, claims)| {
            Ok(IdentityBinding {
                citizen_id,
                vouched_loa,
                claims: json_of(&claims)?,
            })
        })
        .transpose()
    }

    async fn strong_id_of(&self, citizen_id: &str) -> StoreResult<Option<Vec<u8>>> {
        let row: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT strong_id_hash FROM citizens WHERE id = $1")
                .bind(citizen_id)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.and_then(|(hash,)| hash))
    }

    async fn citizen_by_strong_id(&self, hash: &[u8]) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT id FROM citizens WHERE strong_id_hash = $1")
                .bind(hash)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(id,)| id))
    }

    async fn create_citizen(
        &self,
        citizen: &Citizen,
        identity: &IdentityLink,
        strong_id_hash: Option<&[u8]>,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO citizens (id, claims, created_at, strong_id_hash) VALUES ($1, $2, $3, $4)",
        )
        .bind(&citizen.id)
        .bind(citizen.claims.to_string())
        .bind(citizen.created_at)
        .bind(strong_id_hash)
        .execute(&mut *tx)
        .await?;
        insert_identity(&citizen.id, identity, citizen.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn link_identity(
        &self,
        citizen_id: &str,
        identity: &IdentityLink,
        strong_id_hash: Option<&[u8]>,
        now: UnixTime,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        if let Some(hash) = strong_id_hash {
            // The citizen keeps the strong identifier it has; only an equal one (or none)
            // lets the link through. Another citizen's is a unique violation (Conflict).
            let adopted = sqlx::query(
                "UPDATE citizens SET strong_id_hash = $1 WHERE id = $2 \
                 AND (strong_id_hash IS NULL OR strong_id_hash = $1)",
            )
            .bind(hash)
            .bind(citizen_id)
            .execute(&mut *tx)
            .await?;
            if adopted.rows_affected() != 1 {
                return Err(StoreError::Conflict("strong identifier"));
            }
        }
        insert_identity(citizen_id, identity, now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_strong_id(&self, citizen_id: &str, hash: &[u8]) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE citizens SET strong_id_hash = $1 WHERE id = $2 AND strong_id_hash IS NULL",
        )
        .bind(hash)
        .bind(citizen_id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn citizen(&self, id: &str) -> StoreResult<Option<Citizen>> {
        let row: Option<CitizenRow> = sqlx::query_as(
            "SELECT id, claims, created_at, suspended_at FROM citizens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(Citizen {
                claims: serde_json::from_str(&r.claims)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                id: r.id,
                created_at: r.created_at,
                suspended_at: r.suspended_at,
            })
        })
        .transpose()
    }

    async fn save_profile(
        &self,
        id: &str,
        claims: &serde_json::Value,
        version: i64,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE citizens SET claims = $1, profile_version = $2 WHERE id = $3")
            .bind(claims.to_string())
            .bind(version)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn stale_profiles(&self, version: i64, limit: i64) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM citizens WHERE profile_version < $1 ORDER BY id LIMIT $2",
        )
        .bind(version)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn claim_sources(&self, id: &str) -> StoreResult<serde_json::Value> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT claim_sources FROM citizens WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        match row {
            Some((text,)) => json_of(&text),
            None => Ok(serde_json::json!({})),
        }
    }

    async fn set_claim_sources(&self, id: &str, sources: &serde_json::Value) -> StoreResult<()> {
        sqlx::query("UPDATE citizens SET claim_sources = $1 WHERE id = $2")
            .bind(sources.to_string())
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn touch_identity(
        &self,
        issuer: &str,
        subject: &str,
        claims: &serde_json::Value,
        strong_id: bool,
        now: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE identities SET last_used_at = $1, claims = $2, strong_id = $3 \
             WHERE issuer = $4 AND subject = $5",
        )
        .bind(now)
        .bind(claims.to_string())
        .bind(i64::from(strong_id))
        .bind(issuer)
        .bind(subject)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn identities(&self, citizen_id: &str) -> StoreResult<Vec<LinkedIdentity>> {
        let rows: Vec<IdentityRow> = sqlx::query_as(
            "SELECT id, method, issuer, loa, vouched_loa, claims, created_at, last_used_at \
             FROM identities WHERE citizen_id = $1 ORDER BY created_at, id",
        )
        .bind(citizen_id)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(LinkedIdentity {
                    claims: json_of(&r.claims)?,
                    id: r.id,
                    method: r.method,
                    issuer: r.issuer,
                    loa: r.loa,
                    vouched_loa: r.vouched_loa,
                    created_at: r.created_at,
                    last_used_at: r.last_used_at,
                })
            })
            .collect()
    }

    async fn set_suspended(&self, id: &str, at: Option<UnixTime>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE citizens SET suspended_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_grants_of(&self, citizen_id: &str, now: UnixTime) -> StoreResult<u64> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE citizen_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(citizen_id)
        .execute(&mut *tx)
        .await?;
        // Codes not redeemed yet would make new grants.
        sqlx::query(
            "DELETE FROM authorization_codes WHERE citizen_id = $1 AND consumed_at IS NULL",
        )
        .bind(citizen_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.changes.revoked();
        Ok(done.rows_affected())
    }

    async fn delete_citizen(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        // Rows that name the citizen without a foreign key first; the rest cascade from
        // `citizens` (identities, sessions, consents, login history, passkeys and events).
        for sql in [
            "DELETE FROM login_flows WHERE session_id IN \
             (SELECT id FROM sso_sessions WHERE citizen_id = $1)",
            "DELETE FROM pending_logins WHERE link_citizen_id = $1",
            "DELETE FROM authorization_codes WHERE citizen_id = $1",
            // Refresh tokens cascade from their grants.
            "DELETE FROM grants WHERE citizen_id = $1",
            // Alerts name the account; they end with it.
            "DELETE FROM risk_alerts WHERE actor = 'citizen:' || $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM citizens WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changes.revoked();
        self.changes.alerted();
        Ok(done.rows_affected() == 1)
    }

    async fn identity_subjects(&self, method: &str) -> StoreResult<Vec<(String, String, String)>> {
        Ok(
            sqlx::query_as("SELECT id, issuer, subject FROM identities WHERE method = $1")
                .bind(method)
                .fetch_all(&self.read)
                .await?,
        )
    }

    async fn protect_identity_subject(&self, id: &str, subject: &str) -> StoreResult<()> {
        sqlx::query("UPDATE identities SET subject = $1, claims = '{}' WHERE id = $2")
            .bind(subject)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn unlink_identity(&self, citizen_id: &str, identity_id: &str) -> StoreResult<Unlink> {
        let mut tx = self.write.begin().await?;
        // Serialise unlinks per citizen: the row lock makes a concurrent unlink wait, and its
        // DELETE then counts what is left (PostgreSQL's READ COMMITTED re-reads per statement;
        // SQLite has a single writer). Without it two unlinks could remove the last two methods.
        sqlx::query("UPDATE citizens SET id = id WHERE id = $1")
            .bind(citizen_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "DELETE FROM identities WHERE id = $1 AND citizen_id = $2 \
             AND (SELECT COUNT(*) FROM identities WHERE citizen_id = $2) > 1",
        )
        .bind(identity_id)
        .bind(citizen_id)
        .execute(&mut *tx)
        .await?;
        let outcome = if done.rows_affected() == 1 {
            // The linking value goes with the last identity that carried it.
            sqlx::query(
                "UPDATE citizens SET strong_id_hash = NULL WHERE id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM identities WHERE citizen_id = $1 AND strong_id = 1)",
            )
            .bind(citizen_id)
            .execute(&mut *tx)
            .await?;
            Unlink::Done
        } else {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT id FROM identities WHERE id = $1 AND citizen_id = $2")
                    .bind(identity_id)
                    .bind(citizen_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_some() {
                Unlink::LastMethod
            } else {
                Unlink::NotFound
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn record_login(&self, e: &LoginEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_events (id, citizen_id, at, method, acr, client_id, address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&e.id)
        .bind(&e.citizen_id)
        .bind(e.at)
        .bind(&e.method)
        .bind(&e.acr)
        .bind(&e.client_id)
        .bind(&e.address)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn login_events(&self, citizen_id: &str, limit: i64) -> StoreResult<Vec<LoginEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, citizen_id, at, method, acr, client_id, address FROM login_events \
             WHERE citizen_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(citizen_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| LoginEvent {
                id: r.id,
                citizen_id: r.citizen_id,
                at: r.at,
                method: r.method,
                acr: r.acr,
                client_id: r.client_id,
                address: r.address,
            })
            .collect())
    }
}
