//! Feeds over HTTP: what goes in (published, live, in the section) and how it is served.

mod common;

use chrono::TimeDelta;
use common::{Options, Server, article, parse_atom, parse_rss, site};
use http::{Method, StatusCode};
use pressfeed::item::PreparedArticle;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn titles_rss(channel: &rss::Channel) -> Vec<String> {
    channel
        .items()
        .iter()
        .map(|i| i.title().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn feeds_carry_the_newest_live_articles_of_their_sections() {
    let feeds = site(&[
        ("world", "limit = 3"),
        ("top", "include = [\"world\", \"top\"]"),
    ]);
    let server = Server::start(
        feeds,
        &[
            article("w1", &["world"], "2022-05-01T10:00:00Z", json!({})),
            article("w2", &["world"], "2022-05-02T10:00:00+02:00", json!({})),
            article("w3", &["world", "top"], "2022-05-03T10:00:00Z", json!({})),
            article("w4", &["world"], "2022-05-04T10:00:00Z", json!({})),
            article(
                "draft",
                &["world"],
                "2022-05-05T10:00:00Z",
                json!({"status": "draft"}),
            ),
            article("future", &["world"], "2099-01-01T00:00:00Z", json!({})),
            article("t1", &["top"], "2022-05-03T12:00:00Z", json!({})),
            article("other", &["sports"], "2022-05-06T10:00:00Z", json!({})),
        ],
    )
    .await;

    let rss = server.get("/feeds/world.rss").await;
    assert_eq!(rss.status, StatusCode::OK);
    assert_eq!(
        rss.header("content-type"),
        "application/rss+xml; charset=utf-8"
    );
    let channel = parse_rss(&rss.body);
    assert_eq!(
        titles_rss(&channel),
        ["Title of w4", "Title of w3", "Title of w2"],
        "newest first, limit 3, no drafts or future articles"
    );

    let atom = server.get("/feeds/top.atom").await;
    assert_eq!(
        atom.header("content-type"),
        "application/atom+xml; charset=utf-8"
    );
    let feed = parse_atom(&atom.body);
    let titles: Vec<_> = feed
        .entries()
        .iter()
        .map(|e| e.title().value.clone())
        .collect();
    assert_eq!(
        titles,
        [
            "Title of w4",
            "Title of t1",
            "Title of w3",
            "Title of w2",
            "Title of w1"
        ],
        "included sections merged, each article once"
    );
}

#[tokio::test]
async fn items_have_stable_ids_dates_authors_categories_and_images() {
    let server = Server::start(
        site(&[("world", "")]),
        &[article(
            "seed",
            &["world"],
            "2022-05-14T09:30:00Z",
            json!({
                "updated_at": "2022-05-14T10:02:00Z",
                "authors": [{"name": "Asian Lite News"}],
                "tags": ["Russia", "Ukraine"],
                "image": {"url": "https://cdn.example/a.jpg", "length": 183211, "width": 1200, "height": 675},
                "body_html": "<p>Body</p><script>alert(1)</script>",
            }),
        )],
    )
    .await;
    let channel = parse_rss(&server.get("/feeds/world.rss").await.body);
    assert_eq!(channel.link(), "https://news.example/world/");
    let self_link = &channel.atom_ext().unwrap().links()[0];
    assert_eq!(self_link.rel(), "self");
    assert_eq!(
        self_link.href(),
        "https://feeds.news.example/feeds/world.rss"
    );
    assert_eq!(channel.atom_ext().unwrap().links()[1].rel(), "hub");
    assert_eq!(channel.ttl(), Some("5"));
    let item = &channel.items()[0];
    assert_eq!(item.guid().unwrap().value(), "tag:news.example,2000:seed");
    assert!(!item.guid().unwrap().is_permalink());
    assert_eq!(item.pub_date(), Some("Sat, 14 May 2022 09:30:00 +0000"));
    assert_eq!(
        item.dublin_core_ext().unwrap().creators(),
        ["Asian Lite News"]
    );
    let categories: Vec<_> = item.categories().iter().map(|c| c.name()).collect();
    assert_eq!(categories, ["Russia", "Ukraine"]);
    let enclosure = item.enclosure().unwrap();
    assert_eq!(enclosure.url(), "https://cdn.example/a.jpg");
    assert_eq!(enclosure.length(), "183211");
    assert_eq!(enclosure.mime_type(), "image/jpeg");
    assert!(item.content().unwrap().contains("<p>Body</p>"));

    let feed = parse_atom(&server.get("/feeds/world.atom").await.body);
    let entry = &feed.entries()[0];
    assert_eq!(entry.id(), "tag:news.example,2000:seed");
    assert_eq!(
        entry.published().unwrap().to_rfc3339(),
        "2022-05-14T09:30:00+00:00"
    );
    assert_eq!(entry.updated().to_rfc3339(), "2022-05-14T10:02:00+00:00");
    assert_eq!(feed.updated().to_rfc3339(), "2022-05-14T10:02:00+00:00");
    assert_eq!(entry.authors()[0].name(), "Asian Lite News");
    let rels: Vec<_> = entry.links().iter().map(|l| l.rel()).collect();
    assert_eq!(rels, ["alternate", "enclosure"]);
    assert_eq!(entry.content().unwrap().content_type(), Some("html"));
}

#[tokio::test]
async fn an_article_without_author_gets_the_site_default() {
    let server = Server::start(
        site(&[("world", "content = \"summary\"")]),
        &[article("a", &["world"], "2022-05-14T09:30:00Z", json!({}))],
    )
    .await;
    let channel = parse_rss(&server.get("/feeds/world.rss").await.body);
    let item = &channel.items()[0];
    assert_eq!(item.dublin_core_ext().unwrap().creators(), ["Test Desk"]);
    assert_eq!(
        item.content(),
        None,
        "content = summary leaves the body out"
    );
    assert_eq!(item.description(), Some("Summary of a"));
}

#[tokio::test]
async fn conditional_requests_answer_304_with_the_validators() {
    let server = Server::start(
        site(&[("world", "max_age = 120")]),
        &[article("a", &["world"], "2022-05-14T09:30:00Z", json!({}))],
    )
    .await;
    let full = server.get("/feeds/world.rss").await;
    let etag = full.header("etag").to_owned();
    let last_modified = full.header("last-modified").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    assert_eq!(
        full.header("cache-control"),
        "public, max-age=120, stale-while-revalidate=60, stale-if-error=3600"
    );
    assert_eq!(full.header("vary"), "Accept, Accept-Encoding");

    let listed = format!("\"nope\", W/{etag}");
    for headers in [
        [("if-none-match", etag.as_str())],
        [("if-none-match", listed.as_str())],
        [("if-none-match", "*")],
        [("if-modified-since", last_modified.as_str())],
    ] {
        let reply = server
            .request(Method::GET, "/feeds/world.rss", &headers)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "{headers:?}");
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("etag"), etag);
        assert_eq!(reply.header("last-modified"), last_modified);
        assert_eq!(reply.header("vary"), "Accept, Accept-Encoding");
        assert!(reply.header("cache-control").contains("max-age=120"));
    }

    let stale = [
        ("if-none-match", "\"old\""),
        ("if-modified-since", last_modified.as_str()),
    ];
    let reply = server
        .request(Method::GET, "/feeds/world.rss", &stale)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "If-None-Match wins over If-Modified-Since"
    );
    assert_eq!(reply.body, full.body);
}

