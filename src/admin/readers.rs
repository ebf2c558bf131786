//! `GET /admin/api/readers`: who reads each section's feeds, as every process sharing the
//! store flushed it (a minute late at most): subscribers now and by aggregator, polls by
//! client family, and a day-by-day history; and `GET /admin/api/readers/{section}.svg`,
//! that history drawn as a small bar chart, made here (no script in it, nothing fetched),
//! which the admin page shows as an image.

use std::fmt::Write as _;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};

use super::Admin;
use super::error::{ApiError, json_response};
use crate::http::Body;
use crate::publish;
use crate::readers::{self, SectionReaders, Summary};

/// Days of history shown.
const DAYS: usize = 30;

/// The readership of every configured section, in the configuration's order.
async fn summary(admin: &Admin) -> Result<Summary, ApiError> {
    let today = readers::day_of(admin.clock.now());
    let store = admin.store.clone();
    let first = today - DAYS as i64 + 1;
    let stored = tokio::task::spawn_blocking(move || store.readership(first)).await??;
    let loaded = admin.live.current();
    let sections: Vec<&str> = (loaded.config.sections.iter())
        .map(|section| section.slug.as_str())
        .collect();
    Ok(readers::summarize(
        &stored,
        today,
        DAYS,
        &sections,
        publish::section_slug,
    ))
}

pub async fn list(admin: &Admin) -> Result<Response<Body>, ApiError> {
    Ok(json_response(StatusCode::OK, &summary(admin).await?))
}

/// `name` is `{section}.svg`.
pub async fn chart(admin: &Admin, name: &str) -> Result<Response<Body>, ApiError> {
    let no_such = || ApiError::NotFound(format!("no chart named {name:?}"));
    let slug = name.strip_suffix(".svg").ok_or_else(no_such)?;
    let summary = summary(admin).await?;
    let section = (summary.sections.iter())
        .find(|s| s.section == slug)
        .ok_or_else(no_such)?;
    let mut response = Response::new(Body::new(Bytes::from(svg(section))));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Opened on its own, the image may run nothing and load nothing.
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    Ok(response)
}

const WIDTH: u32 = 360;
const HEIGHT: u32 = 120;
/// Room above the bars for the scale, below them for the dates.
const TOP: u32 = 18;
const BOTTOM: u32 = 18;

/// The section's daily subscribers as bars, one per day, scaled to the highest; the
/// figures in the title and labels, so a screen reader reads them too. Colours of
/// `assets/admin/admin.css`.
fn svg(section: &SectionReaders) -> String {
    let days = &section.daily;
    let most = days.iter().map(|d| d.subscribers).max().unwrap_or(0);
    let plot = HEIGHT - TOP - BOTTOM;
    let step = f64::from(WIDTH) / days.len().max(1) as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="system-ui, sans-serif" font-size="11">"##
    );
    let _ = write!(
        out,
        "<title>{}: {} subscribers now; daily subscribers over {} days, at most {}</title>",
        escape(&section.section),
        section.subscribers,
        days.len(),
        most
    );
    let _ = write!(
        out,
        r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/><line x1="0" y1="{y}" x2="{WIDTH}" y2="{y}" stroke="#c9d0d8"/>"##,
        y = TOP + plot
    );
    for (i, day) in days.iter().enumerate() {
        if day.subscribers == 0 {
            continue;
        }
        // At least a pixel, so a small count next to a large one still shows.
        let height = (day.subscribers as f64 / most as f64 * f64::from(plot)).max(1.0);
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{height:.1}" fill="#0b5cad"><title>{}: {}</title></rect>"##,
            i as f64 * step + 1.0,
            f64::from(TOP + plot) - height,
            (step - 2.0).max(1.0),
            day.date,
            day.subscribers
        );
    }
    let _ = write!(
        out,
        r##"<text x="2" y="12" fill="#4f5965">{most} subscribers</text>"##
    );
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let y = HEIGHT - 4;
        let _ = write!(
            out,
            r##"<text x="2" y="{y}" fill="#4f5965">{}</text><text x="{}" y="{y}" fill="#4f5965" text-anchor="end">{}</text>"##,
            first.date,
            WIDTH - 2,
            last.date
        );
    }
    out.push_str("</svg>");
    out
}

/// A slug needs none, but text in markup is escaped whatever it is.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Readership, SubscriberReport};

    #[test]
    fn the_chart_has_a_bar_per_day_with_subscribers() {
        let report = |day, n| SubscriberReport {
            day,
            feed: "world.rss".into(),
            aggregator: "feedly".into(),
            feed_id: String::new(),
            subscribers: n,
            seen: 0,
        };
        let stored = Readership {
            polls: Vec::new(),
            reports: vec![report(10, 40), report(12, 80)],
        };
        let summary = readers::summarize(&stored, 12, 5, &["world"], publish::section_slug);
        let svg = svg(&summary.sections[0]);
        assert!(svg.starts_with("<svg "), "{svg}");
        assert_eq!(svg.matches(r##"fill="#0b5cad""##).count(), 2, "{svg}");
        assert!(svg.contains("80 subscribers now"), "{svg}");
        let day10 = &summary.sections[0].daily[2].date;
        assert!(
            svg.contains(&format!("<title>{day10}: 40</title>")),
            "{svg}"
        );
        assert!(!svg.contains("<script"));
    }
}
