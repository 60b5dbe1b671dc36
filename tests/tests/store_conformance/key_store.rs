use super::*;

per_backend!(
    #[tokio::test]
    async fn keys_read_back_equal_in_order_of_creation(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let scheduled = StoredKey {
            retire_at: Some(T0 + 9000),
            ..key("k-old", "RS256", T0 - 100)
        };
        let keys = [
            key("k-new", "ES256", T0 + 100),
            scheduled,
            key("k-b", "ES256", T0),
            key("k-a", "RS256", T0),
        ];
        for k in &keys {
            store.insert_key(k).await.unwrap();
        }
        let listed = store.keys().await.unwrap();
        let expected = [&keys[1], &keys[3], &keys[2], &keys[0]];
        assert_eq!(
            listed.iter().collect::<Vec<_>>(),
            expected,
            "{backend:?}: by created_at, then kid"
        );
        let err = store
            .insert_key(&key("k-b", "ES256", T0 + 1))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend:?}: {err}");
    }
);

per_backend!(
    #[tokio::test]
    async fn retiring_schedules_the_other_keys_of_the_same_alg_only(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let already = StoredKey {
            retire_at: Some(T0 + 50),
            ..key("es-older", "ES256", T0 - 200)
        };
        for k in [
            already,
            key("es-old", "ES256", T0 - 100),
            key("es-new", "ES256", T0),
            key("rs-old", "RS256", T0 - 100),
        ] {
            store.insert_key(&k).await.unwrap();
        }
        store
            .retire_keys("ES256", "es-new", T0 + 3600)
            .await
            .unwrap();
        let retire: Vec<(String, Option<UnixTime>)> = store
            .keys()
            .await
            .unwrap()
            .into_iter()
            .map(|k| (k.kid, k.retire_at))
            .collect();
        let expected = [
            ("es-older", Some(T0 + 50)),
            ("es-old", Some(T0 + 3600)),
            ("rs-old", None),
            ("es-new", None),
        ]
        .map(|(kid, at)| (kid.to_owned(), at));
        assert_eq!(retire, expected, "{backend:?}");
    }
);
