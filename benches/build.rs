//! Build cost: one 50-item section of the demo site in RSS, Atom and JSON Feed, from the
//! store (query included) and from articles already in memory.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::BufReader;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use pressfeed::build::{self, FeedSource, Format};
use pressfeed::site::Config;
use pressfeed::store::{FeedQuery, Store};

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

    c.bench_function("top-news 50 items, 3 formats, from the store", |b| {
        b.iter(|| build::section_feeds(&store, &config.site, section, now).unwrap())
    });

    let sections = section.included_sections();
    let query = FeedQuery {
        sections: &sections,
        tags: &[],
        exclude_tags: &[],
        limit: 50,
        now,
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
    };
    c.bench_function("top-news 50 items, 3 formats, in memory", |b| {
        b.iter(|| Format::ALL.map(|f| build::render(f, &source)))
    });
    for format in Format::ALL {
        c.bench_function(
            &format!("top-news 50 items, {format:?} only, in memory"),
            |b| b.iter(|| build::render(format, &source)),
        );
    }
}

criterion_group!(benches, section_build);
criterion_main!(benches);
