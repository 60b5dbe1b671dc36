//! Signing keys, sealed at rest.

use sqlx::FromRow;

use super::{KeyStore, SqlStore, StoreResult, StoredKey};
use crate::clock::UnixTime;

#[derive(FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    private_key: Vec<u8>,
    public_jwk: String,
    created_at: i64,
    retire_at: Option<i64>,
}

impl KeyStore for SqlStore {
    async fn insert_key(&self, k: &StoredKey) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, retire_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.sealed_private_key)
        .bind(&k.public_jwk)
        .bind(k.created_at)
        .bind(k.retire_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn keys(&self) -> StoreResult<Vec<StoredKey>> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT kid, alg, private_key, public_jwk, created_at, retire_at FROM signing_keys \
             ORDER BY created_at, kid",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredKey {
                kid: r.kid,
                alg: r.alg,
                sealed_private_key: r.private_key,
                public_jwk: r.public_jwk,
                created_at: r.created_at,
                retire_at: r.retire_at,
            })
            .collect())
    }

    async fn retire_keys(&self, alg: &str, keep: &str, retire_at: UnixTime) -> StoreResult<()> {
        sqlx::query(
            "UPDATE signing_keys SET retire_at = $1 WHERE alg = $2 AND kid <> $3 AND retire_at IS NULL",
        )
        .bind(retire_at)
        .bind(alg)
        .bind(keep)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
