//! WordPress's feed URLs, for a site that moved from WordPress (`wordpress_paths = true` in
//! site.toml): each answers `301` to the pressfeed feed that takes its place, and feed
//! readers move the subscription on a 301. WordPress's URLs, as its rewrite rules accept
//! them (https://codex.wordpress.org/WordPress_Feeds):
//!
//! | WordPress | pressfeed |
//! |---|---|
//! | `/feed/`, `/feed/rss2/` (`rss`, `rdf`), `/feed/atom/` | `all.rss`, `all.atom` |
//! | `/category/{slug}/feed/` (a parent's path before the slug too) | the section's `{slug}.rss` |
//! | `/tag/{slug}/feed/` | `tag/{slug}.rss` |
//! | `/author/{slug}/feed/` | `author/{slug}.rss` |
//! | `/?feed=rss2` (`rss`, `rdf`, `atom`), with `category_name`, `tag` or `author_name` | as above |
//!
//! The trailing slash is optional and other query parameters are ignored, as WordPress does,
//! except `cat`, `author` and `tag_id`, which name things by WordPress's ids: unknown here.
//! A category is the enabled section with that slug, else the first whose `link` path ends
//! in it; no such section, or a tag or author name no feed could have, is a 404 here.
//! Whether a tag's or the whole site's feed is switched on is for its own URL to say.

use http::header::LOCATION;
use http::{HeaderValue, Request, Response, StatusCode};

use super::Body;
use super::routes::{get_or_head_only, is_read};
use crate::build::Format;
use crate::config::{Config, Section};
use crate::slug::Slug;

/// The redirect that answers `req`, or `None` when it is no WordPress feed URL (or the
/// site does not answer those).
pub fn redirect<B>(req: &Request<B>, config: &Config) -> Option<Response<Body>> {
    if !config.site.wordpress_paths {
        return None;
    }
    let file = file_for(req.uri().path(), req.uri().query(), config)?;
    if !is_read(req.method()) {
        return Some(get_or_head_only());
    }
    let location = HeaderValue::from_str(&config.site.feed_url(&file)).ok()?;
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    response.headers_mut().insert(LOCATION, location);
    Some(response)
}

/// What a WordPress feed URL asks for.
enum Wanted<'a> {
    Site,
    Category(&'a str),
    Tag(&'a str),
    Author(&'a str),
}

/// The pressfeed file (relative to the feed base URL) that takes the place of the
/// WordPress feed at `path` and `query`.
fn file_for(path: &str, query: Option<&str>, config: &Config) -> Option<String> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The query only counts at the root, where it is all there is.
    let pairs: Vec<(String, String)> = if segments.is_empty() {
        url::form_urlencoded::parse(query?.as_bytes())
            .into_owned()
            .collect()
    } else {
        Vec::new()
    };
    let (wanted, format) = match segments.as_slice() {
        [] => {
            let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| &v[..]);
            let format = format_named(value("feed")?)?;
            // A category, author or tag named by WordPress's numeric id: no feed here knows it.
            if ["cat", "author", "tag_id"]
                .into_iter()
                .any(|key| value(key).is_some())
            {
                return None;
            }
            let wanted = match (value("category_name"), value("tag"), value("author_name")) {
                (Some(category), _, _) => Wanted::Category(category),
                (None, Some(tag), _) => Wanted::Tag(tag),
                (None, None, Some(author)) => Wanted::Author(author),
                (None, None, None) => Wanted::Site,
            };
            (wanted, format)
        }
        [rest @ .., "feed"] => (wanted(rest)?, Format::Rss),
        [rest @ .., "feed", name] => (wanted(rest)?, format_named(name)?),
        _ => return None,
    };
    let ext = format.extension();
    Some(match wanted {
        Wanted::Site => format!("all.{ext}"),
        Wanted::Category(slug) => format.file_name(category(config, slug)?),
        Wanted::Tag(slug) => format!("tag/{}.{ext}", Slug::parse(slug).ok()?.as_str()),
        Wanted::Author(slug) => format!("author/{}.{ext}", Slug::parse(slug).ok()?.as_str()),
    })
}

/// What the path before `/feed/` names.
fn wanted<'a>(before_feed: &[&'a str]) -> Option<Wanted<'a>> {
    Some(match before_feed {
        [] => Wanted::Site,
        ["category", .., slug] => Wanted::Category(slug),
        ["tag", slug] => Wanted::Tag(slug),
        ["author", slug] => Wanted::Author(slug),
        _ => return None,
    })
}

/// The format of WordPress's feed type `name`: RSS for its RSS flavours (RSS 1.0 `rdf`
/// included: a reader of it reads RSS 2.0), Atom for Atom.
fn format_named(name: &str) -> Option<Format> {
    match name {
        "" | "rss2" | "rss" | "rdf" => Some(Format::Rss),
        "atom" => Some(Format::Atom),
        _ => None,
    }
}

/// The enabled section a WordPress category slug names.
fn category<'c>(config: &'c Config, slug: &str) -> Option<&'c Section> {
    let enabled = || config.sections.iter().filter(|s| s.enabled);
    enabled()
        .find(|section| section.slug.as_str() == slug)
        .or_else(|| {
            enabled().find(|section| {
                let segments = section.link.as_url().path_segments();
                segments.and_then(|mut s| s.rfind(|s| !s.is_empty())) == Some(slug)
            })
        })
}
