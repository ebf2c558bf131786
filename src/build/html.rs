//! What the two HTML pages share (a feed's preview, `preview`, and the feeds page,
//! `feeds_page`): the document around their body, its style and policy, and the
//! autodiscovery `<link rel="alternate">` of a feed. Every value from the configuration or
//! an article goes through `escape`; nothing else is written unescaped but this file's
//! constants.

use std::fmt::Write;

use super::Format;
use crate::config::{Section, Site};
use crate::sanitize::escape;

pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// Set in the page, not as a header, so that a static host serving an export applies it
/// too: no script at all, whatever an article's title holds; images from the articles'
/// hosts; the inline style below.
const POLICY: &str = "default-src 'none'; img-src http: https: data:; \
    style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const STYLE: &str = "\
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:52rem;padding:1rem 1.25rem;color:#1d1d1f;background:#fff}\
a{color:#0b57d0}h1{font-size:1.8rem;margin:.4rem 0}h2{font-size:1.25rem;margin:2rem 0 .5rem}\
.notice{background:#fff8e1;border:1px solid #f0d98a;border-radius:6px;padding:.75rem 1rem}\
code,pre{font:.9rem/1.4 ui-monospace,monospace;background:#f4f4f6;border-radius:4px}\
code{padding:.1rem .3rem;word-break:break-all}pre{padding:.75rem;overflow-x:auto}\
.item{display:flex;gap:1rem;padding:1rem 0;border-top:1px solid #e3e3e8}.item>a{flex:none}\
.item img{display:block;width:10rem;height:5.625rem;object-fit:cover;border-radius:4px;\
background:#eee;overflow:hidden;font-size:.75rem;color:#5f6368}\
.item h3{font-size:1.1rem;margin:0 0 .25rem}.meta{color:#5f6368;font-size:.9rem;margin:0}\
.item p{margin:.25rem 0}.feed h3{margin:1.25rem 0 .25rem}ul{padding-left:1.25rem}";

/// A whole document: `head` (already markup) after the title, `body` (already markup).
pub(super) fn document(site: &Site, title: &str, head: &str, body: &str) -> Vec<u8> {
    let mut page = String::with_capacity(body.len() + head.len() + 2048);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n\
         <title>{title}</title>\n{head}<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        lang = escape(&site.language),
        title = escape(title),
    );
    page.into_bytes()
}

/// The `<link rel="alternate">` that lets browsers and readers find `section`'s feed in
/// `format` from a page's `<head>`.
pub(super) fn alternate_link(site: &Site, section: &Section, format: Format) -> String {
    alternate(
        format,
        &format!("{}: {}", site.title, section.title),
        &site.feed_url(&format.file_name(section)),
    )
}

/// The `<link rel="alternate">` of the feed at `url` in `format`, titled `title` and the
/// format's name.
pub(super) fn alternate(format: Format, title: &str, url: &str) -> String {
    format!(
        "<link rel=\"alternate\" type=\"{}\" title=\"{}\" href=\"{}\">",
        format.media_type(),
        escape(&format!("{title} ({})", format.label())),
        escape(url),
    )
}
