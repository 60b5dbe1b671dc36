//! The written forms of the directory's kinds: one JSON object per entry (a line of a JSON
//! lines file, or a CSV row by its header), unknown fields refused, missing fields empty so
//! that `check()` can name each one that is required. `entry()` on a checked value writes its
//! canonical form: trimmed, repeats dropped, single hosts without a prefix length, instants
//! in UTC.

use serde::{Deserialize, Serialize};

use super::fields::{
    Errors, MAX_ID, MAX_TEXT, format_clock, format_date, format_instant, format_net,
};
use super::{
    Agency, CalendarDay, Case, DateRange, DayRule, FieldError, FlaggedCitizen, Network,
    NetworkType, Official, Period, Shift, Travel,
};

/// How many workstations one official may have.
const MAX_WORKSTATIONS: usize = 64;
/// How many shifts one official may have.
const MAX_SHIFTS: usize = 28;
/// How many roster, leave or travel entries one official may have, offices and ranges one
/// agency, and officials one case.
const MAX_ENTRIES: usize = 1000;
/// How many subjects one case may list (a household, a bulk review).
const MAX_SUBJECTS: usize = 10_000;
/// How many region codes one agency may serve.
const MAX_REGIONS: usize = 5000;

fn empty<T>(list: &[T]) -> bool {
    list.is_empty()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfficialEntry {
    pub id: String,
    pub agency: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    /// IP addresses or CIDR ranges.
    #[serde(skip_serializing_if = "empty")]
    pub workstations: Vec<String>,
    #[serde(skip_serializing_if = "empty")]
    pub shifts: Vec<ShiftEntry>,
    #[serde(skip_serializing_if = "empty")]
    pub roster: Vec<PeriodEntry>,
    #[serde(skip_serializing_if = "empty")]
    pub leave: Vec<RangeEntry>,
    #[serde(skip_serializing_if = "empty")]
    pub travel: Vec<TravelEntry>,
}

/// `{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}`; `end` at or before
/// `start` runs overnight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShiftEntry {
    pub days: Vec<u8>,
    pub start: String,
    pub end: String,
}

/// `{"start": "2026-12-07T22:00:00+09:00", "end": "2026-12-08T06:00:00+09:00"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeriodEntry {
    pub start: String,
    pub end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `{"from": "2026-12-24", "to": "2026-12-31"}`, both days included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RangeEntry {
    pub from: String,
    pub to: String,
}

