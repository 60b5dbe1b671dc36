#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use time::macros::date;

use super::*;

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

fn refused(kind: Kind, value: Value) -> Vec<FieldError> {
    Record::from_json(kind, value).expect_err("refused")
}

/// Checked, written back in canonical form, and read again: the same record.
fn round_trip(record: &Record) {
    let again = Record::from_json_text(record.kind(), &record.to_json());
    assert_eq!(again.as_ref(), Ok(record), "{}", record.to_json());
}

fn night_nurse() -> Value {
    json!({
        "id": " u123 ", "agency": "AG02", "role": "tax officer", "office": "Mapo 2F",
        "workstations": ["10.1.2.3", "10.9.0.0/16", "10.1.2.3", "2001:db8::/48"],
        "shifts": [{"days": [5, 1, 2, 2], "start": "22:00", "end": "06:00"}],
        "roster": [{"start": "2026-12-12T09:00:00+09:00", "end": "2026-12-12T18:00:00+09:00",
                    "note": "weekend duty"}],
        "leave": [{"from": "2026-12-24", "to": "2026-12-31"}],
        "travel": [{"from": "2026-11-02", "to": "2026-11-03", "place": "Busan office",
                    "city": "Busan"}]
    })
}

#[test]
fn an_official_is_checked_into_typed_values_and_written_back_canonically() {
    let Record::Official(official) = Record::from_json(Kind::Officials, night_nurse()).unwrap()
    else {
        panic!("an official");
    };
    assert_eq!(official.id, "u123");
    assert_eq!(official.workstations.len(), 3, "repeats dropped");
    assert_eq!(official.workstations[0].to_string(), "10.1.2.3/32");
    let shift = &official.shifts[0];
    assert_eq!(shift.days, [1, 2, 5]);
    assert!(shift.overnight());
    assert_eq!(
        official.roster[0].end_ms - official.roster[0].start_ms,
        9 * 3_600_000
    );
    assert!(official.leave[0].contains(date!(2026 - 12 - 31)));
    assert!(!official.leave[0].contains(date!(2027 - 01 - 01)));
    assert_eq!(official.travel[0].city.as_deref(), Some("Busan"));
    let record = Record::Official(official);
    assert_eq!(record.key(), ["u123"]);
    let written: Value = serde_json::from_str(&record.to_json()).unwrap();
    assert_eq!(written["workstations"][0], "10.1.2.3");
    assert_eq!(written["roster"][0]["start"], "2026-12-12T00:00:00Z");
    round_trip(&record);
}

#[test]
fn an_overnight_shift_covers_the_next_morning_and_sunday_runs_into_monday() {
    let shift = Shift {
        days: vec![1, 7],
        start: 22 * 60,
        end: 6 * 60,
    };
    assert!(shift.covers(1, 23 * 60));
    assert!(shift.covers(2, 5 * 60 + 59));
    assert!(!shift.covers(2, 6 * 60));
    assert!(!shift.covers(1, 21 * 60 + 59));
    assert!(shift.covers(1, 60), "Sunday's shift runs into Monday");
    assert!(!shift.covers(3, 60));
    let day = Shift {
        days: vec![1, 2, 3, 4, 5],
        start: 9 * 60,
        end: 18 * 60,
    };
    assert!(day.covers(3, 9 * 60) && !day.covers(3, 18 * 60) && !day.covers(6, 10 * 60));
}

#[test]
fn every_bad_field_of_an_official_is_named_by_its_path() {
    let errors = refused(
        Kind::Officials,
        json!({
            "id": "", "agency": "AG02", "role": "x\u{7}",
            "workstations": ["10.1.2.3/8", "nope"],
            "shifts": [{"days": [0, 8], "start": "24:00", "end": "25:00"},
                       {"days": [1], "start": "09:00", "end": "09:00"}],
            "roster": [{"start": "2026-12-12T18:00:00+09:00", "end": "2026-12-12T09:00:00+09:00"}],
            "leave": [{"from": "2026-12-31", "to": "2026-12-24"}],
            "travel": [{"from": "2026-13-01", "to": "2026-11-03"}]
        }),
    );
    assert_eq!(
        fields(&errors),
        [
            "id",
            "role",
            "workstations[0]",
            "workstations[1]",
            "shifts[0].days",
            "shifts[0].days",
            "shifts[0].start",
            "shifts[0].end",
            "shifts[1].end",
            "roster[0].end",
            "leave[0].to",
            "travel[0].from",
        ]
    );
    assert_eq!(
        errors[2].message,
        "10.1.2.3/8 has host bits set: the range is 10.0.0.0/8"
    );
    // Missing required fields are named one by one; an unknown field is refused whole.
    assert_eq!(
        fields(&refused(Kind::Officials, json!({}))),
        ["id", "agency", "role"]
    );
    let unknown = refused(Kind::Officials, json!({"id": "u1", "salary": 1}));
    assert_eq!(fields(&unknown), ["record"]);
    assert!(unknown[0].message.contains("unknown field `salary`"));
    let long = "x".repeat(201);
    assert_eq!(
        refused(
            Kind::Officials,
            json!({"id": long, "agency": "a", "role": "r"})
        )[0]
        .message,
        "at most 200 characters"
    );
}

