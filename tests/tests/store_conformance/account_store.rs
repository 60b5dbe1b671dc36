use super::*;

per_backend!(
    #[tokio::test]
    async fn a_citizen_is_found_by_issuer_and_subject_with_its_claims_intact(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let claims = serde_json::json!({
            "given_name": "Hong",
            "family_name": "Gil-dong 홍길동",
            "email_verified": true,
            "birthdate": "1990-01-31",
            "address": {"locality": "Zürich", "postal_code": "8001"},
            "nationalities": ["CH", "KR"],
            "loa_score": 3,
            "quote": "a \"quoted\" \\ string",
        });
        let record = Citizen {
            id: "citizen-1".to_owned(),
            claims,
            created_at: T0,
            suspended_at: None,
        };
        store
            .create_citizen(&record, &identity("https://eid.example", "sub-1"), None)
            .await
            .unwrap();
        assert_eq!(
            store.citizen("citizen-1").await.unwrap(),
            Some(record),
            "{backend:?}"
        );
        assert_eq!(
            store
                .citizen_by_identity("https://eid.example", "sub-1")
                .await
                .unwrap()
                .as_deref(),
            Some("citizen-1"),
            "{backend:?}"
        );
        for (issuer, subject) in [
            ("https://eid.example", "sub-2"),
            ("https://other.example", "sub-1"),
        ] {
            let found = store.citizen_by_identity(issuer, subject).await.unwrap();
            assert_eq!(found, None, "{backend:?}: {issuer} {subject}");
        }
        assert_eq!(store.citizen("nobody").await.unwrap(), None);
    }
);