/// A [`RangeEntry`] with where to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TravelEntry {
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgencyEntry {
    pub id: String,
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub agency_type: Option<String>,
    #[serde(skip_serializing_if = "empty")]
    pub offices: Vec<String>,
    /// CIDR ranges.
    #[serde(skip_serializing_if = "empty")]
    pub ranges: Vec<String>,
    /// Region codes.
    #[serde(skip_serializing_if = "empty")]
    pub jurisdiction: Vec<String>,
    pub national: bool,
    /// Absent: true.
    pub records_purpose: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkEntry {
    pub cidr: String,
    /// `office`, `vpn`, `home`, `mobile`, `hosting` or `foreign`.
    #[serde(rename = "type")]
    pub network_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}

/// Working hours (`weekday`, `start`, `end`) or a holiday (`date`, `name`), for `agency` or
/// the whole deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weekday: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlaggedEntry {
    pub subject_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseEntry {
    pub case_id: String,
    pub agency: String,
    pub purpose: String,
    pub assigned: Vec<String>,
    #[serde(skip_serializing_if = "empty")]
    pub subjects: Vec<String>,
    /// RFC 3339.
    pub opened: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_by: Option<String>,
}

fn name_item(errors: &mut Errors, field: &str, value: &str) -> Option<String> {
    Some(errors.name(field, value, MAX_ID))
}

fn code_item(errors: &mut Errors, field: &str, value: &str) -> Option<String> {
    Some(errors.code(field, value))
}

/// Dates `from` to `to` under `field`: both readable, `to` not before `from`.
fn range(errors: &mut Errors, field: &str, from: &str, to: &str) -> Option<DateRange> {
    let from = errors.date(&format!("{field}.from"), from);
    let to = errors.date(&format!("{field}.to"), to);
    let (from, to) = (from?, to?);
    if to < from {
        errors.add(&format!("{field}.to"), "before `from`");
        return None;
    }
    Some(DateRange { from, to })
}

impl OfficialEntry {
    pub fn check(&self) -> Result<Official, Vec<FieldError>> {
        let mut errors = Errors::default();
        let official = Official {
            id: errors.name("id", &self.id, MAX_ID),
            agency: errors.name("agency", &self.agency, MAX_ID),
            role: errors.name("role", &self.role, MAX_ID),
            office: errors.optional_name("office", self.office.as_deref(), MAX_ID),
            workstations: errors.list(
                "workstations",
                &self.workstations,
                MAX_WORKSTATIONS,
                Errors::net,
            ),
            shifts: errors.each("shifts", &self.shifts, MAX_SHIFTS, |e, f, s| s.check(e, f)),
            roster: errors.each("roster", &self.roster, MAX_ENTRIES, |e, f, p| p.check(e, f)),
            leave: errors.each("leave", &self.leave, MAX_ENTRIES, |e, f, r| {
                range(e, f, &r.from, &r.to)
            }),
            travel: errors.each("travel", &self.travel, MAX_ENTRIES, |e, f, t| t.check(e, f)),
        };
        errors.finish(official)
    }
}

impl ShiftEntry {
    fn check(&self, errors: &mut Errors, field: &str) -> Option<Shift> {
        let days_field = format!("{field}.days");
        if self.days.is_empty() {
            errors.add(
                &days_field,
                "at least one weekday, 1 (Monday) to 7 (Sunday)",
            );
        }
        let mut days: Vec<u8> = self
            .days
            .iter()
            .filter_map(|d| errors.weekday(&days_field, *d))
            .collect();
        days.sort_unstable();
        days.dedup();
        let start = errors.clock(&format!("{field}.start"), &self.start, false);
        let end = errors.clock(&format!("{field}.end"), &self.end, true);
        let (start, end) = (start?, end?);
        if start == end {
            errors.add(
                &format!("{field}.end"),
                "the same as `start`: for a whole day write 00:00 to 24:00",
            );
            return None;
        }
        Some(Shift { days, start, end })
    }
}

impl PeriodEntry {
    fn check(&self, errors: &mut Errors, field: &str) -> Option<Period> {
        let start = errors.instant(&format!("{field}.start"), &self.start);
        let end = errors.instant(&format!("{field}.end"), &self.end);
        let note = errors.optional_text(&format!("{field}.note"), self.note.as_deref());
        let (start_ms, end_ms) = (start?, end?);
        if end_ms <= start_ms {
            errors.add(&format!("{field}.end"), "not after `start`");
            return None;
        }
        Some(Period {
            start_ms,
            end_ms,
            note,
        })
    }
}

impl TravelEntry {
    fn check(&self, errors: &mut Errors, field: &str) -> Option<Travel> {
        let place = errors.optional_name(&format!("{field}.place"), self.place.as_deref(), MAX_ID);
        let city = errors.optional_name(&format!("{field}.city"), self.city.as_deref(), MAX_ID);
        Some(Travel {
            days: range(errors, field, &self.from, &self.to)?,
            place,
            city,
        })
    }
}

impl Official {
    pub fn entry(&self) -> OfficialEntry {
        OfficialEntry {
            id: self.id.clone(),
            agency: self.agency.clone(),
            role: self.role.clone(),
            office: self.office.clone(),
            workstations: self.workstations.iter().map(|n| format_net(*n)).collect(),
            shifts: self.shifts.iter().map(Shift::entry).collect(),
            roster: self.roster.iter().map(Period::entry).collect(),
            leave: self.leave.iter().map(DateRange::entry).collect(),
            travel: self.travel.iter().map(Travel::entry).collect(),
        }
    }
}

impl Shift {
    fn entry(&self) -> ShiftEntry {
        ShiftEntry {
            days: self.days.clone(),
            start: format_clock(self.start),
            end: format_clock(self.end),
        }
    }
}

impl Period {
    fn entry(&self) -> PeriodEntry {
        PeriodEntry {
            start: format_instant(self.start_ms),
            end: format_instant(self.end_ms),
            note: self.note.clone(),
        }
    }
}

impl DateRange {
    fn entry(&self) -> RangeEntry {
        RangeEntry {
            from: format_date(self.from),
            to: format_date(self.to),
        }
    }
}

impl Travel {
    fn entry(&self) -> TravelEntry {
        let days = self.days.entry();
        TravelEntry {
            from: days.from,
            to: days.to,
            place: self.place.clone(),
            city: self.city.clone(),
        }
    }
}

impl AgencyEntry {
    pub fn check(&self) -> Result<Agency, Vec<FieldError>> {
        let mut errors = Errors::default();
        let agency = Agency {
            id: errors.name("id", &self.id, MAX_ID),
            name: errors.name("name", &self.name, MAX_ID),
            agency_type: self
                .agency_type
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| errors.code("type", t)),
            offices: errors.list("offices", &self.offices, MAX_ENTRIES, name_item),
            ranges: errors.list("ranges", &self.ranges, MAX_ENTRIES, Errors::net),
            jurisdiction: errors.list("jurisdiction", &self.jurisdiction, MAX_REGIONS, code_item),
            national: self.national,
            records_purpose: self.records_purpose.unwrap_or(true),
        };
        errors.finish(agency)
    }
}

