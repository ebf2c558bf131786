//! `/admin/api/sections`: the store's sections as JSON. A write is validated by the rules of
//! `pressfeed check`, guarded by `If-Match`, stored as a section file's text in one store
//! transaction, and served by reloading the configuration. Nothing here writes files.
//!
//! The store is the truth for writes: existence and the `If-Match` tag are checked against
//! the stored text under the write lock, and the store's compare-and-set refuses the write
//! if another process changed the section in between. Reads show the configuration being
//! served, with the tag of the text it was loaded from.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use http::header::{ETAG, IF_MATCH, LOCATION};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

use super::error::{ApiError, json_response};
use super::{Admin, Audit};
use crate::build::Format;
use crate::catalog::{Coding, Feed};
use crate::config::{self, ConfigError, Section, Site};
use crate::digest::content_hash;
use crate::http::Body;
use crate::http::cache;
use crate::live::{Change, Edit, Revision};
use crate::slug::Slug;
use crate::store::{Expect, SectionWrite, StoreError, StoredSection};

/// `GET /admin/api/sections`: every section, enabled or not, sorted by slug, with what an
/// editor wants to see beside it: its feed URLs, and from the catalog's current snapshot
/// the item count and `Last-Modified` of its feed (none while disabled or not yet built).
pub fn list(admin: &Admin) -> Result<Response<Body>, ApiError> {
    #[derive(Serialize)]
    struct Entry<'a> {
        etag: Option<String>,
        section: &'a Section,
        feeds: Vec<FeedLink>,
        /// Items in the current JSON Feed.
        items: Option<usize>,
        /// The feed's `Last-Modified`: when its content last changed (RFC 3339).
        feed_modified: Option<String>,
        /// When the section was last written in the store (RFC 3339).
        changed: Option<String>,
    }
    #[derive(Serialize)]
    struct List<'a> {
        sections: Vec<Entry<'a>>,
    }
    let loaded = admin.live.current();
    let snapshot = admin.catalog.snapshot();
    let sections = loaded
        .config
        .sections
        .iter()
        .map(|section| {
            let json = snapshot.feeds.get(&Format::Json.file_name(section));
            let revision = loaded.revisions.get(&section.slug);
            Entry {
                etag: revision.map(|r| etag(&r.hash)),
                feeds: Format::ALL
                    .map(|format| FeedLink::new(&loaded.config.site, section, format))
                    .into(),
                items: json.and_then(|feed| item_count(feed)),
                feed_modified: json.map(|feed| rfc3339(feed.last_modified)),
                changed: revision
                    .and_then(|r| DateTime::<Utc>::from_timestamp(r.changed, 0))
                    .map(SystemTime::from)
                    .map(rfc3339),
                section,
            }
        })
        .collect();
    Ok(json_response(StatusCode::OK, &List { sections }))
}

/// One of a section's feeds: its public URL and the path this server answers it on.
#[derive(Serialize)]
struct FeedLink {
    format: &'static str,
    url: String,
    path: String,
}

impl FeedLink {
    fn new(site: &Site, section: &Section, format: Format) -> FeedLink {
        let name = format.file_name(section);
        FeedLink {
            format: format.extension(),
            url: site.feed_url(&name),
            path: format!("/feeds/{name}"),
        }
    }
}

/// The items of a built JSON Feed. Counted here, on an admin request, so the feed path
/// and the build stay as they are; `None` if the bytes are somehow not a JSON Feed.
fn item_count(feed: &Feed) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct Items {
        items: Vec<serde::de::IgnoredAny>,
    }
    let body = &feed.variant(Coding::Identity).body;
    serde_json::from_slice::<Items>(body)
        .ok()
        .map(|f| f.items.len())
}

