//! The access record as OCSF events (Open Cybersecurity Schema Framework 1.1), for a SIEM:
//! logins as Authentication (class 3002, IAM), every other event — officials' accesses,
//! Any-ID's decisions on lookups, releases of claims, admin calls — as API Activity (class
//! 6003, Application Activity) on the citizen's record. What OCSF has no attribute for
//! (purpose, case, data categories, reason, marks, the record's position) goes in
//! `unmapped`, so nothing of the record is lost.

use serde_json::{Map, Value, json};

use super::event::{AccessRecord, Kind};

/// The OCSF schema version the events follow.
pub const VERSION: &str = "1.1.0";

const AUTHENTICATION: u32 = 3002;
const API_ACTIVITY: u32 = 6003;

/// (class, category, activity id, activity name) of `record`.
fn classify(record: &AccessRecord) -> (u32, u32, u32, &'static str) {
    if record.kind == Kind::Login {
        return (AUTHENTICATION, 3, 1, "Logon");
    }
    // API Activity: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other.
    let (id, name) = match record.action.as_str() {
        "create" => (1, "Create"),
        "view" | "print" | "download" | "id_token" | "userinfo" => (2, "Read"),
        "update" => (3, "Update"),
        "delete" => (4, "Delete"),
        _ => (99, "Other"),
    };
    (API_ACTIVITY, 6, id, name)
}

/// `record`, at position `seq` of the log, as one OCSF event.
pub fn event(seq: u64, record: &AccessRecord) -> Value {
    let (class_uid, category_uid, activity_id, activity_name) = classify(record);
    // status_id: 1 Success, 2 Failure.
    let success = record.outcome == "success";
    let mut user = Map::new();
    if let Some(actor) = &record.actor_id {
        user.insert("uid".into(), actor.clone().into());
    }
    if let Some(agency) = &record.actor_agency {
        user.insert("org".into(), json!({ "uid": agency }));
    }
    if let Some(role) = &record.actor_role {
        user.insert("groups".into(), json!([{ "name": role }]));
    }
    let mut out = json!({
        "class_uid": class_uid,
        "category_uid": category_uid,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "time": record.at_ms,
        "timezone_offset": record.offset_s / 60,
        "severity_id": 1,
        "status_id": if success { 1 } else { 2 },
        "status": if success { "Success" } else { "Failure" },
        "status_detail": record.outcome,
        "metadata": {
            "version": VERSION,
            "product": { "name": "Any-ID", "vendor_name": "Any-ID" },
            "uid": format!("{}/{}", record.reporter, record.event_id),
            "log_name": "access-record",
        },
        "unmapped": {
            "seq": seq,
            "kind": record.kind.name(),
            "reporter": record.reporter,
            "purpose": record.purpose,
            "case_id": record.case_id,
            "data_categories": record.data_categories,
            "record_count": record.record_count,
            "reason": record.reason,
            "marks": record.marks,
            "client_id": record.client_id,
            "level": record.level,
            "policies": record.policies,
        },
    });
    let Some(fields) = out.as_object_mut() else {
        return out;
    };
    if let Some(ip) = record.source_ip {
        fields.insert("src_endpoint".into(), json!({ "ip": ip.to_string() }));
    }
    if record.kind == Kind::Login {
        fields.insert("user".into(), Value::Object(user));
        if let Some(method) = &record.method {
            fields.insert("auth_protocol".into(), method.clone().into());
        }
        if let Some(client) = &record.client_id {
            fields.insert("service".into(), json!({ "uid": client }));
        }
    } else {
        fields.insert("actor".into(), json!({ "user": user }));
        fields.insert(
            "api".into(),
            json!({ "operation": record.action, "service": { "name": record.reporter } }),
        );
        if let Some(subject) = &record.subject_id {
            fields.insert(
                "resources".into(),
                json!([{ "type": "citizen_record", "uid": subject }]),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_authentication_and_accesses_api_activity_with_nothing_lost() {
        let login = AccessRecord {
            actor_id: Some("p-1".into()),
            subject_id: Some("p-1".into()),
            method: Some("passkey".into()),
            source_ip: Some([10, 0, 0, 1].into()),
            ..AccessRecord::own(Kind::Login, "login", "failure", 1_796_654_820_000)
        };
        let e = event(7, &login);
        assert_eq!(
            (e["class_uid"].as_u64(), e["type_uid"].as_u64()),
            (Some(3002), Some(300_201))
        );
        assert_eq!(e["status_id"], 2);
        assert_eq!(e["user"]["uid"], "p-1");
        assert_eq!(e["auth_protocol"], "passkey");
        assert_eq!(e["src_endpoint"]["ip"], "10.0.0.1");
        assert_eq!(e["unmapped"]["seq"], 7);

        let download = AccessRecord {
            reporter: "welfare".into(),
            actor_id: Some("kim".into()),
            actor_agency: Some("mapo-gu".into()),
            subject_id: Some("sub-1".into()),
            purpose: Some("audit".into()),
            data_categories: vec!["income".into()],
            marks: vec!["download_without_reason".into()],
            ..AccessRecord::own(Kind::Access, "download", "success", 1_796_654_820_000)
        };
        let e = event(8, &download);
        assert_eq!(
            (e["class_uid"].as_u64(), e["activity_id"].as_u64()),
            (Some(6003), Some(2))
        );
        assert_eq!(e["actor"]["user"]["org"]["uid"], "mapo-gu");
        assert_eq!(e["api"]["operation"], "download");
        assert_eq!(e["resources"][0]["uid"], "sub-1");
        assert_eq!(e["unmapped"]["purpose"], "audit");
        assert_eq!(e["unmapped"]["marks"][0], "download_without_reason");
        assert_eq!(e["status_id"], 1);
    }
}
