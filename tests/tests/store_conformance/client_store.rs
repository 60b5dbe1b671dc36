use super::*;

per_backend!(
    #[tokio::test]
    async fn a_client_reads_back_equal_and_clients_list_by_creation(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let mut third = client("c", T0 + 20);
        third.post_logout_redirect_uris = vec!["https://c.example/bye".to_owned()];
        third.scopes = vec![];
        let records = [client("b", T0 + 10), third, client("a", T0 + 10)];
        for record in &records {
            store.insert_client(record).await.unwrap();
        }
        for record in &records {
            let read = store.client(&record.id).await.unwrap();
            assert_eq!(read.as_ref(), Some(record), "{backend:?}");
        }
        assert_eq!(store.client("nobody").await.unwrap(), None, "{backend:?}");
        let ids: Vec<String> = store
            .clients()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["a", "b", "c"], "{backend:?}: by created_at, then id");
    }
);

per_backend!(
    #[tokio::test]
    async fn a_duplicate_client_id_is_a_conflict_and_keeps_the_original(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let original = client("rp", T0);
        store.insert_client(&original).await.unwrap();
        let mut imposter = client("rp", T0 + 1);
        imposter.name = "Imposter".to_owned();
        let err = store.insert_client(&imposter).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend:?}: {err}");
        assert_eq!(store.client("rp").await.unwrap(), Some(original));
    }
);

per_backend!(
    #[tokio::test]
    async fn replacing_a_secret_changes_only_the_secret_and_its_rotation_time(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let original = client("rp", T0);
        store.insert_client(&original).await.unwrap();
        assert!(
            store
                .replace_client_secret("rp", &[9; 32], T0 + 60)
                .await
                .unwrap()
        );
        let expected = ClientRecord {
            secret_hash: vec![9; 32],
            secret_rotated_at: T0 + 60,
            ..original
        };
        assert_eq!(
            store.client("rp").await.unwrap(),
            Some(expected),
            "{backend:?}"
        );
        assert!(
            !store
                .replace_client_secret("nobody", &[9; 32], T0)
                .await
                .unwrap(),
            "{backend:?}"
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn upsert_inserts_then_updates_everything_but_the_creation_time(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let first = client("demo", T0);
        store.upsert_client(&first).await.unwrap();
        assert_eq!(store.client("demo").await.unwrap().as_ref(), Some(&first));

        let second = ClientRecord {
            name: "Demo RP, renamed".to_owned(),
            secret_hash: vec![7; 32],
            redirect_uris: vec!["https://demo.example/new".to_owned()],
            post_logout_redirect_uris: vec!["https://demo.example/bye".to_owned()],
            grant_types: vec!["authorization_code".to_owned()],
            scopes: vec!["openid".to_owned()],
            subject_type: "public".to_owned(),
            sector_identifier: "demo.example".to_owned(),
            id_token_alg: "RS256".to_owned(),
            min_acr: Some("urn:anyid:loa:high".to_owned()),
            sensitive: true,
            agency: Some("mapo-gu".to_owned()),
            sector_identifier_uri: Some("https://demo.example/sector.json".to_owned()),
            notice: anyid::store::RecipientNotice {
                purpose: Some("Issuing certificates of residence 주민등록등본".to_owned()),
                retention: Some("5 years".to_owned()),
                policy_uri: Some("https://demo.example/privacy".to_owned()),
            },
            created_at: T0 + 500,
            secret_rotated_at: T0 + 500,
            ..first.clone()
        };
        store.upsert_client(&second).await.unwrap();
        let expected = ClientRecord {
            created_at: first.created_at,
            ..second
        };
        assert_eq!(
            store.client("demo").await.unwrap(),
            Some(expected),
            "{backend:?}"
        );
        assert_eq!(store.clients().await.unwrap().len(), 1, "{backend:?}");
    }
);

per_backend!(
    #[tokio::test]
    async fn removing_a_client_revokes_its_grants_and_forgets_its_consents(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "citizen-1").await;
        store.insert_client(&client("gone", T0)).await.unwrap();
        store.insert_client(&client("kept", T0)).await.unwrap();
        store
            .insert_grant(&grant("g-gone", "gone"), Some((b"refresh-gone", T0 + 3600)))
            .await
            .unwrap();
        store
            .insert_grant(&grant("g-kept", "kept"), None)
            .await
            .unwrap();
        store
            .put_consent("citizen-1", "gone", "openid", T0)
            .await
            .unwrap();
        store
            .put_consent("citizen-1", "kept", "openid", T0)
            .await
            .unwrap();

        assert!(store.remove_client("gone", T0 + 100).await.unwrap());
        assert_eq!(store.client("gone").await.unwrap(), None, "{backend:?}");
        let revoked = store.grant("g-gone").await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(T0 + 100), "{backend:?}");
        let kept = store.grant("g-kept").await.unwrap().unwrap();
        assert_eq!(kept.revoked_at, None, "{backend:?}");
        assert_eq!(store.consent("citizen-1", "gone").await.unwrap(), None);
        assert!(store.consent("citizen-1", "kept").await.unwrap().is_some());
        let rotation = store
            .rotate_refresh_token(b"refresh-gone", b"next", T0 + 7200, T0 + 101)
            .await
            .unwrap();
        assert_eq!(rotation, RefreshRotation::Invalid, "{backend:?}");

        assert!(
            !store.remove_client("gone", T0 + 200).await.unwrap(),
            "{backend:?}"
        );
        assert!(!store.remove_client("nobody", T0).await.unwrap());
        let still = store.grant("g-gone").await.unwrap().unwrap();
        assert_eq!(
            still.revoked_at,
            Some(T0 + 100),
            "{backend:?}: first time kept"
        );
    }
);
