use super::*;

/// What a redemption gave: the consumed code (its transaction committed as refused), or
/// the outcome as it was.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Consumed(Box<CodeRecord>),
    Replayed(String),
    Unknown,
}

async fn redeem(store: &SqlStore, hash: &[u8], now: UnixTime) -> Outcome {
    match store.redeem_code(hash, now).await.unwrap() {
        CodeRedemption::Consumed(r) => {
            let code = r.code.clone();
            r.refuse().await.unwrap();
            Outcome::Consumed(Box::new(code))
        }
        CodeRedemption::Replayed { grant_id } => Outcome::Replayed(grant_id),
        CodeRedemption::Unknown => Outcome::Unknown,
    }
}

per_backend!(
    #[tokio::test]
    async fn a_code_is_consumed_once_with_everything_it_carries(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let record = code(b"code-1", "g1", T0 + 60);
        store.insert_code(&record, T0).await.unwrap();
        let public = CodeRecord {
            nonce: None,
            ..code(b"code-2", "g2", T0 + 60)
        };
        store.insert_code(&public, T0).await.unwrap();

        assert_eq!(
            redeem(&store, b"code-1", T0 + 5).await,
            Outcome::Consumed(Box::new(record)),
            "{backend:?}"
        );
        assert_eq!(
            redeem(&store, b"code-1", T0 + 6).await,
            Outcome::Replayed("g1".to_owned()),
            "{backend:?}"
        );
        assert_eq!(
            redeem(&store, b"code-2", T0 + 7).await,
            Outcome::Consumed(Box::new(public)),
            "{backend:?}"
        );
        assert_eq!(
            redeem(&store, b"never-issued", T0).await,
            Outcome::Unknown,
            "{backend:?}"
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn a_redemption_reads_the_session_and_consent_and_commits_with_its_grant(
        backend: Backend,
    ) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        store
            .insert_session(&session("s1", "c1", T0 + 100), b"t1")
            .await
            .unwrap();
        let mut record = code(b"code-1", "g1", T0 + 60);
        record.grant.citizen_id = "c1".into();
        record.grant.session_id = "s1".into();
        store.insert_code(&record, T0).await.unwrap();
        let again = CodeRecord {
            code_hash: b"code-2".to_vec(),
            ..record.clone()
        };
        store.insert_code(&again, T0).await.unwrap();
        store
            .put_consent("c1", "rp", "openid profile", T0)
            .await
            .unwrap();

        let CodeRedemption::Consumed(r) = store.redeem_code(b"code-1", T0 + 1).await.unwrap()
        else {
            panic!("consumed")
        };
        assert!(r.session_live, "{backend:?}");
        assert_eq!(r.consented.as_deref(), Some("openid profile"));
        let grant = r.code.grant.clone();
        r.grant(&grant, Some((b"rt-1", T0 + 3600))).await.unwrap();
        assert_eq!(store.grant("g1").await.unwrap(), Some(grant), "{backend:?}");
        assert!(store.refresh_token(b"rt-1", T0).await.unwrap().is_some());

        // Signed out, consent withdrawn: the next redemption sees both.
        store.revoke_session("s1", T0 + 2).await.unwrap();
        store.revoke_consent("c1", "rp", T0 + 2).await.unwrap();
        let CodeRedemption::Consumed(r) = store.redeem_code(b"code-2", T0 + 3).await.unwrap()
        else {
            panic!("consumed")
        };
        assert!(!r.session_live, "{backend:?}");
        assert_eq!(r.consented, None);
        // Dropped without a decision: nothing happened, the code is still unused.
        drop(r);
        assert!(
            matches!(
                redeem(&store, b"code-2", T0 + 4).await,
                Outcome::Consumed(_)
            ),
            "{backend:?}"
        );
        assert_eq!(
            redeem(&store, b"code-2", T0 + 5).await,
            Outcome::Replayed("g1".into())
        );
    }
);

per_backend!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_code_is_redeemed_once_even_under_concurrency(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        for round in 0..ROUNDS {
            let hash = format!("code-{round}").into_bytes();
            let grant_id = format!("g{round}");
            store
                .insert_code(&code(&hash, &grant_id, T0 + 60), T0)
                .await
                .unwrap();
            let outcomes = race(RACERS, |_| {
                let (store, hash) = (store.clone(), hash.clone());
                async move { redeem(&store, &hash, T0 + 1).await }
            })
            .await;
            let consumed = outcomes
                .iter()
                .filter(|o| matches!(o, Outcome::Consumed(_)))
                .count();
            assert_eq!(consumed, 1, "{backend:?}, round {round}: {outcomes:?}");
            let replayed = Outcome::Replayed(grant_id);
            let replays = outcomes.iter().filter(|o| **o == replayed).count();
            assert_eq!(replays, RACERS - 1, "{backend:?}, round {round}");
        }
    }
);

