use super::*;

fn pending(hash: &[u8], expires_at: UnixTime) -> PendingRecord {
    PendingRecord {
        state_hash: hash.to_vec(),
        flow_id: Some("flow-1".into()),
        link_citizen_id: None,
        provider: "kakao".into(),
        data: "{\"state\":\"s\"}".into(),
        callback: None,
        created_at: T0,
        expires_at,
    }
}

per_backend!(
    #[tokio::test]
    async fn a_pending_login_is_taken_once_and_not_after_it_expires(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        store
            .insert_pending(&pending(b"p1", T0 + 600))
            .await
            .unwrap();
        store
            .insert_pending(&pending(b"p2", T0 + 600))
            .await
            .unwrap();
        assert!(
            store
                .attach_callback(b"p1", "{\"code\":\"c\"}", T0 + 1)
                .await
                .unwrap()
        );
        assert!(
            !store
                .attach_callback(b"p1", "{\"code\":\"other\"}", T0 + 2)
                .await
                .unwrap(),
            "{backend:?}: once"
        );
        let taken = store.take_pending(b"p1", T0 + 3).await.unwrap().unwrap();
        assert_eq!(
            taken.callback.as_deref(),
            Some("{\"code\":\"c\"}"),
            "{backend:?}"
        );
        assert_eq!(taken.flow_id.as_deref(), Some("flow-1"));
        assert_eq!(
            store.take_pending(b"p1", T0 + 4).await.unwrap(),
            None,
            "{backend:?}: consumed"
        );
        assert_eq!(
            store.take_pending(b"p2", T0 + 600).await.unwrap(),
            None,
            "{backend:?}: expired"
        );
    }
);

per_backend!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_pending_login_is_taken_by_exactly_one_racer(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        for round in 0..ROUNDS {
            let hash = format!("race-{round}").into_bytes();
            store
                .insert_pending(&pending(&hash, T0 + 600))
                .await
                .unwrap();
            let results = race(RACERS, {
                let store = store.clone();
                move |_| {
                    let store = store.clone();
                    let hash = hash.clone();
                    async move { store.take_pending(&hash, T0 + 1).await.unwrap() }
                }
            })
            .await;
            assert_eq!(
                results.iter().filter(|r| r.is_some()).count(),
                1,
                "{backend:?} round {round}"
            );
        }
    }
);
