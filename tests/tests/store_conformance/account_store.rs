use super::*;

#[tokio::test]
async fn a_citizen_is_found_by_issuer_and_subject_with_its_claims_intact() {
    on_every_backend(async |store: SqlStore, backend: Backend| {
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
        };
        store
            .create_citizen(&record, &identity("https://eid.example", "sub-1"))
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
    })
    .await;
}

#[tokio::test]
async fn a_duplicate_issuer_and_subject_is_a_conflict_and_creates_nobody() {
    on_every_backend(async |store: SqlStore, backend: Backend| {
        citizen(&store, "first").await;
        let second = Citizen {
            id: "second".to_owned(),
            claims: serde_json::json!({}),
            created_at: T0,
        };
        let err = store
            .create_citizen(&second, &identity("https://idp.example", "first"))
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
            .create_citizen(&second, &identity("https://other.example", "first"))
            .await
            .unwrap();
        let err = store
            .create_citizen(&second, &identity("https://third.example", "x"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend:?}: {err}");
    })
    .await;
}
