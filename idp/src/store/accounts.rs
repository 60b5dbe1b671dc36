//! Citizens and their linked identities.

use sqlx::FromRow;

use super::{AccountStore, Citizen, IdentityLink, SqlStore, StoreError, StoreResult};
use crate::clock::UnixTime;

#[derive(FromRow)]
struct CitizenRow {
    id: String,
    claims: String,
    created_at: i64,
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

    async fn create_citizen(&self, citizen: &Citizen, identity: &IdentityLink) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("INSERT INTO citizens (id, claims, created_at) VALUES ($1, $2, $3)")
            .bind(&citizen.id)
            .bind(citizen.claims.to_string())
            .bind(citizen.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO identities (id, citizen_id, method, issuer, subject, loa, created_at, \
             last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&citizen.id)
        .bind(&identity.method)
        .bind(&identity.issuer)
        .bind(&identity.subject)
        .bind(&identity.loa)
        .bind(citizen.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn citizen(&self, id: &str) -> StoreResult<Option<Citizen>> {
        let row: Option<CitizenRow> =
            sqlx::query_as("SELECT id, claims, created_at FROM citizens WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|r| {
            Ok(Citizen {
                claims: serde_json::from_str(&r.claims)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                id: r.id,
                created_at: r.created_at,
            })
        })
        .transpose()
    }

    async fn touch_identity(&self, issuer: &str, subject: &str, now: UnixTime) -> StoreResult<()> {
        sqlx::query("UPDATE identities SET last_used_at = $1 WHERE issuer = $2 AND subject = $3")
            .bind(now)
            .bind(issuer)
            .bind(subject)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