#[test]
fn agencies_default_to_recording_a_purpose_and_check_ranges_and_regions() {
    let value = json!({"id": "AG02", "name": "Mapo Tax Office", "type": "tax",
        "offices": ["Mapo 2F"], "ranges": ["10.1.0.0/16"], "jurisdiction": ["11440", "11410"]});
    let Record::Agency(agency) = Record::from_json(Kind::Agencies, value).unwrap() else {
        panic!("an agency");
    };
    assert!(agency.records_purpose && !agency.national);
    assert_eq!(agency.agency_type.as_deref(), Some("tax"));
    round_trip(&Record::Agency(agency));
    let errors = refused(
        Kind::Agencies,
        json!({"id": "AG03", "name": "NTS", "type": "tax office", "ranges": ["10.1.0.1/16"],
               "jurisdiction": ["11 440"], "national": true, "records_purpose": false}),
    );
    assert_eq!(fields(&errors), ["type", "ranges[0]", "jurisdiction[0]"]);
    let wrong_type = refused(
        Kind::Agencies,
        json!({"id": "a", "name": "b", "national": "yes"}),
    );
    assert!(wrong_type[0].message.contains("expected a boolean"));
}

#[test]
fn networks_know_their_type_and_country() {
    let value = json!({"cidr": "203.0.113.0/24", "type": "VPN", "city": "Seoul", "country": "kr"});
    let Record::Network(network) = Record::from_json(Kind::Networks, value).unwrap() else {
        panic!("a network");
    };
    assert_eq!(network.network_type, NetworkType::Vpn);
    assert_eq!(network.country.as_deref(), Some("KR"));
    let record = Record::Network(network);
    assert_eq!(record.key(), ["203.0.113.0/24"]);
    round_trip(&record);
    let errors = refused(
        Kind::Networks,
        json!({"cidr": "203.0.113.0/33", "type": "cafe", "country": "KOR"}),
    );
    assert_eq!(fields(&errors), ["cidr", "type", "country"]);
}

#[test]
fn a_calendar_line_is_working_hours_or_a_holiday_never_both() {
    let hours = Record::from_json(
        Kind::Calendar,
        json!({"weekday": 6, "start": "09:00", "end": "13:00", "agency": "AG02"}),
    )
    .unwrap();
    assert_eq!(hours.key(), ["AG02", "6"]);
    round_trip(&hours);
    let holiday = Record::from_json(
        Kind::Calendar,
        json!({"date": "2026-12-25", "name": "Christmas"}),
    )
    .unwrap();
    assert_eq!(holiday.key(), ["", "2026-12-25"]);
    round_trip(&holiday);
    assert_eq!(
        fields(&refused(
            Kind::Calendar,
            json!({"weekday": 1, "date": "2026-12-25"})
        )),
        ["weekday"]
    );
    assert_eq!(
        fields(&refused(
            Kind::Calendar,
            json!({"weekday": 8, "start": "18:00", "end": "09:00", "name": "x"})
        )),
        ["name", "weekday"]
    );
    assert_eq!(
        fields(&refused(
            Kind::Calendar,
            json!({"weekday": 1, "start": "18:00", "end": "09:00"})
        )),
        ["end"]
    );
    assert_eq!(
        fields(&refused(Kind::Calendar, json!({"date": "2026-12-25"}))),
        ["name"]
    );
}

#[test]
fn flagged_citizens_are_keyed_by_reporter_and_subject() {
    let flagged = Record::from_json(
        Kind::Flagged,
        json!({"subject_id": "c-77", "reporter": "welfare", "category": "public_figure"}),
    )
    .unwrap();
    assert_eq!(flagged.key(), ["welfare", "c-77"]);
    round_trip(&flagged);
    assert_eq!(
        fields(&refused(
            Kind::Flagged,
            json!({"subject_id": " ", "category": "Public Figure"})
        )),
        ["category", "subject_id"]
    );
}

