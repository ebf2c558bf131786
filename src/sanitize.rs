//! Article HTML made safe for feeds: scripts, handlers, dangerous URLs removed; video players kept.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use ego_tree::iter::Edge;
use scraper::{Html, Node};
use url::Url;

use crate::media::embed::{Player, player_for};
use crate::text;

/// `html` sanitized with ammonia: allowed tags/attributes of article content, relative URLs resolved
/// against `base`, iframes kept only when their src is a YouTube or Vimeo player (via embed::player_for), and
/// characters XML 1.0 forbids removed.
pub fn clean_html(html: &str, base: &Url) -> String {
    let without_foreign_iframes = drop_foreign_iframes(html);
    let input = without_foreign_iframes.as_deref().unwrap_or(html);
    let cleaned = BUILDER.with_borrow_mut(|builder| {
        builder
            .url_relative(UrlRelative::RewriteWithBase(base.clone()))
            .clean(input)
            .to_string()
    });
    // Filtered after cleaning, not before: the parser decodes `&#27;` or `&#xFFFE;` into the very
    // characters XML rejects, and the serializer writes them out raw.
    match xml_safe(&cleaned) {
        Cow::Borrowed(_) => cleaned,
        Cow::Owned(safe) => safe,
    }
}

/// `text` with characters XML 1.0 forbids removed (C0 controls except \t \n \r, U+FFFE, U+FFFF, lone surrogates can't occur in Rust strings). Borrow when nothing to remove.
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    // A byte scan: decoding every char to find a rare few was clean_html's largest own cost.
    let bytes = text.as_bytes();
    let first = (0..bytes.len()).find(|&i| match bytes[i] {
        b'\t' | b'\n' | b'\r' => false,
        b if b < 0x20 => true,
        // U+FFFE and U+FFFF are encoded as EF BF BE and EF BF BF.
        0xEF => matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])),
        _ => false,
    });
    let Some(first) = first else {
        return Cow::Borrowed(text);
    };
    let mut safe = String::with_capacity(text.len());
    safe.push_str(&text[..first]);
    safe.extend(text[first..].chars().filter(|&c| !xml_forbidden(c)));
    Cow::Owned(safe)
}

/// The text of an HTML fragment as a reader sees it, for fields that want plain text: the
/// words of different blocks kept apart, code and fallback markup left out, and cleaned by
/// the rule of every text field (`text::clean`).
pub fn plain_text(html: &str) -> String {
    if !html.contains(['<', '&']) {
        return text::clean(html);
    }
    let doc = Html::parse_fragment(html);
    let mut text = String::with_capacity(html.len() / 2);
    // Depth inside elements whose text is left out. `traverse` walks without recursion, so
    // deeply nested input cannot overflow the stack.
    let mut left_out = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) if NOT_PROSE.contains(&el.name()) => left_out += 1,
                Node::Element(el) if BLOCKS.contains(&el.name()) => text.push(' '),
                Node::Text(t) if left_out == 0 => text.push_str(t),
                _ => {}
            },
            Edge::Close(node) => match node.value() {
                Node::Element(el) if NOT_PROSE.contains(&el.name()) => left_out -= 1,
                Node::Element(el) if BLOCKS.contains(&el.name()) => text.push(' '),
                _ => {}
            },
        }
    }
    text::clean(&text)
}

/// Elements whose text a reader is not shown.
const NOT_PROSE: &[&str] = &[
    "script", "style", "template", "noscript", "textarea", "iframe",
];

/// Elements that end a run of words: text on either side of them is not one word.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "hr",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "figure",
    "table",
    "caption",
    "tr",
    "td",
    "th",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "aside",
];

/// At most `words` words of `plain_text(html)`, cut at a word boundary and ended with an
/// ellipsis when there is more: a description for an article that has no summary.
/// `None` when the HTML has no text.
pub fn excerpt(html: &str, words: usize) -> Option<String> {
    let text = plain_text(html);
    if text.is_empty() {
        return None;
    }
    Some(match text.match_indices(' ').nth(words.saturating_sub(1)) {
        // A comma or colon before the ellipsis reads as a typo.
        Some((cut, _)) => format!("{}…", text[..cut].trim_end_matches([',', ';', ':', '-'])),
        None => text,
    })
}

