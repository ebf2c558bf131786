//! The media extractor on arbitrary HTML. The first line, when it is an absolute URL, is
//! the base that relative URLs resolve against, so resolution is fuzzed too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pressfeed::media::embed::{embeds_in_html, player_for};
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, rest) = text.split_once('\n').unwrap_or(("", text));
    let (base, html) = match Url::parse(first) {
        Ok(base) => (base, rest),
        Err(_) => (Url::parse("https://news.example/a/b/").unwrap(), text),
    };
    for embed in embeds_in_html(html, &base) {
        assert!(
            matches!(embed.url.scheme(), "http" | "https"),
            "only web URLs are media: {}",
            embed.url
        );
        if let Some(player) = embed.player {
            assert_eq!(
                player_for(&player.page_url).map(|p| p.page_url),
                Some(player.page_url)
            );
        }
    }
});
