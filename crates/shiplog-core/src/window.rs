//! Time windows and the text forms users give for their bounds.
//!
//! Every metric is computed over a half-open window `[since, until)`. A deployment belongs to a window
//! by its finish time, a change by its first deployment's finish time, and an incident by its opening
//! time. Windows are split into weeks or months for trends; both splits use UTC, with ISO weeks that
//! start on Monday.

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::Serialize;

/// Why a window or a bound could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// The text is not a relative duration, a date or a timestamp.
    #[error(
        "expected a relative duration like 90d, 12w or 36h, a date like 2026-03-03, or an RFC 3339 timestamp with an offset like 2026-03-03T14:00:00Z; got {0:?}"
    )]
    BadBound(String),
    /// The text is not a duration.
    #[error("expected a duration like 90m, 24h, 2d, 1w, 3mo or 1y; got {0:?}")]
    BadDuration(String),
    /// The window's start is not before its end.
    #[error("the window is empty: since ({since}) must be before until ({until})")]
    Empty {
        /// The start given.
        since: Timestamp,
        /// The end given.
        until: Timestamp,
    },
    /// Date arithmetic left the supported range of years.
    #[error("the date {0:?} is outside the supported range")]
    OutOfRange(String),
}

/// A half-open time window `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeWindow {
    /// The first instant inside the window.
    pub since: Timestamp,
    /// The first instant after the window.
    pub until: Timestamp,
}

impl TimeWindow {
    /// A window; `since` must be before `until`.
    pub fn new(since: Timestamp, until: Timestamp) -> Result<Self, WindowError> {
        if since >= until {
            return Err(WindowError::Empty { since, until });
        }
        Ok(Self { since, until })
    }

    /// Whether `at` lies inside the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.since <= at && at < self.until
    }

    /// The window's length.
    pub fn duration(&self) -> SignedDuration {
        self.until.duration_since(self.since)
    }

    /// The window's length in days (fractional).
    pub fn days(&self) -> f64 {
        self.duration().as_secs_f64() / 86_400.0
    }

    /// Splits the window into calendar periods (UTC), clipped to the window. The first and the last
    /// period may be partial.
    pub fn split(&self, period: Period) -> Result<Vec<TimeWindow>, WindowError> {
        let mut out = Vec::new();
        let mut start = self.since;
        while start < self.until {
            let next = period
                .next_boundary(start)
                .ok_or_else(|| WindowError::OutOfRange(start.to_string()))?;
            let end = next.min(self.until);
            out.push(TimeWindow {
                since: start,
                until: end,
            });
            start = end;
        }
        Ok(out)
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} .. {}", self.since, self.until)
    }
}

/// A calendar period used to split a window into trend rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// ISO weeks, Monday 00:00 UTC to the next Monday.
    Week,
    /// Calendar months, the 1st 00:00 UTC to the next 1st.
    Month,
}

impl Period {
    /// The first period boundary strictly after `at`.
    fn next_boundary(self, at: Timestamp) -> Option<Timestamp> {
        let date = at.to_zoned(TimeZone::UTC).date();
        let next: Date = match self {
            Period::Week => {
                let days_to_monday = 7 - i64::from(date.weekday().to_monday_zero_offset());
                date.checked_add(days_to_monday.days()).ok()?
            }
            Period::Month => date.first_of_month().checked_add(1.month()).ok()?,
        };
        next.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
    }

    /// A short label for the period that starts at `start` (e.g. `2026-W10`, `2026-03`).
    pub fn label(self, start: Timestamp) -> String {
        let date = start.to_zoned(TimeZone::UTC).date();
        match self {
            Period::Week => {
                let iso = date.iso_week_date();
                format!("{}-W{:02}", iso.year(), iso.week())
            }
            Period::Month => format!("{}-{:02}", date.year(), date.month()),
        }
    }
}

