//! `GET /admin/api/lint`: the partner feeds' problems as their last builds found them
//! (the report `pressfeed lint` prints), and each partner feed's readiness, which the
//! admin page shows. `?partner=` and `?section=` narrow it.

use http::{Response, StatusCode};

use super::Admin;
use super::error::{ApiError, json_response};
use crate::http::Body;
use crate::partner::{self, Report};

pub fn report(admin: &Admin, query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let mut partner = None;
    let mut section = None;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "partner" => partner = Some(value.into_owned()),
            "section" => section = Some(value.into_owned()),
            other => {
                let message = "only partner and section narrow the report";
                return Err(ApiError::invalid(other, message));
            }
        }
    }
    let loaded = admin.live.current();
    let config = &loaded.config;
    let problems = partner::all_problems(config, &admin.catalog.snapshot().problems);
    let report = Report::new(config, problems, partner.as_deref(), section.as_deref());
    Ok(json_response(StatusCode::OK, &report))
}
