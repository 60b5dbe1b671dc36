use super::*;

per_backend!(
    #[tokio::test]
    async fn a_flow_reads_back_equal_until_it_expires(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let record = flow("f1", T0 + 600);
        store.insert_flow(&record).await.unwrap();
        assert_eq!(
            store.flow("f1", T0 + 599).await.unwrap(),
            Some(record),
            "{backend:?}"
        );
        assert_eq!(
            store.flow("f1", T0 + 600).await.unwrap(),
            None,
            "{backend:?}"
        );
        assert_eq!(store.flow("nothing", T0).await.unwrap(), None);
    }
);

per_backend!(
    #[tokio::test]
    async fn a_flow_moves_only_from_the_expected_state(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        store.insert_flow(&flow("f1", T0 + 600)).await.unwrap();
        let moved = store
            .transition_flow("f1", "requested", "authenticated", Some("s1"), T0 + 1)
            .await
            .unwrap();
        assert!(moved, "{backend:?}");
        let again = store
            .transition_flow("f1", "requested", "authenticated", Some("s2"), T0 + 2)
            .await
            .unwrap();
        assert!(!again, "{backend:?}: the flow is no longer requested");
        let read = store.flow("f1", T0 + 3).await.unwrap().unwrap();
        assert_eq!(read.state, "authenticated", "{backend:?}");
        assert_eq!(read.session_id.as_deref(), Some("s1"), "{backend:?}");

        // No session given: the one already bound stays.
        assert!(
            store
                .transition_flow("f1", "authenticated", "consented", None, T0 + 4)
                .await
                .unwrap()
        );
        let read = store.flow("f1", T0 + 5).await.unwrap().unwrap();
        assert_eq!(
            (read.state.as_str(), read.session_id.as_deref()),
            ("consented", Some("s1")),
            "{backend:?}"
        );
        assert!(
            !store
                .transition_flow("nothing", "requested", "authenticated", None, T0)
                .await
                .unwrap()
        );
        assert!(
            !store
                .transition_flow("f1", "consented", "code_issued", None, T0 + 600)
                .await
                .unwrap(),
            "{backend:?}: an expired flow does not move"
        );
    }
);

per_backend!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_flow_transition_is_won_by_exactly_one_racer(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        for round in 0..ROUNDS {
            let id = format!("f{round}");
            store.insert_flow(&flow(&id, T0 + 600)).await.unwrap();
            let wins = race(RACERS, |i| {
                let (store, id) = (store.clone(), id.clone());
                async move {
                    let session = format!("s{i}");
                    store
                        .transition_flow(&id, "requested", "authenticated", Some(&session), T0)
                        .await
                        .unwrap()
                }
            })
            .await;
            let won = wins.iter().filter(|w| **w).count();
            assert_eq!(won, 1, "{backend:?}, round {round}: {wins:?}");
        }
    }
);

per_backend!(
    #[tokio::test]
    async fn consent_is_remembered_per_citizen_and_client_and_overwritten(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "citizen-1").await;
        citizen(&store, "citizen-2").await;
        assert_eq!(store.consent("citizen-1", "rp").await.unwrap(), None);
        store
            .put_consent("citizen-1", "rp", "openid email", T0)
            .await
            .unwrap();
        store
            .put_consent("citizen-2", "rp", "openid", T0)
            .await
            .unwrap();
        assert_eq!(
            store.consent("citizen-1", "rp").await.unwrap().as_deref(),
            Some("openid email"),
            "{backend:?}"
        );
        store
            .put_consent("citizen-1", "rp", "openid profile", T0 + 1)
            .await
            .unwrap();
        assert_eq!(
            store.consent("citizen-1", "rp").await.unwrap().as_deref(),
            Some("openid profile"),
            "{backend:?}"
        );
        assert_eq!(
            store.consent("citizen-2", "rp").await.unwrap().as_deref(),
            Some("openid"),
            "{backend:?}"
        );
        assert_eq!(store.consent("citizen-1", "other").await.unwrap(), None);
    }
);

per_backend!(
    #[tokio::test]
    async fn withdrawing_consent_revokes_the_clients_grants_for_that_citizen_only(
        backend: Backend,
    ) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "citizen-1").await;
        store
            .put_consent("citizen-1", "rp", "openid email", T0)
            .await
            .unwrap();
        store
            .put_consent("citizen-1", "other", "openid", T0 + 1)
            .await
            .unwrap();
        store.insert_grant(&grant("g1", "rp"), None).await.unwrap();
        store
            .insert_grant(&grant("g2", "other"), None)
            .await
            .unwrap();
        let listed: Vec<String> = store
            .consents_of("citizen-1")
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.client_id)
            .collect();
        assert_eq!(listed, ["other", "rp"], "{backend:?}: newest first");
        assert!(
            store
                .revoke_consent("citizen-1", "rp", T0 + 2)
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_consent("citizen-1", "rp", T0 + 3)
                .await
                .unwrap()
        );
        assert_eq!(store.consent("citizen-1", "rp").await.unwrap(), None);
        assert_eq!(
            store.grant("g1").await.unwrap().unwrap().revoked_at,
            Some(T0 + 2),
            "{backend:?}"
        );
        assert_eq!(store.grant("g2").await.unwrap().unwrap().revoked_at, None);
    }
);
