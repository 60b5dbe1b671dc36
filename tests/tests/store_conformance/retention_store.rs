use super::*;
use anyid::config::RetentionConfig;
use anyid::retention::{Swept, sweep};

const DAY: i64 = 24 * 3600;

fn login(id: &str, citizen_id: &str, at: UnixTime, address: &str) -> LoginEvent {
    LoginEvent {
        id: id.to_owned(),
        citizen_id: citizen_id.to_owned(),
        at,
        method: "dev".to_owned(),
        acr: "urn:anyid:loa:low".to_owned(),
        client_id: None,
        address: Some(address.to_owned()),
    }
}

per_backend!(
    /// One sweep with the default periods, `NOW` four years after `T0`: old history goes,
    /// addresses past 90 days are cut to their network, ended grants and old consents go
    /// (a consent's grants revoked with it), a removed passkey's events go, and an account
    /// nobody used for three years is deleted; everything recent stays. A second sweep
    /// finds nothing more.
    #[tokio::test]
    async fn a_sweep_removes_what_was_kept_long_enough_and_nothing_else(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        let now = T0 + 4 * 365 * DAY;
        citizen(&store, "dormant").await;
        citizen(&store, "citizen-1").await;
        store
            .touch_identity(
                "https://idp.example",
                "citizen-1",
                &serde_json::json!({}),
                false,
                now - DAY,
            )
            .await
            .unwrap();
        for e in [
            login("old", "citizen-1", now - 400 * DAY, "198.51.100.7"),
            login("middle", "citizen-1", now - 100 * DAY, "203.0.113.77"),
            login("recent", "citizen-1", now - DAY, "2001:db8:1:2::9"),
        ] {
            store.record_login(&e).await.unwrap();
        }
        store.insert_client(&client("rp", T0)).await.unwrap();
        store.insert_client(&client("other", T0)).await.unwrap();
        let revoked_long_ago = GrantRecord {
            revoked_at: Some(now - 40 * DAY),
            created_at: now - 50 * DAY,
            ..grant("g-revoked", "rp")
        };
        let dead = GrantRecord {
            created_at: now - 40 * DAY,
            ..grant("g-dead", "rp")
        };
        let live = GrantRecord {
            created_at: now - 40 * DAY,
            ..grant("g-live", "other")
        };
        store.insert_grant(&revoked_long_ago, None).await.unwrap();
        store.insert_grant(&dead, None).await.unwrap();
        store
            .insert_grant(&live, Some((b"refresh-live", now + DAY)))
            .await
            .unwrap();
        store
            .put_consent("citizen-1", "rp", "openid", now - 800 * DAY)
            .await
            .unwrap();
        store
            .put_consent("citizen-1", "other", "openid", now - 10 * DAY)
            .await
            .unwrap();
        for (passkey, at) in [
            ("removed-pk", now - 100 * DAY),
            ("removed-pk", now - 10 * DAY),
        ] {
            store
                .record_passkey_event(&PasskeyEvent {
                    passkey_id: passkey.to_owned(),
                    citizen_id: "citizen-1".to_owned(),
                    at,
                    kind: "removed".to_owned(),
                    detail: String::new(),
                })
                .await
                .unwrap();
        }

        use anyid::store::RiskStore;
        store
            .see_device("citizen-1", b"old device", now - 500 * DAY)
            .await
            .unwrap();
        store
            .see_device("citizen-1", b"this device", now - DAY)
            .await
            .unwrap();
        store
            .record_alert("a-old", "official:kim@mapo-gu", 50, "old", now - 40 * DAY)
            .await
            .unwrap();
        store
            .record_alert("a-new", "official:kim@mapo-gu", 50, "new", now - DAY)
            .await
            .unwrap();

        let swept = sweep(&store, &RetentionConfig::default(), now)
            .await
            .unwrap();
        assert_eq!(
            swept,
            Swept {
                login_events: 1,
                addresses_truncated: 1,
                grants: 2,
                consents: 1,
                passkey_events: 1,
                dormant_accounts: 1,
                decisions: 0,
                risk_records: 2,
                access_records: 0,
            },
            "{backend:?}"
        );
        let history = store.login_events("citizen-1", 10).await.unwrap();
        let addresses: Vec<_> = history.iter().map(|e| e.address.clone().unwrap()).collect();
        assert_eq!(
            addresses,
            ["2001:db8:1:2::9", "203.0.113.0/24"],
            "{backend:?}"
        );
        assert!(store.grant("g-revoked").await.unwrap().is_none());
        assert!(store.grant("g-dead").await.unwrap().is_none());
        let live = store.grant("g-live").await.unwrap().unwrap();
        assert_eq!(live.revoked_at, None, "{backend:?}: its consent is recent");
        assert!(store.consent("citizen-1", "rp").await.unwrap().is_none());
        assert!(store.consent("citizen-1", "other").await.unwrap().is_some());
        assert_eq!(
            store.passkey_events("removed-pk", 10).await.unwrap().len(),
            1
        );
        assert!(
            store.citizen("dormant").await.unwrap().is_none(),
            "{backend:?}"
        );
        assert!(
            store.citizen("citizen-1").await.unwrap().is_some(),
            "{backend:?}"
        );
        assert!(
            store
                .see_device("citizen-1", b"this device", now)
                .await
                .unwrap(),
            "{backend:?}: a recent device is remembered"
        );
        assert_eq!(
            store
                .alerts_of("official:kim@mapo-gu", 0)
                .await
                .unwrap()
                .len(),
            1,
            "{backend:?}: the recent alert stays"
        );

        let again = sweep(&store, &RetentionConfig::default(), now)
            .await
            .unwrap();
        assert!(!again.any(), "{backend:?}: {again:?}");
        let keep_all = RetentionConfig {
            login_history_days: 0,
            login_address_days: 0,
            ended_grant_days: 0,
            consent_days: 0,
            removed_passkey_days: 0,
            dormant_account_days: 0,
            decision_log_days: 0,
            known_device_days: 0,
            risk_alert_days: 0,
            access_record_days: 0,
        };
        let nothing = sweep(&store, &keep_all, now + 9999 * DAY).await.unwrap();
        assert!(!nothing.any(), "{backend:?}: 0 days keeps everything");
    }
);

per_backend!(
    /// An expired consent ends like a withdrawn one: the service's grant is revoked.
    #[tokio::test]
    async fn an_expired_consent_revokes_its_services_grants(backend: Backend) {
        let (store, _db) = fresh_store(backend).await;
        citizen(&store, "citizen-1").await;
        store.insert_client(&client("rp", T0)).await.unwrap();
        let now = T0 + 800 * DAY;
        store
            .insert_grant(&grant("g", "rp"), Some((b"refresh", now + DAY)))
            .await
            .unwrap();
        store
            .put_consent("citizen-1", "rp", "openid", T0)
            .await
            .unwrap();
        let config = RetentionConfig {
            dormant_account_days: 0,
            ..RetentionConfig::default()
        };
        let swept = sweep(&store, &config, now).await.unwrap();
        assert_eq!(swept.consents, 1, "{backend:?}");
        assert_eq!(
            store.grant("g").await.unwrap().unwrap().revoked_at,
            Some(now)
        );
    }
);
