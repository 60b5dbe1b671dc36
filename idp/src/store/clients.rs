//! Relying-party registrations.

use sqlx::FromRow;

use super::{
    ClientRecord, ClientStore, RecipientNotice, SqlStore, StoreResult, json_list, to_json_list,
};
use crate::clock::UnixTime;

#[derive(FromRow)]
struct ClientRow {
    id: String,
    name: String,
    secret_hash: Vec<u8>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    scopes: String,
    subject_type: String,
    sector_identifier: String,
    id_token_alg: String,
    min_acr: Option<String>,
    sensitive: i64,
    agency: Option<String>,
    sector_identifier_uri: Option<String>,
    purpose: Option<String>,
    retention: Option<String>,
    policy_uri: Option<String>,
    created_at: i64,
    secret_rotated_at: i64,
}

impl TryFrom<ClientRow> for ClientRecord {
    type Error = super::StoreError;
    fn try_from(row: ClientRow) -> StoreResult<Self> {
        Ok(ClientRecord {
            redirect_uris: json_list(&row.redirect_uris)?,
            post_logout_redirect_uris: json_list(&row.post_logout_redirect_uris)?,
            grant_types: json_list(&row.grant_types)?,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            id: row.id,
            name: row.name,
            secret_hash: row.secret_hash,
            subject_type: row.subject_type,
            sector_identifier: row.sector_identifier,
            id_token_alg: row.id_token_alg,
            min_acr: row.min_acr,
            sensitive: row.sensitive != 0,
            agency: row.agency,
            sector_identifier_uri: row.sector_identifier_uri,
            notice: RecipientNotice {
                purpose: row.purpose,
                retention: row.retention,
                policy_uri: row.policy_uri,
            },
            created_at: row.created_at,
            secret_rotated_at: row.secret_rotated_at,
        })
    }
}

const COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
    grant_types, scopes, subject_type, sector_identifier, id_token_alg, min_acr, sensitive, agency, \
    sector_identifier_uri, purpose, retention, policy_uri, created_at, secret_rotated_at";

impl SqlStore {
    async fn write_client(&self, c: &ClientRecord, upsert: bool) -> StoreResult<()> {
        let sql = if upsert {
            "INSERT INTO clients (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
             grant_types, scopes, subject_type, sector_identifier, id_token_alg, created_at, \
             secret_rotated_at, min_acr, sensitive, agency, sector_identifier_uri, purpose, \
             retention, policy_uri) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash, \
             redirect_uris = excluded.redirect_uris, \
             post_logout_redirect_uris = excluded.post_logout_redirect_uris, \
             grant_types = excluded.grant_types, scopes = excluded.scopes, \
             subject_type = excluded.subject_type, sector_identifier = excluded.sector_identifier, \
             id_token_alg = excluded.id_token_alg, secret_rotated_at = excluded.secret_rotated_at, \
             min_acr = excluded.min_acr, sensitive = excluded.sensitive, \
             agency = excluded.agency, sector_identifier_uri = excluded.sector_identifier_uri, \
             purpose = excluded.purpose, retention = excluded.retention, \
             policy_uri = excluded.policy_uri"
        } else {
            "INSERT INTO clients (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
             grant_types, scopes, subject_type, sector_identifier, id_token_alg, created_at, \
             secret_rotated_at, min_acr, sensitive, agency, sector_identifier_uri, purpose, \
             retention, policy_uri) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19)"
        };
        sqlx::query(sql)
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.secret_hash)
            .bind(to_json_list(&c.redirect_uris))
            .bind(to_json_list(&c.post_logout_redirect_uris))
            .bind(to_json_list(&c.grant_types))
            .bind(c.scopes.join(" "))
            .bind(&c.subject_type)
            .bind(&c.sector_identifier)
            .bind(&c.id_token_alg)
            .bind(c.created_at)
            .bind(c.secret_rotated_at)
            .bind(&c.min_acr)
            .bind(i64::from(c.sensitive))
            .bind(&c.agency)
            .bind(&c.sector_identifier_uri)
            .bind(&c.notice.purpose)
            .bind(&c.notice.retention)
            .bind(&c.notice.policy_uri)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

impl ClientStore for SqlStore {
    async fn insert_client(&self, client: &ClientRecord) -> StoreResult<()> {
        self.write_client(client, false).await
    }

    async fn upsert_client(&self, client: &ClientRecord) -> StoreResult<()> {
        self.write_client(client, true).await
    }

    async fn pairwise_clients_in_sector(&self, sector: &str) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM clients WHERE subject_type = 'pairwise' AND sector_identifier = $1",
        )
        .bind(sector)
        .fetch_one(&self.read)
        .await?;
        Ok(n)
    }

    async fn client(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM clients WHERE id = $1"));
        let row: Option<ClientRow> = sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(ClientRecord::try_from).transpose()
    }

    async fn clients(&self) -> StoreResult<Vec<ClientRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM clients ORDER BY created_at, id"
        ));
        let rows: Vec<ClientRow> = sqlx::query_as(sql).fetch_all(&self.read).await?;
        rows.into_iter().map(ClientRecord::try_from).collect()
    }

    async fn replace_client_secret(
        &self,
        id: &str,
        hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE clients SET secret_hash = $1, secret_rotated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn remove_client(&self, id: &str, now: UnixTime) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        // Everything issued to the client stops working with it.
        sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM consents WHERE client_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM clients WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changes.revoked();
        Ok(done.rows_affected() == 1)
    }
}
