//! HTTP caching the way aggregators need it: codings made once, negotiated per request,
//! validators that never lie, and rebuilds that are coalesced.

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::time::{Instant, SystemTime};

use chrono::TimeDelta;
use common::{Options, Reply, Server, article, parse_rss, site};
use http::{Method, StatusCode};
use pressfeed::clock::ManualClock;
use pressfeed::item::PreparedArticle;
use serde_json::json;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    out
}

async fn one_article_server(extra: &str) -> Server {
    one_article_server_with(extra, Options::default()).await
}

/// `one_article_server` on `clock`.
async fn one_article_server_on(extra: &str, clock: &ManualClock) -> Server {
    one_article_server_with(extra, Options::default().on(clock.clock())).await
}

async fn one_article_server_with(extra: &str, options: Options) -> Server {
    Server::start_with(
        site(&[("world", extra)]),
        &[article(
            "a",
            &["world"],
            "2022-05-14T09:30:00Z",
            json!({"body_html": "<p>long enough to compress well</p>".repeat(50)}),
        )],
        options,
    )
    .await
}

#[tokio::test]
async fn each_coding_is_its_own_representation() {
    let server = one_article_server("").await;
    let plain = server.get("/feeds/world.rss").await;
    assert!(plain.headers.get("content-encoding").is_none());
    let server = &server;
    let get = |ae: &'static str| async move {
        server
            .request(Method::GET, "/feeds/world.rss", &[("accept-encoding", ae)])
            .await
    };

    let gz = get("gzip").await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    assert_eq!(gunzip(&gz.body), plain.body);
    assert!(gz.body.len() < plain.body.len() / 3);

    let br = get("gzip, deflate, br").await;
    assert_eq!(br.header("content-encoding"), "br");
    assert_eq!(unbrotli(&br.body), plain.body);

    let etags = [plain.header("etag"), gz.header("etag"), br.header("etag")];
    assert!(
        etags[1].ends_with("-gz\"") && etags[2].ends_with("-br\""),
        "{etags:?}"
    );
    assert_ne!(etags[0], etags[1]);
    for reply in [&plain, &gz, &br] {
        assert_eq!(reply.header("vary"), "Accept, Accept-Encoding");
        assert_eq!(reply.header("last-modified"), plain.header("last-modified"));
        assert_eq!(
            reply.header("content-type"),
            "application/rss+xml; charset=utf-8"
        );
    }

    assert_eq!(
        get("br;q=0, gzip;q=0.5").await.header("content-encoding"),
        "gzip"
    );
    assert!(
        get("identity, gzip;q=0")
            .await
            .headers
            .get("content-encoding")
            .is_none()
    );
    assert_eq!(get("*").await.header("content-encoding"), "br");
    let refused = get("identity;q=0").await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);

    let head = server
        .request(
            Method::HEAD,
            "/feeds/world.rss",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), gz.body.len().to_string());
    assert_eq!(head.header("etag"), gz.header("etag"));
}