#[tokio::test]
async fn head_unknown_feeds_and_other_methods() {
    let server = Server::start(
        site(&[("world", "")]),
        &[article("a", &["world"], "2022-05-14T09:30:00Z", json!({}))],
    )
    .await;
    let get = server.get("/feeds/world.atom").await;
    let head = server.request(Method::HEAD, "/feeds/world.atom", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(head.header("content-length"), get.body.len().to_string());

    for path in [
        "/feeds/nope.rss",
        "/feeds/world.xml",
        "/feeds/world.xml.html",
        "/feeds/index.opml.html",
        "/",
        "/feeds/../feeds/world.rss",
    ] {
        assert_eq!(
            server.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let reply = server
            .request(method.clone(), "/feeds/world.rss", &[])
            .await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(reply.header("allow"), "GET, HEAD");
    }
    assert_eq!(server.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_write_by_another_process_shows_up() {
    let server = Server::start(
        site(&[("world", "")]),
        &[article("a", &["world"], "2022-05-14T09:30:00Z", json!({}))],
    )
    .await;
    let before = server
        .get("/feeds/world.rss")
        .await
        .header("etag")
        .to_owned();
    // A separate connection to the same SQLite file, as `pressfeed import` would open.
    server
        .store()
        .upsert(&[PreparedArticle::new(article(
            "b",
            &["world"],
            "2022-05-15T09:30:00Z",
            json!({}),
        ))])
        .unwrap();
    server
        .wait_until("the new article", |s| async {
            let channel = parse_rss(&s.get("/feeds/world.rss").await.body);
            channel.items().len() == 2
        })
        .await;
    assert_ne!(server.get("/feeds/world.rss").await.header("etag"), before);
}

/// The item titles of `/feeds/world.rss`, in feed order.
async fn titles(server: &Server) -> Vec<String> {
    titles_rss(&parse_rss(&server.get("/feeds/world.rss").await.body))
}

#[tokio::test]
async fn a_scheduled_article_enters_its_feed_when_its_time_comes() {
    let clock = common::manual_clock();
    let at = clock.now() + TimeDelta::hours(1);
    let server = Server::start_with(
        site(&[("world", "")]),
        &[
            article("now", &["world"], "2022-05-14T09:30:00Z", json!({})),
            article("later", &["world"], &at.to_rfc3339(), json!({})),
        ],
        Options::default().on(clock.clock()),
    )
    .await;
    assert_eq!(titles(&server).await, ["Title of now"]);
    // A second before its time, a rebuild for another write still leaves it out.
    server
        .store()
        .upsert(&[PreparedArticle::new(article(
            "other",
            &["world"],
            "2022-05-15T09:30:00Z",
            json!({}),
        ))])
        .unwrap();
    clock.set(at - TimeDelta::seconds(1));
    server
        .wait_until("the other article", |s| async move {
            titles(s).await.len() == 2
        })
        .await;
    assert_eq!(titles(&server).await, ["Title of other", "Title of now"]);
    // Its time comes.
    clock.set(at);
    server
        .wait_until("the scheduled article", |s| async move {
            titles(s).await.len() == 3
        })
        .await;
    assert_eq!(
        titles(&server).await,
        ["Title of later", "Title of other", "Title of now"]
    );
}

#[tokio::test]
async fn a_restart_keeps_etag_and_last_modified() {
    let data = tempfile::tempdir().unwrap();
    common::open_store(data.path())
        .unwrap()
        .upsert(&[PreparedArticle::new(article(
            "a",
            &["world"],
            "2022-05-14T09:30:00Z",
            json!({}),
        ))])
        .unwrap();
    let clock = common::manual_clock();
    let on_clock = || Options::default().on(clock.clock());
    let server = Server::start_on_with(site(&[("world", "")]), data.path(), on_clock()).await;
    let first = server.get("/feeds/world.atom").await;
    let feeds = server.stop().await;
    // A day later: feeds built anew would say so in their Last-Modified.
    clock.advance(TimeDelta::days(1));
    let server = Server::start_on_with(feeds, data.path(), on_clock()).await;
    let again = server.get("/feeds/world.atom").await;
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("last-modified"), first.header("last-modified"));
}

#[tokio::test]
async fn the_seed_storys_video_is_a_player_with_a_thumbnail_in_every_format() {
    let seed = pressfeed::article::Article::from_value(pressfeed_corpus::demo_articles().remove(0))
        .unwrap()
        .article;
    let server = Server::start(site(&[("world", "")]), &[seed]).await;
    let player = "https://www.youtube.com/embed/SJ6vaRpQ0fc";
    let thumbnail = "https://i.ytimg.com/vi/SJ6vaRpQ0fc/hqdefault.jpg";

    let channel = parse_rss(&server.get("/feeds/world.rss").await.body);
    assert_eq!(
        channel.namespaces()["media"],
        "http://search.yahoo.com/mrss/"
    );
    let media = &channel.items()[0].extensions()["media"];
    let contents = &media["content"];
    assert_eq!(contents.len(), 2, "lead image and video");
    assert_eq!(contents[0].attrs()["medium"], "image");
    let video = &contents[1];
    assert_eq!(video.attrs()["medium"], "video");
    assert_eq!(video.children()["player"][0].attrs()["url"], player);
    assert_eq!(video.children()["thumbnail"][0].attrs()["url"], thumbnail);
    assert_eq!(
        contents[0].children()["credit"][0].value(),
        Some("Pentagon")
    );
    // In the HTML, the bare link reads as the video's thumbnail, linked, and a caption,
    // which readers that drop iframes show too.
    let body = channel.items()[0].content().unwrap();
    let page = "https://www.youtube.com/watch?v=SJ6vaRpQ0fc";
    assert!(!body.contains(&format!("<p>{page}</p>")), "{body}");
    assert!(
        body.contains(&format!(
            "<a href=\"{page}\" rel=\"noopener\"><img src=\"{thumbnail}\""
        )) && body.contains("<figcaption>")
            && body.contains(">Watch on YouTube: "),
        "{body}"
    );

    let feed = parse_atom(&server.get("/feeds/world.atom").await.body);
    let video = &feed.entries()[0].extensions()["media"]["content"][1];
    assert_eq!(video.children()["player"][0].attrs()["url"], player);
    assert_eq!(video.children()["thumbnail"][0].attrs()["url"], thumbnail);

    let json = server.get("/feeds/world.json").await;
    assert_eq!(json.header("content-type"), "application/feed+json");
    let feed: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    let item = &feed["items"][0];
    assert_eq!(
        item["attachments"][0]["url"],
        "https://www.youtube.com/watch?v=SJ6vaRpQ0fc"
    );
    assert_eq!(item["attachments"][0]["mime_type"], "text/html");
    assert_eq!(
        item["image"],
        "https://cdn.asianlite.example/2022/05/austin.jpg"
    );
}

/// The `xmlUrl` of every feed outline in an OPML document, parsed back with quick-xml.
fn opml_feed_urls(body: &[u8]) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(std::str::from_utf8(body).unwrap());
    let mut urls = Vec::new();
    let mut saw_title = false;
    loop {
        match reader.read_event().expect("well-formed OPML") {
            Event::Start(e) if e.name().as_ref() == b"title" => saw_title = true,
            Event::Empty(e) if e.name().as_ref() == b"outline" => {
                let mut feed_type = None;
                let mut xml_url = None;
                for attr in e.attributes() {
                    let attr = attr.unwrap();
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .unwrap()
                        .into_owned();
                    match attr.key.as_ref() {
                        b"type" => feed_type = Some(value),
                        b"xmlUrl" => xml_url = Some(value),
                        _ => {}
                    }
                }
                assert_eq!(feed_type.as_deref(), Some("rss"));
                urls.push(xml_url.expect("every feed outline has an xmlUrl"));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(saw_title, "OPML 2.0 has a head with a title");
    urls.sort();
    urls
}

#[tokio::test]
async fn the_hostile_set_is_all_accepted_and_no_element_of_any_format_is_blank() {
    let text = include_str!("data/hostile.ndjson");
    let articles: Vec<_> = text
        .lines()
        .enumerate()
        .map(
            |(i, line)| match pressfeed::article::Article::from_json(line) {
                Ok(accepted) => accepted.article,
                Err(e) => panic!("line {}: refused, though its title is visible: {e}", i + 1),
            },
        )
        .collect();
    let server = Server::start(site(&[("world", "limit = 500")]), &articles).await;

    let rss = server.get("/feeds/world.rss").await.body;
    assert_eq!(common::blanks(&rss), Vec::<String>::new());
    let channel = parse_rss(&rss);
    assert_eq!(channel.items().len(), articles.len());
    // Only the articles with no text in a summary or a body go without a description.
    let mut undescribed: Vec<&str> = channel
        .items()
        .iter()
        .filter(|item| item.description().is_none())
        .map(|item| {
            item.link()
                .unwrap()
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap()
        })
        .collect();
    undescribed.sort();
    assert_eq!(undescribed, ["10", "12", "16", "17", "19", "7", "8"]);

    let atom = server.get("/feeds/world.atom").await.body;
    assert_eq!(common::blanks(&atom), Vec::<String>::new());
    assert_eq!(parse_atom(&atom).entries().len(), articles.len());

    let json: serde_json::Value =
        serde_json::from_slice(&server.get("/feeds/world.json").await.body).unwrap();
    for item in json["items"].as_array().unwrap() {
        for (key, value) in item.as_object().unwrap() {
            if let Some(text) = value.as_str() {
                assert!(!text.trim().is_empty(), "{key} is blank in {item}");
            }
        }
        let names = item["authors"].as_array().unwrap();
        assert!(
            names
                .iter()
                .all(|a| !a["name"].as_str().unwrap().trim().is_empty())
        );
        let tags = item
            .get("tags")
            .and_then(|t| t.as_array())
            .cloned()
            .unwrap_or_default();
        assert!(tags.iter().all(|t| !t.as_str().unwrap().trim().is_empty()));
    }
}

#[tokio::test]
async fn the_opml_list_holds_every_enabled_sections_rss_and_atom_feeds() {
    let feeds = site(&[("world", ""), ("arts", ""), ("old", "enabled = false")]);
    // `section` writes a title of its own; this one must be escaped in the list.
    std::fs::write(
        feeds.path().join("sections/arts.toml"),
        "slug = \"arts\"\ntitle = \"Arts & <Culture>\"\nlink = \"https://news.example/arts/\"\n\
         schedule = \"0 0 0 1 1 *\"\n",
    )
    .unwrap();
    let server = Server::start(feeds, &[]).await;

    let opml = server.get("/feeds/index.opml").await;
    assert_eq!(opml.status, StatusCode::OK);
    assert_eq!(opml.header("content-type"), "text/x-opml; charset=utf-8");
    assert!(
        opml.text().contains("<opml version=\"2.0\">"),
        "{}",
        opml.text()
    );
    assert!(
        opml.text().contains("Arts &amp; &lt;Culture&gt;"),
        "escaped"
    );
    assert_eq!(
        opml_feed_urls(&opml.body),
        [
            "https://feeds.news.example/feeds/arts.atom",
            "https://feeds.news.example/feeds/arts.rss",
            "https://feeds.news.example/feeds/world.atom",
            "https://feeds.news.example/feeds/world.rss",
        ],
        "no JSON Feed (OPML lists RSS and Atom) and nothing of the disabled section"
    );

    // Cached like a feed: validators, 304, compressed variants.
    let etag = opml.header("etag").to_owned();
    let again = server
        .request(
            Method::GET,
            "/feeds/index.opml",
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let gz = server
        .request(
            Method::GET,
            "/feeds/index.opml",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    assert_eq!(
        gz.header("etag"),
        format!("{}-gz\"", etag.trim_end_matches('"'))
    );
    assert!(opml.headers.contains_key("last-modified"));
}

#[tokio::test]
async fn rss_and_atom_point_browsers_to_the_served_stylesheet() {
    let server = Server::start(
        site(&[("world", "")]),
        &[article("w1", &["world"], "2022-05-01T10:00:00Z", json!({}))],
    )
    .await;
    for path in ["/feeds/world.rss", "/feeds/world.atom"] {
        let feed = server.get(path).await;
        let mut lines = feed.text().lines();
        assert!(lines.next().unwrap().starts_with("<?xml version=\"1.0\""));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>"),
            "{path}: {}",
            feed.text()
        );
    }
    parse_rss(&server.get("/feeds/world.rss").await.body);
    parse_atom(&server.get("/feeds/world.atom").await.body);

    // Browsers get the preview page instead (tests/browser_view.rs), but a browser that
    // still runs XSLT and is sent the feed finds the stylesheet beside it.
    let xsl = server.get("/feeds/feed.xsl").await;
    assert_eq!(xsl.status, StatusCode::OK);
    assert_eq!(xsl.header("content-type"), "text/xsl; charset=utf-8");
    assert!(xsl.text().contains("xsl:stylesheet"));
    let again = server
        .request(
            Method::GET,
            "/feeds/feed.xsl",
            &[("if-none-match", xsl.header("etag"))],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn the_export_holds_the_served_bytes_and_headers() {
    let feeds = site(&[("world", ""), ("top", "include = [\"world\"]")]);
    let server = Server::start(
        feeds,
        &[
            article("w1", &["world"], "2022-05-01T10:00:00Z", json!({})),
            article("w2", &["world"], "2022-05-02T10:00:00Z", json!({})),
        ],
    )
    .await;
    let out = common::export(&server);

    // Each section's archive has a folder of its own (tests/archives.rs reads them).
    let entries: Vec<std::fs::DirEntry> = std::fs::read_dir(out.path().join("feeds"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let name = |e: &std::fs::DirEntry| e.file_name().into_string().unwrap();
    let mut folders: Vec<String> = (entries.iter())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(name)
        .collect();
    folders.sort();
    assert_eq!(folders, ["top", "world"]);
    let mut names: Vec<String> = (entries.iter())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(name)
        .filter(|n| {
            ![".headers.json", ".gz", ".br"]
                .iter()
                .any(|s| n.ends_with(s))
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "feed.xsl",
            "index.html",
            "index.opml",
            "top.atom",
            "top.atom.html",
            "top.json",
            "top.json.html",
            "top.rss",
            "top.rss.html",
            "world.atom",
            "world.atom.html",
            "world.json",
            "world.json.html",
            "world.rss",
            "world.rss.html"
        ]
    );
    for name in names {
        let path = out.path().join("feeds").join(&name);
        let served = server.get(&format!("/feeds/{name}")).await;
        assert_eq!(served.status, StatusCode::OK, "{name}");
        assert_eq!(std::fs::read(&path).unwrap(), served.body, "{name}: bytes");
        for (coding, suffix) in [("gzip", "gz"), ("br", "br")] {
            let compressed = server
                .request(
                    http::Method::GET,
                    &format!("/feeds/{name}"),
                    &[("accept-encoding", coding)],
                )
                .await;
            let file = std::fs::read(path.with_file_name(format!("{name}.{suffix}"))).unwrap();
            assert_eq!(file, compressed.body, "{name}.{suffix}: bytes");
        }
        let sidecar: serde_json::Value = serde_json::from_slice(
            &std::fs::read(path.with_file_name(format!("{name}.headers.json"))).unwrap(),
        )
        .unwrap();
        for (key, header) in [
            ("content_type", "content-type"),
            ("etag", "etag"),
            ("last_modified", "last-modified"),
            ("cache_control", "cache-control"),
        ] {
            assert_eq!(sidecar[key], served.header(header), "{name}: {header}");
        }
    }
}

/// Reads HTTP/1.1 responses off `bytes`: status and body of each; a HEAD's has no body.
fn responses(mut bytes: &[u8], heads: &[bool]) -> Vec<(u16, Vec<u8>)> {
    heads
        .iter()
        .map(|&head| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let httparse::Status::Complete(len) = response.parse(bytes).unwrap() else {
                panic!("an incomplete response head");
            };
            let length: usize = response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .map(|h| std::str::from_utf8(h.value).unwrap().parse().unwrap())
                .unwrap();
            let status = response.code.unwrap();
            let body_len = if head { 0 } else { length };
            let body = bytes[len..len + body_len].to_vec();
            bytes = &bytes[len + body_len..];
            (status, body)
        })
        .collect()
}

/// Large bodies are sent from memory files with `sendfile` (`src/sendfile.rs`): a client
/// gets the same bytes however it asks and however slowly it reads.
#[tokio::test]
async fn large_feeds_arrive_whole_pipelined_to_slow_readers_and_over_http2() {
    let body_html = format!(
        "<p>{}</p>",
        "All the news that fits, and then some. ".repeat(250)
    );
    let articles: Vec<_> = (1..=28)
        .map(|day| {
            let id = format!("a{day}");
            let at = format!("2022-05-{day:02}T10:00:00Z");
            article(&id, &["world"], &at, json!({ "body_html": body_html }))
        })
        .collect();
    let server = Server::start(site(&[("world", "")]), &articles).await;
    let whole = server.get("/feeds/world.rss").await;
    assert_eq!(whole.status, StatusCode::OK);
    assert!(whole.body.len() > 250_000, "{} bytes", whole.body.len());
    assert_eq!(parse_rss(&whole.body).items().len(), 28);

    // Twenty requests in one write, a HEAD among them, read through a 4 KB receive buffer
    // in small steps: 5 MB of answers fill the server's send buffer (4 MB at most), so its
    // sends block again and again, mid-body and between responses.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tcp = socket.connect(server.addr).await.unwrap();
    let heads: Vec<bool> = (0..20).map(|i| i == 3).collect();
    let mut requests = String::new();
    for (i, &head) in heads.iter().enumerate() {
        let method = if head { "HEAD" } else { "GET" };
        let close = if i == heads.len() - 1 {
            "Connection: close\r\n"
        } else {
            ""
        };
        requests += &format!("{method} /feeds/world.rss HTTP/1.1\r\nHost: x\r\n{close}\r\n");
    }
    tcp.write_all(requests.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut chunk = [0; 1500];
    loop {
        let n = tcp.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        received.extend_from_slice(&chunk[..n]);
        if received.len() % 7 == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    for (i, (status, body)) in responses(&received, &heads).iter().enumerate() {
        assert_eq!(*status, 200, "response {i}");
        if !heads[i] {
            assert!(body[..] == whole.body[..], "response {i}: other bytes");
        }
    }

    let (mut sender, _connection) = common::h2(&server).await;
    let req = http::Request::get(format!("http://{}/feeds/world.rss", server.addr))
        .body(http_body_util::Empty::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert!(body == whole.body, "HTTP/2: other bytes");
}
