//! One event model for the access record (issue 10): what relying parties' back offices
//! report (`POST /audit/v1/events`, `anyid audit import`) and what Any-ID records itself,
//! validated field by field so that one bad event is explained without losing its batch.
//!
//! The table of fields is the issue's; the legal baseline (who, when, from where, whose
//! record, which data, for what task; downloads justified) is
//! `../shared/reference/korea-any-id.md` §6.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest free text kept in one field.
const MAX_TEXT: usize = 2000;
/// The longest identifier or name.
const MAX_ID: usize = 200;
/// How many data categories one event may name.
const MAX_CATEGORIES: usize = 32;
/// How far ahead of the server's clock an event's time may be (clock skew).
const MAX_AHEAD_S: i64 = 300;

/// An event as a reporter sends it (JSON, or a CSV row by header).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportedEvent {
    pub event_id: String,
    /// RFC 3339 with an offset.
    pub ts: String,
    /// `login` or `access`.
    pub kind: String,
    pub actor_id: String,
    pub actor_agency: Option<String>,
    pub actor_role: Option<String>,
    pub source_ip: Option<String>,
    /// login: `success` or `failure`; access: `success` or `denied`.
    pub outcome: String,
    /// Whose record; empty for list exports.
    pub subject_id: Option<String>,
    /// `login`, `view`, `create`, `update`, `delete`, `print`, `download`.
    pub action: String,
    pub data_categories: Vec<String>,
    pub purpose: Option<String>,
    pub case_id: Option<String>,
    /// Rows touched (downloads, prints, exports).
    pub record_count: Option<u64>,
    /// Why; required for downloads (one without is accepted and marked).
    pub reason: Option<String>,
}

/// A field of an event that is not acceptable, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// What the record keeps of an accepted event: the reported fields, checked and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// Who reported it: a relying party's client id, or `anyid` for Any-ID's own events.
    pub reporter: String,
    pub event_id: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// The offset the reporter wrote the time in, in seconds east of UTC.
    pub offset_s: i32,
    pub kind: Kind,
    pub actor_id: Option<String>,
    pub actor_agency: Option<String>,
    pub actor_role: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub outcome: String,
    pub subject_id: Option<String>,
    pub action: String,
    pub data_categories: Vec<String>,
    pub purpose: Option<String>,
    pub case_id: Option<String>,
    pub record_count: Option<u64>,
    pub reason: Option<String>,
    /// What the intake noticed and kept the event anyway for: `download_without_reason`.
    pub marks: Vec<String>,
    // Fields of Any-ID's own events. Absent ones are left out of the leaf input, so a record
    // without them commits to the same bytes as before they existed.
    /// The relying party the event concerns (a release's recipient, a lookup's back office,
    /// the service a login was for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// How a citizen signed in (`kakao`, `passkey`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The assurance level reached (`low`, `substantial`, `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The policies that decided a lookup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
}

/// What happened. Back offices report logins and accesses; releases, decisions and
/// administration are Any-ID's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Login,
    Access,
    /// Claims about a citizen released to a relying party (ID token, userinfo).
    Release,
    /// Any-ID's decision on an official's lookup (the AuthZEN API).
    Decision,
    /// An administrator's call.
    Admin,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Login,
        Kind::Access,
        Kind::Release,
        Kind::Decision,
        Kind::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Access => "access",
            Kind::Release => "release",
            Kind::Decision => "decision",
            Kind::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The reporter of Any-ID's own events, and the prefix of the event ids it makes (which
/// back offices may not use, so theirs never collide with Any-ID's).
pub const OWN_REPORTER: &str = "anyid";
const OWN_ID_PREFIX: &str = "anyid:";

const ACCESS_ACTIONS: [&str; 6] = ["view", "create", "update", "delete", "print", "download"];