impl Agency {
    pub fn entry(&self) -> AgencyEntry {
        AgencyEntry {
            id: self.id.clone(),
            name: self.name.clone(),
            agency_type: self.agency_type.clone(),
            offices: self.offices.clone(),
            ranges: self.ranges.iter().map(|n| format_net(*n)).collect(),
            jurisdiction: self.jurisdiction.clone(),
            national: self.national,
            records_purpose: Some(self.records_purpose),
        }
    }
}

impl NetworkEntry {
    pub fn check(&self) -> Result<Network, Vec<FieldError>> {
        let mut errors = Errors::default();
        let cidr = errors.net("cidr", &self.cidr);
        let network_type = NetworkType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(self.network_type.trim()));
        if network_type.is_none() {
            errors.add("type", "office, vpn, home, mobile, hosting or foreign");
        }
        let city = errors.optional_name("city", self.city.as_deref(), MAX_ID);
        let country = self
            .country
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| c.to_ascii_uppercase());
        if country
            .as_deref()
            .is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            errors.add("country", "a two-letter ISO 3166 country code, like KR");
        }
        let agency = errors.optional_name("agency", self.agency.as_deref(), MAX_ID);
        match (cidr, network_type) {
            (Some(cidr), Some(network_type)) => errors.finish(Network {
                cidr,
                network_type,
                city,
                country,
                agency,
            }),
            _ => errors.refuse(),
        }
    }
}

impl Network {
    pub fn entry(&self) -> NetworkEntry {
        NetworkEntry {
            cidr: format_net(self.cidr),
            network_type: self.network_type.name().to_owned(),
            city: self.city.clone(),
            country: self.country.clone(),
            agency: self.agency.clone(),
        }
    }
}

impl CalendarEntry {
    pub fn check(&self) -> Result<CalendarDay, Vec<FieldError>> {
        let mut errors = Errors::default();
        let agency = errors.optional_name("agency", self.agency.as_deref(), MAX_ID);
        let rule = match (self.weekday, self.date.as_deref()) {
            (Some(weekday), None) => self.hours(&mut errors, weekday),
            (None, Some(date)) => self.holiday(&mut errors, date),
            _ => {
                errors.add(
                    "weekday",
                    "either `weekday` with `start` and `end` (working hours) or `date` with \
                     `name` (a holiday)",
                );
                None
            }
        };
        match rule {
            Some(rule) => errors.finish(CalendarDay { agency, rule }),
            None => errors.refuse(),
        }
    }

    fn hours(&self, errors: &mut Errors, weekday: u8) -> Option<DayRule> {
        if self.name.is_some() {
            errors.add("name", "only a holiday (`date`) has a name");
        }
        let weekday = errors.weekday("weekday", weekday);
        let start = errors.clock("start", self.start.as_deref().unwrap_or_default(), false);
        let end = errors.clock("end", self.end.as_deref().unwrap_or_default(), true);
        let (weekday, start, end) = (weekday?, start?, end?);
        if end <= start {
            errors.add("end", "after `start` (working hours do not run overnight)");
            return None;
        }
        Some(DayRule::Hours {
            weekday,
            start,
            end,
        })
    }

