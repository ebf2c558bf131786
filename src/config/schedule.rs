//! A cron schedule as sections and sources write it: parsed once, kept with its text.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

const DEFAULT_SCHEDULE: &str = "0 */5 * * * *";

/// A cron expression as the `cron` crate reads it (6 or 7 fields, seconds first), kept with
/// its text so it can be written back as the admin typed it.
#[derive(Debug, Clone)]
pub struct Schedule {
    text: String,
    parsed: cron::Schedule,
}

impl Schedule {
    pub(crate) fn parse(text: &str) -> Result<Schedule, String> {
        let fields = text.split_whitespace().count();
        if fields == 5 {
            return Err(format!(
                "{text:?} has 5 fields; pressfeed's cron has seconds first, e.g. \"0 {text}\""
            ));
        }
        let parsed = cron::Schedule::from_str(text).map_err(|e| {
            // cron's message echoes the expression and a caret under the fault on lines of
            // their own; its last line says what is wrong, and a problem is one line.
            let e = e.to_string();
            let reason = e.lines().last().unwrap_or_default();
            format!("{text:?} is not a cron expression ({reason})")
        })?;
        Ok(Schedule {
            text: text.to_owned(),
            parsed,
        })
    }

    /// The expression as written in the file.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first firing strictly after `after`.
    pub fn next_after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.parsed.after(&after).next()
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::parse(DEFAULT_SCHEDULE).expect("the default schedule parses")
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Schedule::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_needs_six_fields_and_says_so() {
        let err = Schedule::parse("*/5 * * * *").unwrap_err();
        assert!(err.contains("seconds first"), "{err}");
        assert!(Schedule::parse("0 */5 * * * *").is_ok());
        assert!(Schedule::parse("0 0 9 * * Mon-Fri").is_ok());
        assert!(Schedule::parse("every minute").is_err());
    }
}
