use super::*;

fn passkey(id: &str, citizen_id: &str, credential: &[u8]) -> PasskeyRecord {
    PasskeyRecord {
        id: id.into(),
        citizen_id: citizen_id.into(),
        credential_id: credential.to_vec(),
        name: "Laptop \"ü\"".into(),
        loa: "urn:anyid:loa:substantial".into(),
        data: "{\"cred\":{}}".into(),
        sign_count: 0,
        backup_eligible: true,
        backed_up: false,
        created_at: T0,
        last_used_at: None,
    }
}

per_backend!(
    #[tokio::test]
    async fn a_credential_id_is_registered_once_across_all_citizens(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        citizen(&store, "c2").await;
        store
            .insert_passkey(&passkey("p1", "c1", b"\x00cred\xff"))
            .await
            .unwrap();
        assert!(
            matches!(
                store
                    .insert_passkey(&passkey("p2", "c2", b"\x00cred\xff"))
                    .await,
                Err(StoreError::Conflict(_))
            ),
            "{backend:?}"
        );
        let found = store
            .passkey_by_credential(b"\x00cred\xff")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, passkey("p1", "c1", b"\x00cred\xff"));
        assert!(store.passkeys_of("c2").await.unwrap().is_empty());
    }
);

per_backend!(
    #[tokio::test]
    async fn use_rename_and_remove_touch_only_the_owners_passkey(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        citizen(&store, "c2").await;
        store
            .insert_passkey(&passkey("p1", "c1", b"k1"))
            .await
            .unwrap();
        let usage = PasskeyUse {
            data: Some("{\"cred\":{\"counter\":7}}".into()),
            sign_count: 7,
            backed_up: true,
            at: T0 + 5,
        };
        assert!(store.use_passkey("p1", &usage).await.unwrap());
        // No new credential data: the stored one stays.
        let again = PasskeyUse {
            data: None,
            sign_count: 8,
            ..usage.clone()
        };
        assert!(store.use_passkey("p1", &again).await.unwrap());
        let used = &store.passkeys_of("c1").await.unwrap()[0];
        assert_eq!(used.data, "{\"cred\":{\"counter\":7}}", "{backend:?}");
        assert_eq!(
            (used.sign_count, used.backed_up, used.last_used_at),
            (8, true, Some(T0 + 5))
        );

        assert!(!store.rename_passkey("c2", "p1", "mine now").await.unwrap());
        assert!(store.rename_passkey("c1", "p1", "Phone").await.unwrap());
        assert!(!store.remove_passkey("c2", "p1").await.unwrap());
        assert_eq!(store.passkeys_of("c1").await.unwrap()[0].name, "Phone");
        assert!(store.remove_passkey("c1", "p1").await.unwrap());
        assert!(store.passkeys_of("c1").await.unwrap().is_empty());
    }
);

per_backend!(
    #[tokio::test]
    async fn passkey_events_come_newest_first(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        for (at, kind) in [
            (T0, "registered"),
            (T0 + 1, "counter"),
            (T0 + 2, "backup_state"),
        ] {
            store
                .record_passkey_event(&PasskeyEvent {
                    passkey_id: "p1".into(),
                    citizen_id: "c1".into(),
                    at,
                    kind: kind.into(),
                    detail: String::new(),
                })
                .await
                .unwrap();
        }
        let events = store.passkey_events("p1", 2).await.unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["backup_state", "counter"], "{backend:?}");
    }
);