per_backend!(
    #[tokio::test]
    async fn a_duplicate_issuer_and_subject_is_a_conflict_and_creates_nobody(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "first").await;
        let second = Citizen {
            id: "second".to_owned(),
            claims: serde_json::json!({}),
            created_at: T0,
            suspended_at: None,
        };
        let err = store
            .create_citizen(&second, &identity("https://idp.example", "first"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend:?}: {err}");
        // The citizen and its identity are created together or not at all.
        assert_eq!(store.citizen("second").await.unwrap(), None, "{backend:?}");
        assert_eq!(
            store
                .citizen_by_identity("https://idp.example", "first")
                .await
                .unwrap()
                .as_deref(),
            Some("first")
        );
        // Uniqueness is on the pair: the same subject at another issuer is another person.
        store
            .create_citizen(&second, &identity("https://other.example", "first"), None)
            .await
            .unwrap();
        let err = store
            .create_citizen(&second, &identity("https://third.example", "x"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend:?}: {err}");
    }
);

per_backend!(
    #[tokio::test]
    async fn a_strong_identifier_finds_its_citizen_and_is_unique(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let first = Citizen {
            id: "c1".into(),
            claims: serde_json::json!({}),
            created_at: T0,
            suspended_at: None,
        };
        store
            .create_citizen(
                &first,
                &identity("https://gov.example", "a"),
                Some(b"hash-1"),
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .citizen_by_strong_id(b"hash-1")
                .await
                .unwrap()
                .as_deref(),
            Some("c1"),
            "{backend:?}"
        );
        assert_eq!(store.citizen_by_strong_id(b"hash-2").await.unwrap(), None);
        // Another citizen cannot take the same strong identifier.
        let second = Citizen {
            id: "c2".into(),
            claims: serde_json::json!({}),
            created_at: T0,
            suspended_at: None,
        };
        let clash = store
            .create_citizen(
                &second,
                &identity("https://gov.example", "b"),
                Some(b"hash-1"),
            )
            .await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "{backend:?}");
        store
            .create_citizen(&second, &identity("https://gov.example", "b"), None)
            .await
            .unwrap();
        assert!(
            !store.set_strong_id("c1", b"hash-3").await.unwrap(),
            "c1 has one already"
        );
        assert!(store.set_strong_id("c2", b"hash-3").await.unwrap());
        assert_eq!(
            store
                .citizen_by_strong_id(b"hash-3")
                .await
                .unwrap()
                .as_deref(),
            Some("c2")
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn a_link_keeps_its_vouched_level_and_adopts_a_strong_identifier_only_without_a_clash(
        backend: Backend,
    ) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        citizen(&store, "c2").await;
        let mut high = identity("https://gov.example", "g1");
        high.vouched_loa = "urn:anyid:loa:high".into();
        store
            .link_identity("c1", &high, Some(b"ci-1"), T0 + 1)
            .await
            .unwrap();
        let binding = store
            .identity_binding("https://gov.example", "g1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(binding.citizen_id, "c1");
        assert_eq!(binding.vouched_loa, "urn:anyid:loa:high", "{backend:?}");
        assert_eq!(
            store.strong_id_of("c1").await.unwrap().as_deref(),
            Some(b"ci-1".as_slice()),
            "{backend:?}: adopted with the link"
        );
        assert_eq!(store.strong_id_of("c2").await.unwrap(), None);
        // The same strong identifier again links; a different one, or another citizen's,
        // refuses the whole link.
        store
            .link_identity(
                "c1",
                &identity("https://gov.example", "g2"),
                Some(b"ci-1"),
                T0 + 2,
            )
            .await
            .unwrap();
        let other = store
            .link_identity(
                "c1",
                &identity("https://gov.example", "g3"),
                Some(b"ci-9"),
                T0,
            )
            .await;
        assert!(matches!(other, Err(StoreError::Conflict(_))), "{backend:?}");
        let theirs = store
            .link_identity(
                "c2",
                &identity("https://gov.example", "g4"),
                Some(b"ci-1"),
                T0,
            )
            .await;
        assert!(
            matches!(theirs, Err(StoreError::Conflict(_))),
            "{backend:?}"
        );
        for refused in ["g3", "g4"] {
            assert_eq!(
                store
                    .identity_binding("https://gov.example", refused)
                    .await
                    .unwrap(),
                None,
                "{backend:?}: nothing of a refused link stays"
            );
        }
        assert_eq!(store.strong_id_of("c2").await.unwrap(), None);
        let listed = store.identities("c1").await.unwrap();
        assert_eq!(listed.len(), 3, "{backend:?}");
        assert_eq!(listed[1].vouched_loa, "urn:anyid:loa:high");
        assert_eq!(listed[2].vouched_loa, "urn:anyid:loa:low");
        // Another citizen taking c1's strong identifier directly is a conflict too.
        assert!(matches!(
            store.set_strong_id("c2", b"ci-1").await,
            Err(StoreError::Conflict(_))
        ));
    }
);

per_backend!(
    #[tokio::test]
    async fn identities_link_list_and_unlink_but_never_the_last(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        citizen(&store, "c2").await;
        store
            .link_identity("c1", &identity("https://kakao.example", "k1"), None, T0 + 5)
            .await
            .unwrap();
        let taken = store
            .link_identity("c2", &identity("https://kakao.example", "k1"), None, T0 + 6)
            .await;
        assert!(
            matches!(taken, Err(StoreError::Conflict(_))),
            "{backend:?}: an identity links once"
        );
        let linked = store.identities("c1").await.unwrap();
        assert_eq!(linked.len(), 2, "{backend:?}");
        assert_eq!(linked[1].issuer, "https://kakao.example");
        assert_eq!(linked[1].created_at, T0 + 5);

        store
            .touch_identity(
                "https://kakao.example",
                "k1",
                &serde_json::json!({"email": "k@x"}),
                false,
                T0 + 9,
            )
            .await
            .unwrap();
        let touched = &store.identities("c1").await.unwrap()[1];
        assert_eq!(touched.last_used_at, T0 + 9);
        assert_eq!(
            touched.claims,
            serde_json::json!({"email": "k@x"}),
            "{backend:?}"
        );

        assert_eq!(
            store.unlink_identity("c1", &linked[0].id).await.unwrap(),
            Unlink::Done,
            "{backend:?}"
        );
        assert_eq!(
            store.unlink_identity("c1", &linked[1].id).await.unwrap(),
            Unlink::LastMethod,
            "{backend:?}"
        );
        assert_eq!(
            store.unlink_identity("c1", "nothing").await.unwrap(),
            Unlink::NotFound
        );
        let c2_only = store.identities("c2").await.unwrap();
        assert_eq!(
            store.unlink_identity("c1", &c2_only[0].id).await.unwrap(),
            Unlink::NotFound,
            "not c1's"
        );
        assert_eq!(store.identities("c1").await.unwrap().len(), 1);
    }
);

per_backend!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_concurrent_unlinks_leave_one_method(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        for round in 0..ROUNDS * 4 {
            let citizen_id = format!("c{round}");
            citizen(&store, &citizen_id).await;
            store
                .link_identity(
                    &citizen_id,
                    &identity("https://kakao.example", &format!("k{round}")),
                    None,
                    T0,
                )
                .await
                .unwrap();
            let ids: Vec<String> = store
                .identities(&citizen_id)
                .await
                .unwrap()
                .into_iter()
                .map(|i| i.id)
                .collect();
            let outcomes = race(2, {
                let store = store.clone();
                let citizen_id = citizen_id.clone();
                move |i| {
                    let (store, citizen_id, id) =
                        (store.clone(), citizen_id.clone(), ids[i].clone());
                    async move { store.unlink_identity(&citizen_id, &id).await.unwrap() }
                }
            })
            .await;
            assert_eq!(
                outcomes.iter().filter(|o| **o == Unlink::Done).count(),
                1,
                "{backend:?} round {round}: {outcomes:?}"
            );
            assert_eq!(store.identities(&citizen_id).await.unwrap().len(), 1);
        }
    }
);

per_backend!(
    #[tokio::test]
    async fn claims_update_and_login_history_lists_newest_first(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "c1").await;
        assert_eq!(
            store.stale_profiles(1, 10).await.unwrap(),
            vec!["c1".to_owned()],
            "{backend:?}: never derived"
        );
        store
            .save_profile("c1", &serde_json::json!({"name": "Hong"}), 1)
            .await
            .unwrap();
        assert_eq!(
            store.citizen("c1").await.unwrap().unwrap().claims["name"],
            "Hong"
        );
        assert!(
            store.stale_profiles(1, 10).await.unwrap().is_empty(),
            "{backend:?}"
        );
        assert_eq!(
            store.stale_profiles(2, 10).await.unwrap().len(),
            1,
            "{backend:?}"
        );
        assert_eq!(
            store.claim_sources("c1").await.unwrap(),
            serde_json::json!({})
        );
        let sources = serde_json::json!({"name": "identity-1"});
        store.set_claim_sources("c1", &sources).await.unwrap();
        assert_eq!(
            store.claim_sources("c1").await.unwrap(),
            sources,
            "{backend:?}"
        );
        for (i, method) in ["kakao", "naver", "dev"].iter().enumerate() {
            store
                .record_login(&LoginEvent {
                    id: format!("e{i}"),
                    citizen_id: "c1".into(),
                    at: T0 + i as i64,
                    method: (*method).into(),
                    acr: "urn:anyid:loa:low".into(),
                    client_id: Some("rp".into()),
                    address: None,
                })
                .await
                .unwrap();
        }
        let events = store.login_events("c1", 2).await.unwrap();
        let methods: Vec<&str> = events.iter().map(|e| e.method.as_str()).collect();
        assert_eq!(methods, ["dev", "naver"], "{backend:?}");
    }
);

