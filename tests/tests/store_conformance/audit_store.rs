use anyid::audit::event::{AccessRecord, Kind};
use anyid::audit::merkle;
use anyid::store::{Appended, AuditStore, STORED_LEVEL};

use super::*;

fn record(reporter: &str, n: u64) -> AccessRecord {
    AccessRecord {
        reporter: reporter.into(),
        event_id: format!("e-{n}"),
        at_ms: T0 * 1000 + n as i64,
        offset_s: 9 * 3600,
        kind: Kind::Access,
        actor_id: Some(format!("official-{}", n % 3)),
        actor_agency: Some("mapo-gu".into()),
        actor_role: None,
        source_ip: Some([10, 0, 0, 1].into()),
        outcome: "success".into(),
        subject_id: (!n.is_multiple_of(5)).then(|| format!("citizen-{}", n % 7)),
        action: if n.is_multiple_of(5) {
            "download"
        } else {
            "view"
        }
        .into(),
        data_categories: vec!["income".into(), "주소".into()],
        purpose: Some("benefit review".into()),
        case_id: None,
        record_count: (n.is_multiple_of(5)).then_some(120),
        reason: None,
        marks: if n.is_multiple_of(5) {
            vec!["download_without_reason".into()]
        } else {
            Vec::new()
        },
        client_id: None,
        method: None,
        level: None,
        policies: Vec::new(),
    }
}

per_backend!(
    #[tokio::test]
    async fn a_citizens_records_are_found_under_each_reporters_name_for_them(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let at = |n: i64| T0 * 1000 + n;
        // Any-ID's own login, with every field of its own events.
        let login = AccessRecord {
            actor_id: Some("citizen-1".into()),
            subject_id: Some("citizen-1".into()),
            client_id: Some("welfare".into()),
            method: Some("passkey".into()),
            level: Some("high".into()),
            ..AccessRecord::own(Kind::Login, "login", "success", at(1))
        };
        let decision = AccessRecord {
            reporter: "welfare".into(),
            subject_id: Some("sub-at-welfare".into()),
            policies: vec!["personal-data-needs-a-purpose".into()],
            ..AccessRecord::own(Kind::Decision, "view", "denied", at(2))
        };
        let reported = AccessRecord {
            subject_id: Some("sub-at-welfare".into()),
            ..record("welfare", 1)
        };
        // The same string from another reporter is someone else; so is another citizen.
        let elsewhere = AccessRecord {
            subject_id: Some("sub-at-welfare".into()),
            ..record("tax", 2)
        };
        let other = AccessRecord {
            subject_id: Some("citizen-2".into()),
            ..AccessRecord::own(Kind::Login, "login", "success", at(3))
        };
        let late = AccessRecord {
            subject_id: Some("citizen-1".into()),
            ..AccessRecord::own(Kind::Release, "userinfo", "success", at(10_000))
        };
        let all = vec![
            login.clone(),
            decision.clone(),
            reported.clone(),
            elsewhere,
            other,
            late.clone(),
        ];
        store.append_audit(&all, T0).await.unwrap();
        let names = vec![
            ("anyid".to_owned(), "citizen-1".to_owned()),
            ("welfare".to_owned(), "sub-at-welfare".to_owned()),
            ("tax".to_owned(), "sub-at-tax".to_owned()),
        ];
        let found: Vec<AccessRecord> = store
            .audit_records_about(&names, 0..i64::MAX, &[], 100)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.record)
            .collect();
        // Newest first (the same moment: the later in the log first), each field as written.
        assert_eq!(
            found,
            [late, decision.clone(), reported.clone(), login],
            "{backend:?}"
        );
        // A period, and a limit.
        let early = store
            .audit_records_about(&names, at(0)..at(5_000), &[], 2)
            .await
            .unwrap();
        let early: Vec<&AccessRecord> = early.iter().map(|s| &s.record).collect();
        assert_eq!(early, [&decision, &reported], "{backend:?}");
        // Of some kinds only.
        let logins = store
            .audit_records_about(&names, 0..i64::MAX, &[Kind::Login, Kind::Release], 100)
            .await
            .unwrap();
        let kinds: Vec<Kind> = logins.iter().map(|s| s.record.kind).collect();
        assert_eq!(kinds, [Kind::Release, Kind::Login], "{backend:?}");
        assert!(
            store
                .audit_records_about(&[], 0..i64::MAX, &[], 10)
                .await
                .unwrap()
                .is_empty()
        );
        // The tree still verifies with the new fields in it.
        let report = anyid::audit::verify::verify(&store, &[], |_, _| {})
            .await
            .unwrap();
        assert!(report.findings.is_empty(), "{backend:?}: {report:?}");
    }
);