impl ReportedEvent {
    /// Check every field against the model; on success, the record to keep. `now_ms` bounds
    /// how far ahead an event's time may be.
    pub fn check(self, reporter: &str, now_ms: i64) -> Result<AccessRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &'static str, message: &str| {
            errors.push(FieldError {
                field,
                message: message.to_owned(),
            });
        };
        let event_id = self.event_id.trim().to_owned();
        if event_id.is_empty() || event_id.chars().count() > MAX_ID {
            fail(
                "event_id",
                "required: the reporter's own id of the event, 1-200 characters",
            );
        } else if event_id.starts_with(OWN_ID_PREFIX) {
            fail("event_id", "ids starting with \"anyid:\" are Any-ID's own");
        }
        let time = OffsetDateTime::parse(self.ts.trim(), &Rfc3339).ok();
        let at_ms = time.map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64);
        match at_ms {
            None => fail(
                "ts",
                "an RFC 3339 time with an offset, like 2026-12-07T09:30:00+09:00",
            ),
            Some(at) if at > now_ms.saturating_add(MAX_AHEAD_S * 1000) => {
                fail("ts", "the time is in the future")
            }
            Some(_) => {}
        }
        let kind = match self.kind.as_str() {
            "login" => Some(Kind::Login),
            "access" => Some(Kind::Access),
            _ => {
                fail("kind", "login or access");
                None
            }
        };
        let actor_id = text(&self.actor_id);
        if kind == Some(Kind::Access) && actor_id.is_none() {
            fail(
                "actor_id",
                "required for an access: the official who made it",
            );
        }
        for (field, value) in [
            ("actor_id", &Some(self.actor_id.clone())),
            ("actor_agency", &self.actor_agency),
            ("actor_role", &self.actor_role),
            ("subject_id", &self.subject_id),
            ("case_id", &self.case_id),
        ] {
            if value.as_deref().is_some_and(|v| v.chars().count() > MAX_ID) {
                fail(field, "at most 200 characters");
            }
        }
        for (field, value) in [("purpose", &self.purpose), ("reason", &self.reason)] {
            if value
                .as_deref()
                .is_some_and(|v| v.chars().count() > MAX_TEXT)
            {
                fail(field, "at most 2000 characters");
            }
        }
        let source_ip = match text_ref(self.source_ip.as_deref()) {
            None => None,
            Some(ip) => match ip.parse::<IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    fail("source_ip", "an IPv4 or IPv6 address");
                    None
                }
            },
        };
        let outcomes: &[&str] = match kind {
            Some(Kind::Login) => &["success", "failure"],
            // Reported events are logins or accesses (the other kinds are Any-ID's).
            Some(_) => &["success", "denied"],
            None => &["success", "failure", "denied"],
        };
        if !outcomes.contains(&self.outcome.as_str()) {
            fail("outcome", &format!("one of: {}", outcomes.join(", ")));
        }
        let action_ok = match kind {
            Some(Kind::Login) => self.action == "login",
            Some(_) => ACCESS_ACTIONS.contains(&self.action.as_str()),
            None => true,
        };
        if !action_ok {
            let allowed = match kind {
                Some(Kind::Login) => "login".to_owned(),
                _ => ACCESS_ACTIONS.join(", "),
            };
            fail("action", &format!("one of: {allowed}"));
        }
        if self.data_categories.len() > MAX_CATEGORIES
            || self
                .data_categories
                .iter()
                .any(|c| c.trim().is_empty() || c.chars().count() > 64)
        {
            fail("data_categories", "at most 32 names of 1-64 characters");
        }
        let reason = text_ref(self.reason.as_deref()).map(str::to_owned);
        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(kind), Some(at_ms), Some(time)) = (kind, at_ms, time) else {
            return Err(vec![FieldError {
                field: "ts",
                message: "unreadable".into(),
            }]);
        };
        let mut marks = Vec::new();
        if self.action == "download" && reason.is_none() {
            marks.push("download_without_reason".to_owned());
        }
        let mut categories: Vec<String> = self
            .data_categories
            .iter()
            .map(|c| c.trim().to_owned())
            .collect();
        categories.sort();
        categories.dedup();
        Ok(AccessRecord {
            reporter: reporter.to_owned(),
            event_id,
            at_ms,
            offset_s: time.offset().whole_seconds(),
            kind,
            actor_id,
            actor_agency: text_ref(self.actor_agency.as_deref()).map(str::to_owned),
            actor_role: text_ref(self.actor_role.as_deref()).map(str::to_owned),
            source_ip,
            outcome: self.outcome,
            subject_id: text_ref(self.subject_id.as_deref()).map(str::to_owned),
            action: self.action,
            data_categories: categories,
            purpose: text_ref(self.purpose.as_deref()).map(str::to_owned),
            case_id: text_ref(self.case_id.as_deref()).map(str::to_owned),
            record_count: self.record_count,
            reason,
            marks,
            client_id: None,
            method: None,
            level: None,
            policies: Vec::new(),
        })
    }
}

fn text(value: &str) -> Option<String> {
    text_ref(Some(value)).map(str::to_owned)
}

