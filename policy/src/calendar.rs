//! Local time for policies: the hour and weekday in the configured time zone, and whether it
//! is a working day (not a weekend, not a public holiday) within working hours.
//!
//! Korean public holidays are the default: the fixed days and the lunisolar ones of the
//! Regulations on Holidays of Government Offices (관공서의 공휴일에 관한 규정) Art. 2, with
//! substitute holidays computed by its Art. 3. Lunisolar dates are tabulated (Korean
//! Astronomy and Space Science Institute calendar) for the years in [`LUNAR`]; temporary
//! holidays the government declares are added by configuration, as are years past the table.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, UtcOffset, Weekday};

/// Which public holidays apply by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Holidays {
    /// Korean public holidays ([`korean_holidays`]).
    #[default]
    Kr,
    /// None: only the configured extra days.
    None,
}

/// The time facts a policy sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LocalTime {
    pub hour: u8,
    pub minute: u8,
    /// 1 Monday ... 7 Sunday (ISO 8601).
    pub weekday: u8,
    pub working_day: bool,
    pub working_hours: bool,
}

/// Working days and hours in one time zone.
#[derive(Debug, Clone)]
pub struct Calendar {
    offset: UtcOffset,
    /// Minutes after midnight: working hours are `[start, end)`.
    start: u16,
    end: u16,
    holidays: BTreeSet<Date>,
}

impl Default for Calendar {
    /// Korea: UTC+09:00 (no daylight saving), 09:00 to 18:00, Korean public holidays.
    fn default() -> Self {
        Self {
            offset: KST,
            start: 9 * 60,
            end: 18 * 60,
            holidays: korean_holidays(),
        }
    }
}

const KST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("time zone {0:?}: write a UTC offset such as \"+09:00\"")]
    Offset(String),
    #[error("working hours {0:?}: write them as \"09:00-18:00\"")]
    Hours(String),
    #[error("holiday {0:?}: write dates as \"2026-06-03\"")]
    Date(String),
}

impl Calendar {
    /// `offset` like `"+09:00"`, `hours` like `"09:00-18:00"`, `extra` dates like
    /// `"2026-06-03"` (temporary holidays, election days).
    pub fn new(
        offset: &str,
        hours: &str,
        holidays: Holidays,
        extra: &[String],
    ) -> Result<Self, CalendarError> {
        let offset = parse_offset(offset).ok_or_else(|| CalendarError::Offset(offset.into()))?;
        let (start, end) = parse_hours(hours).ok_or_else(|| CalendarError::Hours(hours.into()))?;
        let mut days = match holidays {
            Holidays::Kr => korean_holidays(),
            Holidays::None => BTreeSet::new(),
        };
        for text in extra {
            days.insert(parse_date(text).ok_or_else(|| CalendarError::Date(text.clone()))?);
        }
        Ok(Self {
            offset,
            start,
            end,
            holidays: days,
        })
    }