/// Parses a window bound: a relative duration back from `now` (`90d`, `12w`, `36h`), a date
/// (`2026-03-03`, meaning 00:00 UTC that day), or an RFC 3339 timestamp with an offset.
///
/// ```
/// use shiplog_core::window::parse_bound;
/// let now: jiff::Timestamp = "2026-03-31T12:00:00Z".parse().unwrap();
/// assert_eq!(parse_bound("30d", now).unwrap().to_string(), "2026-03-01T12:00:00Z");
/// assert_eq!(parse_bound("2026-03-03", now).unwrap().to_string(), "2026-03-03T00:00:00Z");
/// ```
pub fn parse_bound(text: &str, now: Timestamp) -> Result<Timestamp, WindowError> {
    let text = text.trim();
    let bad = || WindowError::BadBound(text.to_owned());
    if let Some(number) = text.strip_suffix(['d', 'w', 'h'])
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
    {
        let back = parse_duration(text).map_err(|_| bad())?;
        return now
            .checked_sub(back)
            .map_err(|_| WindowError::OutOfRange(text.to_owned()));
    }
    if let Ok(date) = text.parse::<Date>()
        && text.len() == 10
    {
        return date
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| WindowError::OutOfRange(text.to_owned()));
    }
    parse_timestamp(text).ok_or_else(bad)
}

