//! Limits an article's HTML must meet before any HTML parser sees it; not the parsing,
//! sanitizing or media extraction themselves (`sanitize`, `media`).
//!
//! html5ever, the parser under scraper and ammonia, walks its stack of open elements for
//! many tags and re-opens every unclosed formatting element (`<b>`, `<a>` ...) at each new
//! block. So its time grows with length × nesting depth, and with length × unclosed
//! formatting elements: a body that is nothing but open tags is quadratic, and a few MiB of
//! `<div>` stall a write for minutes. This module estimates both in one linear pass so
//! validation can refuse such a body at once, naming the field.
//!
//! The estimate follows the HTML tree-building rules roughly: void elements, raw text
//! (`<script>`, `<style>` ...), comments, self-closing tags in SVG and MathML, the implied
//! ends of `<p>`, `<li>`, `<td>` and their kin, end tags closing what they match, and
//! the "Noah's Ark" rule that keeps at most three identical formatting elements, and which
//! end tags html5ever ignores. It leaves out the elements html5ever adds by itself (a
//! table's `tbody` and `tr`, re-opened formatting elements, bounded apart), so the parsed
//! depth can be a small multiple of the estimate, never unbounded: `fuzz/` checks that.

/// Deepest nesting, and most unclosed formatting elements, an article's HTML may have.
/// Browsers cap their trees near here too (Blink's parser nests at most 512 deep); article
/// markup rarely passes 30.
pub const MAX_NESTING: usize = 256;

/// Largest `body_html` or `summary`, in bytes: a long-form article is a few hundred KiB.
pub const MAX_HTML_BYTES: usize = 2 << 20;

/// Why `html` is refused, if it is.
pub fn check(html: &str) -> Result<(), String> {
    if html.len() > MAX_HTML_BYTES {
        return Err(format!(
            "is {} bytes; at most {MAX_HTML_BYTES} are accepted",
            html.len()
        ));
    }
    if !within_nesting(html, MAX_NESTING) {
        return Err(format!(
            "nests elements more than {MAX_NESTING} deep (counting unclosed and misnested tags)"
        ));
    }
    Ok(())
}

const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input",
    "keygen", "link", "meta", "param", "source", "track", "wbr",
];

/// Their content is text up to the matching end tag, not markup.
const RAW_TEXT: &[&str] = &[
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
];

const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Start tags that close an open `<p>` on top of the stack.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// Elements html5ever's tree builder treats as "special": they stop the search of many
/// end tags and of the implied ends of `<li>`, `<dt>` and `<dd>`.
const SPECIAL: &[&str] = &[
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "base",
    "basefont",
    "bgsound",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "dir",
    "div",
    "dl",
    "dt",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "iframe",
    "img",
    "input",
    "keygen",
    "li",
    "link",
    "listing",
    "main",
    "marquee",
    "math",
    "menu",
    "meta",
    "nav",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "p",
    "param",
    "plaintext",
    "pre",
    "script",
    "search",
    "section",
    "select",
    "source",
    "style",
    "summary",
    "svg",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
    "wbr",
    "xmp",
];

/// Elements an "in scope" search stops at (SVG and MathML stand for their integration points).
const SCOPE: &[&str] = &[
    "applet", "caption", "html", "marquee", "math", "object", "svg", "table", "td", "template",
    "th",
];

/// Where in `stack` the first element of `closes` is, searching from the top and giving up
/// at an element for which `stops` holds.
fn search(stack: &[String], closes: &[&str], stops: impl Fn(&str) -> bool) -> Option<usize> {
    for (at, open) in stack.iter().enumerate().rev() {
        if closes.contains(&open.as_str()) {
            return Some(at);
        }
        if stops(open) {
            return None;
        }
    }
    None
}

