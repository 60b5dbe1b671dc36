use anyid::store::{AccessEvent, AccessStore};

use super::*;

fn event(n: usize, subject: &str) -> AccessEvent {
    AccessEvent {
        id: format!("e-{n:04}"),
        at: T0 + n as i64,
        client_id: "welfare".into(),
        actor_id: format!("official-{}", n % 3),
        actor_agency: n.is_multiple_of(2).then(|| "mapo-gu".to_owned()),
        actor_role: Some("caseworker".into()),
        subject_id: subject.into(),
        operation: if n.is_multiple_of(5) {
            "download"
        } else {
            "view"
        }
        .into(),
        data_categories: vec!["income".into(), "주소".into()],
        purpose: Some("benefit review".into()),
        case_id: n.is_multiple_of(4).then(|| format!("case-{n}")),
        decision: if n.is_multiple_of(7) { "deny" } else { "allow" }.into(),
        policies: vec!["baseline-officials".into()],
        source_ip: Some("10.0.0.1".into()),
        request_id: None,
    }
}

per_backend!(
    #[tokio::test]
    async fn access_events_are_written_in_batches_and_read_back_equal(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        // More rows than one statement carries, over two subjects.
        let events: Vec<AccessEvent> = (0..250)
            .map(|n| {
                event(
                    n,
                    if n.is_multiple_of(2) {
                        "c-even"
                    } else {
                        "c-odd"
                    },
                )
            })
            .collect();
        store.record_access(&events).await.unwrap();
        let even = store.access_events_about("c-even", 1000).await.unwrap();
        assert_eq!(even.len(), 125, "{backend:?}");
        // Newest first, equal to what was written.
        let mut expected: Vec<AccessEvent> = events
            .iter()
            .filter(|e| e.subject_id == "c-even")
            .cloned()
            .collect();
        expected.reverse();
        assert_eq!(even, expected, "{backend:?}");
        assert_eq!(
            store.access_events_about("c-odd", 10).await.unwrap().len(),
            10
        );
        assert!(
            store
                .access_events_about("nobody", 10)
                .await
                .unwrap()
                .is_empty()
        );

        // A batch with a duplicate id fails as a whole: nothing of it is written.
        let batch = vec![event(900, "c-new"), event(0, "c-new")];
        assert!(store.record_access(&batch).await.is_err(), "{backend:?}");
        assert!(
            store
                .access_events_about("c-new", 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
);
