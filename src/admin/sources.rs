//! `GET /admin/api/sources`: each `[[sources]]` entry of `site.toml` and how it is doing (last
//! success, last error, next poll, articles seen, upserted, skipped, retracted). Read only:
//! sources are configured in `site.toml`.

use http::{Response, StatusCode};
use serde::Serialize;

use super::Admin;
use super::error::json_response;
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
