//! Media embedded in an article's HTML: images, video/audio files and video players (YouTube, Vimeo).

use std::collections::HashSet;

use scraper::{ElementRef, Html, Node};
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EmbedKind {
    Image,
    Video,
    Audio,
}

/// A YouTube or Vimeo video: played by the provider's embeddable player, not from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Player {
    pub(crate) player_url: Url,
    /// The video's canonical page, whatever form of URL it was found by: it identifies the
    /// video, so one video linked two ways is one medium.
    pub page_url: Url,
    pub(crate) thumbnail: Option<Url>,
}

/// One medium found in an article's HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    pub(crate) kind: EmbedKind,
    /// The media file's URL; for a player, its page URL (e.g. https://www.youtube.com/watch?v=ID).
    pub url: Url,
    pub(crate) mime: Option<String>,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    /// alt text of an image, or the title attribute of a video/iframe.
    pub title: Option<String>,
    /// Set for embedded players (YouTube, Vimeo).
    pub player: Option<Player>,
}

/// Every medium in `html`, in document order, relative URLs resolved against `base`, duplicates dropped.
pub fn embeds_in_html(html: &str, base: &Url) -> Vec<Embed> {
    let doc = Html::parse_fragment(html);
    let mut seen = HashSet::new();
    let mut embeds = Vec::new();
    let mut push = |embed: Embed| {
        if seen.insert(embed.url.clone()) {
            embeds.push(embed);
        }
    };
    // `descendants` walks ego-tree's arena in document order without recursion, so deeply
    // nested input cannot overflow the stack.
    for node in doc.tree.root().descendants() {
        if let Some(embed) = ElementRef::wrap(node).and_then(|el| element_embed(el, base)) {
            push(embed);
        } else if let Node::Text(text) = node.value() {
            let parent = node
                .parent()
                .and_then(|p| p.value().as_element().map(|e| e.name()));
            if !parent.is_some_and(|name| INERT_TEXT_PARENTS.contains(&name)) {
                text_players(text).for_each(|player| push(Embed::player(player)));
            }
        }
    }
    embeds
}

/// Text under these is code or fallback markup, not prose a reader sees as a link.
const INERT_TEXT_PARENTS: &[&str] = &[
    "script", "style", "template", "noscript", "textarea", "iframe",
];

impl Embed {
    fn file(kind: EmbedKind, url: Url, mime: Option<String>) -> Self {
        let mime = mime.or_else(|| guess_mime(&url).map(str::to_owned));
        Embed {
            kind,
            url,
            mime,
            width: None,
            height: None,
            title: None,
            player: None,
        }
    }

    fn player(player: Player) -> Self {
        let url = player.page_url.clone();
        Embed {
            mime: None,
            player: Some(player),
            ..Embed::file(EmbedKind::Video, url, None)
        }
    }
}

fn element_embed(el: ElementRef<'_>, base: &Url) -> Option<Embed> {
    let attr = |name| el.attr(name);
    let url_attr = |name| attr(name).and_then(|s| resolve_http(base, s));
    let mut embed = match el.value().name() {
        "img" => Embed {
            title: attr("alt").and_then(non_blank),
            ..Embed::file(EmbedKind::Image, url_attr("src")?, None)
        },
        "video" => media_embed(EmbedKind::Video, el, base)?,
        "audio" => media_embed(EmbedKind::Audio, el, base)?,
        // `<embed>` is where the legacy youtube.com/v/ID player URLs live.
        "iframe" | "embed" => Embed::player(player_for(&url_attr("src")?)?),
        "a" => Embed::player(player_for(&url_attr("href")?)?),
        _ => return None,
    };
    embed.width = attr("width").and_then(dimension);
    embed.height = attr("height").and_then(dimension);
    if embed.title.is_none() {
        embed.title = attr("title").and_then(non_blank);
    }
    Some(embed)
}

/// A media element's `src`, else its first usable `<source>`: the sources are alternative
/// encodings of one medium, so listing each would present one video as several.
fn media_embed(kind: EmbedKind, el: ElementRef<'_>, base: &Url) -> Option<Embed> {
    if let Some(url) = el.attr("src").and_then(|s| resolve_http(base, s)) {
        return Some(Embed::file(kind, url, None));
    }
    let (url, mime) = el
        .child_elements()
        .filter(|c| c.value().name() == "source")
        .find_map(|source| {
            let url = resolve_http(base, source.attr("src")?)?;
            // `type` may carry parameters (`video/mp4; codecs="avc1"`); feeds want the bare type.
            let mime = source
                .attr("type")
                .and_then(|t| non_blank(t.split(';').next()?));
            Some((url, mime.map(|t| t.to_ascii_lowercase())))
        })?;
    Some(Embed::file(kind, url, mime))
}