per_backend!(
    /// The start-up data migration: certificate identities stored in clear become their keyed
    /// hash (claims dropped), other methods' stay, and a second run changes nothing.
    #[tokio::test]
    async fn certificate_subjects_in_clear_become_keyed_hashes_once(backend: Backend) {
        use anyid::login::account::{hashed_subject, protect_certificate_subjects};
        let (store, _db) = fresh_store(backend).await;
        let keys = anyid::crypto::PurposeKeys::derive(&[5; 32], None);
        citizen(&store, "c1").await;
        let cert = IdentityLink {
            method: "certificate".to_owned(),
            ..identity("urn:anyid:x509:ca", "urn:ci:secret-value")
        };
        store
            .link_identity("c1", &cert, None, T0 + 1)
            .await
            .unwrap();

        assert_eq!(
            protect_certificate_subjects(&store, &keys).await.unwrap(),
            1
        );
        assert_eq!(
            protect_certificate_subjects(&store, &keys).await.unwrap(),
            0
        );
        let hashed = hashed_subject(&keys, "urn:anyid:x509:ca", "urn:ci:secret-value");
        let subjects = store.identity_subjects("certificate").await.unwrap();
        assert_eq!(subjects.len(), 1, "{backend:?}");
        assert_eq!(subjects[0].2, hashed, "{backend:?}");
        assert_eq!(
            store
                .citizen_by_identity("urn:anyid:x509:ca", &hashed)
                .await
                .unwrap()
                .as_deref(),
            Some("c1"),
            "{backend:?}"
        );
        assert_eq!(
            store
                .citizen_by_identity("https://idp.example", "c1")
                .await
                .unwrap()
                .as_deref(),
            Some("c1"),
            "{backend:?}: other methods keep their subject"
        );
    }
);

per_backend!(
    /// The linking value's hash goes when the last identity that carried it is unlinked.
    #[tokio::test]
    async fn unlinking_the_last_carrier_of_a_linking_value_drops_its_hash(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let record = Citizen {
            id: "c1".to_owned(),
            claims: serde_json::json!({}),
            created_at: T0,
            suspended_at: None,
        };
        let carrier = |issuer: &str, subject: &str| IdentityLink {
            strong_id: true,
            ..identity(issuer, subject)
        };
        store
            .create_citizen(
                &record,
                &carrier("https://gov.example", "g1"),
                Some(&[7; 32]),
            )
            .await
            .unwrap();
        store
            .link_identity("c1", &carrier("https://wallet.example", "w1"), None, T0 + 1)
            .await
            .unwrap();
        store
            .link_identity("c1", &identity("https://kakao.example", "k1"), None, T0 + 2)
            .await
            .unwrap();
        let ids = store.identities("c1").await.unwrap();
        assert_eq!(
            store.unlink_identity("c1", &ids[0].id).await.unwrap(),
            Unlink::Done
        );
        assert!(
            store.strong_id_of("c1").await.unwrap().is_some(),
            "{backend:?}: one left"
        );
        assert_eq!(
            store.unlink_identity("c1", &ids[1].id).await.unwrap(),
            Unlink::Done
        );
        assert_eq!(store.strong_id_of("c1").await.unwrap(), None, "{backend:?}");
        assert_eq!(store.citizen_by_strong_id(&[7; 32]).await.unwrap(), None);
    }
);