/// The open element that a start tag `name` closes implicitly, as html5ever does; it
/// closes with everything above it.
fn implied_by_start(stack: &[String], name: &str) -> Option<usize> {
    let list_item_stop =
        |open: &str| SPECIAL.contains(&open) && !matches!(open, "address" | "div" | "p");
    let top_if = |group: &[&str]| {
        stack
            .last()
            .filter(|top| group.contains(&top.as_str()))
            .map(|_| stack.len() - 1)
    };
    match name {
        "li" => search(stack, &["li"], list_item_stop),
        "dt" | "dd" => search(stack, &["dt", "dd"], list_item_stop),
        "option" | "optgroup" => top_if(&["option"]),
        "rb" | "rt" | "rp" | "rtc" => top_if(&["rb", "rt", "rp", "rtc"]),
        "tr" => search(stack, &["tr"], |open| {
            matches!(open, "table" | "tbody" | "thead" | "tfoot" | "template")
        }),
        "td" | "th" => search(stack, &["td", "th"], |open| {
            matches!(open, "tr" | "table" | "template")
        }),
        "thead" | "tbody" | "tfoot" => search(stack, &["thead", "tbody", "tfoot"], |open| {
            matches!(open, "table" | "template")
        }),
        _ if CLOSES_P.contains(&name) => search(stack, &["p"], |open| {
            SCOPE.contains(&open) || open == "button"
        }),
        _ => None,
    }
}

/// The open element that end tag `name` closes, if html5ever would not ignore it: a special
/// element's end tag looks for it in scope; any other's gives up at a special element.
fn closed_by_end(stack: &[String], name: &str) -> Option<usize> {
    if !SPECIAL.contains(&name) {
        return search(stack, &[name], |open| SPECIAL.contains(&open));
    }
    search(stack, &[name], |open| {
        SCOPE.contains(&open)
            || (name == "li" && matches!(open, "ol" | "ul"))
            || (name == "p" && open == "button")
    })
}

/// False as soon as the estimated depth or the unclosed formatting elements pass `limit`.
fn within_nesting(html: &str, limit: usize) -> bool {
    let bytes = html.as_bytes();
    // Open elements, lowercase names; `foreign` counts the svg/math among them.
    let mut stack: Vec<String> = Vec::new();
    let mut foreign = 0usize;
    // Unclosed formatting elements, as their whole start tag (Noah's Ark compares tags).
    let mut formatting: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + offset;
        let rest = &bytes[start + 1..];
        if rest.starts_with(b"!--") {
            i = find(bytes, start + 4, b"-->").map_or(bytes.len(), |end| end + 3);
            continue;
        }
        let (closing, name_at) = match rest.first() {
            Some(b'/') => (true, start + 2),
            Some(b) if b.is_ascii_alphabetic() => (false, start + 1),
            Some(b'!' | b'?') => {
                i = find(bytes, start, b">").map_or(bytes.len(), |end| end + 1);
                continue;
            }
            _ => {
                i = start + 1;
                continue;
            }
        };
        let name_end = bytes[name_at..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
            .map_or(bytes.len(), |n| name_at + n);
        let name = html[name_at..name_end].to_ascii_lowercase();
        let tag_end = tag_end(bytes, name_end);
        i = tag_end.map_or(bytes.len(), |end| end + 1);
        if name.is_empty() {
            continue;
        }
        if closing {
            if let Some(at) = closed_by_end(&stack, &name) {
                close(&mut stack, &mut foreign, at);
            }
            if let Some(at) = formatting.iter().rposition(|tag| tag_name_is(tag, &name)) {
                formatting.remove(at);
            }
            continue;
        }
        let self_closing = tag_end.is_some_and(|end| end > 0 && bytes[end - 1] == b'/');
        if VOID.contains(&name.as_str()) || (self_closing && foreign > 0) {
            continue;
        }
        if RAW_TEXT.contains(&name.as_str()) {
            i = raw_text_end(bytes, i, &name);
            continue;
        }
        if let Some(at) = implied_by_start(&stack, &name) {
            close(&mut stack, &mut foreign, at);
        }
        if FORMATTING.contains(&name.as_str()) {
            let tag = &html[start..i.min(html.len())];
            if formatting.iter().filter(|open| **open == tag).count() >= 3
                && let Some(first) = formatting.iter().position(|open| *open == tag)
            {
                formatting.remove(first);
            }
            formatting.push(tag);
        }
        if matches!(name.as_str(), "svg" | "math") {
            foreign += 1;
        }
        stack.push(name);
        if stack.len() > limit || formatting.len() > limit {
            return false;
        }
    }
    true
}

/// Pops the open element at `at` and everything above it.
fn close(stack: &mut Vec<String>, foreign: &mut usize, at: usize) {
    *foreign -= stack[at..]
        .iter()
        .filter(|n| matches!(n.as_str(), "svg" | "math"))
        .count();
    stack.truncate(at);
}

/// Where `needle` first occurs in `bytes` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at)
}