/// Bare player links in prose, e.g. a paragraph holding only a YouTube URL, which many
/// CMSs turn into an embed when rendering.
fn text_players(text: &str) -> impl Iterator<Item = Player> + '_ {
    // Almost no prose mentions a player host; one substring search per node is far cheaper than
    // tokenising every node.
    let mentions = |s: &str| s.contains("youtu") || s.contains("vimeo");
    let words = if mentions(text) { text } else { "" };
    words
        .split_whitespace()
        .filter(move |word| mentions(word))
        // Prose wraps links in brackets and ends sentences right after them.
        .map(|word| word.trim_matches(|c: char| "()[]<>{}\"'.,;:!?«»“”‘’".contains(c)))
        // Absolute URLs only: "youtube.com/watch?v=…" without a scheme is too often not a link.
        .filter_map(|word| player_for(&Url::parse(word).ok()?))
}

fn resolve_http(base: &Url, reference: &str) -> Option<Url> {
    // A blank reference resolves to the article page itself, which is no medium.
    if reference.trim().is_empty() {
        return None;
    }
    let url = base.join(reference).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

fn non_blank(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Only plain pixel counts: "100%" or "auto" say nothing about the medium's real size.
fn dimension(value: &str) -> Option<u32> {
    let value = value.trim();
    // `u32::from_str` would also take "+640".
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|&n| n > 0)
}

/// The player of a YouTube or Vimeo page/embed/short URL, if `url` is one.
pub fn player_for(url: &Url) -> Option<Player> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut segments = url.path_segments()?.filter(|s| !s.is_empty());
    let (first, second, rest) = (segments.next(), segments.next(), segments.next());
    if rest.is_some() {
        return None;
    }
    match url.host_str()? {
        "youtube.com"
        | "www.youtube.com"
        | "m.youtube.com"
        | "music.youtube.com"
        | "youtube-nocookie.com"
        | "www.youtube-nocookie.com" => {
            let id = match (first?, second) {
                ("watch", None) => url.query_pairs().find(|(k, _)| k == "v")?.1,
                // These two are 11 characters long but name a playlist/channel player, not a video.
                ("embed", Some("videoseries" | "live_stream")) => return None,
                ("embed" | "shorts" | "live" | "v", Some(id)) => id.into(),
                _ => return None,
            };
            youtube_player(&id)
        }
        "youtu.be" | "www.youtu.be" => match (first, second) {
            (Some(id), None) => youtube_player(id),
            _ => None,
        },
        "vimeo.com" | "www.vimeo.com" => match (first, second) {
            (Some(id), None) => vimeo_player(id),
            _ => None,
        },
        "player.vimeo.com" => match (first, second) {
            (Some("video"), Some(id)) => vimeo_player(id),
            _ => None,
        },
        _ => None,
    }
}

impl Player {
    /// The video service by the name its viewers know.
    pub(crate) fn provider(&self) -> &'static str {
        match self.page_url.host_str() {
            Some("vimeo.com") => "Vimeo",
            _ => "YouTube",
        }
    }
}

fn youtube_player(id: &str) -> Option<Player> {
    let valid = id.len() == 11
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return None;
    }
    Some(Player {
        player_url: Url::parse(&format!("https://www.youtube.com/embed/{id}")).ok()?,
        page_url: Url::parse(&format!("https://www.youtube.com/watch?v={id}")).ok()?,
        thumbnail: Url::parse(&format!("https://i.ytimg.com/vi/{id}/hqdefault.jpg")).ok(),
    })
}

fn vimeo_player(id: &str) -> Option<Player> {
    // Vimeo ids are integers; the length cap only rejects absurd input.
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Player {
        player_url: Url::parse(&format!("https://player.vimeo.com/video/{id}")).ok()?,
        page_url: Url::parse(&format!("https://vimeo.com/{id}")).ok()?,
        thumbnail: None,
    })
}

/// MIME type guessed from the URL path's extension (jpg/jpeg/png/gif/webp/avif/svg, mp4/webm/mov/m4v, mp3/m4a/ogg/oga/wav/aac/opus...).
pub fn guess_mime(url: &Url) -> Option<&'static str> {
    let file = url.path_segments()?.next_back()?;
    let (_, ext) = file.rsplit_once('.')?;
    MIME_BY_EXTENSION
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map(|&(_, mime)| mime)
}

