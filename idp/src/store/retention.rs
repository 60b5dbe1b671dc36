//! Retention: removing what has been kept long enough (`crate::retention` decides when).

use super::{RetentionStore, SqlStore, StoreResult};
use crate::clock::UnixTime;

impl RetentionStore for SqlStore {
    async fn delete_login_events_before(&self, cutoff: UnixTime) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM login_events WHERE at < $1")
            .bind(cutoff)
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    async fn untruncated_addresses_before(
        &self,
        cutoff: UnixTime,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, address FROM login_events WHERE at < $1 AND address IS NOT NULL \
             AND address NOT LIKE '%/%' ORDER BY at LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    async fn set_login_address(&self, id: &str, address: &str) -> StoreResult<()> {
        sqlx::query("UPDATE login_events SET address = $1 WHERE id = $2")
            .bind(address)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn delete_ended_grants_before(&self, cutoff: UnixTime) -> StoreResult<u64> {
        // Ended: revoked, or without a refresh token left (expired ones are purged) and older
        // than any access token it gave. Refresh tokens cascade.
        Ok(sqlx::query(
            "DELETE FROM grants WHERE (revoked_at IS NOT NULL AND revoked_at < $1) \
             OR (created_at < $1 AND NOT EXISTS \
                 (SELECT 1 FROM refresh_tokens r WHERE r.grant_id = grants.id))",
        )
        .bind(cutoff)
        .execute(&self.write)
        .await?
        .rows_affected())
    }

    async fn expire_consents_before(&self, cutoff: UnixTime, now: UnixTime) -> StoreResult<u64> {
        let mut tx = self.write.begin().await?;
        // An expired consent ends like a withdrawn one: the service's tokens stop working.
        sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE revoked_at IS NULL AND EXISTS \
             (SELECT 1 FROM consents c WHERE c.citizen_id = grants.citizen_id \
              AND c.client_id = grants.client_id AND c.granted_at < $2)",
        )
        .bind(now)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM consents WHERE granted_at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changes.revoked();
        Ok(done.rows_affected())
    }

    async fn delete_removed_passkey_events_before(&self, cutoff: UnixTime) -> StoreResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM passkey_events WHERE at < $1 AND NOT EXISTS \
             (SELECT 1 FROM passkeys p WHERE p.id = passkey_events.passkey_id)",
        )
        .bind(cutoff)
        .execute(&self.write)
        .await?
        .rows_affected())
    }

    async fn forget_risk_before(
        &self,
        devices_cutoff: Option<UnixTime>,
        alerts_cutoff: Option<UnixTime>,
    ) -> StoreResult<u64> {
        let mut removed = 0;
        if let Some(cutoff) = devices_cutoff {
            removed += sqlx::query("DELETE FROM known_devices WHERE last_seen < $1")
                .bind(cutoff)
                .execute(&self.write)
                .await?
                .rows_affected();
        }
        if let Some(cutoff) = alerts_cutoff {
            removed += sqlx::query("DELETE FROM risk_alerts WHERE at < $1")
                .bind(cutoff)
                .execute(&self.write)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }

    async fn dormant_citizens(&self, cutoff: UnixTime, limit: i64) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT c.id FROM citizens c WHERE c.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM identities i \
                             WHERE i.citizen_id = c.id AND i.last_used_at >= $1) \
             AND NOT EXISTS (SELECT 1 FROM sso_sessions s \
                             WHERE s.citizen_id = c.id AND s.auth_time >= $1) \
             ORDER BY c.id LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