/// Sanitized HTML (`clean_html`'s output) with every paragraph that holds nothing but a
/// link to a YouTube or Vimeo video made into something every reader shows, also those
/// that drop iframes: YouTube's thumbnail of the video linked to it, over a caption
/// "Watch on YouTube: <title>"; for Vimeo, whose thumbnails need a request to find, the
/// linked caption alone. `title` names the video. `None` when there is no such paragraph.
///
/// It reads the serializer's output, not arbitrary HTML: there a paragraph is `<p>` (or
/// `<p` with attributes) up to the next `</p>`, text is escaped and attributes are quoted,
/// so a paragraph it misreads only fails to match and is left as it is.
pub fn expand_bare_players(html: &str, title: impl Fn(&Player) -> String) -> Option<String> {
    // Almost no article links a video this way; most bodies are passed over by one search.
    if !(html.contains("youtu") || html.contains("vimeo")) {
        return None;
    }
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    let mut expanded = false;
    while let Some(open) = rest.find("<p") {
        let after_name = &rest[open + 2..];
        let Some(body_start) = after_name
            .starts_with(['>', ' '])
            .then(|| after_name.find('>'))
            .flatten()
            .map(|end| open + 2 + end + 1)
        else {
            out.push_str(&rest[..open + 2]);
            rest = after_name;
            continue;
        };
        let Some(body_len) = rest[body_start..].find("</p>") else {
            break;
        };
        let body = &rest[body_start..body_start + body_len];
        match bare_player(body) {
            Some(player) => {
                out.push_str(&rest[..open]);
                linked_preview(&mut out, &player, &title(&player));
                rest = &rest[body_start + body_len + "</p>".len()..];
                expanded = true;
            }
            None => {
                out.push_str(&rest[..body_start]);
                rest = &rest[body_start..];
            }
        }
    }
    out.push_str(rest);
    expanded.then_some(out)
}

/// The video a paragraph's content links and nothing else: the URL as text, or a link
/// whose text is a URL of the same video.
fn bare_player(body: &str) -> Option<Player> {
    let body = body.trim();
    let from_text = |text: &str| {
        let text = text.trim();
        if text.contains(['<', ' ']) {
            return None;
        }
        // The serializer escapes `&` in text and attributes; no other escape fits a URL.
        player_for(&Url::parse(&text.replace("&amp;", "&")).ok()?)
    };
    let Some(link) = body.strip_prefix("<a ") else {
        return from_text(body);
    };
    let (attributes, text) = link.strip_suffix("</a>")?.split_once('>')?;
    let href = attributes.split_once("href=\"")?.1.split_once('"')?.0;
    let player = from_text(text)?;
    (from_text(href)?.page_url == player.page_url).then_some(player)
}

/// `player`'s preview as HTML, captioned with `title`.
fn linked_preview(out: &mut String, player: &Player, title: &str) {
    let page = escape(player.page_url.as_str());
    let caption = format!("Watch on {}: {title}", player.provider());
    let caption = escape(&caption);
    match &player.thumbnail {
        Some(thumbnail) => {
            // YouTube's hqdefault thumbnail is 480×360.
            out.push_str(&format!(
                "<figure><a href=\"{page}\" rel=\"noopener\"><img src=\"{}\" alt=\"{caption}\" \
                 width=\"480\" height=\"360\"></a><figcaption><a href=\"{page}\" \
                 rel=\"noopener\">{caption}</a></figcaption></figure>",
                escape(thumbnail.as_str())
            ));
        }
        None => out.push_str(&format!(
            "<figure><figcaption><a href=\"{page}\" rel=\"noopener\">{caption}</a>\
             </figcaption></figure>"
        )),
    }
}

/// `text` escaped for HTML text and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"']) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

fn xml_forbidden(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0B' | '\x0C' | '\x0E'..='\x1F' | '\u{FFFE}' | '\u{FFFF}')
}

thread_local! {
    // Building the allow-lists is a real share of cleaning an article, and only the base
    // URL differs between calls; ammonia takes no per-call base, so each thread keeps one.
    static BUILDER: RefCell<Builder<'static>> = RefCell::new(builder());
}

