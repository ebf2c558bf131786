//! `GET /admin/api/schedule?cron=<expr>`: the next three run times of a cron expression,
//! so the admin page can explain a schedule before it is saved. It reads nothing and
//! writes nothing; the rules are `config::Schedule`'s, the same a section is checked by.

use chrono::{DateTime, SecondsFormat, Utc};
use http::{Response, StatusCode};
use serde::Serialize;

use super::error::{ApiError, json_response};
use crate::config::Schedule;
use crate::http::Body;

/// How many run times are shown: enough to see the pattern, few enough to read at a glance.
const SHOWN: usize = 3;

/// Answers with `{"next": [rfc3339, …]}`; fewer than three when the schedule ends (a cron
/// with a year field can), 422 naming `schedule` when `cron` is missing or not valid.
pub fn next(query: Option<&str>, now: DateTime<Utc>) -> Result<Response<Body>, ApiError> {
    #[derive(Serialize)]
    struct Next {
        next: Vec<String>,
    }
    let text = query
        .into_iter()
        .flat_map(|q| url::form_urlencoded::parse(q.as_bytes()))
        .find(|(key, _)| key == "cron")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| ApiError::invalid("schedule", "give the cron expression as ?cron="))?;
    let schedule = Schedule::parse(text.trim()).map_err(|m| ApiError::invalid("schedule", m))?;
    Ok(json_response(
        StatusCode::OK,
        &Next {
            next: runs(&schedule, now),
        },
    ))
}

fn runs(schedule: &Schedule, now: DateTime<Utc>) -> Vec<String> {
    let mut out = Vec::with_capacity(SHOWN);
    let mut after = now;
    while out.len() < SHOWN {
        let Some(at) = schedule.next_after(after) else {
            break;
        };
        out.push(at.to_rfc3339_opts(SecondsFormat::Secs, true));
        after = at;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_runs_strictly_after_now_in_order() {
        let now = DateTime::parse_from_rfc3339("2026-01-05T08:59:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let schedule = Schedule::parse("0 0 9 * * Mon-Fri").unwrap();
        assert_eq!(
            runs(&schedule, now),
            [
                "2026-01-05T09:00:00Z",
                "2026-01-06T09:00:00Z",
                "2026-01-07T09:00:00Z"
            ]
        );
    }

    #[test]
    fn a_bad_or_missing_cron_names_the_schedule_field() {
        let now = Utc::now();
        for query in [
            None,
            Some("x=1"),
            Some("cron=*%2F5+*+*+*+*"),
            Some("cron=nope"),
        ] {
            match next(query, now) {
                Err(ApiError::Invalid { field, .. }) => {
                    assert_eq!(field.as_deref(), Some("schedule"), "{query:?}")
                }
                other => panic!("{query:?}: {:?}", other.map(|r| r.status())),
            }
        }
    }
}