#[test]
fn a_case_is_open_from_its_opening_until_it_closes() {
    let value = json!({"case_id": "2026-77", "agency": "AG02", "purpose": "benefit review",
        "assigned": ["u123", "u124"], "subjects": ["c-1", "c-2"],
        "opened": "2026-12-01T09:00:00+09:00", "closed": "2026-12-10T18:00:00+09:00",
        "opened_by": "u200"});
    let Record::Case(case) = Record::from_json(Kind::Cases, value).unwrap() else {
        panic!("a case");
    };
    assert!(!case.open_at(case.opened_ms - 1));
    assert!(case.open_at(case.opened_ms));
    assert!(!case.open_at(case.closed_ms.unwrap()));
    let record = Record::Case(case);
    assert_eq!(record.key(), ["AG02", "2026-77"]);
    round_trip(&record);
    let errors = refused(
        Kind::Cases,
        json!({"case_id": "c", "agency": "a", "purpose": "p", "assigned": [],
               "opened": "2026-12-10T00:00:00Z", "closed": "2026-12-01T00:00:00Z"}),
    );
    assert_eq!(fields(&errors), ["assigned", "closed"]);
    assert_eq!(
        fields(&refused(
            Kind::Cases,
            json!({"case_id": "c", "agency": "a", "purpose": "p", "assigned": ["u"],
               "opened": "2026-12-10"})
        )),
        ["opened"]
    );
}

#[test]
fn kinds_are_named_as_their_files() {
    for kind in Kind::ALL {
        assert_eq!(Kind::from_name(kind.name()), Some(kind));
    }
    assert_eq!(Kind::from_name("people"), None);
}

/// Field names of every kind, and values near the valid ones, so that generated entries
/// reach the checks and not only serde's refusal.
const NAMES: &[&str] = &[
    "id",
    "agency",
    "role",
    "office",
    "workstations",
    "shifts",
    "roster",
    "leave",
    "travel",
    "days",
    "start",
    "end",
    "note",
    "from",
    "to",
    "place",
    "city",
    "name",
    "type",
    "offices",
    "ranges",
    "jurisdiction",
    "national",
    "records_purpose",
    "cidr",
    "country",
    "weekday",
    "date",
    "subject_id",
    "reporter",
    "category",
    "case_id",
    "purpose",
    "assigned",
    "subjects",
    "opened",
    "closed",
    "opened_by",
    "other",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u8..10).prop_map(Value::from),
        "[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}".prop_map(Value::from),
        "[0-9]{1,2}:[0-9]{1,2}".prop_map(Value::from),
        "2026-12-0[1-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](Z|\\+09:00|-99:00)".prop_map(Value::from),
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,2})?".prop_map(Value::from),
        "(office|vpn|home|x|public_figure|KR)".prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(proptest::sample::select(NAMES), inner, 0..8).prop_map(
                |m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            ),
        ]
    })
}

proptest! {
    #[test]
    fn any_json_is_checked_without_panicking_and_what_passes_reads_back_equal(
        kind in proptest::sample::select(Kind::ALL.to_vec()),
        value in json_value(),
    ) {
        if let Ok(record) = Record::from_json(kind, value) {
            prop_assert_eq!(record.kind(), kind);
            let again = Record::from_json_text(kind, &record.to_json());
            prop_assert_eq!(again, Ok(record));
        }
    }
}

proptest! {
    #[test]
    fn times_and_addresses_near_the_valid_ones_read_back_equal(
        opened in "(19[0-9]{2}|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T\
                   ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?\
                   (Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])",
        start in "([01]?[0-9]|2[0-4]):[0-5][0-9]",
        end in "([01]?[0-9]|2[0-4]):[0-5][0-9]",
        net in "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,2})?",
    ) {
        let official = json!({"id": "u", "agency": "a", "role": "r", "workstations": [net],
            "shifts": [{"days": [1], "start": start, "end": end}],
            "roster": [{"start": opened, "end": "2100-01-01T00:00:00Z"}]});
        let case = json!({"case_id": "c", "agency": "a", "purpose": "p", "assigned": ["u"],
            "opened": opened});
        for (kind, value) in [(Kind::Officials, official), (Kind::Cases, case)] {
            if let Ok(record) = Record::from_json(kind, value) {
                let again = Record::from_json_text(kind, &record.to_json());
                prop_assert_eq!(again, Ok(record));
            }
        }
    }
}