/// Parses a duration like `90s`, `30m`, `24h`, `2d`, `1w`, `3mo` (a month is 30 days) or `1y`
/// (a year is 365 days).
///
/// ```
/// use shiplog_core::window::parse_duration;
/// assert_eq!(parse_duration("36h").unwrap().as_secs(), 36 * 3600);
/// assert_eq!(parse_duration("3mo").unwrap().as_secs(), 90 * 86_400);
/// assert_eq!(parse_duration("1y").unwrap().as_secs(), 365 * 86_400);
/// assert!(parse_duration("mo").is_err());
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<SignedDuration, WindowError> {
    let text = text.trim();
    let bad = || WindowError::BadDuration(text.to_owned());
    // `mo` (months) is the one two-letter unit; `m` alone is minutes.
    let (unit, number) = match text.strip_suffix("mo") {
        Some(number) => ('M', number),
        None => {
            let unit = text.chars().last().ok_or_else(bad)?;
            (unit, &text[..text.len() - unit.len_utf8()])
        }
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        's' => Some(n),
        'm' => n.checked_mul(60),
        'h' => n.checked_mul(3600),
        'd' => n.checked_mul(86_400),
        'w' => n.checked_mul(7 * 86_400),
        // Fixed lengths, so that a duration is the same span whenever it is used.
        'M' => n.checked_mul(30 * 86_400),
        'y' => n.checked_mul(365 * 86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    Ok(SignedDuration::from_secs(seconds))
}

/// Parses an RFC 3339 timestamp that carries an offset (`Z` or `+hh:mm`). Naive timestamps without an
/// offset are rejected: their instant is ambiguous.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    // jiff's Timestamp parser requires an offset, which is exactly the rule we want.
    text.parse::<Timestamp>().ok()
}

/// The instants shiplog can hold (jiff's range, which keeps every offset of a timestamp
/// representable), as error messages state them.
pub const TIMESTAMP_RANGE: &str = "-009999-01-02T01:59:59Z to 9999-12-30T22:00:00Z";

/// What a timestamp `text` that [`parse_timestamp`] refused was expected to be: `usual` (e.g. "an
/// RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z)"), or, for a well-formed
/// timestamp outside [`TIMESTAMP_RANGE`] such as `9999-12-31T23:59:59Z`, a time in that range.
///
/// ```
/// use shiplog_core::window::expected_timestamp;
///
/// assert_eq!(
///     expected_timestamp("9999-12-31T23:59:59Z", "an RFC 3339 timestamp"),
///     "a time from -009999-01-02T01:59:59Z to 9999-12-30T22:00:00Z (shiplog's supported range)"
/// );
/// assert_eq!(expected_timestamp("2026-03-03 14:00", "an RFC 3339 timestamp"), "an RFC 3339 timestamp");
/// ```
pub fn expected_timestamp(text: &str, usual: &str) -> String {
    let text = text.trim();
    let civil = text.strip_suffix(['Z', 'z']).or_else(|| {
        let cut = text.len().checked_sub(6)?;
        let (head, offset) = (text.get(..cut)?, text.get(cut..)?);
        let b = offset.as_bytes();
        (matches!(b[0], b'+' | b'-') && b[3] == b':').then_some(head)
    });
    match civil.map(str::parse::<jiff::civil::DateTime>) {
        Some(Ok(_)) => format!("a time from {TIMESTAMP_RANGE} (shiplog's supported range)"),
        _ => usual.to_owned(),
    }
}

/// The UTC calendar day of `at`, used to count deployment days.
pub fn utc_day(at: Timestamp) -> Date {
    at.to_zoned(TimeZone::UTC).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn huge_relative_bounds_are_errors_not_panics() {
        let now = ts("2026-03-31T12:00:00Z");
        assert!(matches!(
            parse_bound("3000000000000000h", now),
            Err(WindowError::BadBound(_))
        ));
        assert!(matches!(
            parse_bound("300000000000000h", now),
            Err(WindowError::OutOfRange(_))
        ));
    }

    #[test]
    fn bounds_parse_in_every_form() {
        let now = ts("2026-03-31T12:00:00Z");
        assert_eq!(parse_bound("90d", now).unwrap(), ts("2025-12-31T12:00:00Z"));
        assert_eq!(parse_bound("2w", now).unwrap(), ts("2026-03-17T12:00:00Z"));
        assert_eq!(parse_bound("36h", now).unwrap(), ts("2026-03-30T00:00:00Z"));
        assert_eq!(
            parse_bound("2026-03-03T14:00:00+02:00", now).unwrap(),
            ts("2026-03-03T12:00:00Z")
        );
        for bad in [
            "",
            "d",
            "90x",
            "2026-03-03T14:00:00",
            "yesterday",
            "2026-3-3",
        ] {
            assert!(
                matches!(parse_bound(bad, now), Err(WindowError::BadBound(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn naive_timestamps_are_rejected() {
        assert!(parse_timestamp("2026-03-03T14:00:00").is_none());
        assert!(parse_timestamp("2026-03-03 14:00:00Z").is_some());
        assert!(parse_timestamp("2026-03-03T14:00:00Z").is_some());
    }

    #[test]
    fn windows_split_into_iso_weeks_and_months() {
        // 2026-03-04 is a Wednesday.
        let window =
            TimeWindow::new(ts("2026-03-04T00:00:00Z"), ts("2026-03-20T00:00:00Z")).unwrap();
        let weeks = window.split(Period::Week).unwrap();
        let starts: Vec<String> = weeks.iter().map(|w| w.since.to_string()).collect();
        assert_eq!(
            starts,
            [
                "2026-03-04T00:00:00Z",
                "2026-03-09T00:00:00Z",
                "2026-03-16T00:00:00Z"
            ]
        );
        assert_eq!(weeks[2].until, ts("2026-03-20T00:00:00Z"));
        assert_eq!(Period::Week.label(weeks[1].since), "2026-W11");

        let window =
            TimeWindow::new(ts("2026-01-15T00:00:00Z"), ts("2026-03-02T00:00:00Z")).unwrap();
        let months = window.split(Period::Month).unwrap();
        assert_eq!(months.len(), 3);
        assert_eq!(months[1].since, ts("2026-02-01T00:00:00Z"));
        assert_eq!(Period::Month.label(months[2].since), "2026-03");
    }

    #[test]
    fn empty_windows_are_rejected() {
        let t = ts("2026-03-04T00:00:00Z");
        assert!(matches!(
            TimeWindow::new(t, t),
            Err(WindowError::Empty { .. })
        ));
    }
}
