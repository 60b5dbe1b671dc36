//! Passkeys and their event history.

use sqlx::FromRow;

use super::{PasskeyEvent, PasskeyRecord, PasskeyStore, PasskeyUse, SqlStore, StoreResult};

#[derive(FromRow)]
struct PasskeyRow {
    id: String,
    citizen_id: String,
    credential_id: Vec<u8>,
    name: String,
    loa: String,
    data: String,
    sign_count: i64,
    backup_eligible: i64,
    backed_up: i64,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<PasskeyRow> for PasskeyRecord {
    fn from(r: PasskeyRow) -> Self {
        Self {
            id: r.id,
            citizen_id: r.citizen_id,
            credential_id: r.credential_id,
            name: r.name,
            loa: r.loa,
            data: r.data,
            sign_count: r.sign_count,
            backup_eligible: r.backup_eligible != 0,
            backed_up: r.backed_up != 0,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(FromRow)]
struct EventRow {
    passkey_id: String,
    citizen_id: String,
    at: i64,
    kind: String,
    detail: String,
}

const COLUMNS: &str = "id, citizen_id, credential_id, name, loa, data, sign_count, \
    backup_eligible, backed_up, created_at, last_used_at";

impl PasskeyStore for SqlStore {
    async fn insert_passkey(&self, p: &PasskeyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO passkeys (id, citizen_id, credential_id, name, loa, data, sign_count, \
             backup_eligible, backed_up, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&p.id)
        .bind(&p.citizen_id)
        .bind(&p.credential_id)
        .bind(&p.name)
        .bind(&p.loa)
        .bind(&p.data)
        .bind(p.sign_count)
        .bind(i64::from(p.backup_eligible))
        .bind(i64::from(p.backed_up))
        .bind(p.created_at)
        .bind(p.last_used_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn passkeys_of(&self, citizen_id: &str) -> StoreResult<Vec<PasskeyRecord>> {
        let rows: Vec<PasskeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM passkeys WHERE citizen_id = $1 ORDER BY created_at, id"
        )))
        .bind(citizen_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<PasskeyRecord>> {
        let row: Option<PasskeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1"
        )))
        .bind(credential_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn use_passkey(&self, id: &str, u: &PasskeyUse) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE passkeys SET data = COALESCE($1, data), sign_count = $2, backed_up = $3, \
             last_used_at = $4 WHERE id = $5",
        )
        .bind(&u.data)
        .bind(u.sign_count)
        .bind(i64::from(u.backed_up))
        .bind(u.at)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn rename_passkey(&self, citizen_id: &str, id: &str, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND citizen_id = $3")
            .bind(name)
            .bind(id)
            .bind(citizen_id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn remove_passkey(&self, citizen_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND citizen_id = $2")
            .bind(id)
            .bind(citizen_id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_passkey_event(&self, e: &PasskeyEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO passkey_events (id, passkey_id, citizen_id, at, kind, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&e.passkey_id)
        .bind(&e.citizen_id)
        .bind(e.at)
        .bind(&e.kind)
        .bind(&e.detail)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn passkey_events(&self, passkey_id: &str, limit: i64) -> StoreResult<Vec<PasskeyEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT passkey_id, citizen_id, at, kind, detail FROM passkey_events \
             WHERE passkey_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(passkey_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| PasskeyEvent {
                passkey_id: r.passkey_id,
                citizen_id: r.citizen_id,
                at: r.at,
                kind: r.kind,
                detail: r.detail,
            })
            .collect())
    }
}