#[tokio::test]
async fn a_304_answers_the_coding_the_client_holds() {
    let server = one_article_server("").await;
    let gz = server
        .request(
            Method::GET,
            "/feeds/world.atom",
            &[("accept-encoding", "gzip")],
        )
        .await;
    let etag = gz.header("etag");
    let again = server
        .request(
            Method::GET,
            "/feeds/world.atom",
            &[("accept-encoding", "gzip"), ("if-none-match", etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag"), etag);
    assert_eq!(again.header("vary"), "Accept, Accept-Encoding");
    assert!(again.headers.get("content-encoding").is_none());
    // The gzip tag does not validate the identity representation.
    let plain = server
        .request(Method::GET, "/feeds/world.atom", &[("if-none-match", etag)])
        .await;
    assert_eq!(plain.status, StatusCode::OK);
}

#[tokio::test]
async fn retracting_the_newest_article_moves_last_modified_forward() {
    let clock = common::manual_clock();
    let server = Server::start_with(
        site(&[("world", "")]),
        &[
            article("old", &["world"], "2022-05-01T00:00:00Z", json!({})),
            article("new", &["world"], "2022-05-14T00:00:00Z", json!({})),
        ],
        Options::default().on(clock.clock()),
    )
    .await;
    let before = server.get("/feeds/world.rss").await;
    let before_lm = httpdate::parse_http_date(before.header("last-modified")).unwrap();
    let newest = pressfeed::article::ArticleId::parse("new").unwrap();
    assert!(server.store().retract(&newest).unwrap());
    // A minute on (HTTP dates have one-second resolution); moving the clock is also what
    // makes the server read the change log.
    clock.advance(TimeDelta::minutes(1));
    server
        .wait_until("the retraction", |s| async {
            parse_rss(&s.get("/feeds/world.rss").await.body)
                .items()
                .len()
                == 1
        })
        .await;
    let after = server.get("/feeds/world.rss").await;
    let after_lm = httpdate::parse_http_date(after.header("last-modified")).unwrap();
    assert!(
        after_lm > before_lm,
        "Last-Modified went from {before_lm:?} to {after_lm:?}"
    );
    let stale = server
        .request(
            Method::GET,
            "/feeds/world.rss",
            &[("if-none-match", before.header("etag"))],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::OK,
        "the old ETag no longer matches"
    );
}

#[tokio::test]
async fn an_identical_rebuild_changes_no_validator() {
    // Rebuilt every second by its schedule, with nothing changed.
    let clock = common::manual_clock();
    let server = one_article_server_on("schedule = \"* * * * * *\"", &clock).await;
    let first = server.get("/feeds/world.rss").await;
    const BUILDS: &str = "pressfeed_section_build_duration_seconds_count";
    let builds = server.metric(BUILDS).await;
    // Two firings, each a second later: new bytes would get a new Last-Modified.
    for firing in [1.0, 2.0] {
        clock.advance(TimeDelta::seconds(1));
        server
            .wait_until("the schedule's rebuild", |s| async move {
                s.metric(BUILDS).await >= builds + firing
            })
            .await;
    }
    let again = server
        .request(
            Method::GET,
            "/feeds/world.rss",
            &[
                ("if-none-match", first.header("etag")),
                ("if-modified-since", first.header("last-modified")),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("last-modified"), first.header("last-modified"));
}

#[tokio::test]
async fn a_burst_of_writes_causes_a_handful_of_rebuilds() {
    let clock = common::manual_clock();
    let server = one_article_server_on("", &clock).await;
    // `/readyz` turns ready just before the first rebuild is counted.
    server
        .wait_until("the first rebuild counted", |s| async {
            s.metric("pressfeed_rebuilds_total").await >= 1.0
        })
        .await;
    let rebuilds = server.metric("pressfeed_rebuilds_total").await;
    // 1,000 single-article writes by another process, the clock moved on by one poll of
    // the change log after every 100: ten reads of the log, however long the writes take.
    // A store that tells of every commit (PostgreSQL) has the log read as they land too.
    let started = Instant::now();
    for hundred in 0..10 {
        let store = server.store();
        tokio::task::spawn_blocking(move || {
            for i in hundred * 100..(hundred + 1) * 100 {
                let published = format!("2022-06-01T00:{:02}:{:02}Z", i / 60, i % 60);
                store
                    .upsert(&[PreparedArticle::new(article(
                        &format!("burst-{i}"),
                        &["world"],
                        &published,
                        json!({}),
                    ))])
                    .unwrap();
            }
        })
        .await
        .unwrap();
        clock.advance(TimeDelta::milliseconds(100));
    }
    server
        .wait_until("the burst in the feed", |s| async {
            s.get("/feeds/world.rss")
                .await
                .text()
                .contains("Title of burst-999")
        })
        .await;
    // A rebuild is counted just after its snapshot is served.
    server
        .wait_until("the burst's rebuilds counted", |s| async move {
            s.metric("pressfeed_rebuilds_total").await > rebuilds
        })
        .await;
    // Nothing else moves the clock or writes: a rebuild more would have to come from the
    // writes themselves. Heard commits are coalesced too: a steady stream is rebuilt at
    // most every 250 ms (the scheduler's longest debounce) while it lasts.
    let during = server.metric("pressfeed_rebuilds_total").await - rebuilds;
    let heard = if server.served_store.hears_changes() {
        (started.elapsed().as_secs_f64() / 0.25).ceil()
    } else {
        0.0
    };
    assert!(
        (1.0..=10.0 + heard).contains(&during),
        "1,000 writes seen in 10 reads of the change log (and {heard} debounces of heard \
         commits) caused {during} rebuilds"
    );
}

#[tokio::test]
async fn cache_control_and_ttl_follow_max_age() {
    let server = one_article_server("max_age = 600").await;
    let reply = server.get("/feeds/world.rss").await;
    assert_eq!(
        reply.header("cache-control"),
        "public, max-age=600, stale-while-revalidate=60, stale-if-error=3600"
    );
    assert_eq!(parse_rss(&reply.body).ttl(), Some("10"));
}

/// Checks a "not built yet" answer: 503, to be retried in a second, kept by no cache, and
/// readable by a script of any site, Retry-After too (tests/cors.rs has the other answers).
fn assert_not_built_yet(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{what}");
    assert_eq!(reply.header("retry-after"), "1", "{what}");
    assert_eq!(reply.header("cache-control"), "no-store", "{what}");
    assert_eq!(reply.header("access-control-allow-origin"), "*", "{what}");
    assert!(
        reply
            .header("access-control-expose-headers")
            .contains("Retry-After"),
        "{what}"
    );
}

#[tokio::test]
async fn a_feed_not_built_yet_is_503_from_the_first_request_never_404() {
    let data = tempfile::tempdir().unwrap();
    let store = common::open_store(data.path()).unwrap();
    let first = article("a", &["world"], "2022-05-14T09:30:00Z", json!({}));
    store.upsert(&[PreparedArticle::new(first)]).unwrap();
    let feeds = site(&[("world", ""), ("off", "enabled = false")]);
    // The sections seeded into the store now: the start would wait for the lock to.
    pressfeed::live::load(feeds.path(), &store, chrono::Utc::now()).unwrap();
    drop(store);
    // Held from before the start: nothing the first build makes is published until the
    // lock goes, however fast the machine.
    let lock = common::hold_write_lock(data.path());
    let server = Server::launch_on_with(feeds, data.path(), Options::default()).await;

    let configured = [
        "/feeds/world.rss",
        "/feeds/world.atom",
        "/feeds/world.json",
        "/feeds/index.opml",
    ];
    for path in configured {
        let head = server.request(Method::HEAD, path, &[]).await;
        assert_not_built_yet(&head, &format!("HEAD {path}"));
        assert!(head.body.is_empty());
    }
    let post = server.request(Method::POST, "/feeds/world.rss", &[]).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    for path in ["/feeds/nowhere.rss", "/feeds/off.rss", "/feeds/world.txt"] {
        let reply = server.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path} is not configured"
        );
    }

    // A reader polling every feed as fast as it is answered: 503 while the build is held,
    // then 200 for good once it lands, and nothing else.
    let mut lock = Some(lock);
    let mut built = HashSet::new();
    let mut unavailable = 0;
    let deadline = Instant::now() + common::HANG;
    while built.len() < configured.len() {
        for path in configured {
            let reply = server.get(path).await;
            match reply.status {
                StatusCode::OK => {
                    built.insert(path);
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert!(built.is_empty(), "{path} is 503 after a feed was served");
                    assert_not_built_yet(&reply, path);
                    unavailable += 1;
                }
                other => panic!("{path} answered {other}: only 503 or 200 may come first"),
            }
        }
        // Every feed was seen unavailable while held: let the build land.
        if lock.take().is_some() {
            assert_eq!(unavailable, configured.len());
        }
        assert!(
            Instant::now() < deadline,
            "no first build after {:?}: a hang?",
            common::HANG
        );
    }
    assert_eq!(server.get("/readyz").await.status, StatusCode::OK);
    assert_eq!(
        server.get("/feeds/nowhere.rss").await.status,
        StatusCode::NOT_FOUND
    );
}

/// Writes `id` into `world` as another process would, moves `clock` by `by` (which makes
/// the server read the change log and rebuild at the new time), and waits for the feed to
/// show it.
async fn publish_at(server: &Server, clock: &ManualClock, id: &str, by: TimeDelta) -> Reply {
    let new = article(id, &["world"], "2023-01-01T00:00:00Z", json!({}));
    server.store().upsert(&[PreparedArticle::new(new)]).unwrap();
    clock.advance(by);
    let title = format!("Title of {id}");
    server
        .wait_until(&format!("{id} in the feed"), |s| {
            let title = title.clone();
            async move { s.get("/feeds/world.rss").await.text().contains(&title) }
        })
        .await;
    server.get("/feeds/world.rss").await
}

fn last_modified(reply: &Reply) -> SystemTime {
    httpdate::parse_http_date(reply.header("last-modified")).unwrap()
}

#[tokio::test]
async fn if_modified_since_never_hides_bytes_changed_within_its_second() {
    let clock = common::manual_clock();
    let server = one_article_server_on("", &clock).await;
    let first = server.get("/feeds/world.rss").await;
    let since = |reply: &Reply| {
        let date = reply.header("last-modified").to_owned();
        let server = &server;
        async move {
            server
                .request(
                    Method::GET,
                    "/feeds/world.rss",
                    &[("if-modified-since", &date)],
                )
                .await
        }
    };
    assert_eq!(since(&first).await.status, StatusCode::NOT_MODIFIED);

    // New bytes within the same second: the same Last-Modified, which no longer proves
    // the client holds them.
    let second = publish_at(&server, &clock, "second", TimeDelta::milliseconds(100)).await;
    assert_eq!(last_modified(&second), last_modified(&first));
    let polled = since(&first).await;
    assert_eq!(polled.status, StatusCode::OK, "a 304 would hide new bytes");
    assert_eq!(polled.body, second.body);
    assert_eq!(since(&second).await.status, StatusCode::OK);
    // The ETag still tells them apart.
    let tagged = server
        .request(
            Method::GET,
            "/feeds/world.rss",
            &[("if-none-match", second.header("etag"))],
        )
        .await;
    assert_eq!(tagged.status, StatusCode::NOT_MODIFIED);

    // A change in a later second names its bytes alone again.
    let third = publish_at(&server, &clock, "third", TimeDelta::seconds(1)).await;
    assert!(last_modified(&third) > last_modified(&second));
    assert_eq!(since(&third).await.status, StatusCode::NOT_MODIFIED);
    assert_eq!(since(&second).await.status, StatusCode::OK);

    // The clock is set back a minute: the next change is stamped by it, never later than
    // the clock or the response's Date, and no client's date hides it.
    clock.set(clock.now() - TimeDelta::minutes(1));
    let fourth = publish_at(&server, &clock, "fourth", TimeDelta::zero()).await;
    let stamped = last_modified(&fourth);
    assert!(stamped <= SystemTime::from(clock.now()));
    assert!(stamped <= httpdate::parse_http_date(fourth.header("date")).unwrap());
    for held in [&first, &second, &third, &fourth] {
        let reply = since(held).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "IMS {}",
            held.header("last-modified")
        );
        assert_eq!(reply.body, fourth.body);
    }
}

/// Two replicas on one store, their clocks five seconds apart, as two machines' may be:
/// the one that saves new bytes first stamps them, and the other serves that stamp, so a
/// load balancer alternating between them never turns a reader's 304 into a 200. Whether
/// the second's clock is ahead or behind.
#[tokio::test]
async fn replicas_on_one_store_agree_on_etag_and_last_modified() {
    replicas_agree(TimeDelta::seconds(5)).await;
    replicas_agree(TimeDelta::seconds(-5)).await;
}

/// `replicas_on_one_store_agree_on_etag_and_last_modified` with the second replica's
/// clock `skew` from the first's.
async fn replicas_agree(skew: TimeDelta) {
    let data = tempfile::tempdir().unwrap();
    let (first_clock, second_clock) = (common::manual_clock(), common::manual_clock());
    second_clock.advance(skew);
    let first = Server::start_on_with(
        site(&[("world", "")]),
        data.path(),
        Options::default().on(first_clock.clock()),
    )
    .await;
    let second = Server::start_on_with(
        site(&[("world", "")]),
        data.path(),
        Options::default().on(second_clock.clock()),
    )
    .await;
    // Both clocks a minute on before the write: a store that tells of commits (PostgreSQL)
    // has them build at once, on the clocks as they are then; one that does not (SQLite)
    // is read at the next move, a second later.
    first_clock.advance(TimeDelta::minutes(1));
    second_clock.advance(TimeDelta::minutes(1));
    let new = article("shared", &["world"], "2023-01-01T00:00:00Z", json!({}));
    first.store().upsert(&[PreparedArticle::new(new)]).unwrap();
    first_clock.advance(TimeDelta::seconds(1));
    second_clock.advance(TimeDelta::seconds(1));
    first
        .wait_until("the article on the first replica", |s| async {
            s.get("/feeds/world.rss")
                .await
                .text()
                .contains("Title of shared")
        })
        .await;
    let built_first = first.get("/feeds/world.rss").await;
    second
        .wait_until("the article on the second replica", |s| async {
            s.get("/feeds/world.rss")
                .await
                .text()
                .contains("Title of shared")
        })
        .await;
    let built_second = second.get("/feeds/world.rss").await;
    for header in ["etag", "last-modified"] {
        assert_eq!(
            built_first.header(header),
            built_second.header(header),
            "{header}, skew {skew}"
        );
    }
    for (name, value) in [
        ("if-none-match", built_first.header("etag")),
        ("if-modified-since", built_first.header("last-modified")),
    ] {
        let reply = second
            .request(Method::GET, "/feeds/world.rss", &[(name, value)])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_MODIFIED,
            "{name} from the first"
        );
    }
}