fn builder() -> Builder<'static> {
    let mut b = Builder::default();
    b.tags(TAGS.split_whitespace().collect())
        .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
        .tag_attributes(
            TAG_ATTRIBUTES
                .iter()
                .map(|&(tag, attrs)| (tag, attrs.iter().copied().collect()))
                .collect::<HashMap<_, HashSet<_>>>(),
        )
        .generic_attributes(["lang", "dir"].into_iter().collect())
        // No `data:` anywhere: it smuggles HTML/SVG documents and bloats feeds.
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener"))
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            // The canonical player URL, so that an allowed host cannot smuggle in other paths or
            // autoplay parameters.
            ("iframe", "src") => Some(Cow::Owned(iframe_player(value)?.player_url.into())),
            // A blank src would resolve to the article page itself.
            (_, "src" | "poster") if value.trim().is_empty() => None,
            _ => Some(Cow::Borrowed(value)),
        });
    b
}

/// The player an iframe `src` points at. Resolved against a fixed base rather than the article's:
/// the shared builder has no per-call state, and a player must name its host anyway, so only
/// scheme-relative `//www.youtube.com/embed/…` needs resolving.
fn iframe_player(src: &str) -> Option<crate::media::embed::Player> {
    static SCHEME_BASE: LazyLock<Option<Url>> =
        LazyLock::new(|| Url::parse("https://invalid/").ok());
    player_for(&SCHEME_BASE.as_ref()?.join(src).ok()?)
}

const TAGS: &str = "p br hr h2 h3 h4 h5 h6 strong em b i u s sub sup small mark cite q a \
    ul ol li dl dt dd blockquote figure figcaption img video audio source iframe \
    table caption thead tbody tfoot tr th td code pre";

/// Removed together with their content: the content is code, or (for noscript/template/object)
/// fallback markup that would otherwise surface as escaped text.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script", "style", "object", "embed", "noscript", "template", "textarea",
];

const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "title"]),
    ("img", &["src", "alt", "width", "height"]),
    (
        "video",
        &["src", "poster", "controls", "width", "height", "title"],
    ),
    ("audio", &["src", "controls", "title"]),
    ("source", &["src", "type"]),
    (
        "iframe",
        &["src", "width", "height", "title", "allowfullscreen"],
    ),
    ("ol", &["start"]),
    ("th", &["colspan", "rowspan", "scope"]),
    ("td", &["colspan", "rowspan"]),
];

