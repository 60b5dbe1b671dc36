//! Reference data the access-record detectors read (issue 10): what a deployment knows as
//! configuration or HR data — officials, agencies, networks, the working calendar, flagged
//! citizens and the case-management feed — imported with `anyid audit import-directory`.
//!
//! Each kind has a written form ([`entries`]: what an import file holds, unknown fields
//! refused) and a checked form here, with typed values. `check()` on a written form names
//! every field that is not acceptable; `entry()` on a checked value gives its canonical written
//! form back, which is what the store keeps. Detectors explain accesses with this data
//! (`../shared/reference/detection-methods.md` §2-4: assigned cases, duty rosters and shifts,
//! leave and approved travel, network types), so times are kept as the access record keeps
//! them: instants in Unix milliseconds, local dates and times of day in the deployment's time
//! zone.

pub mod entries;
mod fields;

use ipnet::IpNet;
use serde::Serialize;
use time::Date;

pub use entries::{
    AgencyEntry, CalendarEntry, CaseEntry, FlaggedEntry, NetworkEntry, OfficialEntry, PeriodEntry,
    RangeEntry, ShiftEntry, TravelEntry,
};

/// A field of an entry that is not acceptable, and why (`shifts[0].start`: the field's path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The kinds of reference data, in the order an import of a whole folder reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Officials,
    Agencies,
    Networks,
    Calendar,
    Flagged,
    Cases,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Officials,
        Kind::Agencies,
        Kind::Networks,
        Kind::Calendar,
        Kind::Flagged,
        Kind::Cases,
    ];

    /// The name operators write (`--kind`) and import files are named after.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Officials => "officials",
            Kind::Agencies => "agencies",
            Kind::Networks => "networks",
            Kind::Calendar => "calendar",
            Kind::Flagged => "flagged",
            Kind::Cases => "cases",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// An official as HR and duty planning know them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Official {
    pub id: String,
    pub agency: String,
    pub role: String,
    pub office: Option<String>,
    /// The addresses (single hosts) and ranges of their workstations.
    pub workstations: Vec<IpNet>,
    /// Their regular working times.
    pub shifts: Vec<Shift>,
    /// Duty roster and rotation assignments outside the regular shifts.
    pub roster: Vec<Period>,
    pub leave: Vec<DateRange>,
    /// Approved official travel.
    pub travel: Vec<Travel>,
}

/// A regular shift on some weekdays, local time; one that ends at or before its start runs
/// overnight into the next day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    /// ISO weekdays the shift starts on (1 Monday ... 7 Sunday), ascending.
    pub days: Vec<u8>,
    /// Minutes after midnight.
    pub start: u16,
    /// Minutes after midnight, up to 1440 (24:00).
    pub end: u16,
}

impl Shift {
    pub fn overnight(&self) -> bool {
        self.end <= self.start
    }

    /// Whether the shift covers `minute` after midnight of ISO weekday `weekday` (local).
    pub fn covers(&self, weekday: u8, minute: u16) -> bool {
        let starts_on = |day: u8| self.days.contains(&day);
        if !self.overnight() {
            return starts_on(weekday) && (self.start..self.end).contains(&minute);
        }
        let previous = if weekday == 1 { 7 } else { weekday - 1 };
        (starts_on(weekday) && minute >= self.start) || (starts_on(previous) && minute < self.end)
    }
}

/// A stretch of time, `[start, end)` in Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub start_ms: i64,
    pub end_ms: i64,
    pub note: Option<String>,
}

impl Period {
    pub fn covers(&self, at_ms: i64) -> bool {
        (self.start_ms..self.end_ms).contains(&at_ms)
    }
}

/// Local dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: Date,
    pub to: Date,
}

impl DateRange {
    pub fn contains(&self, date: Date) -> bool {
        (self.from..=self.to).contains(&date)
    }
}

/// Approved official travel: the days, and where to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Travel {
    pub days: DateRange,
    /// Where, in words (an office, a conference).
    pub place: Option<String>,
    /// The city, as networks name theirs.
    pub city: Option<String>,
}