fn text_ref(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl AccessRecord {
    /// An event Any-ID records itself, at `at_ms` (UTC), with a fresh id and nothing else
    /// filled in but its kind, action and outcome.
    pub fn own(kind: Kind, action: &str, outcome: &str, at_ms: i64) -> Self {
        AccessRecord {
            reporter: OWN_REPORTER.to_owned(),
            event_id: format!("{OWN_ID_PREFIX}{}", uuid::Uuid::now_v7()),
            at_ms,
            offset_s: 0,
            kind,
            actor_id: None,
            actor_agency: None,
            actor_role: None,
            source_ip: None,
            outcome: outcome.to_owned(),
            subject_id: None,
            action: action.to_owned(),
            data_categories: Vec::new(),
            purpose: None,
            case_id: None,
            record_count: None,
            reason: None,
            marks: Vec::new(),
            client_id: None,
            method: None,
            level: None,
            policies: Vec::new(),
        }
    }

    /// The bytes the log's Merkle tree commits to (RFC 9162 leaf input): the record as JSON
    /// in its fixed field order, so the same record always gives the same bytes and `audit
    /// verify` can recompute them from the stored columns.
    pub fn leaf_input(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_654_820_000;

    fn download() -> ReportedEvent {
        ReportedEvent {
            event_id: "e-1".into(),
            ts: "2026-12-07T09:30:00+09:00".into(),
            kind: "access".into(),
            actor_id: "kim".into(),
            actor_agency: Some("mapo-gu".into()),
            actor_role: Some("caseworker".into()),
            source_ip: Some("10.1.2.3".into()),
            outcome: "success".into(),
            subject_id: None,
            action: "download".into(),
            data_categories: vec!["income".into(), " health ".into(), "income".into()],
            purpose: Some("benefit review".into()),
            case_id: Some("2026-77".into()),
            record_count: Some(120),
            reason: None,
        }
    }

    #[test]
    fn an_accepted_event_is_normalised_and_a_download_without_reason_is_marked() {
        let record = download().check("rp-1", NOW).unwrap();
        assert_eq!(record.at_ms, 1_796_603_400_000);
        assert_eq!(record.offset_s, 9 * 3600);
        assert_eq!(record.data_categories, ["health", "income"]);
        assert_eq!(record.marks, ["download_without_reason"]);
        assert_eq!(record.reporter, "rp-1");
        let with_reason = ReportedEvent {
            reason: Some("annual statistics, approved 2026-11-30".into()),
            ..download()
        };
        assert!(with_reason.check("rp-1", NOW).unwrap().marks.is_empty());
        // The leaf input is stable, and a reported event's leaves out the fields only
        // Any-ID's own events have (records made before them commit to the same bytes).
        assert_eq!(
            record.leaf_input(),
            download().check("rp-1", NOW).unwrap().leaf_input()
        );
        let leaf = String::from_utf8(record.leaf_input()).unwrap();
        for field in ["client_id", "method", "level", "policies"] {
            assert!(!leaf.contains(field), "{leaf}");
        }
        // Any-ID's own ids are not for reporters.
        let taken = ReportedEvent {
            event_id: "anyid:0193".into(),
            ..download()
        };
        assert_eq!(taken.check("rp-1", NOW).unwrap_err()[0].field, "event_id");
    }

    #[test]
    fn every_bad_field_is_named_with_what_it_should_be() {
        let bad = ReportedEvent {
            event_id: " ".into(),
            ts: "2026-12-07 09:30".into(),
            kind: "access".into(),
            actor_id: String::new(),
            source_ip: Some("10.1.2".into()),
            outcome: "failure".into(),
            action: "peek".into(),
            data_categories: vec![String::new()],
            ..ReportedEvent::default()
        };
        let errors = bad.check("rp-1", NOW).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "event_id",
                "ts",
                "actor_id",
                "source_ip",
                "outcome",
                "action",
                "data_categories"
            ]
        );
        let future = ReportedEvent {
            ts: "2027-12-07T09:30:00+09:00".into(),
            ..download()
        };
        assert_eq!(future.check("rp-1", NOW).unwrap_err()[0].field, "ts");
        // A failed login may not know who tried.
        let login = ReportedEvent {
            event_id: "l-1".into(),
            ts: "2026-12-07T09:30:00Z".into(),
            kind: "login".into(),
            outcome: "failure".into(),
            action: "login".into(),
            ..ReportedEvent::default()
        };
        assert_eq!(login.check("rp-1", NOW).unwrap().actor_id, None);
    }

    proptest::proptest! {
        #[test]
        fn any_json_object_is_checked_without_panicking(
            event_id in ".{0,40}", ts in ".{0,40}", kind in "(login|access|x)",
            action in "(login|view|download|x)", outcome in "(success|failure|denied|x)",
            ip in ".{0,20}", count in proptest::option::of(proptest::prelude::any::<u64>()),
        ) {
            let event = ReportedEvent {
                event_id, ts, kind, action, outcome,
                source_ip: Some(ip), record_count: count,
                ..ReportedEvent::default()
            };
            let _ = event.check("rp", NOW);
        }
    }
}