fn rfc3339(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `GET /admin/api/sections/{slug}`.
pub fn get(admin: &Admin, slug: &str) -> Result<Response<Body>, ApiError> {
    let loaded = admin.live.current();
    let section = loaded.config.section(slug).ok_or_else(|| not_found(slug))?;
    let hash = loaded.revisions.get(&section.slug).map(|r| r.hash.as_str());
    Ok(section_response(StatusCode::OK, section, hash))
}

/// `POST /admin/api/sections`: a new section; 409 if its slug is taken.
pub async fn create(
    admin: &Arc<Admin>,
    value: Value,
    audit: &mut Audit,
) -> Result<Response<Body>, ApiError> {
    let section = from_json(value, None)?;
    audit.slug = Some(section.slug.to_string());
    let text = checked_toml(&section)?;
    let now = admin.clock.now();
    let (section, revision) = admin
        .live
        .edit(move |edit| {
            let taken = ApiError::Conflict(format!(
                "section {:?} exists; change it with PUT or PATCH",
                section.slug.as_str()
            ));
            save(edit, section, text, Expect::Absent, now, taken)
        })
        .await??;
    let mut response = section_response(StatusCode::CREATED, &section, Some(&revision.hash));
    if let Ok(location) = HeaderValue::from_str(&format!("/admin/api/sections/{}", section.slug)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `PUT /admin/api/sections/{slug}`: replaces an existing section whole; fields left out
/// take their defaults. A missing section is 404: creating is POST's job, so a typo in a
/// URL cannot create a section. The body's `slug` may be left out; if given it must match.
pub async fn replace(
    admin: &Arc<Admin>,
    value: Value,
    headers: HeaderMap,
    slug: &str,
) -> Result<Response<Body>, ApiError> {
    let slug = path_slug(slug)?;
    let section = from_json(value, Some(&slug))?;
    let text = checked_toml(&section)?;
    let now = admin.clock.now();
    let (section, revision) = admin
        .live
        .edit(move |edit| {
            let current = existing(edit, &slug, &headers)?;
            save(
                edit,
                section,
                text,
                Expect::Hash(current.hash),
                now,
                lost(&headers),
            )
        })
        .await??;
    Ok(section_response(
        StatusCode::OK,
        &section,
        Some(&revision.hash),
    ))
}

/// `PATCH /admin/api/sections/{slug}`: a JSON merge patch (RFC 7396) of the section's
/// fields: keys given replace, `null` resets a field to its default.
pub async fn patch(
    admin: &Arc<Admin>,
    patch: Value,
    headers: HeaderMap,
    slug: &str,
) -> Result<Response<Body>, ApiError> {
    let slug = path_slug(slug)?;
    if !patch.is_object() {
        return Err(ApiError::Invalid {
            field: None,
            message: "a patch is a JSON object of the fields to change".into(),
        });
    }
    let now = admin.clock.now();
    let (section, revision) = admin
        .live
        .edit(move |edit| {
            let current = existing(edit, &slug, &headers)?;
            // The stored text may not load (kept by a pressfeed with other rules); a patch
            // needs something to apply to.
            let text = &current.text;
            let loaded = config::parse_section(&public_path(&slug), text).map_err(|problems| {
                ApiError::Conflict(format!(
                    "section {:?} does not load ({problems}); replace it with PUT",
                    slug.as_str()
                ))
            })?;
            let mut value = serde_json::to_value(&loaded)
                .map_err(|e| ApiError::Internal(format!("section as JSON: {e}")))?;
            merge_patch(&mut value, patch);
            let section = from_json(value, Some(&slug))?;
            let text = checked_toml(&section)?;
            save(
                edit,
                section,
                text,
                Expect::Hash(current.hash),
                now,
                lost(&headers),
            )
        })
        .await??;
    Ok(section_response(
        StatusCode::OK,
        &section,
        Some(&revision.hash),
    ))
}

/// `DELETE /admin/api/sections/{slug}`: removes the section; its feeds answer 410.
pub async fn delete(
    admin: &Arc<Admin>,
    headers: HeaderMap,
    slug: &str,
) -> Result<Response<Body>, ApiError> {
    let slug = path_slug(slug)?;
    let now = admin.clock.now();
    admin
        .live
        .edit(move |edit| {
            let current = existing(edit, &slug, &headers)?;
            let write = SectionWrite::remove(slug.clone(), Some(Expect::Hash(current.hash)));
            match edit.store().write_sections(&[write], now) {
                Err(StoreError::SectionsChanged(_)) => return Err(lost(&headers)),
                written => written?,
            };
            edit.reload_after(Change::Remove(slug));
            Ok::<_, ApiError>(())
        })
        .await??;
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// A slug from the URL; one that is not valid cannot name a section.
fn path_slug(slug: &str) -> Result<Slug, ApiError> {
    Slug::parse(slug).map_err(|_| not_found(slug))
}

fn not_found(slug: &str) -> ApiError {
    ApiError::NotFound(format!("no section {slug:?}"))
}

/// The section a request body describes. With `path` (PUT, PATCH) the slug may be left
/// out and must match if given: renaming a section would orphan its subscribers.
fn from_json(mut value: Value, path: Option<&Slug>) -> Result<Section, ApiError> {
    if let (Some(slug), Some(object)) = (path, value.as_object_mut()) {
        match object.get("slug") {
            None => {
                object.insert("slug".into(), Value::String(slug.to_string()));
            }
            Some(Value::String(given)) if given != slug.as_str() => {
                return Err(ApiError::invalid(
                    "slug",
                    format!(
                        "{given:?} does not match the URL's {:?}; a section cannot be renamed",
                        slug.as_str()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Section::from_json(value).map_err(|(field, message)| ApiError::Invalid { field, message })
}

/// The text for `section`, checked by the very loader that will read it back (and `pressfeed
/// check` uses), so nothing is stored that would not load.
fn checked_toml(section: &Section) -> Result<String, ApiError> {
    let text = section
        .to_toml()
        .map_err(|e| ApiError::Internal(format!("section {} as TOML: {e}", section.slug)))?;
    // The error body names one field: the first problem's.
    config::parse_section(&public_path(&section.slug), &text).map_err(
        |ConfigError(problems)| {
            let first = problems.into_iter().next();
            ApiError::Invalid {
                field: first.as_ref().and_then(|p| p.field.clone()),
                message: first.map(|p| p.message).unwrap_or_default(),
            }
        },
    )?;
    Ok(text)
}

/// The stored section: 404 if there is none (before any precondition, RFC 9110 §13.2.1),
/// 412 if `If-Match` names other text. Without `If-Match` the write goes ahead: scripts
/// that own a section need not read it first.
fn existing(edit: &Edit<'_>, slug: &Slug, headers: &HeaderMap) -> Result<StoredSection, ApiError> {
    let current = edit
        .store()
        .section(slug)?
        .ok_or_else(|| not_found(slug.as_str()))?;
    let tag = etag(&current.hash);
    if !cache::if_match(headers, Some(tag.as_bytes())) {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(current)
}

/// What a write that found the section other than it had just read is answered: another
/// process wrote it in between. With `If-Match`, that tag is stale now: 412, as if the
/// other write had come first; without, the client may simply try again.
fn lost(headers: &HeaderMap) -> ApiError {
    if headers.contains_key(IF_MATCH) {
        ApiError::PreconditionFailed
    } else {
        ApiError::Conflict("the section changed while this write was made; try again".into())
    }
}

/// Stores `text` as `section` if the store still holds what `expect` says (else `lost`),
/// and serves it; returns the section and its revision.
fn save(
    edit: &mut Edit<'_>,
    section: Section,
    text: String,
    expect: Expect,
    now: DateTime<Utc>,
    lost: ApiError,
) -> Result<(Section, Revision), ApiError> {
    let revision = Revision {
        hash: content_hash(text.as_bytes()),
        changed: now.timestamp(),
    };
    let write = SectionWrite::edit(section.slug.clone(), text, Some(expect));
    match edit.store().write_sections(&[write], now) {
        Err(StoreError::SectionsChanged(_)) => return Err(lost),
        written => written?,
    };
    edit.reload_after(Change::Upsert {
        section: Box::new(section.clone()),
        revision: revision.clone(),
    });
    Ok((section, revision))
}

/// A section's text as clients are told of it, `sections/<slug>.toml`: the file
/// `pressfeed sections export` writes it to.
fn public_path(slug: &Slug) -> PathBuf {
    Path::new("sections").join(format!("{slug}.toml"))
}

fn etag(hash: &str) -> String {
    format!("\"{hash}\"")
}

fn section_response(status: StatusCode, section: &Section, hash: Option<&str>) -> Response<Body> {
    let mut response = json_response(status, section);
    if let Some(value) = hash.and_then(|h| HeaderValue::from_str(&etag(h)).ok()) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Some(target) = target.as_object_mut() {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(&key);
            } else {
                merge_patch(target.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"title": "A", "tags": ["x"], "limit": 5});
        merge_patch(
            &mut doc,
            json!({"title": "B", "tags": null, "limit": 7, "new": {"a": 1}}),
        );
        assert_eq!(doc, json!({"title": "B", "limit": 7, "new": {"a": 1}}));
    }

    #[test]
    fn the_body_names_the_bad_field() {
        let base = json!({"slug": "world", "title": "World", "link": "https://x.example/w/"});
        let with = |key: &str, value: Value| {
            let mut v = base.clone();
            v[key] = value;
            v
        };
        let cases = [
            (with("slug", json!("Bad Slug")), "slug"),
            (with("content", json!("teaser")), "content"),
            (with("schedule", json!("*/5 * * * *")), "schedule"),
            (with("limit", json!(0)), "limit"),
            (with("limit", json!(501)), "limit"),
            (with("link", json!("/relative")), "link"),
            (with("colour", json!("red")), "colour"),
            (with("include", json!(["ok", "Not OK"])), "include[1]"),
            (
                json!({"slug": "world", "link": "https://x.example/"}),
                "title",
            ),
        ];
        for (value, field) in cases {
            let err = from_json(value.clone(), None).unwrap_err();
            match err {
                ApiError::Invalid { field: got, .. } => {
                    assert_eq!(got.as_deref(), Some(field), "{value}")
                }
                other => panic!("{value}: {other:?}"),
            }
        }
        assert!(from_json(base.clone(), None).is_ok());
    }

    #[test]
    fn the_url_slug_fills_or_must_match_the_body() {
        let world = Slug::parse("world").unwrap();
        let body = json!({"title": "World", "link": "https://x.example/w/"});
        assert_eq!(from_json(body, Some(&world)).unwrap().slug, world);
        let renamed = json!({"slug": "earth", "title": "W", "link": "https://x.example/"});
        assert!(matches!(
            from_json(renamed, Some(&world)),
            Err(ApiError::Invalid { field: Some(f), .. }) if f == "slug"
        ));
    }

    #[test]
    fn written_text_loads_back_as_the_same_section() {
        let section = from_json(
            json!({"slug": "world", "title": "World \"quoted\"", "link": "https://x.example/w/",
                   "tags": ["a"], "schedule": "0 0 9 * * Mon-Fri", "content": "summary"}),
            None,
        )
        .unwrap();
        let text = checked_toml(&section).unwrap();
        let path = Path::new("sections/world.toml");
        assert_eq!(config::parse_section(path, &text).unwrap(), section);
    }
}