/// An agency: where it works, what it covers, and what its back office records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    pub id: String,
    pub name: String,
    /// What kind of agency (`tax`, `welfare`, `police`): its officials' peer group.
    pub agency_type: Option<String>,
    pub offices: Vec<String>,
    /// Its own networks.
    pub ranges: Vec<IpNet>,
    /// Region codes it serves (empty with `national`).
    pub jurisdiction: Vec<String>,
    /// It serves the whole country.
    pub national: bool,
    /// Its back office records a purpose with each access; where it does not, a missing
    /// purpose says nothing.
    pub records_purpose: bool,
}

/// What an address range is: the only locations worth comparing are where people are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkType {
    Office,
    /// A VPN egress or corporate gateway: says nothing about where the user is.
    Vpn,
    Home,
    Mobile,
    Hosting,
    Foreign,
}

impl NetworkType {
    pub const ALL: [NetworkType; 6] = [
        NetworkType::Office,
        NetworkType::Vpn,
        NetworkType::Home,
        NetworkType::Mobile,
        NetworkType::Hosting,
        NetworkType::Foreign,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NetworkType::Office => "office",
            NetworkType::Vpn => "vpn",
            NetworkType::Home => "home",
            NetworkType::Mobile => "mobile",
            NetworkType::Hosting => "hosting",
            NetworkType::Foreign => "foreign",
        }
    }
}

/// An address range and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub cidr: IpNet,
    pub network_type: NetworkType,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// The agency whose network it is.
    pub agency: Option<String>,
}

/// One line of the working calendar: a weekday's working hours or a holiday, for one agency
/// or (without) the whole deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub agency: Option<String>,
    pub rule: DayRule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayRule {
    /// Working hours `[start, end)` in minutes after midnight on an ISO weekday; a weekday
    /// without hours is not a working day.
    Hours {
        weekday: u8,
        start: u16,
        end: u16,
    },
    Holiday {
        date: Date,
        name: String,
    },
}

impl CalendarDay {
    /// The day it is about: the weekday's number (`1`..`7`) or the holiday's date.
    pub fn day(&self) -> String {
        match &self.rule {
            DayRule::Hours { weekday, .. } => weekday.to_string(),
            DayRule::Holiday { date, .. } => fields::format_date(*date),
        }
    }
}

/// A citizen whose record draws curiosity (a public figure): accesses to it deserve a look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedCitizen {
    /// The relying party whose subject ids it uses; none: any.
    pub reporter: Option<String>,
    pub subject_id: String,
    /// `public_figure`, or another lower-case word.
    pub category: String,
    pub note: Option<String>,
}

/// A case of the case-management feed: who works on whose records, for what, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub case_id: String,
    pub agency: String,
    pub purpose: String,
    /// Officials assigned to it.
    pub assigned: Vec<String>,
    /// Whose records it concerns.
    pub subjects: Vec<String>,
    pub opened_ms: i64,
    pub closed_ms: Option<i64>,
    /// Who opened it: a case an official opened for themselves explains less.
    pub opened_by: Option<String>,
}

impl Case {
    /// Open at `at_ms` (a grace period after closing is the detector's to choose).
    pub fn open_at(&self, at_ms: i64) -> bool {
        at_ms >= self.opened_ms && self.closed_ms.is_none_or(|closed| at_ms < closed)
    }
}

/// A checked entry of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Official(Official),
    Agency(Agency),
    Network(Network),
    Calendar(CalendarDay),
    Flagged(FlaggedCitizen),
    Case(Case),
}