    /// The time zone's offset from UTC.
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The local time at `now` (since the Unix epoch).
    pub fn local(&self, now: Duration) -> LocalTime {
        let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let utc =
            OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let local = utc.to_offset(self.offset);
        let working_day = self.is_working_day(local.date());
        let minutes = u16::from(local.hour()) * 60 + u16::from(local.minute());
        LocalTime {
            hour: local.hour(),
            minute: local.minute(),
            weekday: local.weekday().number_from_monday(),
            working_day,
            working_hours: working_day && (self.start..self.end).contains(&minutes),
        }
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        !is_weekend(date) && !self.holidays.contains(&date)
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn parse_offset(text: &str) -> Option<UtcOffset> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=59).contains(&m) {
        return None;
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

pub(crate) fn parse_clock(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn parse_hours(text: &str) -> Option<(u16, u16)> {
    let (start, end) = text.split_once('-')?;
    let (start, end) = (parse_clock(start)?, parse_clock(end)?);
    (start < end).then_some((start, end))
}

pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// A month and a day.
type MonthDay = (u8, u8);

/// Gregorian dates of Seollal (lunar 1/1), Buddha's Birthday (lunar 4/8) and Chuseok
/// (lunar 8/15), Korean Standard Time.
const LUNAR: &[(i32, MonthDay, MonthDay, MonthDay)] = &[
    (2024, (2, 10), (5, 15), (9, 17)),
    (2025, (1, 29), (5, 5), (10, 6)),
    (2026, (2, 17), (5, 24), (9, 25)),
    (2027, (2, 7), (5, 13), (9, 15)),
    (2028, (1, 27), (5, 2), (10, 3)),
    (2029, (2, 13), (5, 20), (9, 22)),
    (2030, (2, 3), (5, 9), (9, 12)),
    (2031, (1, 23), (5, 28), (10, 1)),
];

/// Days declared by law or decree that the rules below do not produce: election days
/// (Public Official Election Act Art. 34) and temporary holidays already declared.
const DECLARED: &[(i32, u8, u8)] = &[
    (2024, 4, 10), // National Assembly election
    (2024, 10, 1), // Armed Forces Day, temporary holiday
    (2025, 1, 27), // temporary holiday
    (2025, 6, 3),  // presidential election
    (2026, 6, 3),  // local elections
    (2028, 4, 12), // National Assembly election
    (2030, 6, 5),  // local elections
];

/// When a holiday earns a substitute day (Art. 3).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Substitute {
    /// New Year's Day, Memorial Day: never.
    Never,
    /// Seollal and Chuseok: when a day falls on a Sunday or on another holiday.
    SundayOrOverlap,
    /// Children's Day, the national days, Buddha's Birthday, Christmas: when it falls on a
    /// Saturday, a Sunday or another holiday.
    WeekendOrOverlap,
}

/// Korean public holidays for the years of [`LUNAR`], substitute days included.
pub fn korean_holidays() -> BTreeSet<Date> {
    let mut all = BTreeSet::new();
    for &(year, seollal, buddha, chuseok) in LUNAR {
        let mut days: Vec<(Date, Substitute)> = Vec::new();
        let mut fixed = |month: u8, day: u8, rule| {
            if let Some(date) = date(year, month, day) {
                days.push((date, rule));
            }
        };
        fixed(1, 1, Substitute::Never);
        fixed(3, 1, Substitute::WeekendOrOverlap);
        fixed(5, 5, Substitute::WeekendOrOverlap);
        fixed(6, 6, Substitute::Never);
        fixed(8, 15, Substitute::WeekendOrOverlap);
        fixed(10, 3, Substitute::WeekendOrOverlap);
        fixed(10, 9, Substitute::WeekendOrOverlap);
        fixed(12, 25, Substitute::WeekendOrOverlap);
        fixed(buddha.0, buddha.1, Substitute::WeekendOrOverlap);
        for (month, day) in [seollal, chuseok] {
            if let Some(center) = date(year, month, day) {
                for d in [center.previous_day(), Some(center), center.next_day()]
                    .into_iter()
                    .flatten()
                {
                    days.push((d, Substitute::SundayOrOverlap));
                }
            }
        }
        let holidays: BTreeSet<Date> = days.iter().map(|(d, _)| *d).collect();
        // One substitute per holiday day that lost a rest day: a day on which two holidays
        // fall gives one, as does a holiday on a (Saturday or) Sunday.
        for day in &holidays {
            let rules: Vec<Substitute> = days
                .iter()
                .filter(|(d, _)| d == day)
                .map(|(_, r)| *r)
                .collect();
            let overlap = rules.len() > 1;
            let earns = rules.iter().any(|rule| match rule {
                Substitute::Never => false,
                Substitute::SundayOrOverlap => day.weekday() == Weekday::Sunday || overlap,
                Substitute::WeekendOrOverlap => is_weekend(*day) || overlap,
            });
            if earns {
                // The first non-holiday working day after it.
                let mut next = day.next_day();
                while let Some(candidate) = next {
                    if !is_weekend(candidate)
                        && !holidays.contains(&candidate)
                        && !all.contains(&candidate)
                    {
                        all.insert(candidate);
                        break;
                    }
                    next = candidate.next_day();
                }
            }
        }
        all.extend(holidays);
    }
    for &(year, month, day) in DECLARED {
        all.extend(date(year, month, day));
    }
    all
}

fn date(year: i32, month: u8, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        parse_date(text).unwrap_or(Date::MIN)
    }

    #[test]
    fn korean_holidays_include_the_substitute_days_of_the_regulation() {
        let days = korean_holidays();
        // Published calendars: Buddha's Birthday on Children's Day 2025 (substitute 6 May),
        // Chuseok starting on a Sunday 2025 (8 Oct), Seollal on a Sunday 2027 (9 Feb),
        // Chuseok on National Foundation Day 2028 (5 Oct), 1 March 2026 a Sunday (2 Mar),
        // Liberation Day 2026 a Saturday (17 Aug).
        for substitute in [
            "2025-05-06",
            "2025-10-08",
            "2027-02-09",
            "2028-10-05",
            "2026-03-02",
            "2026-08-17",
            "2026-05-25",
        ] {
            assert!(days.contains(&d(substitute)), "{substitute}");
        }
        // Chuseok 2026 ends on a Saturday: Seollal/Chuseok earn no substitute for Saturdays.
        assert!(!days.contains(&d("2026-09-28")));
        // New Year's Day on a Saturday (2028) earns none either.
        assert!(!days.contains(&d("2028-01-03")));
        for holiday in [
            "2026-02-16",
            "2026-02-17",
            "2026-02-18",
            "2026-06-03",
            "2026-10-09",
        ] {
            assert!(days.contains(&d(holiday)), "{holiday}");
        }
    }

    #[test]
    fn local_time_knows_weekends_holidays_and_working_hours() {
        let calendar = Calendar::default();
        let at = |utc: &str| {
            let date = d(&utc[..10]);
            let hour: u8 = utc[11..13].parse().unwrap_or(0);
            let t = date
                .with_hms(hour, 0, 0)
                .map(|t| t.assume_utc().unix_timestamp())
                .unwrap_or(0);
            calendar.local(Duration::from_secs(u64::try_from(t).unwrap_or(0)))
        };
        // Tuesday 8 December 2026, 01:00 UTC = 10:00 KST.
        let tuesday = at("2026-12-08T01");
        assert_eq!((tuesday.hour, tuesday.weekday), (10, 2));
        assert!(tuesday.working_day && tuesday.working_hours);
        // 10:00 UTC = 19:00 KST: a working day, after hours.
        let evening = at("2026-12-08T10");
        assert!(evening.working_day && !evening.working_hours);
        // Christmas (a Friday) and a Saturday are not working days.
        assert!(!at("2026-12-25T01").working_day);
        assert!(!at("2026-12-26T01").working_day);
    }

    #[test]
    fn configuration_is_parsed_strictly() {
        let calendar = Calendar::new(
            "-05:00",
            "08:30-17:00",
            Holidays::None,
            &["2026-12-08".into()],
        );
        let calendar = calendar.unwrap_or_default();
        assert!(!calendar.is_working_day(d("2026-12-08")));
        assert!(
            calendar.is_working_day(d("2026-12-25")),
            "no Korean holidays"
        );
        assert_eq!(
            Calendar::new("KST", "09:00-18:00", Holidays::Kr, &[]).err(),
            Some(CalendarError::Offset("KST".into()))
        );
        assert_eq!(
            Calendar::new("+09:00", "18:00-09:00", Holidays::Kr, &[]).err(),
            Some(CalendarError::Hours("18:00-09:00".into()))
        );
        assert_eq!(
            Calendar::new(
                "+09:00",
                "09:00-18:00",
                Holidays::Kr,
                &["2026-02-30".into()]
            )
            .err(),
            Some(CalendarError::Date("2026-02-30".into()))
        );
    }
}