// RFC 7845: Ogg Opus files are audio/ogg; audio/opus names the RTP payload.
#[rustfmt::skip]
const MIME_BY_EXTENSION: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"), ("jpeg", "image/jpeg"), ("png", "image/png"), ("gif", "image/gif"),
    ("webp", "image/webp"), ("avif", "image/avif"), ("svg", "image/svg+xml"),
    ("mp4", "video/mp4"), ("m4v", "video/x-m4v"), ("webm", "video/webm"),
    ("mov", "video/quicktime"), ("ogv", "video/ogg"),
    ("mp3", "audio/mpeg"), ("m4a", "audio/mp4"), ("ogg", "audio/ogg"), ("oga", "audio/ogg"),
    ("opus", "audio/ogg"), ("wav", "audio/wav"), ("aac", "audio/aac"), ("flac", "audio/flac"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "SJ6vaRpQ0fc";

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn embeds(html: &str) -> Vec<Embed> {
        embeds_in_html(html, &url("https://news.example/2024/story.html"))
    }

    /// One line per embed, so expectations stay readable and compact.
    fn describe(html: &str) -> Vec<String> {
        let line = |e: Embed| {
            let player = e.player.map(|p| p.player_url.to_string());
            let (kind, url, mime, w, h, title) =
                (e.kind, e.url, e.mime, e.width, e.height, e.title);
            format!("{kind:?} {url} {mime:?} {w:?} {h:?} {title:?} {player:?}")
        };
        embeds(html).into_iter().map(line).collect()
    }

    fn page_of(s: &str) -> Option<String> {
        player_for(&url(s)).map(|p| p.page_url.into())
    }

    #[test]
    fn youtube_url_forms() {
        let page = format!("https://www.youtube.com/watch?v={ID}");
        for form in [
            "https://www.youtube.com/watch?v=ID&t=30s&feature=share",
            "https://www.youtube.com/watch?feature=share&v=ID&t=30s",
            "http://youtube.com/watch?v=ID",
            "https://m.youtube.com/watch?v=ID",
            "https://music.youtube.com/watch?v=ID&list=RD",
            "https://www.youtube-nocookie.com/embed/ID?rel=0",
            "https://youtu.be/ID?t=3",
            "https://www.youtube.com/shorts/ID",
            "https://www.youtube.com/embed/ID?autoplay=1",
            "https://www.youtube.com/live/ID?si=abc",
            "https://www.youtube.com/v/ID",
        ] {
            let form = form.replace("ID", ID);
            assert_eq!(page_of(&form).as_ref(), Some(&page), "{form}");
        }
    }

    #[test]
    fn not_players() {
        for s in [
            "https://www.youtube.com/watch?v=SJ6vaRpQ0f", // 10 chars
            "https://www.youtube.com/watch?v=SJ6vaRpQ0fcX", // 12 chars
            "https://youtu.be/SJ6vaRpQ0f",
            "https://youtu.be/SJ6vaRpQ0fcX?t=3",
            "https://www.youtube.com/embed/SJ6vaRpQ0f!",
            "https://www.youtube.com/embed/videoseries?list=PL123",
            "https://www.youtube.com/embed/live_stream?channel=UC1",
            "https://www.youtube.com/watch?list=PL123",
            "https://www.youtube.com/shorts/SJ6vaRpQ0fc/extra",
            "https://notyoutube.com/watch?v=SJ6vaRpQ0fc",
            "ftp://youtu.be/SJ6vaRpQ0fc",
            "https://vimeo.com/about",
            "https://player.vimeo.com/123456",
        ] {
            assert_eq!(page_of(s), None, "{s}");
        }
    }

    #[test]
    fn vimeo_url_forms() {
        let vimeo = "https://player.vimeo.com/video/123456?h=ab";
        for s in ["https://vimeo.com/123456", vimeo] {
            let player = player_for(&url(s)).unwrap();
            let player_url = "https://player.vimeo.com/video/123456";
            assert_eq!(player.player_url.as_str(), player_url);
            assert_eq!(player.page_url.as_str(), "https://vimeo.com/123456");
            assert_eq!(player.thumbnail, None);
        }
    }

    #[test]
    fn seed_story_bare_youtube_link() {
        let html = format!("<p>text</p><p>https://www.youtube.com/watch?v={ID}</p>");
        let player = Player {
            player_url: url(&format!("https://www.youtube.com/embed/{ID}")),
            page_url: url(&format!("https://www.youtube.com/watch?v={ID}")),
            thumbnail: Some(url(&format!("https://i.ytimg.com/vi/{ID}/hqdefault.jpg"))),
        };
        let embed = Embed {
            kind: EmbedKind::Video,
            url: player.page_url.clone(),
            mime: None,
            width: None,
            height: None,
            title: None,
            player: Some(player),
        };
        assert_eq!(embeds(&html), [embed]);
    }

    #[test]
    fn player_links_in_prose_and_anchors() {
        let html = format!(
            r#"<p>Watch (https://youtu.be/{ID}).</p><p><a href="https://vimeo.com/42">talk</a></p>
            <p>https://example.com/youtube youtube.com/watch?v=aaaaaaaaaaa</p>
            <script>var u = "https://youtu.be/bbbbbbbbbbb";</script>"#
        );
        let found: Vec<_> = embeds(&html)
            .into_iter()
            .map(|e| e.url.to_string())
            .collect();
        let youtube = format!("https://www.youtube.com/watch?v={ID}");
        assert_eq!(found, [youtube.as_str(), "https://vimeo.com/42"]);
    }

    #[test]
    fn iframe_and_bare_link_of_same_video_dedupe() {
        let html = format!(
            r#"<iframe src="//www.youtube.com/embed/{ID}?rel=0" width="560" height="315"
            title="Launch"></iframe><p>https://youtu.be/{ID}</p>
            <a href="https://www.youtube.com/watch?v={ID}">again</a>"#
        );
        let expected = format!(
            r#"Video https://www.youtube.com/watch?v={ID} None Some(560) Some(315) Some("Launch") Some("https://www.youtube.com/embed/{ID}")"#
        );
        assert_eq!(describe(&html), [expected]);
    }

    #[test]
    fn images_resolved_and_filtered() {
        let html = r#"<img src="../img/a.png" alt=" A cat " width="640" height="100%">
            <img src="data:image/png;base64,AAAA"><img src="javascript:alert(1)"><img src=" ">
            <img src="https://cdn.example/a.webp" width="+5" height="0"><img src="/img/a.png">
            <iframe src="https://evil.example/embed/SJ6vaRpQ0fc"></iframe>"#;
        let expected = [
            r#"Image https://news.example/img/a.png Some("image/png") Some(640) None Some("A cat") None"#,
            r#"Image https://cdn.example/a.webp Some("image/webp") None None None None"#,
        ];
        assert_eq!(describe(html), expected);
    }

    #[test]
    fn video_and_audio_sources() {
        let html = r#"<video width="1280" title="Clip"><source src="/v.mp4" type="video/mp4"></video>
            <video><source src="data:video/mp4,x"><source src="v.webm" type='video/WebM; codecs="vp9"'></video>
            <audio src="https://pod.example/ep1.opus" controls></audio>"#;
        let expected = [
            r#"Video https://news.example/v.mp4 Some("video/mp4") Some(1280) None Some("Clip") None"#,
            r#"Video https://news.example/2024/v.webm Some("video/webm") None None None None"#,
            r#"Audio https://pod.example/ep1.opus Some("audio/ogg") None None None None"#,
        ];
        assert_eq!(describe(html), expected);
    }

    #[test]
    fn guesses_mime_from_extension() {
        let mime = |s: &str| guess_mime(&url(s));
        assert_eq!(
            mime("https://a.example/p/photo.JPG?w=2"),
            Some("image/jpeg")
        );
        assert_eq!(mime("https://a.example/page"), None);
        assert_eq!(mime("https://a.example/archive.tar.gz"), None);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        // <span>, not <div>: html5ever is quadratic in nested <div>s (servo/html5ever#788).
        let html = "<span>".repeat(50_000) + "<img src=x.png>";
        assert_eq!(embeds(&html).len(), 1);
    }

    proptest! {
        #[test]
        fn never_panics_on_any_string(s in any::<String>()) {
            embeds(&s);
        }

        #[test]
        fn never_panics_on_tag_soup(
            s in r#"(<(img|video|audio|source|iframe|a|p|svg|script)( (src|href|width|type)=("[^"]{0,30}"|[a-z0-9/:.?=%]{0,20}))*/?>|https://youtu\.be/[A-Za-z0-9_-]{11}|[^<]{0,12}|</[a-z]{1,6}>){0,25}"#
        ) {
            embeds(&s);
        }
    }
}