impl Record {
    /// Read and check a written entry of `kind`: the serde error (an unknown field, a value
    /// of the wrong type) as the field `record`, or every field `check()` refuses.
    pub fn from_json(kind: Kind, value: serde_json::Value) -> Result<Record, Vec<FieldError>> {
        fn read<T: serde::de::DeserializeOwned>(
            value: serde_json::Value,
        ) -> Result<T, Vec<FieldError>> {
            serde_json::from_value(value).map_err(|e| {
                vec![FieldError {
                    field: "record".into(),
                    message: e.to_string(),
                }]
            })
        }
        Ok(match kind {
            Kind::Officials => Record::Official(read::<OfficialEntry>(value)?.check()?),
            Kind::Agencies => Record::Agency(read::<AgencyEntry>(value)?.check()?),
            Kind::Networks => Record::Network(read::<NetworkEntry>(value)?.check()?),
            Kind::Calendar => Record::Calendar(read::<CalendarEntry>(value)?.check()?),
            Kind::Flagged => Record::Flagged(read::<FlaggedEntry>(value)?.check()?),
            Kind::Cases => Record::Case(read::<CaseEntry>(value)?.check()?),
        })
    }

    /// [`Record::from_json`] of stored text.
    pub fn from_json_text(kind: Kind, text: &str) -> Result<Record, Vec<FieldError>> {
        let value = serde_json::from_str(text).map_err(|e| {
            vec![FieldError {
                field: "record".into(),
                message: e.to_string(),
            }]
        })?;
        Record::from_json(kind, value)
    }

    pub fn kind(&self) -> Kind {
        match self {
            Record::Official(_) => Kind::Officials,
            Record::Agency(_) => Kind::Agencies,
            Record::Network(_) => Kind::Networks,
            Record::Calendar(_) => Kind::Calendar,
            Record::Flagged(_) => Kind::Flagged,
            Record::Case(_) => Kind::Cases,
        }
    }

    /// What identifies it within its kind: a re-import with the same key replaces it.
    /// Officials and agencies: the id; networks: the range; calendar: the agency (empty for
    /// all) and the day; flagged citizens: the reporter (empty for any) and the subject;
    /// cases: the agency and the case id.
    pub fn key(&self) -> Vec<String> {
        let scope = |s: &Option<String>| s.clone().unwrap_or_default();
        match self {
            Record::Official(o) => vec![o.id.clone()],
            Record::Agency(a) => vec![a.id.clone()],
            Record::Network(n) => vec![n.cidr.to_string()],
            Record::Calendar(c) => vec![scope(&c.agency), c.day()],
            Record::Flagged(f) => vec![scope(&f.reporter), f.subject_id.clone()],
            Record::Case(c) => vec![c.agency.clone(), c.case_id.clone()],
        }
    }

    /// The canonical written form as JSON: reading it back gives this record.
    pub fn to_json(&self) -> String {
        let json = match self {
            Record::Official(o) => serde_json::to_string(&o.entry()),
            Record::Agency(a) => serde_json::to_string(&a.entry()),
            Record::Network(n) => serde_json::to_string(&n.entry()),
            Record::Calendar(c) => serde_json::to_string(&c.entry()),
            Record::Flagged(f) => serde_json::to_string(&f.entry()),
            Record::Case(c) => serde_json::to_string(&c.entry()),
        };
        // Plain structs of strings, numbers and lists always serialise.
        json.unwrap_or_default()
    }
}

/// A checked kind, taken out of a [`Record`] (for stores that read one kind).
pub trait OfKind: Sized {
    const KIND: Kind;
    fn from_record(record: Record) -> Option<Self>;
}

macro_rules! of_kind {
    ($($type:ty => $kind:ident / $variant:ident),* $(,)?) => {$(
        impl OfKind for $type {
            const KIND: Kind = Kind::$kind;
            fn from_record(record: Record) -> Option<Self> {
                match record {
                    Record::$variant(value) => Some(value),
                    _ => None,
                }
            }
        }
    )*};
}

of_kind!(
    Official => Officials / Official,
    Agency => Agencies / Agency,
    Network => Networks / Network,
    CalendarDay => Calendar / Calendar,
    FlaggedCitizen => Flagged / Flagged,
    Case => Cases / Case,
);

#[cfg(test)]
mod tests;
