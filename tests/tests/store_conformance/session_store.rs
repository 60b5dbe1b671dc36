use super::*;

per_backend!(
    #[tokio::test]
    async fn a_session_is_live_until_it_expires_or_is_revoked(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "citizen-1").await;
        let record = session("s1", "citizen-1", T0 + 3600);
        store.insert_session(&record, b"cookie-1").await.unwrap();
        store
            .insert_session(&session("s2", "citizen-1", T0 + 3600), b"cookie-2")
            .await
            .unwrap();

        let live = store.live_session(b"cookie-1", T0 + 1).await.unwrap();
        assert_eq!(live.as_ref(), Some(&record), "{backend:?}");
        let last = store.live_session(b"cookie-1", T0 + 3599).await.unwrap();
        assert_eq!(last.as_ref(), Some(&record), "{backend:?}");
        assert_eq!(
            store.live_session(b"cookie-1", T0 + 3600).await.unwrap(),
            None,
            "{backend:?}: expired at expires_at"
        );
        assert_eq!(store.live_session(b"cookie-x", T0).await.unwrap(), None);

        assert!(store.revoke_session("s1", T0 + 10).await.unwrap());
        assert!(
            !store.revoke_session("s1", T0 + 11).await.unwrap(),
            "{backend:?}"
        );
        assert!(!store.revoke_session("nobody", T0).await.unwrap());
        assert_eq!(
            store.live_session(b"cookie-1", T0 + 11).await.unwrap(),
            None,
            "{backend:?}: revoked"
        );
        let other = store.live_session(b"cookie-2", T0 + 11).await.unwrap();
        assert_eq!(other.map(|s| s.id).as_deref(), Some("s2"), "{backend:?}");
    }
);

per_backend!(
    #[tokio::test]
    async fn revoking_a_session_revokes_its_grants_and_lists_only_live_ones(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        store
            .insert_session(&session("s1", "c1", T0 + 100), b"t1")
            .await
            .unwrap();
        store
            .insert_session(&session("s2", "c1", T0 + 100), b"t2")
            .await
            .unwrap();
        let mut g = grant("g1", "rp");
        g.session_id = "s1".into();
        g.scope = "openid email".into();
        store.insert_grant(&g, None).await.unwrap();
        let mut other = grant("g2", "rp");
        other.session_id = "s2".into();
        store.insert_grant(&other, None).await.unwrap();
        // OIDC Core §11: a grant with offline_access outlives its session.
        let mut offline = grant("g3", "rp");
        offline.session_id = "s1".into();
        offline.scope = "openid offline_access".into();
        store.insert_grant(&offline, None).await.unwrap();
        assert_eq!(
            store.sessions_of("c1", T0).await.unwrap().len(),
            2,
            "{backend:?}"
        );
        assert!(store.revoke_session("s1", T0 + 1).await.unwrap());
        assert_eq!(
            store.grant("g1").await.unwrap().unwrap().revoked_at,
            Some(T0 + 1),
            "{backend:?}"
        );
        assert_eq!(store.grant("g2").await.unwrap().unwrap().revoked_at, None);
        assert_eq!(
            store.grant("g3").await.unwrap().unwrap().revoked_at,
            None,
            "{backend:?}: offline access survives the session"
        );
        let live: Vec<String> = store
            .sessions_of("c1", T0)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(live, ["s2"]);
        assert!(
            store.sessions_of("c1", T0 + 100).await.unwrap().is_empty(),
            "expired ones are not listed"
        );
    }
);
