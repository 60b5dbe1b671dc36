//! Client registrations recently read, for the token endpoint's hot path (client
//! authentication reads a registration on every request).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::clock::UnixTime;
use crate::store::{ClientRecord, ClientStore, SqlStore, StoreError};

/// Client registrations recently read, so the token endpoint does not read the database on
/// every request. An entry serves the rest of the second it was read in: a secret rotated or
/// a client removed by another process (the CLI, another replica) stops working within a
/// second; changes made through this server's admin API take effect at once.
#[derive(Default)]
pub struct ClientCache {
    entries: RwLock<HashMap<String, (Arc<ClientRecord>, UnixTime)>>,
}

/// Registrations are few; this only bounds memory against a flood of distinct ids.
const CLIENT_CACHE_MAX: usize = 10_000;

impl ClientCache {
    pub async fn get(
        &self,
        store: &SqlStore,
        id: &str,
        now: UnixTime,
    ) -> Result<Option<Arc<ClientRecord>>, StoreError> {
        if let Ok(entries) = self.entries.read()
            && let Some((client, read_at)) = entries.get(id)
            && *read_at == now
        {
            return Ok(Some(client.clone()));
        }
        let Some(client) = store.client(id).await? else {
            self.forget(id);
            return Ok(None);
        };
        let client = Arc::new(client);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CLIENT_CACHE_MAX {
                entries.clear();
            }
            entries.insert(id.to_owned(), (client.clone(), now));
        }
        Ok(Some(client))
    }

    pub fn forget(&self, id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(id);
        }
    }
}
