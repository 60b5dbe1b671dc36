//! Risk: sessions' scores, the devices citizens signed in from, and alerts against actors.

use super::{RiskStore, SessionRisk, SqlStore, StoreResult, json_list, to_json_list};
use crate::clock::UnixTime;

impl RiskStore for SqlStore {
    async fn set_session_risk(
        &self,
        session_id: &str,
        risk: u8,
        at: UnixTime,
        signals: &[String],
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sso_sessions SET risk = $1, risk_at = $2, risk_signals = $3 WHERE id = $4",
        )
        .bind(i64::from(risk))
        .bind(at)
        .bind(to_json_list(signals))
        .bind(session_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn risk_of_session(&self, session_id: &str) -> StoreResult<Option<(i64, i64)>> {
        Ok(
            sqlx::query_as("SELECT risk, risk_at FROM sso_sessions WHERE id = $1")
                .bind(session_id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    async fn session_risks(
        &self,
        citizen_id: &str,
        now: UnixTime,
    ) -> StoreResult<Vec<SessionRisk>> {
        let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
            "SELECT id, risk, risk_at, risk_signals FROM sso_sessions \
             WHERE citizen_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id",
        )
        .bind(citizen_id)
        .bind(now)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(session_id, risk, at, signals)| {
                Ok(SessionRisk {
                    session_id,
                    risk: u8::try_from(risk.clamp(0, 100)).unwrap_or(100),
                    at,
                    signals: json_list(&signals)?,
                })
            })
            .collect()
    }

    async fn see_device(
        &self,
        citizen_id: &str,
        device_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        let known = sqlx::query(
            "UPDATE known_devices SET last_seen = $1 WHERE citizen_id = $2 AND device_hash = $3",
        )
        .bind(now)
        .bind(citizen_id)
        .bind(device_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !known {
            sqlx::query(
                "INSERT INTO known_devices (citizen_id, device_hash, first_seen, last_seen) \
                 VALUES ($1, $2, $3, $3) ON CONFLICT (citizen_id, device_hash) DO NOTHING",
            )
            .bind(citizen_id)
            .bind(device_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(known)
    }

    async fn record_alert(
        &self,
        id: &str,
        actor: &str,
        score: u8,
        reason: &str,
        at: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO risk_alerts (id, actor, score, reason, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(actor)
        .bind(i64::from(score))
        .bind(reason)
        .bind(at)
        .execute(&self.write)
        .await?;
        self.changes.alerted();
        Ok(())
    }

    async fn alerts_of(
        &self,
        actor: &str,
        since: UnixTime,
    ) -> StoreResult<Vec<(u8, String, UnixTime)>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT score, reason, at FROM risk_alerts WHERE actor = $1 AND at >= $2 \
             ORDER BY at DESC",
        )
        .bind(actor)
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(score, reason, at)| {
                (u8::try_from(score.clamp(0, 100)).unwrap_or(100), reason, at)
            })
            .collect())
    }
}