    fn holiday(&self, errors: &mut Errors, date: &str) -> Option<DayRule> {
        if self.start.is_some() || self.end.is_some() {
            errors.add(
                "start",
                "only working hours (`weekday`) have `start` and `end`",
            );
        }
        let date = errors.date("date", date);
        let name = errors.name("name", self.name.as_deref().unwrap_or_default(), MAX_ID);
        Some(DayRule::Holiday { date: date?, name })
    }
}

impl CalendarDay {
    pub fn entry(&self) -> CalendarEntry {
        let mut entry = CalendarEntry {
            agency: self.agency.clone(),
            ..CalendarEntry::default()
        };
        match &self.rule {
            DayRule::Hours {
                weekday,
                start,
                end,
            } => {
                entry.weekday = Some(*weekday);
                entry.start = Some(format_clock(*start));
                entry.end = Some(format_clock(*end));
            }
            DayRule::Holiday { date, name } => {
                entry.date = Some(format_date(*date));
                entry.name = Some(name.clone());
            }
        }
        entry
    }
}

impl FlaggedEntry {
    pub fn check(&self) -> Result<FlaggedCitizen, Vec<FieldError>> {
        let mut errors = Errors::default();
        let category = self.category.trim();
        let valid = (1..=64).contains(&category.len())
            && category
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            errors.add(
                "category",
                "a word of lower-case letters, digits and '_', like public_figure",
            );
        }
        let flagged = FlaggedCitizen {
            reporter: errors.optional_name("reporter", self.reporter.as_deref(), MAX_ID),
            subject_id: errors.name("subject_id", &self.subject_id, MAX_ID),
            category: category.to_owned(),
            note: errors.optional_text("note", self.note.as_deref()),
        };
        errors.finish(flagged)
    }
}

impl FlaggedCitizen {
    pub fn entry(&self) -> FlaggedEntry {
        FlaggedEntry {
            subject_id: self.subject_id.clone(),
            reporter: self.reporter.clone(),
            category: self.category.clone(),
            note: self.note.clone(),
        }
    }
}

impl CaseEntry {
    pub fn check(&self) -> Result<Case, Vec<FieldError>> {
        let mut errors = Errors::default();
        let case_id = errors.name("case_id", &self.case_id, MAX_ID);
        let agency = errors.name("agency", &self.agency, MAX_ID);
        let purpose = errors.name("purpose", &self.purpose, MAX_TEXT);
        if self.assigned.is_empty() {
            errors.add("assigned", "at least one official");
        }
        let assigned = errors.list("assigned", &self.assigned, MAX_ENTRIES, name_item);
        let subjects = errors.list("subjects", &self.subjects, MAX_SUBJECTS, name_item);
        let opened = errors.instant("opened", &self.opened);
        let closed = match self.closed.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(errors.instant("closed", text)),
        };
        let opened_by = errors.optional_name("opened_by", self.opened_by.as_deref(), MAX_ID);
        if let (Some(opened), Some(Some(closed))) = (opened, closed)
            && closed < opened
        {
            errors.add("closed", "before `opened`");
        }
        let (Some(opened_ms), closed_ms) = (opened, closed.flatten()) else {
            return errors.refuse();
        };
        errors.finish(Case {
            case_id,
            agency,
            purpose,
            assigned,
            subjects,
            opened_ms,
            closed_ms,
            opened_by,
        })
    }
}

impl Case {
    pub fn entry(&self) -> CaseEntry {
        CaseEntry {
            case_id: self.case_id.clone(),
            agency: self.agency.clone(),
            purpose: self.purpose.clone(),
            assigned: self.assigned.clone(),
            subjects: self.subjects.clone(),
            opened: format_instant(self.opened_ms),
            closed: self.closed_ms.map(format_instant),
            opened_by: self.opened_by.clone(),
        }
    }
}