per_backend!(
    #[tokio::test]
    async fn a_grant_reads_back_equal_and_revocation_keeps_the_first_time(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let record = grant("g1", "rp");
        store.insert_grant(&record, None).await.unwrap();
        assert_eq!(
            store.grant("g1").await.unwrap().as_ref(),
            Some(&record),
            "{backend:?}"
        );
        assert_eq!(store.grant("nothing").await.unwrap(), None);
        store.revoke_grant("g1", T0 + 10).await.unwrap();
        store.revoke_grant("g1", T0 + 20).await.unwrap();
        let expected = GrantRecord {
            revoked_at: Some(T0 + 10),
            ..record
        };
        assert_eq!(
            store.grant("g1").await.unwrap(),
            Some(expected),
            "{backend:?}"
        );
        let err = store
            .insert_grant(&grant("g1", "rp"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend:?}: {err}");
    }
);

per_backend!(
    #[tokio::test]
    async fn a_refresh_token_rotates_once_and_its_replay_names_the_grant(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let record = grant("g1", "rp");
        store
            .insert_grant(&record, Some((b"rt-1", T0 + 3600)))
            .await
            .unwrap();
        let first = store.refresh_token(b"rt-1", T0).await.unwrap().unwrap();
        assert_eq!(
            (&first.grant, first.expires_at, first.rotated_at),
            (&record, T0 + 3600, None),
            "{backend:?}"
        );

        let rotation = store
            .rotate_refresh_token(b"rt-1", b"rt-2", T0 + 7200, T0 + 100)
            .await
            .unwrap();
        assert_eq!(
            rotation,
            RefreshRotation::Rotated {
                grant: record.clone(),
                expires_at: T0 + 7200
            },
            "{backend:?}"
        );
        let old = store.refresh_token(b"rt-1", T0).await.unwrap().unwrap();
        assert_eq!(old.rotated_at, Some(T0 + 100), "{backend:?}");
        let new = store.refresh_token(b"rt-2", T0).await.unwrap().unwrap();
        assert_eq!(
            (new.grant.id.as_str(), new.expires_at, new.rotated_at),
            ("g1", T0 + 7200, None),
            "{backend:?}"
        );

        let replay = store
            .rotate_refresh_token(b"rt-1", b"rt-x", T0 + 7200, T0 + 101)
            .await
            .unwrap();
        assert_eq!(
            replay,
            RefreshRotation::Replayed {
                grant_id: "g1".to_owned()
            },
            "{backend:?}"
        );
        assert_eq!(
            store.refresh_token(b"rt-x", T0).await.unwrap(),
            None,
            "{backend:?}: a replay issues no successor"
        );
        assert_eq!(
            store
                .rotate_refresh_token(b"never-issued", b"rt-y", T0 + 7200, T0)
                .await
                .unwrap(),
            RefreshRotation::Invalid,
            "{backend:?}"
        );
        assert_eq!(
            store.refresh_token(b"never-issued", T0).await.unwrap(),
            None
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn a_refresh_token_without_offline_access_rotates_only_while_its_session_lives(
        backend: Backend,
    ) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        store
            .insert_session(&session("s1", "c1", T0 + 100), b"t1")
            .await
            .unwrap();
        let mut online = grant("g-on", "rp");
        online.session_id = "s1".into();
        online.scope = "openid email".into();
        store
            .insert_grant(&online, Some((b"rt-on", T0 + 3600)))
            .await
            .unwrap();
        let mut offline = grant("g-off", "rp");
        offline.session_id = "s1".into();
        store
            .insert_grant(&offline, Some((b"rt-off", T0 + 3600)))
            .await
            .unwrap();
        let info = store
            .refresh_token(b"rt-on", T0 + 10)
            .await
            .unwrap()
            .unwrap();
        assert!(info.session_live && info.usable(T0 + 10), "{backend:?}");
        assert!(matches!(
            store
                .rotate_refresh_token(b"rt-on", b"rt-on-2", T0 + 3600, T0 + 10)
                .await
                .unwrap(),
            RefreshRotation::Rotated { .. }
        ));
        // The session has expired: only the offline grant's token goes on.
        let info = store
            .refresh_token(b"rt-on-2", T0 + 200)
            .await
            .unwrap()
            .unwrap();
        assert!(!info.session_live && !info.usable(T0 + 200), "{backend:?}");
        assert_eq!(
            store
                .rotate_refresh_token(b"rt-on-2", b"rt-on-3", T0 + 3600, T0 + 200)
                .await
                .unwrap(),
            RefreshRotation::Invalid,
            "{backend:?}"
        );
        let info = store
            .refresh_token(b"rt-off", T0 + 200)
            .await
            .unwrap()
            .unwrap();
        assert!(info.usable(T0 + 200), "{backend:?}");
        assert!(matches!(
            store
                .rotate_refresh_token(b"rt-off", b"rt-off-2", T0 + 3600, T0 + 200)
                .await
                .unwrap(),
            RefreshRotation::Rotated { .. }
        ));
    }
);

per_backend!(
    #[tokio::test]
    async fn a_refresh_token_of_a_revoked_grant_or_past_its_expiry_does_not_rotate(
        backend: Backend,
    ) {
        let (store, _db) = fresh_store(backend).await;
        store
            .insert_grant(&grant("revoked", "rp"), Some((b"rt-revoked", T0 + 3600)))
            .await
            .unwrap();
        store.revoke_grant("revoked", T0 + 10).await.unwrap();
        assert_eq!(
            store
                .rotate_refresh_token(b"rt-revoked", b"next-1", T0 + 7200, T0 + 11)
                .await
                .unwrap(),
            RefreshRotation::Invalid,
            "{backend:?}"
        );

        store
            .insert_grant(&grant("expiring", "rp"), Some((b"rt-expiring", T0 + 60)))
            .await
            .unwrap();
        assert_eq!(
            store
                .rotate_refresh_token(b"rt-expiring", b"next-2", T0 + 7200, T0 + 60)
                .await
                .unwrap(),
            RefreshRotation::Invalid,
            "{backend:?}: expired at expires_at"
        );
        for (token, successor) in [
            (&b"rt-revoked"[..], &b"next-1"[..]),
            (b"rt-expiring", b"next-2"),
        ] {
            let info = store.refresh_token(token, T0).await.unwrap().unwrap();
            assert_eq!(info.rotated_at, None, "{backend:?}: not burnt");
            assert_eq!(store.refresh_token(successor, T0).await.unwrap(), None);
        }
    }
);

per_backend!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refresh_token_is_rotated_once_even_under_concurrency(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        for round in 0..ROUNDS {
            let grant_id = format!("g{round}");
            let old = format!("rt-{round}").into_bytes();
            store
                .insert_grant(&grant(&grant_id, "rp"), Some((&old, T0 + 3600)))
                .await
                .unwrap();
            let next = |i: usize| format!("rt-{round}-next-{i}").into_bytes();
            let outcomes = race(RACERS, |i| {
                let (store, old, new) = (store.clone(), old.clone(), next(i));
                async move {
                    store
                        .rotate_refresh_token(&old, &new, T0 + 7200, T0 + 1)
                        .await
                        .unwrap()
                }
            })
            .await;
            let rotated = outcomes
                .iter()
                .filter(|o| matches!(o, RefreshRotation::Rotated { .. }))
                .count();
            assert_eq!(rotated, 1, "{backend:?}, round {round}: {outcomes:?}");
            let replayed = RefreshRotation::Replayed { grant_id };
            let replays = outcomes.iter().filter(|o| **o == replayed).count();
            assert_eq!(replays, RACERS - 1, "{backend:?}, round {round}");
            let mut successors = 0;
            for i in 0..RACERS {
                if store.refresh_token(&next(i), T0).await.unwrap().is_some() {
                    successors += 1;
                }
            }
            assert_eq!(successors, 1, "{backend:?}, round {round}");
        }
    }
);

per_backend!(
    #[tokio::test]
    async fn revoking_an_access_token_is_idempotent(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        assert!(!store.access_token_revoked("jti-1").await.unwrap());
        store.revoke_access_token("jti-1", T0 + 300).await.unwrap();
        store.revoke_access_token("jti-1", T0 + 300).await.unwrap();
        assert!(
            store.access_token_revoked("jti-1").await.unwrap(),
            "{backend:?}"
        );
        assert!(
            !store.access_token_revoked("jti-2").await.unwrap(),
            "{backend:?}"
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn purging_removes_what_has_expired_and_keeps_what_lives(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let now = T0 + 100_000;
        citizen(&store, "citizen-1").await;
        store.insert_flow(&flow("f-dead", now - 1)).await.unwrap();
        store.insert_flow(&flow("f-live", now + 600)).await.unwrap();
        store
            .insert_session(&session("s-dead", "citizen-1", now - 1), b"c-dead")
            .await
            .unwrap();
        store
            .insert_session(&session("s-live", "citizen-1", now + 600), b"c-live")
            .await
            .unwrap();
        store
            .revoke_access_token("jti-dead", now - 1)
            .await
            .unwrap();
        store
            .revoke_access_token("jti-live", now + 600)
            .await
            .unwrap();
        store
            .insert_grant(&grant("g1", "rp"), Some((b"rt-dead", now - 1)))
            .await
            .unwrap();
        store
            .insert_grant(&grant("g2", "rp"), Some((b"rt-live", now + 600)))
            .await
            .unwrap();
        // Codes are remembered a day past expiry so a late replay is still recognised.
        let old_code = code(b"code-old", "g-old", now - 2 * 24 * 3600);
        store.insert_code(&old_code, T0).await.unwrap();
        let recent_code = code(b"code-recent", "g-recent", now - 60);
        store.insert_code(&recent_code, T0).await.unwrap();

        assert_eq!(store.purge_expired(now).await.unwrap(), 5, "{backend:?}");

        // Read "as of" creation time, so only deletion can hide a row.
        assert_eq!(store.flow("f-dead", T0).await.unwrap(), None, "{backend:?}");
        assert!(
            store.flow("f-live", T0).await.unwrap().is_some(),
            "{backend:?}"
        );
        assert_eq!(store.live_session(b"c-dead", T0).await.unwrap(), None);
        assert!(store.live_session(b"c-live", T0).await.unwrap().is_some());
        assert!(!store.access_token_revoked("jti-dead").await.unwrap());
        assert!(store.access_token_revoked("jti-live").await.unwrap());
        assert_eq!(store.refresh_token(b"rt-dead", T0).await.unwrap(), None);
        assert!(store.refresh_token(b"rt-live", T0).await.unwrap().is_some());
        assert!(store.grant("g1").await.unwrap().is_some(), "{backend:?}");
        assert_eq!(
            redeem(&store, b"code-old", now).await,
            Outcome::Unknown,
            "{backend:?}"
        );
        assert_eq!(
            redeem(&store, b"code-recent", now).await,
            Outcome::Consumed(Box::new(recent_code)),
            "{backend:?}"
        );
        assert_eq!(store.purge_expired(now).await.unwrap(), 0, "{backend:?}");
    }
);