/// The `>` that ends a tag whose attributes start at `from`; a `>` inside a quoted
/// attribute value does not.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => return Some(i),
            b'=' => {
                let value = i
                    + 1
                    + bytes[i + 1..]
                        .iter()
                        .take_while(|b| b.is_ascii_whitespace())
                        .count();
                if let Some(&quote @ (b'"' | b'\'')) = bytes.get(value) {
                    i = bytes[value + 1..]
                        .iter()
                        .position(|&b| b == quote)
                        .map(|n| value + 1 + n)?;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Just past the end tag that closes raw text `name` opened before `from`, or the end.
fn raw_text_end(bytes: &[u8], from: usize, name: &str) -> usize {
    let mut i = from;
    while let Some(at) = find(bytes, i, b"</") {
        let after = at + 2;
        let matches = bytes
            .get(after..after + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if matches && name != "plaintext" {
            return tag_end(bytes, after + name.len()).map_or(bytes.len(), |end| end + 1);
        }
        i = after;
    }
    bytes.len()
}

/// Whether the start tag `tag` (`<b class=x>`) is of element `name`.
fn tag_name_is(tag: &str, name: &str) -> bool {
    let rest = &tag.as_bytes()[1..];
    rest.len() >= name.len()
        && rest[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        && rest
            .get(name.len())
            .is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(html: &str) -> bool {
        within_nesting(html, 8)
    }

    #[test]
    fn ordinary_article_markup_passes() {
        let cases = [
            "<p>Text <b>bold</b> <a href=\"x\">link</a></p><p>More</p>",
            // Unclosed paragraphs and list items close each other, as in HTML.
            &"<p>para ".repeat(50),
            &"<p><b>bold<p><i>italic ".repeat(50),
            &format!("<ul>{}</ul>", "<li>item ".repeat(50)),
            &format!("<table>{}</table>", "<tr><td>a<td>b".repeat(50)),
            &format!("<dl>{}</dl>", "<dt>term<dd><em>x".repeat(50)),
            // Void and self-closing SVG elements do not nest.
            &"<img src=a.jpg><br>".repeat(50),
            &format!("<svg>{}</svg>", "<path d=\"M0 0\"/>".repeat(50)),
            // Markup in comments, scripts and attribute values is text.
            &format!("<!-- {} -->", "<div>".repeat(50)),
            &format!("<script>{}</script><p>x</p>", "<div>".repeat(50)),
            &format!("<p title=\"{}\">x</p>", "<div>".repeat(50)),
            // The same unclosed formatting tag is kept at most three times.
            &"<p><b>bold</p>".repeat(50),
        ];
        for html in cases {
            assert!(depth_ok(html), "{html}");
        }
    }

    #[test]
    fn markup_built_to_nest_is_refused() {
        let cases = [
            "<div>".repeat(9),
            "<DIV class=a>".repeat(9),
            "<div/>".repeat(9),
            "<span>x".repeat(9),
            // Formatting elements that a </p> leaves open are re-opened by html5ever.
            (0..9).map(|i| format!("<p><b id={i}>x</p>")).collect(),
            // End tags html5ever ignores: a non-special one past a special element, a
            // special one out of scope, `</li>` past a list.
            "<span><div></span>".repeat(9),
            "<div><table><tr><td><span></div>".repeat(9),
            "<li><ul></li>".repeat(9),
            // Start tags that close nothing here: `<li>` past a special element, `<option>`
            // unless it is the current element.
            "<li><blockquote>".repeat(9),
            "<option><i>".repeat(9),
            // Raw text ends at its end tag; markup after it counts.
            format!("<script></script>{}", "<div>".repeat(9)),
        ];
        for html in &cases {
            assert!(!depth_ok(html), "{html}");
        }
    }

    #[test]
    fn end_tags_close_what_they_match() {
        assert!(depth_ok(&"<div><span>x</span></div>".repeat(100)));
        assert!(depth_ok(&"<div><span>x</div>".repeat(100)));
        assert!(!depth_ok(&"<div><span>x</i>".repeat(100)));
    }

    #[test]
    fn size_and_depth_errors_say_what_is_wrong() {
        let deep = "<div>".repeat(MAX_NESTING + 1);
        assert!(
            check(&deep)
                .unwrap_err()
                .contains(&format!("{MAX_NESTING} deep"))
        );
        assert!(check(&"<div>".repeat(MAX_NESTING)).is_ok());
        let big = "x".repeat(MAX_HTML_BYTES + 1);
        assert!(check(&big).unwrap_err().contains("bytes"));
    }
}
