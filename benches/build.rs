//! Build cost: one 50-item section of the demo site in RSS, Atom and JSON Feed (and with
//! each one's HTML preview), from the store (query included) and from articles already in
//! memory; and a full rebuild of 20 sections from a 100,000-article store.
//!
//! The big store is made once (about half a minute) and kept under the target directory
//! for later runs; delete `target/tmp/bench-store-100k` to make it again.

// `criterion_group!` makes `benches` a `pub fn` and takes no doc comment for it; a bench
// binary has no API to document.
#![expect(missing_docs)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{BufReader, Write};
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use pressfeed::build::{self, Archive, FeedSource, Format};
use pressfeed::config::Config;
use pressfeed::publish;
use pressfeed::store::{FeedQuery, Span, Store};
use pressfeed_corpus::{self as corpus, CorpusSpec};

const BIG_ARTICLES: i64 = 100_000;
const BIG_SECTIONS: usize = 20;

fn demo() -> (tempfile::TempDir, Config, Store) {
    let feeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
    let config = Config::load(&feeds).expect("the demo site loads");
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let file = std::fs::File::open(feeds.join("demo/articles.ndjson")).unwrap();
    pressfeed::import::ndjson(BufReader::new(file), &store, |_| {}).unwrap();
    (data, config, store)
}

fn section_build(c: &mut Criterion) {
    let (_data, config, store) = demo();
    let section = config.section("top-news").unwrap();
    let now = chrono::Utc::now();

    c.bench_function(
        "top-news 50 items, 3 formats and previews, from the store",
        |b| {
            b.iter(|| {
                let items = publish::section_items(&store, section, section.limit, now).unwrap();
                build::section_feeds(&config.site, section, &items)
            })
        },
    );

    let sections = section.included_sections();
    let query = FeedQuery {
        sections: &sections,
        tags: &[],
        exclude_tags: &[],
        limit: 50,
        span: Span::live(now),
    };
    c.bench_function("top-news 50 items, store query and decode only", |b| {
        b.iter(|| store.newest(&query).unwrap())
    });
    let items = store.newest(&query).unwrap();
    assert_eq!(items.len(), 50);
    let source = FeedSource {
        site: &config.site,
        section,
        items: &items,
        key: None,
        archive: Archive::Subscription,
        partner: None,
    };
    c.bench_function("top-news 50 items, 3 formats, in memory", |b| {
        b.iter(|| Format::ALL.map(|f| build::render(f, &source)))
    });
    c.bench_function(
        "top-news 50 items, 3 formats and previews, in memory",
        |b| b.iter(|| build::section_feeds(&config.site, section, &items)),
    );
    c.bench_function("top-news 50 items, RSS + Atom, in memory", |b| {
        b.iter(|| [Format::Rss, Format::Atom].map(|f| build::render(f, &source)))
    });
    for format in Format::ALL {
        c.bench_function(
            &format!("top-news 50 items, {format:?} only, in memory"),
            |b| b.iter(|| build::render(format, &source)),
        );
    }
}

/// A site of 20 sections over a 100,000-article corpus, as `pressfeed-corpus` names them
/// and as benches/serve-vs-nginx.sh configures them.
fn big() -> (tempfile::TempDir, Config, Store) {
    let feeds = tempfile::tempdir().unwrap();
    std::fs::write(
        feeds.path().join("site.toml"),
        "title = \"Benchmark\"\nurl = \"https://asianlite.example/\"\n\
         feed_base_url = \"https://asianlite.example/feeds/\"\ndefault_author = \"Desk\"\n",
    )
    .unwrap();
    std::fs::create_dir(feeds.path().join("sections")).unwrap();
    let slugs: Vec<String> = (1..=BIG_SECTIONS)
        .map(|i| format!("section-{i:02}"))
        .collect();
    for slug in &slugs {
        std::fs::write(
            feeds.path().join(format!("sections/{slug}.toml")),
            format!(
                "slug = \"{slug}\"\ntitle = \"{slug}\"\nlink = \"https://asianlite.example/{slug}/\"\nlimit = 50\n"
            ),
        )
        .unwrap();
    }
    let config = Config::load(feeds.path()).expect("the benchmark site loads");

    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-store-100k");
    let store = Store::open(&data).unwrap();
    if store.article_count().unwrap() != BIG_ARTICLES {
        drop(store);
        std::fs::remove_dir_all(&data).unwrap();
        let store = Store::open(&data).unwrap();
        eprintln!(
            "making a store of {BIG_ARTICLES} articles in {}",
            data.display()
        );
        let spec = CorpusSpec {
            articles: BIG_ARTICLES as usize,
            sections: slugs,
            seed: 1,
        };
        // Generated into a pipe and imported as it comes: 450 MB need not sit anywhere.
        let (reader, mut writer) = std::io::pipe().unwrap();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for article in corpus::generate(&spec) {
                    writeln!(writer, "{}", corpus::to_ndjson_line(&article)).unwrap();
                }
            });
            pressfeed::import::ndjson(BufReader::new(reader), &store, |bad| {
                panic!("the corpus has a bad line: {bad:?}")
            })
            .unwrap();
        });
    }
    let store = Store::open(&data).unwrap();
    // A store kept from an earlier run may hold items prepared by older rules.
    pressfeed::app::prepare_stale(&store).unwrap();
    (feeds, config, store)
}

fn full_rebuild(c: &mut Criterion) {
    let (_feeds, config, store) = big();
    let now = chrono::Utc::now();
    let build_all = || {
        config
            .sections
            .iter()
            .map(|section| {
                let items = publish::section_items(&store, section, section.limit, now).unwrap();
                build::section_feeds(&config.site, section, &items)
            })
            .collect::<Vec<_>>()
    };
    let built = build_all();
    assert_eq!(built.len(), BIG_SECTIONS);
    let feeds = built.iter().flatten();
    assert!(
        feeds
            .filter(|file| Format::of_file(&file.name).is_some())
            .all(|feed| feed.bytes.len() > 100_000)
    );
    c.bench_function(
        "20 sections of a 100,000-article store, 3 formats and previews, query included",
        |b| b.iter(build_all),
    );
    // As a rebuild publishes them: compressed (gzip and brotli) for serving too. Saving
    // finds the same bytes already saved after the first round, so it writes nothing.
    c.bench_function(
        "20 sections of a 100,000-article store, published: built and compressed",
        |b| b.iter(|| publish::everything(&store, &config, now).unwrap()),
    );
    // The same without the previews, to show what they cost.
    c.bench_function(
        "20 sections of a 100,000-article store, 3 formats, query included",
        |b| {
            b.iter(|| {
                for section in &config.sections {
                    let items =
                        publish::section_items(&store, section, section.limit, now).unwrap();
                    let source = FeedSource {
                        site: &config.site,
                        section,
                        items: &items,
                        key: None,
                        archive: Archive::Subscription,
                        partner: None,
                    };
                    std::hint::black_box(Format::ALL.map(|f| build::render(f, &source)));
                }
            })
        },
    );
}

criterion_group!(benches, section_build, full_rebuild);
criterion_main!(benches);
