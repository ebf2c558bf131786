//! `GET /admin/api/sources`: each `[[sources]]` entry of `site.toml` and how it is doing (last
//! success, last error, next poll, articles seen, upserted, skipped, retracted); and
//! `POST /admin/api/sources/{name}/poll`, which a CMS calls when it publishes so the source
//! polls now rather than at its next scheduled poll. Sources are configured in `site.toml`.

use http::{Response, StatusCode};
use serde::Serialize;

use super::Admin;
use super::error::{ApiError, json_response};
use crate::http::Body;
use crate::source::SourceStatus;

pub fn list(admin: &Admin) -> Response<Body> {
    #[derive(Serialize)]
    struct List {
        sources: Vec<SourceStatus>,
    }
    json_response(
        StatusCode::OK,
        &List {
            sources: admin.sources.list(),
        },
    )
}

/// Asks the source `name` to poll now: `202`, as the poll runs after the answer (at once,
/// or after the poll in progress; requests meanwhile add up to one more poll).
pub fn poll(admin: &Admin, name: &str) -> Result<Response<Body>, ApiError> {
    if !admin.sources.poll_now(name) {
        return Err(ApiError::NotFound(format!("no source named {name:?}")));
    }
    #[derive(Serialize)]
    struct Accepted<'a> {
        source: &'a str,
        poll: &'static str,
    }
    Ok(json_response(
        StatusCode::ACCEPTED,
        &Accepted {
            source: name,
            poll: "requested",
        },
    ))
}
