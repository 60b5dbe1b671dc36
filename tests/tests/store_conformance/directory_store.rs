use anyid::store::{DirectoryPut, DirectoryStore};
use anyid_policy::directory::{Kind, Record};
use serde_json::{Value, json};

use super::*;

fn entry(kind: Kind, value: Value) -> Record {
    Record::from_json(kind, value).expect("a valid entry")
}

fn official(id: &str, role: &str) -> Record {
    entry(
        Kind::Officials,
        json!({"id": id, "agency": "AG02", "role": role, "office": "마포 2층",
            "workstations": ["10.1.2.3", "10.9.0.0/16"],
            "shifts": [{"days": [1, 2, 3, 4, 5], "start": "22:00", "end": "06:00"}],
            "roster": [{"start": "2026-12-12T09:00:00+09:00", "end": "2026-12-12T18:00:00+09:00"}],
            "leave": [{"from": "2026-12-24", "to": "2026-12-31"}],
            "travel": [{"from": "2026-11-02", "to": "2026-11-03", "city": "Busan"}]}),
    )
}

fn case(agency: &str, id: &str, assigned: &[&str]) -> Record {
    entry(
        Kind::Cases,
        json!({"case_id": id, "agency": agency, "purpose": "benefit review",
            "assigned": assigned, "subjects": ["c-1", "c-2"],
            "opened": "2026-12-01T09:00:00+09:00"}),
    )
}

/// One entry of every kind.
fn one_of_each() -> Vec<Record> {
    vec![
        official("u123", "tax officer"),
        entry(
            Kind::Agencies,
            json!({"id": "AG02", "name": "Mapo Tax Office", "type": "tax",
                "ranges": ["10.1.0.0/16"], "jurisdiction": ["11440"], "records_purpose": false}),
        ),
        entry(
            Kind::Networks,
            json!({"cidr": "203.0.113.0/24", "type": "vpn", "city": "Seoul", "country": "KR"}),
        ),
        entry(
            Kind::Calendar,
            json!({"weekday": 1, "start": "09:00", "end": "18:00"}),
        ),
        entry(
            Kind::Calendar,
            json!({"date": "2026-12-25", "name": "성탄절", "agency": "AG02"}),
        ),
        entry(
            Kind::Flagged,
            json!({"subject_id": "c-77", "reporter": "welfare", "category": "public_figure"}),
        ),
        case("AG02", "2026-77", &["u123"]),
    ]
}

fn of<T: anyid_policy::directory::OfKind>(records: &[Record]) -> Vec<T> {
    records
        .iter()
        .filter_map(|r| T::from_record(r.clone()))
        .collect()
}

per_backend!(
    #[tokio::test]
    async fn entries_of_every_kind_are_added_replaced_by_key_and_read_back_equal(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let all = one_of_each();
        let put = store.put_directory(&all, T0).await.unwrap();
        assert_eq!(put, vec![DirectoryPut::Added; all.len()], "{backend:?}");
        assert_eq!(store.officials().await.unwrap(), of(&all), "{backend:?}");
        assert_eq!(store.agencies().await.unwrap(), of(&all));
        assert_eq!(store.networks().await.unwrap(), of(&all));
        assert_eq!(store.calendar().await.unwrap(), of(&all));
        assert_eq!(store.flagged_citizens().await.unwrap(), of(&all));
        assert_eq!(store.cases().await.unwrap(), of(&all));
        assert_eq!(
            store.official("u123").await.unwrap(),
            of(&all).into_iter().next()
        );
        assert!(store.agency("AG02").await.unwrap().is_some());
        assert!(store.case("AG02", "2026-77").await.unwrap().is_some());
        assert_eq!(store.official("u999").await.unwrap(), None);
        assert_eq!(store.case("AG03", "2026-77").await.unwrap(), None);

        // Again by the same keys: replaced. A key twice in one batch: the later one stays.
        let again = vec![
            official("u123", "auditor"),
            official("u124", "clerk"),
            entry(
                Kind::Networks,
                json!({"cidr": "203.0.113.0/24", "type": "office"}),
            ),
            entry(
                Kind::Networks,
                json!({"cidr": "203.0.113.0/24", "type": "hosting"}),
            ),
            entry(
                Kind::Calendar,
                json!({"weekday": 1, "start": "08:00", "end": "17:00"}),
            ),
        ];
        assert_eq!(
            store.put_directory(&again, T0 + 1).await.unwrap(),
            [
                DirectoryPut::Replaced,
                DirectoryPut::Added,
                DirectoryPut::Replaced,
                DirectoryPut::Replaced,
                DirectoryPut::Replaced
            ],
            "{backend:?}"
        );
        let officials = store.officials().await.unwrap();
        assert_eq!(officials.len(), 2);
        assert_eq!(officials[0].role, "auditor");
        assert_eq!(officials[1].id, "u124");
        let networks = store.networks().await.unwrap();
        assert_eq!(
            networks,
            of::<anyid_policy::directory::Network>(&again[3..4])
        );
        // The holiday of one agency and the hours of all are different keys.
        let calendar = store.calendar().await.unwrap();
        assert_eq!(calendar.len(), 2);
        assert!(calendar.contains(&of(&again[4..5])[0]));
    }
);

per_backend!(
    #[tokio::test]
    async fn the_cases_of_an_official_follow_their_reassignment(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let first = vec![
            case("AG02", "A", &["u1", "u2"]),
            case("AG02", "B", &["u2"]),
            // The same case number in another agency is another case.
            case("AG03", "A", &["u3"]),
        ];
        store.put_directory(&first, T0).await.unwrap();
        let ids = |cases: Vec<anyid_policy::directory::Case>| -> Vec<(String, String)> {
            cases.into_iter().map(|c| (c.agency, c.case_id)).collect()
        };
        let pair = |a: &str, c: &str| (a.to_owned(), c.to_owned());
        assert_eq!(
            ids(store.cases_of_official("u1").await.unwrap()),
            [pair("AG02", "A")]
        );
        assert_eq!(
            ids(store.cases_of_official("u2").await.unwrap()),
            [pair("AG02", "A"), pair("AG02", "B")],
            "{backend:?}"
        );
        assert_eq!(
            ids(store.cases_of_official("u3").await.unwrap()),
            [pair("AG03", "A")]
        );

        // Case A of AG02 handed over to u3: u1 has no case left.
        store
            .put_directory(&[case("AG02", "A", &["u3"])], T0 + 1)
            .await
            .unwrap();
        assert!(store.cases_of_official("u1").await.unwrap().is_empty());
        assert_eq!(
            ids(store.cases_of_official("u2").await.unwrap()),
            [pair("AG02", "B")]
        );
        assert_eq!(
            ids(store.cases_of_official("u3").await.unwrap()),
            [pair("AG02", "A"), pair("AG03", "A")],
            "{backend:?}"
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn a_batch_larger_than_one_statement_is_put_and_put_again(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let many: Vec<Record> = (0..250)
            .map(|n| official(&format!("u{n:03}"), "clerk"))
            .chain((0..250).map(|n| case("AG02", &format!("c{n:03}"), &["u001", "u002"])))
            .collect();
        let put = store.put_directory(&many, T0).await.unwrap();
        assert!(put.iter().all(|p| *p == DirectoryPut::Added), "{backend:?}");
        let again = store.put_directory(&many, T0).await.unwrap();
        assert!(again.iter().all(|p| *p == DirectoryPut::Replaced));
        assert_eq!(store.officials().await.unwrap().len(), 250);
        assert_eq!(store.cases_of_official("u002").await.unwrap().len(), 250);
    }
);
