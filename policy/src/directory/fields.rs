//! Field checks the directory's kinds share: each reads one written value, names the field
//! when it is not acceptable (in words an operator can act on), and gives the typed value;
//! the `format_*` functions write a typed value back in its one canonical form.

use std::collections::HashSet;
use std::hash::Hash;
use std::net::IpAddr;

use ipnet::IpNet;
use time::Date;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::FieldError;
use crate::calendar::{parse_clock, parse_date};

/// The longest identifier or name.
pub(super) const MAX_ID: usize = 200;
/// The longest free text (a note, a purpose).
pub(super) const MAX_TEXT: usize = 2000;
/// The longest code (a region, a category, an agency type).
const MAX_CODE: usize = 64;
/// Minutes in a day: a shift or working hours may end at 24:00.
const DAY_MINUTES: u16 = 24 * 60;

/// The errors of one entry, in the order its fields were checked.
#[derive(Debug, Default)]
pub(super) struct Errors(Vec<FieldError>);

impl Errors {
    pub(super) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// `value` when no field was refused.
    pub(super) fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }

    /// The errors, for an entry that could not be made; never none.
    pub(super) fn refuse<T>(mut self) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            self.add("record", "not acceptable");
        }
        Err(self.0)
    }

    /// A required identifier or name: trimmed, 1 to `max` characters, no control characters.
    pub(super) fn name(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, "required");
        } else {
            self.bounded(field, value, max, false);
        }
        value.to_owned()
    }

    /// An optional name: empty is absent.
    pub(super) fn optional_name(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.bounded(field, value, max, false);
        Some(value.to_owned())
    }

    /// Optional free text (line breaks allowed): empty is absent.
    pub(super) fn optional_text(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.bounded(field, value, MAX_TEXT, true);
        Some(value.to_owned())
    }

    fn bounded(&mut self, field: &str, value: &str, max: usize, multiline: bool) {
        if value.chars().count() > max {
            self.add(field, format!("at most {max} characters"));
        }
        let control = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\t'));
        if value.chars().any(control) {
            self.add(field, "control characters are not allowed");
        }
    }

    /// A code such as a region or a category: 1-64 letters, digits, `-`, `_` or `.`.
    pub(super) fn code(&mut self, field: &str, value: &str) -> String {
        let value = value.trim();
        let valid = (1..=MAX_CODE).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            self.add(
                field,
                "a code of 1-64 letters, digits, '-', '_' or '.', like 11440",
            );
        }
        value.to_owned()
    }

    /// Each item of `list` read by `item` with its path `field[i]`; at most `max` of them.
    pub(super) fn each<E, T>(
        &mut self,
        field: &str,
        list: &[E],
        max: usize,
        mut item: impl FnMut(&mut Self, &str, &E) -> Option<T>,
    ) -> Vec<T> {
        if !self.at_most(field, list.len(), max) {
            return Vec::new();
        }
        list.iter()
            .enumerate()
            .filter_map(|(i, e)| item(self, &format!("{field}[{i}]"), e))
            .collect()
    }

    /// [`Errors::each`] of written values, repeats dropped, order kept.
    pub(super) fn list<T: Clone + Eq + Hash>(
        &mut self,
        field: &str,
        values: &[String],
        max: usize,
        mut item: impl FnMut(&mut Self, &str, &str) -> Option<T>,
    ) -> Vec<T> {
        let mut seen = HashSet::new();
        let mut items = self.each(field, values, max, |e, f, v| item(e, f, v));
        items.retain(|v| seen.insert(v.clone()));
        items
    }

    /// Whether a list's length is within `max`; when not, says so.
    pub(super) fn at_most(&mut self, field: &str, len: usize, max: usize) -> bool {
        if len > max {
            self.add(field, format!("at most {max} entries"));
        }
        len <= max
    }

    /// An address (`10.1.2.3`, one host) or an address range in CIDR notation
    /// (`10.1.0.0/16`) whose host bits are zero.
    pub(super) fn net(&mut self, field: &str, value: &str) -> Option<IpNet> {
        let value = value.trim();
        let parsed = value
            .parse::<IpNet>()
            .ok()
            .or_else(|| value.parse::<IpAddr>().ok().map(IpNet::from));
        match parsed {
            Some(net) if net.trunc() == net => Some(net),
            Some(net) => {
                self.add(
                    field,
                    format!("{value} has host bits set: the range is {}", net.trunc()),
                );
                None
            }
            None => {
                self.add(
                    field,
                    "an IP address or a CIDR range, like 10.1.2.3 or 10.1.0.0/16",
                );
                None
            }
        }
    }

    /// A time of day `HH:MM`; `24:00` only where `end` says it may end the day.
    pub(super) fn clock(&mut self, field: &str, value: &str, end: bool) -> Option<u16> {
        match parse_clock(value) {
            Some(m) if end || m < DAY_MINUTES => Some(m),
            _ => {
                let range = if end {
                    "00:00 to 24:00"
                } else {
                    "00:00 to 23:59"
                };
                self.add(field, format!("a time of day HH:MM, {range}"));
                None
            }
        }
    }

    /// A calendar date `YYYY-MM-DD`.
    pub(super) fn date(&mut self, field: &str, value: &str) -> Option<Date> {
        let date = parse_date(value);
        if date.is_none() {
            self.add(field, "a date YYYY-MM-DD, like 2026-12-07");
        }
        date
    }

    /// An RFC 3339 time with an offset, as Unix milliseconds.
    pub(super) fn instant(&mut self, field: &str, value: &str) -> Option<i64> {
        let parsed = OffsetDateTime::parse(value.trim(), &Rfc3339).ok();
        if parsed.is_none() {
            self.add(
                field,
                "an RFC 3339 time with an offset, like 2026-12-07T09:30:00+09:00",
            );
        }
        parsed.and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
    }

    /// An ISO 8601 weekday: 1 Monday ... 7 Sunday.
    pub(super) fn weekday(&mut self, field: &str, day: u8) -> Option<u8> {
        if (1..=7).contains(&day) {
            Some(day)
        } else {
            self.add(field, "a weekday from 1 (Monday) to 7 (Sunday)");
            None
        }
    }
}

pub(super) fn format_clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

pub(super) fn format_date(date: Date) -> String {
    let month = u8::from(date.month());
    format!("{:04}-{month:02}-{:02}", date.year(), date.day())
}

/// Unix milliseconds as RFC 3339 in UTC.
pub(super) fn format_instant(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// A single host as its address, a range in CIDR notation.
pub(super) fn format_net(net: IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}
