//! Archives (RFC 5005 §4, archived feeds, https://www.rfc-editor.org/rfc/rfc5005#section-4):
//! a feed's articles split by the calendar month (UTC) of their `published_at`, one archive
//! document per month that has any, at `<feed>/archive/<YYYY-MM>.<format>` under
//! `/feeds/`. This module owns the month and those names; `build` writes the links between
//! the documents, `ondemand` builds and keeps the archive documents when asked for.

use std::fmt;

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};

/// The path segment between a feed and its months: `world/archive/2026-11.rss`.
const SEGMENT: &str = "/archive/";

/// The most items an archive document holds: a month with more keeps its newest this many
/// (in feed order), so one document stays a size a reader fetches whole and the on-demand
/// cache can keep. Documented in docs/feeds.md.
pub const MONTH_LIMIT: usize = 1000;

/// The `max-age` of a closed month's document (a month before the current one): a day, as
/// its bytes change only when one of its articles is edited or retracted, and a
/// revalidation after that day costs a 304.
pub const CLOSED_MAX_AGE: u32 = 86_400;

/// A calendar month in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl Month {
    /// The month `at` falls in.
    pub fn of(at: DateTime<Utc>) -> Month {
        Month {
            year: at.year(),
            month: at.month(),
        }
    }

    /// Its first instant.
    pub fn start(self) -> DateTime<Utc> {
        (Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0))
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The first instant of the month after it.
    pub fn end(self) -> DateTime<Utc> {
        let next = if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                month: self.month + 1,
                ..self
            }
        };
        next.start()
    }

    /// Its last millisecond, the store's resolution: the inclusive bound of a query of it.
    pub fn last_millisecond(self) -> DateTime<Utc> {
        self.end() - TimeDelta::milliseconds(1)
    }

    /// `2026-11`, exactly as `Display` writes it: four digits, `-`, two digits.
    fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        let digits = |s: &str, n| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) || !digits(month, 2) {
            return None;
        }
        let month = Month {
            year: year.parse().ok()?,
            month: month.parse().ok()?,
        };
        (1..=12).contains(&month.month).then_some(month)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The file name of `feed`'s archive document of `month` with the extension `extension`:
/// `world/archive/2026-11.rss` for the section `world`, `tag/krakow/archive/2026-11.rss`
/// for a feed built on demand. `feed` is a section's slug or a feed's key, which share
/// one name space (a section cannot be called `all`, `tag` or `author`).
pub fn file_name(feed: &str, month: Month, extension: &str) -> String {
    format!("{feed}{SEGMENT}{month}.{extension}")
}

/// `file_name` read back: the feed, the month and the extension; `None` for any other
/// name, a month that is not one (`2026-13`, `2026-1`) included.
pub fn parse(name: &str) -> Option<(&str, Month, &str)> {
    let (feed, file) = name.rsplit_once(SEGMENT)?;
    let (month, extension) = file.split_once('.')?;
    (!feed.is_empty()).then_some(())?;
    Some((feed, Month::parse(month)?, extension))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_have_bounds_in_utc_and_names_that_read_back() {
        let at: DateTime<Utc> = "2026-12-31T23:59:59.999Z".parse().unwrap();
        let december = Month::of(at);
        assert_eq!(december.to_string(), "2026-12");
        assert_eq!(december.start().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(december.end().to_rfc3339(), "2027-01-01T00:00:00+00:00");
        assert_eq!(december.last_millisecond(), at);
        let name = file_name("tag/krakow", december, "atom");
        assert_eq!(name, "tag/krakow/archive/2026-12.atom");
        assert_eq!(parse(&name), Some(("tag/krakow", december, "atom")));
        let offset: DateTime<Utc> = DateTime::parse_from_rfc3339("2027-01-01T00:30:00+01:00")
            .unwrap()
            .to_utc();
        assert_eq!(Month::of(offset), december, "the month is UTC's");
    }

    #[test]
    fn only_well_formed_months_parse() {
        for bad in [
            "world/archive/2026-13.rss",
            "world/archive/2026-00.rss",
            "world/archive/2026-1.rss",
            "world/archive/26-01.rss",
            "world/archive/2026-01",
            "world/archive/x.rss",
            "/archive/2026-01.rss",
            "world/2026-01.rss",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