per_backend!(
    #[tokio::test]
    async fn records_append_once_per_event_id_in_tree_order_and_read_back_equal(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        // More than one statement's worth, and past a stored node (256 leaves).
        let first: Vec<AccessRecord> = (0..300).map(|n| record("welfare", n)).collect();
        let appended = store.append_audit(&first, T0).await.unwrap();
        assert!(
            appended
                .iter()
                .enumerate()
                .all(|(i, a)| *a == Appended::Added(i as u64))
        );
        // A resent batch, with one repeat inside it and one new event, from a second reporter
        // using the same ids.
        let again = vec![
            record("welfare", 7),
            record("welfare", 300),
            record("welfare", 300),
            record("tax", 7),
        ];
        assert_eq!(
            store.append_audit(&again, T0).await.unwrap(),
            [
                Appended::Duplicate(7),
                Appended::Added(300),
                Appended::Duplicate(300),
                Appended::Added(301)
            ],
            "{backend:?}"
        );
        let frontier = store.audit_frontier().await.unwrap();
        assert_eq!(frontier.size(), 302);
        // The stored tree is the tree of the stored records.
        let stored = store.audit_records(0, 1000).await.unwrap();
        assert_eq!(stored.len(), 302);
        assert_eq!(stored[7].record, first[7], "{backend:?}");
        assert_eq!(stored[301].record, record("tax", 7));
        let leaves: Vec<merkle::Hash> = stored
            .iter()
            .map(|s| merkle::leaf_hash(&s.record.leaf_input()))
            .collect();
        assert_eq!(store.audit_leaves(0, 302).await.unwrap(), leaves);
        assert_eq!(merkle::root(&leaves[..], 302).unwrap(), frontier.root());
        let node = store.audit_node(STORED_LEVEL, 0).await.unwrap();
        assert_eq!(
            node,
            Some(merkle::Nodes::node(&leaves[..], STORED_LEVEL, 0).unwrap())
        );
        assert_eq!(
            store.audit_node(STORED_LEVEL, 1).await.unwrap(),
            None,
            "not complete yet"
        );
        assert!(
            store.audit_leaves(300, 303).await.is_err(),
            "a missing leaf is an error"
        );
    }
);

/// A raw connection to the test database, as someone with access to it would tamper.
async fn raw(db: &TestDatabase) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&db.url).await.unwrap()
}

async fn exec(pool: &sqlx::AnyPool, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .unwrap();
}

