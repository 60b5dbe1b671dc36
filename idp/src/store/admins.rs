//! Administrators and the hashes of their tokens.

use super::{AdminStore, Administrator, SqlStore, StoreError, StoreResult};
use crate::clock::UnixTime;

type Row = (String, Vec<u8>, String, i64, Option<i64>);

fn administrator((name, token_hash, role, created_at, removed_at): Row) -> Administrator {
    Administrator {
        name,
        token_hash,
        role,
        created_at,
        removed_at,
    }
}

impl AdminStore for SqlStore {
    async fn add_administrator(&self, admin: &Administrator) -> StoreResult<()> {
        let added = sqlx::query(
            "INSERT INTO administrators (name, token_hash, role, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&admin.name)
        .bind(&admin.token_hash)
        .bind(&admin.role)
        .bind(admin.created_at)
        .execute(&self.write)
        .await?;
        if added.rows_affected() == 0 {
            return Err(StoreError::Conflict("administrator"));
        }
        Ok(())
    }

    async fn administrator(&self, name: &str) -> StoreResult<Option<Administrator>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT name, token_hash, role, created_at, removed_at FROM administrators \
             WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(administrator))
    }

    async fn administrators(&self) -> StoreResult<Vec<Administrator>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT name, token_hash, role, created_at, removed_at FROM administrators \
             ORDER BY name",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(administrator).collect())
    }

    async fn remove_administrator(&self, name: &str, at: UnixTime) -> StoreResult<bool> {
        let removed = sqlx::query(
            "UPDATE administrators SET removed_at = $1 WHERE name = $2 AND removed_at IS NULL",
        )
        .bind(at)
        .bind(name)
        .execute(&self.write)
        .await?;
        Ok(removed.rows_affected() == 1)
    }
}