/// Removes iframes that are not players, with a real parse: ammonia can only strip their `src`,
/// which would leave empty frames in the feed. Returns None when there is nothing to remove.
fn drop_foreign_iframes(html: &str) -> Option<String> {
    // Without this literal the parser cannot create an iframe, so most bodies skip the extra parse.
    let has_iframe_tag = html.match_indices('<').any(|(i, _)| {
        html.as_bytes()
            .get(i + 1..i + 7)
            .is_some_and(|name| name.eq_ignore_ascii_case(b"iframe"))
    });
    if !has_iframe_tag {
        return None;
    }
    let mut doc = Html::parse_fragment(html);
    let foreign: Vec<_> = doc
        .tree
        .root()
        .descendants()
        .filter(|node| match node.value() {
            Node::Element(el) if el.name() == "iframe" => {
                el.attr("src").and_then(iframe_player).is_none()
            }
            _ => false,
        })
        .map(|node| node.id())
        .collect();
    if foreign.is_empty() {
        return None;
    }
    for id in foreign {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
    Some(doc.root_element().inner_html())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clean(html: &str) -> String {
        clean_html(
            html,
            &Url::parse("https://news.example/2024/story.html").unwrap(),
        )
    }

    #[test]
    fn plain_text_drops_tags_and_decodes_entities() {
        assert_eq!(
            plain_text("<p>Fish &amp; <b>chips</b></p>\n<p>today</p>"),
            "Fish & chips today"
        );
        assert_eq!(plain_text("  just   words "), "just words");
        assert_eq!(
            plain_text("<p>One</p><p>two<br>three</p><ul><li>four</li></ul>"),
            "One two three four",
            "blocks are not one word"
        );
        assert_eq!(
            plain_text(
                "<figure><img src=x><figcaption>AP</figcaption></figure><p>Text \u{200B} here</p>"
            ),
            "AP Text here",
            "the text rule applies"
        );
        assert_eq!(plain_text("<p>\u{200B}</p><p> \u{1} </p>"), "");
    }

    #[test]
    fn an_excerpt_is_cut_at_a_word_with_an_ellipsis() {
        let words: Vec<String> = (1..=80).map(|i| format!("w{i}")).collect();
        let html = format!("<p>{}</p>", words.join(" "));
        assert_eq!(
            excerpt(&html, 55).unwrap(),
            format!("{}…", words[..55].join(" "))
        );
        assert_eq!(
            excerpt("<p>Short, and done.</p>", 55).unwrap(),
            "Short, and done."
        );
        assert_eq!(excerpt("<p>one, two, three</p>", 2).unwrap(), "one, two…");
        assert_eq!(excerpt("<p> </p><img src=x>", 55), None);
    }

    #[test]
    fn a_paragraph_of_only_a_video_link_becomes_a_preview() {
        let title = |_: &Player| "Austin & Shoigu <talk>".to_owned();
        let html = clean(
            "<p>Text</p><p>https://www.youtube.com/watch?v=SJ6vaRpQ0fc&amp;t=5</p>\
             <p lang=\"en\"><a href=\"https://youtu.be/SJ6vaRpQ0fc\">https://youtu.be/SJ6vaRpQ0fc</a></p>\
             <p>https://vimeo.com/76979871</p><pre>https://youtu.be/SJ6vaRpQ0fc</pre>",
        );
        let out = expand_bare_players(&html, title).unwrap();
        let page = "https://www.youtube.com/watch?v=SJ6vaRpQ0fc";
        let caption = "Watch on YouTube: Austin &amp; Shoigu &lt;talk&gt;";
        let youtube = format!(
            "<figure><a href=\"{page}\" rel=\"noopener\"><img \
             src=\"https://i.ytimg.com/vi/SJ6vaRpQ0fc/hqdefault.jpg\" alt=\"{caption}\" \
             width=\"480\" height=\"360\"></a><figcaption><a href=\"{page}\" \
             rel=\"noopener\">{caption}</a></figcaption></figure>"
        );
        let vimeo = "<figure><figcaption><a href=\"https://vimeo.com/76979871\" rel=\"noopener\">\
             Watch on Vimeo: Austin &amp; Shoigu &lt;talk&gt;</a></figcaption></figure>";
        assert_eq!(
            out,
            format!("<p>Text</p>{youtube}{youtube}{vimeo}<pre>https://youtu.be/SJ6vaRpQ0fc</pre>")
        );
        // The preview is itself sanitized HTML, unchanged by cleaning again.
        assert_eq!(clean(&out), out);
    }

    #[test]
    fn links_in_prose_stay_links() {
        let title = |_: &Player| "T".to_owned();
        for html in [
            "<p>See https://www.youtube.com/watch?v=SJ6vaRpQ0fc today</p>",
            "<p><a href=\"https://youtu.be/SJ6vaRpQ0fc\">the briefing</a></p>",
            "<p><a href=\"https://youtu.be/SJ6vaRpQ0fc\">https://vimeo.com/76979871</a></p>",
            "<p>https://www.youtube.com/channel/UCx</p><p>about youtube</p>",
        ] {
            assert_eq!(expand_bare_players(&clean(html), title), None, "{html}");
        }
    }

    #[test]
    fn strips_scripts_handlers_and_styles() {
        let out = clean(
            "<p style=\"color:red\" onclick=\"x()\">Hi<script>alert(1)</script></p>\
             <img src=\"a.png\" onerror=\"alert(2)\"><img src=\" \"><style>p{}</style>\
             <object data=\"x.swf\">fallback</object><embed src=\"y.swf\">",
        );
        let img = "<img src=\"https://news.example/2024/a.png\">";
        assert_eq!(out, format!("<p>Hi</p>{img}<img>"));
    }

    #[test]
    fn removes_dangerous_urls() {
        let out = clean(
            "<a href=\"javascript:alert(1)\">a</a><a href=\" JaVaScRiPt:alert(1)\">b</a>\
             <img src=\"data:image/svg+xml,<svg onload=alert(1)>\"><a href=\"data:text/html,x\">c</a>",
        );
        assert!(
            !out.contains("javascript") && !out.contains("data:"),
            "{out}"
        );
        assert_eq!(
            out,
            "<a rel=\"noopener\">a</a><a rel=\"noopener\">b</a><img><a rel=\"noopener\">c</a>"
        );
    }

    #[test]
    fn resolves_relative_urls_and_marks_links() {
        let out = clean(
            "<p><a href=\"../about\" title=\"About\" target=\"_blank\">us</a>\
             <video src=\"/v.mp4\" poster=\"p.jpg\" controls></video></p>",
        );
        assert_eq!(
            out,
            "<p><a href=\"https://news.example/about\" title=\"About\" rel=\"noopener\">us</a>\
             <video src=\"https://news.example/v.mp4\" poster=\"https://news.example/2024/p.jpg\" \
             controls=\"\"></video></p>"
        );
    }

    #[test]
    fn keeps_player_iframes_only() {
        let out = clean(
            "<iframe src=\"//www.youtube.com/embed/SJ6vaRpQ0fc?autoplay=1\" width=\"560\" \
             height=\"315\" allowfullscreen onload=\"x()\">fallback</iframe>\
             <iframe src=\"https://evil.example/embed/SJ6vaRpQ0fc\" width=\"1\"></iframe>\
             <IFRAME src=\"javascript:alert(1)\"></IFRAME><iframe srcdoc=\"<script>x</script>\"></iframe>\
             <iframe src=\"https://player.vimeo.com/video/76979871\"></iframe>",
        );
        // The pre-pass re-serializes through scraper, which orders attributes by name.
        assert_eq!(
            out,
            "<iframe allowfullscreen=\"\" height=\"315\" \
             src=\"https://www.youtube.com/embed/SJ6vaRpQ0fc\" width=\"560\">fallback</iframe>\
             <iframe src=\"https://player.vimeo.com/video/76979871\"></iframe>"
        );
    }

    #[test]
    fn foreign_iframe_src_is_dropped_even_without_the_pre_pass() {
        // The pre-pass is cosmetic; the attribute filter alone must keep foreign frames inert.
        let out = BUILDER.with_borrow(|b| {
            b.clean("<iframe src=\"https://evil.example/\">")
                .to_string()
        });
        assert_eq!(out, "<iframe></iframe>");
    }

    #[test]
    fn output_has_no_xml_forbidden_chars() {
        let out = clean("<p>a\u{1}b&#27;c&#xFFFE;d&#0;e\u{FFFF}</p>");
        assert_eq!(out, "<p>abcd\u{FFFD}e</p>");
    }

    #[test]
    fn xml_safe_removes_only_forbidden_chars() {
        assert_eq!(xml_safe("a\u{0}b\u{1b}c\u{FFFE}d\u{FFFF}\u{b}"), "abcd");
        let keep = "tab\tnl\ncr\r emoji 🎉 עברית مرحبا \u{FFFD}\u{7f}\u{10FFFF}";
        assert!(matches!(xml_safe(keep), Cow::Borrowed(s) if s == keep));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<span><b>".repeat(20_000) + "x";
        assert!(clean(&html).trim_end_matches("</b>").ends_with('x'));
    }

    /// The attribute names of every element of `html` as a browser parses it: what a
    /// reader of the feed would run, whatever the text between the tags looks like.
    fn attribute_names(html: &str) -> Vec<String> {
        let doc = scraper::Html::parse_fragment(html);
        doc.tree
            .nodes()
            .filter_map(|node| node.value().as_element())
            .flat_map(|element| element.attrs().map(|(name, _)| name.to_owned()))
            .collect()
    }

    #[test]
    fn attribute_names_sees_attributes_not_text() {
        let mut names = attribute_names("<p style=\"x\" onclick=\"y\">onload=z style=w</p>");
        names.sort();
        assert_eq!(names, ["onclick", "style"]);
    }

    proptest! {
        #[test]
        fn any_string_is_cleaned_to_xml_safe_html(s in any::<String>()) {
            let out = clean(&s);
            prop_assert!(!out.chars().any(xml_forbidden));
        }

        #[test]
        fn tag_soup_is_cleaned_to_xml_safe_html(
            s in r#"(<(p|a|img|iframe|script|svg|math|style|video|source)( (src|href|on[a-z]{1,5}|style)=("[^"]{0,30}"|[a-z0-9/:.?=%&#;]{0,20}))*/?>|&#[0-9]{1,6};|[^<]{0,12}|</[a-z]{1,6}>){0,25}"#
        ) {
            let out = clean(&s);
            prop_assert!(!out.chars().any(xml_forbidden));
            prop_assert!(!out.contains("<script") && !out.to_ascii_lowercase().contains("javascript:"));
            // No event handler and no inline style survive, on any element.
            let names = attribute_names(&out);
            prop_assert!(
                !names.iter().any(|name| name.starts_with("on") || name == "style"),
                "{names:?} in {out}"
            );
        }
    }
}