per_backend!(
    #[tokio::test]
    async fn verification_finds_an_edited_a_removed_and_an_inserted_event(backend: Backend) {
        use anyid::audit::verify::{Finding, verify};
        let (store, db) = fresh_store(backend).await;
        let records: Vec<AccessRecord> = (0..600).map(|n| record("welfare", n)).collect();
        store.append_audit(&records, T0).await.unwrap();
        let mut pages = 0;
        let intact = verify(&store, &[], |_, _| pages += 1).await.unwrap();
        assert!(intact.intact(), "{backend:?}: {intact:?}");
        assert_eq!(intact.size, 600);
        assert!(pages >= 1, "progress is reported");
        let pool = raw(&db).await;

        // An edited column.
        exec(
            &pool,
            "UPDATE audit_events SET purpose = 'curiosity' WHERE seq = 300",
        )
        .await;
        let found = verify(&store, &[], |_, _| {}).await.unwrap().findings;
        assert_eq!(
            found[0],
            Finding::Altered { seq: 300 },
            "{backend:?}: {found:?}"
        );
        // Edited with its leaf hash recomputed by the editor: the stored tree locates it.
        let mut forged = record("welfare", 300);
        forged.purpose = Some("curiosity".into());
        let leaf = anyid::audit::merkle::leaf_hash(&forged.leaf_input());
        let hex: String = leaf.iter().map(|b| format!("{b:02x}")).collect();
        let literal = match backend {
            Backend::Sqlite => format!("X'{hex}'"),
            Backend::Postgres => format!("'\\x{hex}'::bytea"),
        };
        exec(
            &pool,
            &format!("UPDATE audit_events SET leaf_hash = {literal} WHERE seq = 300"),
        )
        .await;
        let found = verify(&store, &[], |_, _| {}).await.unwrap().findings;
        assert_eq!(
            found,
            [
                Finding::Rewritten { from: 256, to: 512 },
                Finding::RootMismatch { size: 600 }
            ],
            "{backend:?}"
        );

        // A removed event, and one slipped in beyond the tree.
        let (fresh, db) = fresh_store(backend).await;
        fresh.append_audit(&records, T0).await.unwrap();
        let pool = raw(&db).await;
        exec(&pool, "DELETE FROM audit_events WHERE seq = 400").await;
        exec(
            &pool,
            "INSERT INTO audit_events (seq, reporter, event_id, at_ms, offset_s, received_at, \
             kind, outcome, action, data_categories, marks, leaf_hash) SELECT 600, reporter, \
             'forged', at_ms, offset_s, received_at, kind, outcome, action, data_categories, \
             marks, leaf_hash FROM audit_events WHERE seq = 0",
        )
        .await;
        let found = verify(&fresh, &[], |_, _| {}).await.unwrap().findings;
        assert_eq!(
            found,
            [
                Finding::Missing { seq: 400 },
                Finding::Inserted { seq: 600 }
            ],
            "{backend:?}"
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn json_lines_and_csv_import_with_a_summary_and_resend_as_duplicates(backend: Backend) {
        use anyid::audit::import::{Format, import};
        let (store, _db) = fresh_store(backend).await;
        let lines = [
            r#"{"event_id": "j-1", "ts": "2026-12-07T09:30:00+09:00", "kind": "access", "actor_id": "kim", "outcome": "success", "action": "view", "subject_id": "c-1"}"#,
            "",
            r#"{"event_id": "j-2", "ts": "not a time", "kind": "access", "actor_id": "kim", "outcome": "success", "action": "view"}"#,
            r#"{"event_id": "j-3""#,
            r#"{"event_id": "j-4", "ts": "2026-12-07T09:31:00+09:00", "kind": "login", "actor_id": "kim", "outcome": "success", "action": "login"}"#,
        ]
        .join("\n");
        let now = T0 * 1000;
        let summary = import(
            &store,
            "welfare",
            lines.as_bytes(),
            Format::JsonLines,
            now,
            T0,
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(
            (
                summary.lines,
                summary.accepted,
                summary.duplicates,
                summary.rejected
            ),
            (4, 2, 0, 2),
            "{backend:?}: {summary:?}"
        );
        let lines_rejected: Vec<u64> = summary.rejections.iter().map(|r| r.line).collect();
        assert_eq!(lines_rejected, [3, 4]);
        assert_eq!(summary.rejections[0].errors[0].field, "ts");

        let csv = "event_id,ts,kind,actor_id,outcome,action,subject_id,data_categories,reason,record_count\n\
                   c-1,2026-12-07T10:00:00+09:00,access,lee,success,download,,income; health,\"annual report, approved\nby the director\",300\n\
                   c-2,2026-12-07T10:01:00+09:00,access,lee,success,view,c-9\n\
                   c-3,2026-12-07T10:02:00+09:00,access,lee,denied,print,c-9,income,,many\n";
        let mut lines_seen = 0;
        let summary = import(
            &store,
            "welfare",
            csv.as_bytes(),
            Format::Csv,
            now,
            T0,
            |l, _| lines_seen = l,
        )
        .await
        .unwrap();
        assert_eq!(
            (summary.lines, summary.accepted, summary.rejected),
            (3, 1, 2),
            "{backend:?}: {summary:?}"
        );
        assert_eq!(lines_seen, 3, "progress heard the end");
        assert_eq!(summary.rejections[0].line, 4, "the short row");
        assert_eq!(summary.rejections[1].errors[0].field, "event");
        let stored = store.audit_records(0, 100).await.unwrap();
        let download = &stored.last().unwrap().record;
        assert_eq!(download.data_categories, ["health", "income"]);
        assert_eq!(
            download.reason.as_deref(),
            Some("annual report, approved\nby the director")
        );
        assert_eq!(download.record_count, Some(300));

        // The same file again: nothing twice.
        let again = import(
            &store,
            "welfare",
            lines.as_bytes(),
            Format::JsonLines,
            now,
            T0,
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!((again.accepted, again.duplicates), (0, 2));
        assert_eq!(store.audit_frontier().await.unwrap().size(), 3);
    }
);

per_backend!(
    #[tokio::test]
    async fn checkpoints_are_signed_kept_and_hold_the_record_to_what_they_saw(backend: Backend) {
        use anyid::audit::checkpoint::{self, LogKey};
        use anyid::audit::verify::{Finding, verify};
        use anyid::store::CheckpointStore;
        let (store, _db) = fresh_store(backend).await;
        let kek = [9u8; 32];
        let key = LogKey::load_or_create(&store, &kek, "id.example.gov/access-log", T0)
            .await
            .unwrap();
        let again = LogKey::load_or_create(&store, &kek, "id.example.gov/access-log", T0)
            .await
            .unwrap();
        assert_eq!(
            key.public_key(),
            again.public_key(),
            "{backend:?}: one key, kept"
        );
        assert_eq!(
            checkpoint::checkpoint(&store, &key, T0).await.unwrap(),
            None,
            "empty"
        );

        let records: Vec<AccessRecord> = (0..300).map(|n| record("welfare", n)).collect();
        store.append_audit(&records, T0).await.unwrap();
        let note = checkpoint::checkpoint(&store, &key, T0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            checkpoint::checkpoint(&store, &key, T0).await.unwrap(),
            None,
            "unchanged"
        );
        let (size, root) = checkpoint::open(&note, key.name(), key.public_key()).unwrap();
        assert_eq!(size, 300);
        assert_eq!(
            store.latest_checkpoint().await.unwrap(),
            Some((300, note.clone()))
        );
        let more: Vec<AccessRecord> = (300..400).map(|n| record("welfare", n)).collect();
        store.append_audit(&more, T0).await.unwrap();

        let intact = verify(&store, &[(size, root)], |_, _| {}).await.unwrap();
        assert!(intact.intact(), "{backend:?}: {intact:?}");
        // A record rewritten consistently still differs from what a checkpoint saw, and a
        // checkpoint larger than the record shows it was cut.
        let other = anyid::audit::merkle::leaf_hash(b"another history");
        let found = verify(&store, &[(size, other), (500, root)], |_, _| {})
            .await
            .unwrap()
            .findings;
        assert_eq!(
            found,
            [
                Finding::CheckpointMismatch { size: 300 },
                Finding::Truncated {
                    size: 500,
                    stored: 400
                }
            ],
            "{backend:?}"
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn pruning_removes_old_blocks_and_later_proofs_and_checkpoints_still_verify(
        backend: Backend,
    ) {
        use anyid::audit::{proofs, verify};
        let (store, db) = fresh_store(backend).await;
        // 700 events; the first 600 are past their retention.
        let cutoff = T0 * 1000 + 600;
        let records: Vec<AccessRecord> = (0..700).map(|n| record("welfare", n)).collect();
        store.append_audit(&records, T0).await.unwrap();
        let before = store.audit_frontier().await.unwrap();
        let leaves = store.audit_leaves(0, 700).await.unwrap();
        let root_300 = merkle::root(&leaves[..], 300).unwrap();

        // Whole blocks of 256 only: 512 go, 88 old ones stay until their block is all old.
        assert_eq!(store.prune_audit(cutoff).await.unwrap(), 512, "{backend:?}");
        assert_eq!(store.audit_pruned().await.unwrap(), 512);
        assert_eq!(store.prune_audit(cutoff).await.unwrap(), 0);
        assert_eq!(store.audit_records(0, 1).await.unwrap()[0].seq, 512);
        // The tree is the same tree.
        assert_eq!(store.audit_frontier().await.unwrap(), before);

        // Verification rebuilds from the nodes over the pruned events, against a
        // checkpoint of the whole record; one of fewer events than were pruned is not checked.
        let report = verify::verify(&store, &[(700, before.root()), (300, root_300)], |_, _| {})
            .await
            .unwrap();
        assert!(report.intact(), "{backend:?}: {report:?}");
        assert_eq!(report.pruned, 512);
        let wrong = verify::verify(&store, &[(700, [7; 32])], |_, _| {})
            .await
            .unwrap();
        assert_eq!(
            wrong.findings,
            [verify::Finding::CheckpointMismatch { size: 700 }]
        );

        // Proofs of later events still verify; pruned ones are refused as such.
        let p = proofs::inclusion(&store, 650, 700).await.unwrap();
        let hashes: Vec<merkle::Hash> = p
            .proof
            .iter()
            .map(|h| anyid::crypto::b64_decode(h).unwrap().try_into().unwrap())
            .collect();
        assert!(merkle::verify_inclusion(
            &leaves[650],
            650,
            700,
            &hashes,
            &before.root()
        ));
        assert!(matches!(
            proofs::inclusion(&store, 100, 700).await,
            Err(proofs::ProofError::Pruned { pruned: 512 })
        ));
        let c = proofs::consistency(&store, 600, 700).await.unwrap();
        assert_eq!(
            anyid::crypto::b64_decode(&c.old_root).unwrap(),
            merkle::root(&leaves[..], 600).unwrap()
        );

        // Someone removes the stored node over the pruned events: verification says so.
        let pool = raw(&db).await;
        exec(&pool, "DELETE FROM audit_nodes WHERE level = 9 AND idx = 0").await;
        let report = verify::verify(&store, &[], |_, _| {}).await.unwrap();
        assert_eq!(
            report.findings,
            [verify::Finding::PrunedNodeMissing { from: 0, to: 512 }],
            "{backend:?}"
        );
    }
);

per_backend!(
    #[tokio::test]
    async fn postgres_keeps_a_partition_per_month_and_drops_a_pruned_one_whole(backend: Backend) {
        use anyid::audit::verify;
        let (store, db) = fresh_store(backend).await;
        let pool = raw(&db).await;
        let postgres = backend == Backend::Postgres;
        // T0 is in January 2027: January's and February's partitions are made once.
        let made = store.ensure_audit_partitions(T0).await.unwrap();
        assert_eq!(made, if postgres { 2 } else { 0 });
        assert_eq!(store.ensure_audit_partitions(T0).await.unwrap(), 0);
        let january: Vec<AccessRecord> = (0..512).map(|n| record("welfare", n)).collect();
        let february: Vec<AccessRecord> = (512..612).map(|n| record("welfare", n)).collect();
        store.append_audit(&january, T0).await.unwrap();
        store
            .append_audit(&february, T0 + 40 * 86_400)
            .await
            .unwrap();
        let count = |table: &'static str| {
            let pool = pool.clone();
            async move {
                let (n,): (i64,) =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                n
            }
        };
        if postgres {
            assert_eq!(count("audit_events_y2027m01").await, 512);
            assert_eq!(count("audit_events_y2027m02").await, 100);
            assert_eq!(count("audit_events_default").await, 0);
        }

        // January's events are past their retention: its partition goes whole.
        let removed = store.prune_audit(T0 * 1000 + 512).await.unwrap();
        assert_eq!(removed, 512, "{backend:?}");
        if postgres {
            let (gone,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM pg_class WHERE relname = 'audit_events_y2027m01'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(gone, 0);
        }
        let report = verify::verify(&store, &[], |_, _| {}).await.unwrap();
        assert!(report.intact(), "{backend:?}: {report:?}");
        assert_eq!((report.pruned, report.size), (512, 612));

        // A second row at a taken position: SQLite refuses it; PostgreSQL's partitioned
        // table cannot, and verification finds it.
        let copy = "INSERT INTO audit_events SELECT * FROM audit_events WHERE seq = 600";
        let inserted = sqlx::query(copy).execute(&pool).await;
        if postgres {
            inserted.unwrap_err();
            exec(
                &pool,
                "INSERT INTO audit_events (seq, reporter, event_id, at_ms, offset_s, \
                 received_at, kind, outcome, action, data_categories, marks, leaf_hash) \
                 SELECT seq, reporter, 'forged', at_ms, offset_s, received_at + 1, kind, \
                 outcome, action, data_categories, marks, leaf_hash FROM audit_events \
                 WHERE seq = 600",
            )
            .await;
            let report = verify::verify(&store, &[], |_, _| {}).await.unwrap();
            // Whichever of the two is read first counts as the event; the other is inserted
            // (and the forged one, read first, is also altered and changes the root).
            assert!(
                report
                    .findings
                    .contains(&verify::Finding::Inserted { seq: 600 }),
                "{report:?}"
            );
            assert!(
                report.findings.iter().all(|f| matches!(
                    f,
                    verify::Finding::Inserted { seq: 600 }
                        | verify::Finding::Altered { seq: 600 }
                        | verify::Finding::RootMismatch { size: 612 }
                )),
                "{report:?}"
            );
        } else {
            assert!(
                inserted.is_err(),
                "the primary key refuses a second row at 600"
            );
        }
    }
);
