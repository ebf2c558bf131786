//! The store's contract: what every backend must do, as `Store` callers see it. Each test
//! runs on SQLite and on PostgreSQL (`contract!` makes one of each); PostgreSQL needs the
//! cluster `PRESSFEED_TEST_POSTGRES` names (tests/run starts one).

use std::collections::BTreeSet;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::fixtures::{Place, article, ids, now, prepared, query, seed, slugs};
use super::{
    CHANGE_LOG_KEEP, Expect, FeedQuery, FeedState, PollCount, ReadershipBounds, SavedFeed,
    SectionWrite, SourceState, Span, StoreError, SubscriberReport,
};
use crate::article::{Article, ArticleId};
use crate::digest::content_hash;
use crate::item::{self, PreparedArticle, StoredItem};
use crate::slug::Slug;

/// `contract!(test, ...)`: `sqlite::test` and `postgres::test` for each `fn test(Place)`.
macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $test() {
                super::$test(super::Place::sqlite());
            })*
        }
        mod postgres {
            $(#[test]
            fn $test() {
                if let Some(place) = super::Place::postgres(stringify!($test)) {
                    super::$test(place);
                }
            })*
        }
    };
}

contract!(
    newest_live_articles_first_with_a_stable_tie_break,
    several_sections_without_duplicates,
    tag_filters_ignore_case,
    upsert_replaces_and_retract_removes,
    the_last_write_of_an_id_in_a_batch_wins,
    items_are_prepared_again_when_preparation_changes,
    a_source_writes_only_what_changed_and_owns_what_it_wrote,
    the_change_log_names_the_sections_before_and_after,
    the_next_embargo_is_the_earliest_future_article,
    saved_feeds_keep_validators_and_bytes_together,
    validators_are_agreed_by_whoever_saves_the_bytes_first,
    a_lease_has_one_holder_until_released_or_run_out,
    bytes_built_from_an_older_read_do_not_replace_newer_ones,
    source_state_persists,
    a_probe_passes_on_a_working_store,
    a_store_is_seeded_once_even_when_emptied_after,
    seeding_nothing_still_counts_as_seeded,
    every_write_bumps_the_version_another_handle_sees,
    an_unmet_expectation_writes_nothing_and_names_the_section,
    an_admin_edit_keeps_the_synced_hash_and_an_import_sets_it,
    article_rows_come_by_id_as_stored,
    a_copy_lands_every_row_as_stored,
    a_copy_into_a_store_holding_anything_writes_nothing,
    on_demand_feeds_hold_live_published_articles_by_key,
    the_change_log_names_the_keys_before_and_after,
    the_most_used_tags_and_authors_come_with_counts_and_a_name,
    scheduled_articles_name_their_keys_when_their_time_comes,
    on_demand_validators_are_agreed_without_bytes,
    a_span_reads_one_month_of_a_feed_either_way,
    readership_adds_polls_and_keeps_the_latest_report_within_bounds,
);

/// What an archive asks (`ondemand`): the items of a month, of a section's feed and of a
/// key's, both ways; the nearest article before the month and after it.
fn a_span_reads_one_month_of_a_feed_either_way(place: Place) {
    let store = seed(&place);
    store
        .upsert(&prepared([
            by("m1", "2022-04-30T23:59:59.999Z", &["wire"], &[]),
            by("m2", "2022-03-10T00:00:00Z", &["wire"], &[]),
            by("m3", "2022-04-01T00:00:00Z", &["wire"], &[]),
        ]))
        .unwrap();
    let at = |s: &str| -> DateTime<Utc> { s.parse().unwrap() };
    let span = |from: Option<&str>, until: &str, oldest_first| Span {
        from: from.map(at),
        until: at(until),
        oldest_first,
    };
    let world = slugs(&["world", "top-news"]);
    let section = |limit, span| {
        let q = FeedQuery {
            span,
            ..query(&world, limit)
        };
        ids(&store.newest(&q).unwrap()).join(" ")
    };
    let key = |limit, span| ids(&store.newest_of("tag/wire", limit, span).unwrap()).join(" ");

    // April: from its first millisecond to its last, both in.
    let april = span(
        Some("2022-04-01T00:00:00Z"),
        "2022-04-30T23:59:59.999Z",
        false,
    );
    assert_eq!(section(10, april), "m1 m3");
    assert_eq!(key(10, april), "m1 m3");
    // May in the seed, once each though b is in both sections; the scheduled e not yet.
    let may = span(
        Some("2022-05-01T00:00:00Z"),
        "2022-05-31T23:59:59.999Z",
        false,
    );
    assert_eq!(section(10, may), "f b c a");
    assert_eq!(
        section(2, may),
        "f b",
        "the newest of a month past the limit"
    );
    // The month before April's newest article, and after it the oldest.
    assert_eq!(
        section(1, span(None, "2022-03-31T23:59:59.999Z", false)),
        "m2"
    );
    assert_eq!(key(1, span(None, "2022-03-31T23:59:59.999Z", false)), "m2");
    let after = span(Some("2022-05-01T00:00:00Z"), "2022-06-01T00:00:00Z", true);
    assert_eq!(section(10, after), "a c b f", "oldest first, ties reversed");
    assert_eq!(
        key(
            1,
            span(Some("2022-04-02T00:00:00Z"), "2022-06-01T00:00:00Z", true)
        ),
        "m1"
    );
    assert_eq!(
        key(
            1,
            span(Some("2022-05-01T00:00:00Z"), "2022-06-01T00:00:00Z", true)
        ),
        ""
    );
}

/// An article with authors, for the on-demand index.
fn by(id: &str, published: &str, tags: &[&str], authors: &[&str]) -> Article {
    let authors: Vec<_> = (authors.iter())
        .map(|name| serde_json::json!({ "name": name }))
        .collect();
    Article::from_value(serde_json::json!({
        "id": id, "url": format!("https://x.example/{id}"), "title": id,
        "sections": ["world"], "published_at": published, "tags": tags,
        "authors": authors, "status": "published",
    }))
    .unwrap()
    .article
}

fn on_demand_feeds_hold_live_published_articles_by_key(place: Place) {
    let store = seed(&place);
    store
        .upsert(&prepared([
            by("k", "2022-05-04T00:00:00Z", &["Kraków"], &["Jane Doe"]),
            by("l", "2022-05-05T00:00:00Z", &["krakow", "Poland"], &[]),
        ]))
        .unwrap();
    let newest =
        |key: &str, limit| ids(&store.newest_of(key, limit, Span::live(now())).unwrap()).join(" ");
    // The draft `d` and the scheduled `e` are in no feed yet.
    assert_eq!(newest("all", 10), "l k f b c a");
    assert_eq!(newest("all", 2), "l k");
    assert_eq!(newest("tag/krakow", 10), "l k", "names folded to one slug");
    assert_eq!(newest("tag/russia", 10), "a");
    assert_eq!(newest("author/jane-doe", 10), "k");
    assert_eq!(newest("tag/nowhere", 10), "");
    for (key, exists) in [
        ("all", true),
        ("tag/krakow", true),
        ("tag/ukraine", true),
        ("author/jane-doe", true),
        ("tag/nowhere", false),
        ("author/krakow", false),
    ] {
        assert_eq!(store.key_exists(key, now()).unwrap(), exists, "{key}");
    }
    let before: DateTime<Utc> = "2022-05-04T12:00:00Z".parse().unwrap();
    assert!(
        !store.key_exists("tag/poland", before).unwrap(),
        "not live yet"
    );
    store.retract(&ArticleId::parse("a").unwrap()).unwrap();
    assert!(!store.key_exists("tag/russia", now()).unwrap());
}

fn the_change_log_names_the_keys_before_and_after(place: Place) {
    let store = seed(&place);
    store
        .upsert(&prepared([by(
            "k",
            "2022-05-04T00:00:00Z",
            &["X", "Y"],
            &["Ann"],
        )]))
        .unwrap();
    let seen = store.change_counter().unwrap();
    assert_eq!(store.changes_since(seen).unwrap().keys, BTreeSet::new());
    store
        .upsert(&prepared([by(
            "k",
            "2022-05-04T00:00:00Z",
            &["Y", "Z"],
            &[],
        )]))
        .unwrap();
    let keys =
        |changes: super::ChangedSections| -> Vec<String> { changes.keys.into_iter().collect() };
    assert_eq!(
        keys(store.changes_since(seen).unwrap()),
        ["all", "author/ann", "tag/x", "tag/y", "tag/z"],
        "the tag and author it lost, and the ones it has"
    );
    assert_eq!(
        store
            .newest_of("tag/x", 10, Span::live(now()))
            .unwrap()
            .len(),
        0
    );
    store.retract(&ArticleId::parse("k").unwrap()).unwrap();
    assert_eq!(
        keys(store.changes_since(seen + 1).unwrap()),
        ["all", "tag/y", "tag/z"]
    );
    // A draft is in no feed: writing one touches only the keys it had.
    let seen = store.change_counter().unwrap();
    store
        .upsert(&prepared([article(
            "d",
            &["world"],
            "2022-05-02T00:00:00Z",
            &["Q"],
            "draft",
        )]))
        .unwrap();
    assert_eq!(
        keys(store.changes_since(seen).unwrap()),
        Vec::<String>::new()
    );
}

fn the_most_used_tags_and_authors_come_with_counts_and_a_name(place: Place) {
    let store = place.open();
    store
        .upsert(&prepared([
            by("a", "2022-05-01T00:00:00Z", &["Kraków", "Sport"], &["Ann"]),
            by("b", "2022-05-02T00:00:00Z", &["krakow"], &["Ann"]),
            by("c", "2022-05-03T00:00:00Z", &["Kraków", "Sport"], &["Bo"]),
            by(
                "d",
                "2099-01-01T00:00:00Z",
                &["Future", "Future 2", "Sport"],
                &[],
            ),
        ]))
        .unwrap();
    let top = |dimension, n| -> Vec<(String, String, i64)> {
        (store.top_keys(dimension, n, now()).unwrap().into_iter())
            .map(|k| (k.slug, k.name, k.articles))
            .collect()
    };
    use crate::dimension::Dimension;
    let tags = top(Dimension::Tag, 10);
    assert_eq!(
        tags,
        [
            ("krakow".into(), "Kraków".into(), 3),
            ("sport".into(), "Sport".into(), 2),
        ]
    );
    assert_eq!(top(Dimension::Tag, 1).len(), 1);
    assert_eq!(
        top(Dimension::Author, 10),
        [
            ("ann".into(), "Ann".into(), 2),
            ("bo".into(), "Bo".into(), 1)
        ]
    );
    assert_eq!(top(Dimension::All, 10), []);
}

fn scheduled_articles_name_their_keys_when_their_time_comes(place: Place) {
    let store = seed(&place);
    store
        .upsert(&prepared([by(
            "s",
            "2099-01-01T00:00:00Z",
            &["Later"],
            &["Ann"],
        )]))
        .unwrap();
    let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
    let keys = store
        .keys_published_between(at("2098-12-31T00:00:00Z"), at("2099-01-01T00:00:00Z"))
        .unwrap();
    let expected: BTreeSet<String> = ["all", "author/ann", "tag/later"].map(Into::into).into();
    assert_eq!(keys, expected);
}

fn on_demand_validators_are_agreed_without_bytes(place: Place) {
    let store = place.open();
    let stamp_at = |hash: &'static str, at: i64| {
        move |held: Option<&FeedState>| match held {
            Some(held) if held.hash == hash => held.clone(),
            _ => FeedState {
                hash: hash.into(),
                last_modified: at,
                ambiguous_until: None,
            },
        }
    };
    let agree = |hash, built_from, at| {
        store
            .agree_demand_state("tag/x.rss", hash, built_from, &stamp_at(hash, at))
            .unwrap()
            .map(|s| (s.hash, s.last_modified))
    };
    assert_eq!(agree("h1", 5, 100), Some(("h1".into(), 100)));
    // The same bytes again (after an eviction, a restart, or on another replica).
    assert_eq!(agree("h1", 6, 200), Some(("h1".into(), 100)));
    assert_eq!(agree("h2", 7, 300), Some(("h2".into(), 300)));
    // Bytes from an older read than those held are not agreed.
    assert_eq!(agree("h3", 6, 400), None);
    assert_eq!(agree("h2", 7, 500), Some(("h2".into(), 300)));
    assert!(store.feed_states().unwrap().is_empty(), "no section feed");
    let other = place.open();
    let state = other
        .agree_demand_state("tag/x.rss", "h2", 8, &stamp_at("h2", 600))
        .unwrap();
    assert_eq!(
        state.map(|s| s.last_modified),
        Some(300),
        "another handle agrees"
    );
}

fn newest_live_articles_first_with_a_stable_tie_break(place: Place) {
    let store = seed(&place);
    let world = slugs(&["world"]);
    assert_eq!(
        ids(&store.newest(&query(&world, 10)).unwrap()),
        ["f", "b", "a"]
    );
    assert_eq!(ids(&store.newest(&query(&world, 2)).unwrap()), ["f", "b"]);
}

fn several_sections_without_duplicates(place: Place) {
    let store = seed(&place);
    let both = slugs(&["world", "top-news"]);
    assert_eq!(
        ids(&store.newest(&query(&both, 10)).unwrap()),
        ["f", "b", "c", "a"]
    );
    assert_eq!(ids(&store.newest(&query(&both, 2)).unwrap()), ["f", "b"]);
}

fn tag_filters_ignore_case(place: Place) {
    let store = seed(&place);
    let world = slugs(&["world"]);
    let tags = ["RUSSIA".to_owned(), "ukraine".to_owned()];
    let q = FeedQuery {
        tags: &tags,
        ..query(&world, 10)
    };
    assert_eq!(ids(&store.newest(&q).unwrap()), ["b", "a"]);
    let q = FeedQuery {
        exclude_tags: &tags[..1],
        ..query(&world, 10)
    };
    assert_eq!(ids(&store.newest(&q).unwrap()), ["f", "b"]);
}

fn upsert_replaces_and_retract_removes(place: Place) {
    let store = seed(&place);
    let before = store.change_counter().unwrap();
    store
        .upsert(&prepared([article(
            "f",
            &["business"],
            "2022-05-03T00:00:00Z",
            &[],
            "published",
        )]))
        .unwrap();
    let world = slugs(&["world"]);
    assert_eq!(ids(&store.newest(&query(&world, 10)).unwrap()), ["b", "a"]);
    assert!(store.retract(&ArticleId::parse("b").unwrap()).unwrap());
    assert!(!store.retract(&ArticleId::parse("b").unwrap()).unwrap());
    assert_eq!(ids(&store.newest(&query(&world, 10)).unwrap()), ["a"]);
    assert_eq!(store.change_counter().unwrap(), before + 2);
    assert_eq!(store.article_count().unwrap(), 5);
    let f = store.get(&ArticleId::parse("f").unwrap()).unwrap().unwrap();
    assert_eq!(f.sections, slugs(&["business"]));
    assert_eq!(store.get(&ArticleId::parse("b").unwrap()).unwrap(), None);
}

fn the_last_write_of_an_id_in_a_batch_wins(place: Place) {
    let store = seed(&place);
    let twice = prepared([
        article("g", &["world"], "2022-05-05T00:00:00Z", &["x"], "published"),
        article("g", &["business"], "2022-05-05T00:00:00Z", &[], "published"),
    ]);
    store.upsert(&twice).unwrap();
    let world = slugs(&["world"]);
    assert_eq!(
        ids(&store.newest(&query(&world, 10)).unwrap()),
        ["f", "b", "a"]
    );
    let business = slugs(&["business"]);
    assert_eq!(ids(&store.newest(&query(&business, 10)).unwrap()), ["g"]);
}

fn items_are_prepared_again_when_preparation_changes(place: Place) {
    let store = seed(&place);
    let world = slugs(&["world"]);
    let before = store.change_counter().unwrap();
    let again = |store: &super::Store, version, refuse: &str| {
        let refuse = refuse.to_owned();
        store
            .prepare_stale(version, &mut |id, doc| {
                (id != refuse)
                    .then(|| StoredItem::new(&Article::from_json(doc).unwrap().article))?
            })
            .unwrap()
    };
    assert_eq!(again(&store, item::PREPARATION, "b"), 6, "drafts too");
    assert_eq!(
        ids(&store.newest(&query(&world, 10)).unwrap()),
        ["f", "a"],
        "an article the rules refuse leaves the feeds"
    );
    assert!(
        store
            .get(&ArticleId::parse("b").unwrap())
            .unwrap()
            .is_some()
    );
    assert_eq!(store.change_counter().unwrap(), before, "not a change");
    let mut never = |_: &str, _: &str| -> Option<StoredItem> {
        panic!("nothing is stale once the version is recorded")
    };
    assert_eq!(
        store.prepare_stale(item::PREPARATION, &mut never).unwrap(),
        0
    );
    let store = place.open();
    assert_eq!(
        again(&store, item::PREPARATION + 1, ""),
        6,
        "new rules make every item stale"
    );
    assert_eq!(
        ids(&store.newest(&query(&world, 10)).unwrap()),
        ["f", "b", "a"]
    );
}

fn a_source_writes_only_what_changed_and_owns_what_it_wrote(place: Place) {
    let store = seed(&place);
    let pulled = |title: &str| {
        let mut a = article("p1", &["world"], "2022-05-04T00:00:00Z", &[], "published");
        a.title = title.to_owned();
        PreparedArticle::new(a)
    };
    let before = store.change_counter().unwrap();
    assert_eq!(
        store.upsert_from_source("wire", &[pulled("One")]).unwrap(),
        1
    );
    assert_eq!(
        store.upsert_from_source("wire", &[pulled("One")]).unwrap(),
        0
    );
    assert_eq!(
        store.change_counter().unwrap(),
        before + 1,
        "no write, no change"
    );
    assert_eq!(
        store.upsert_from_source("other", &[pulled("One")]).unwrap(),
        1,
        "another source takes it over"
    );
    assert_eq!(
        store.upsert_from_source("wire", &[pulled("Two")]).unwrap(),
        1
    );
    assert_eq!(store.source_ids("wire").unwrap(), ["p1".to_owned()].into());
    // A push takes the article over: the source's sweep no longer touches it.
    store.upsert(&[pulled("Three")]).unwrap();
    assert!(store.source_ids("wire").unwrap().is_empty());
    let ids = [
        ArticleId::parse("p1").unwrap(),
        ArticleId::parse("a").unwrap(),
    ];
    assert_eq!(store.retract_all(&ids).unwrap(), 2);
    assert_eq!(store.retract_all(&ids).unwrap(), 0);
}

fn the_change_log_names_the_sections_before_and_after(place: Place) {
    let store = seed(&place);
    let seen = store.change_counter().unwrap();
    assert_eq!(
        store.changes_since(seen).unwrap().sections,
        Some(BTreeSet::new())
    );
    store
        .upsert(&prepared([article(
            "a",
            &["business"],
            "2022-05-01T00:00:00Z",
            &[],
            "published",
        )]))
        .unwrap();
    let changes = store.changes_since(seen).unwrap();
    assert_eq!(changes.counter, seen + 1);
    let expected: BTreeSet<String> = ["business".into(), "world".into()].into();
    assert_eq!(changes.sections, Some(expected));
    store.retract(&ArticleId::parse("c").unwrap()).unwrap();
    let changes = store.changes_since(seen + 1).unwrap();
    assert_eq!(changes.sections, Some(["top-news".to_owned()].into()));
    assert_eq!(
        store
            .changes_since(seen - CHANGE_LOG_KEEP - 1)
            .unwrap()
            .sections,
        None
    );
    assert_eq!(store.changes_since(seen + 99).unwrap().sections, None);
}

fn the_next_embargo_is_the_earliest_future_article(place: Place) {
    let store = seed(&place);
    let next = store.next_embargo(now()).unwrap().unwrap();
    let expected: DateTime<Utc> = "2099-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(next, expected);
    assert_eq!(store.next_embargo(expected).unwrap(), None);
    assert_eq!(
        store.sections_published_between(now(), expected).unwrap(),
        ["world".to_owned()].into()
    );
}

fn saved_feeds_keep_validators_and_bytes_together(place: Place) {
    let store = place.open();
    let mut feed = saved_feed();
    let written = store
        .save_feeds(std::slice::from_mut(&mut feed), &as_built)
        .unwrap();
    assert_eq!(written, [true]);
    feed.state.ambiguous_until = None;
    feed.identity = Bytes::from_static(b"<rss>2</rss>");
    store
        .save_feeds(std::slice::from_mut(&mut feed), &as_built)
        .unwrap();
    drop(store);
    let store = place.open();
    assert_eq!(store.saved_feeds().unwrap(), std::slice::from_ref(&feed));
    assert_eq!(
        store.feed_states().unwrap(),
        [("world.rss".to_owned(), feed.state, true)]
    );
}

fn source_state_persists(place: Place) {
    let store = place.open();
    assert_eq!(store.source_state("wire").unwrap(), SourceState::default());
    let state = SourceState {
        high_water: Some("2024-01-01T10:00:00Z".into()),
        fetched_url: Some("http://127.0.0.1/a.ndjson".into()),
        etag: Some("\"x\"".into()),
        last_modified: None,
    };
    store.save_source_state("wire", &state).unwrap();
    assert_eq!(store.source_state("wire").unwrap(), state);
    assert_eq!(store.source_labels("wire").unwrap(), None);
    store.save_source_labels("wire", "{}").unwrap();
    store.save_source_state("wire", &state).unwrap();
    assert_eq!(
        store.source_labels("wire").unwrap().as_deref(),
        Some("{}"),
        "saving the state after a page leaves the labels be"
    );
    store.save_source_labels("wire", "{\"a\":1}").unwrap();
    assert_eq!(
        place.open().source_labels("wire").unwrap().as_deref(),
        Some("{\"a\":1}")
    );
}

fn a_probe_passes_on_a_working_store(place: Place) {
    let store = place.open();
    store.probe().unwrap();
    assert!(store.health().outage().is_none());
}

fn a_store_is_seeded_once_even_when_emptied_after(place: Place) {
    let store = place.open();
    assert_eq!(store.sections_version().unwrap(), 0);
    let seeded = store
        .seed_sections(vec![(slug("world"), "a = 1\n".into())], now())
        .unwrap();
    assert!(seeded);
    let world = store.section(&slug("world")).unwrap().unwrap();
    assert_eq!(world.text, "a = 1\n");
    assert_eq!(world.hash, content_hash(b"a = 1\n"));
    assert!(!world.edited_since_sync());
    assert_eq!(world.changed, now().timestamp());
    store
        .write_sections(&[SectionWrite::remove(slug("world"), None)], now())
        .unwrap();
    assert!(store.sections().unwrap().is_empty());
    assert!(
        !store
            .seed_sections(vec![(slug("sports"), "b = 1\n".into())], now())
            .unwrap(),
        "emptied is not new"
    );
    assert!(store.sections().unwrap().is_empty());
}

fn seeding_nothing_still_counts_as_seeded(place: Place) {
    let store = place.open();
    assert!(store.seed_sections(Vec::new(), now()).unwrap());
    assert!(store.sections_version().unwrap() > 0);
    assert!(!store.seed_sections(Vec::new(), now()).unwrap());
}

fn every_write_bumps_the_version_another_handle_sees(place: Place) {
    let store = place.open();
    let other = place.open();
    let before = other.sections_version().unwrap();
    let after = store
        .write_sections(
            &[SectionWrite::edit(slug("world"), "x".into(), None)],
            now(),
        )
        .unwrap();
    assert!(after > before);
    assert_eq!(other.sections_version().unwrap(), after);
    assert_eq!(other.sections().unwrap().len(), 1);
}

fn an_unmet_expectation_writes_nothing_and_names_the_section(place: Place) {
    let store = place.open();
    store
        .write_sections(
            &[SectionWrite::sync(slug("world"), "old".into(), None)],
            now(),
        )
        .unwrap();
    let version = store.sections_version().unwrap();
    let stale = Expect::Hash(content_hash(b"older"));
    let err = store
        .write_sections(
            &[
                SectionWrite::edit(slug("sports"), "new".into(), Some(Expect::Absent)),
                SectionWrite::edit(slug("world"), "new".into(), Some(stale)),
                SectionWrite::remove(slug("culture"), Some(Expect::Absent)),
            ],
            now(),
        )
        .unwrap_err();
    assert!(matches!(&err, StoreError::SectionsChanged(slugs) if slugs == &["world"]));
    assert_eq!(store.sections_version().unwrap(), version);
    let sections = store.sections().unwrap();
    assert_eq!(sections.len(), 1);
    assert_eq!(sections[0].text, "old");
}

fn an_admin_edit_keeps_the_synced_hash_and_an_import_sets_it(place: Place) {
    let store = place.open();
    let world = || store.section(&slug("world")).unwrap().unwrap();
    store
        .write_sections(
            &[SectionWrite::sync(slug("world"), "v1".into(), None)],
            now(),
        )
        .unwrap();
    let v1 = world().hash;
    store
        .write_sections(
            &[SectionWrite::edit(
                slug("world"),
                "v2".into(),
                Some(Expect::Hash(v1.clone())),
            )],
            now(),
        )
        .unwrap();
    assert_eq!(world().synced, Some(v1));
    assert!(world().edited_since_sync());
    store
        .write_sections(
            &[SectionWrite::sync(slug("world"), "v3".into(), None)],
            now(),
        )
        .unwrap();
    assert!(!world().edited_since_sync());
    store
        .write_sections(
            &[SectionWrite::edit(
                slug("new"),
                "n".into(),
                Some(Expect::Absent),
            )],
            now(),
        )
        .unwrap();
    assert_eq!(store.section(&slug("new")).unwrap().unwrap().synced, None);
    let slugs: Vec<_> = store
        .sections()
        .unwrap()
        .into_iter()
        .map(|s| s.slug.to_string())
        .collect();
    assert_eq!(slugs, ["new", "world"], "sorted by slug");
}

fn article_rows_come_by_id_as_stored(place: Place) {
    let store = seed(&place);
    let rows = |after: &str| store.backend.article_rows(after, 4).unwrap();
    let first = rows("");
    let ids: Vec<&str> = first.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d"]);
    let b = &first[1];
    assert_eq!(
        (b.status.as_str(), b.source.as_deref()),
        ("published", None)
    );
    assert_eq!(b.sections, ["top-news", "world"]);
    assert_eq!(b.tags, ["ukraine"]);
    assert!(b.item.is_some());
    let d = &first[3];
    assert_eq!(d.status, "draft");
    assert!(
        d.sections.is_empty() && d.item.is_none(),
        "a draft is in no feed"
    );
    assert_eq!(d.tags, ["russia"]);
    let rest: Vec<String> = rows("d").into_iter().map(|r| r.id).collect();
    assert_eq!(rest, ["e", "f"]);
    assert!(rows("f").is_empty());
}

/// A second store of `place`'s kind, empty.
fn another(place: &Place) -> Place {
    match place {
        Place::Sqlite(_) => Place::sqlite(),
        Place::Postgres(_) => Place::postgres("another").expect("the cluster of the first"),
    }
}

fn a_copy_lands_every_row_as_stored(place: Place) {
    let store = seed(&place);
    store
        .prepare_stale(item::PREPARATION, &mut |_, doc| {
            StoredItem::new(&Article::from_json(doc).unwrap().article)
        })
        .unwrap();
    let pulled = article(
        "p",
        &["world"],
        "2022-05-04T00:00:00Z",
        &["Wire"],
        "published",
    );
    store
        .upsert_from_source("wire", &prepared([pulled]))
        .unwrap();
    store
        .save_source_state(
            "wire",
            &SourceState {
                high_water: Some("2022-05-04T00:00:00Z".into()),
                ..SourceState::default()
            },
        )
        .unwrap();
    store.save_source_labels("wire", "{}").unwrap();
    store.save_source_labels("folder", "{\"x\":1}").unwrap();
    store
        .seed_sections(vec![(slug("world"), "a = 1\n".into())], now())
        .unwrap();
    store
        .write_sections(
            &[SectionWrite::edit(slug("world"), "a = 2\n".into(), None)],
            now(),
        )
        .unwrap();
    store.save_feeds(&mut [saved_feed()], &as_built).unwrap();

    let target_place = another(&place);
    let target = target_place.open();
    let mut told = Vec::new();
    let copied = store.copy_into(&target, &mut |n| told.push(n)).unwrap();
    assert_eq!(
        copied,
        super::Copied {
            articles: 7,
            sections: 1,
            feeds: 1,
            sources: 2
        }
    );
    assert_eq!(told, [7], "one batch");

    let target = target_place.open();
    let all = |s: &super::Store| s.backend.article_rows("", 100).unwrap();
    assert_eq!(all(&target), all(&store));
    let world = slugs(&["world"]);
    assert_eq!(
        ids(&target.newest(&query(&world, 10)).unwrap()),
        ["p", "f", "b", "a"]
    );
    assert_eq!(
        target.change_counter().unwrap(),
        store.change_counter().unwrap()
    );
    assert_eq!(
        target.sections_version().unwrap(),
        store.sections_version().unwrap()
    );
    assert_eq!(target.sections().unwrap(), store.sections().unwrap());
    assert!(
        target
            .section(&slug("world"))
            .unwrap()
            .unwrap()
            .edited_since_sync()
    );
    assert_eq!(target.saved_feeds().unwrap(), [saved_feed()]);
    assert_eq!(
        target.backend.sources().unwrap(),
        store.backend.sources().unwrap()
    );
    assert_eq!(target.source_ids("wire").unwrap(), ["p".to_owned()].into());
    assert_eq!(
        ids(&target.newest_of("tag/wire", 10, Span::live(now())).unwrap()),
        ["p"],
        "the copy's articles are indexed by key"
    );
    let mut never = |_: &str, _: &str| -> Option<StoredItem> {
        panic!("the items came prepared by the current rules")
    };
    assert_eq!(
        target.prepare_stale(item::PREPARATION, &mut never).unwrap(),
        0
    );
}

fn a_copy_into_a_store_holding_anything_writes_nothing(place: Place) {
    let source = seed(&place);
    source.save_source_labels("wire", "{}").unwrap();
    source
        .seed_sections(vec![(slug("sports"), "b = 1\n".into())], now())
        .unwrap();
    let mut other_feed = saved_feed();
    other_feed.name = "sports.rss".into();
    source.save_feeds(&mut [other_feed], &as_built).unwrap();
    // What each target holds, and so what the refusal says: articles, sections, feeds.
    type Fill = fn(&super::Store);
    let fills: [(Fill, (i64, i64, i64)); 3] = [
        (
            |s| drop(s.save_feeds(&mut [saved_feed()], &as_built).unwrap()),
            (0, 0, 1),
        ),
        (
            |s| {
                let world = SectionWrite::edit(slug("world"), "x".into(), None);
                s.write_sections(&[world], now()).map(drop).unwrap()
            },
            (0, 1, 0),
        ),
        (
            |s| {
                let draft = article("z", &["world"], "2022-05-01T00:00:00Z", &[], "draft");
                s.upsert(&prepared([draft])).unwrap()
            },
            (1, 0, 0),
        ),
    ];
    for (fill, holds) in fills {
        let target = another(&place).open();
        fill(&target);
        let counter = target.change_counter().unwrap();
        let version = target.sections_version().unwrap();
        let err = source.copy_into(&target, &mut |_| ()).unwrap_err();
        let StoreError::NotEmpty {
            articles,
            sections,
            feeds,
        } = err
        else {
            panic!("{err}")
        };
        assert_eq!((articles, sections, feeds), holds);
        assert_eq!(target.article_count().unwrap(), holds.0);
        assert_eq!(target.sections().unwrap().len() as i64, holds.1);
        assert_eq!(target.feed_states().unwrap().len() as i64, holds.2);
        assert_eq!(target.change_counter().unwrap(), counter);
        assert_eq!(target.sections_version().unwrap(), version);
        assert!(target.backend.sources().unwrap().is_empty());
    }
}

/// A feed as a build saves it.
fn saved_feed() -> SavedFeed {
    SavedFeed {
        name: "world.rss".into(),
        state: FeedState {
            hash: "abc".into(),
            last_modified: 42,
            ambiguous_until: Some(43),
        },
        content_type: "application/rss+xml; charset=utf-8".into(),
        identity: Bytes::from_static(b"<rss/>"),
        gzip: Bytes::from_static(b"gz\0"),
        brotli: Bytes::from_static(b"br"),
        built_from: 7,
    }
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

fn validators_are_agreed_by_whoever_saves_the_bytes_first(place: Place) {
    // Two replicas on one store built the same new bytes; the second saves a second later.
    let (first, second) = (place.open(), place.open());
    let built = |hash: &str, at: i64| SavedFeed {
        built_from: 0,
        name: "world.rss".into(),
        state: FeedState {
            hash: hash.into(),
            last_modified: at,
            ambiguous_until: None,
        },
        content_type: "application/rss+xml; charset=utf-8".into(),
        identity: Bytes::from(hash.to_owned()),
        gzip: Bytes::new(),
        brotli: Bytes::new(),
    };
    // Keeps a stored state of the same bytes, as publish's stamp does.
    let agree = |stored: Option<&FeedState>, feed: &SavedFeed| match stored {
        Some(stored) if stored.hash == feed.state.hash => stored.clone(),
        _ => feed.state.clone(),
    };
    let mut one = [built("h1", 100)];
    assert_eq!(first.save_feeds(&mut one, &agree).unwrap(), [true]);
    let mut two = [built("h1", 101)];
    assert_eq!(
        second.save_feeds(&mut two, &agree).unwrap(),
        [false],
        "the bytes were saved already"
    );
    assert_eq!(
        two[0].state.last_modified, 100,
        "the first stamp is everyone's"
    );
    let mut three = [built("h2", 102)];
    assert_eq!(second.save_feeds(&mut three, &agree).unwrap(), [true]);
    assert_eq!(first.feed_states().unwrap()[0].1.last_modified, 102);
}

fn a_lease_has_one_holder_until_released_or_run_out(place: Place) {
    use std::time::Duration;
    let (a, b) = (place.open(), place.open());
    let long = Duration::from_secs(60);
    assert!(a.take_lease("sources", "a", long).unwrap());
    assert!(!b.take_lease("sources", "b", long).unwrap());
    assert!(a.take_lease("sources", "a", long).unwrap(), "renewed");
    assert!(
        b.take_lease("other", "b", long).unwrap(),
        "leases are by name"
    );
    b.release_lease("sources", "b").unwrap();
    assert!(
        !b.take_lease("sources", "b", long).unwrap(),
        "only its holder frees it"
    );
    a.release_lease("sources", "a").unwrap();
    // Taken for no time at all: run out at once, as a holder that died.
    assert!(b.take_lease("sources", "b", Duration::ZERO).unwrap());
    assert!(a.take_lease("sources", "a", long).unwrap());
    assert!(!b.take_lease("sources", "b", long).unwrap());
}

/// Saves a feed with the validators it was built with, whatever the store holds.
fn as_built(_: Option<&FeedState>, feed: &SavedFeed) -> FeedState {
    feed.state.clone()
}

fn bytes_built_from_an_older_read_do_not_replace_newer_ones(place: Place) {
    // A slow replica saves after a fast one, bytes it built before the last write.
    let store = place.open();
    let built = |hash: &str, built_from: i64| SavedFeed {
        state: FeedState {
            hash: hash.into(),
            last_modified: 100,
            ambiguous_until: None,
        },
        built_from,
        ..saved_feed()
    };
    let mut newer = [built("new", 5)];
    assert_eq!(store.save_feeds(&mut newer, &as_built).unwrap(), [true]);
    let mut older = [built("old", 4)];
    assert_eq!(store.save_feeds(&mut older, &as_built).unwrap(), [false]);
    assert_eq!(store.feed_states().unwrap()[0].1.hash, "new");
    let mut same_read = [built("newest", 5)];
    assert_eq!(store.save_feeds(&mut same_read, &as_built).unwrap(), [true]);
    assert_eq!(store.saved_feeds().unwrap(), same_read);
}

fn readership_adds_polls_and_keeps_the_latest_report_within_bounds(place: Place) {
    // Two processes flushing to one store.
    let (a, b) = (place.open(), place.open());
    let bounds = ReadershipBounds {
        max_feed_ids: 2,
        forget_before: 100,
    };
    let polls = |day, polls| PollCount {
        day,
        feed: "world.rss".into(),
        client: "feedly".into(),
        polls,
        not_modified: polls - 1,
        bytes: 10 * polls,
    };
    let report = |day, feed_id: &str, subscribers, seen| SubscriberReport {
        day,
        feed: "world.rss".into(),
        aggregator: "feedly".into(),
        feed_id: feed_id.into(),
        subscribers,
        seen,
    };
    let kept = a.record_readership(&[polls(101, 3)], &[report(101, "http", 10, 1000)], bounds);
    assert_eq!(kept.unwrap(), 1);
    let both = [report(101, "http", 12, 1060), report(101, "https", 5, 1060)];
    assert_eq!(
        b.record_readership(&[polls(101, 2)], &both, bounds)
            .unwrap(),
        2
    );
    // A slow flush of an older report does not replace the newer; a third feed id for the
    // day, feed and aggregator is past the bound.
    let late = [
        report(101, "http", 11, 1030),
        report(101, "third", 99, 1100),
    ];
    assert_eq!(a.record_readership(&[], &late, bounds).unwrap(), 0);
    let stored = b.readership(0).unwrap();
    assert_eq!(
        stored.polls,
        [PollCount {
            not_modified: 3,
            bytes: 50,
            ..polls(101, 5)
        }]
    );
    assert_eq!(stored.reports, both);
    // A new day has room of its own, and forgets the days before it is told to.
    let next = ReadershipBounds {
        max_feed_ids: 2,
        forget_before: 102,
    };
    let third = [report(102, "third", 7, 90_000)];
    assert_eq!(
        a.record_readership(&[polls(102, 1)], &third, next).unwrap(),
        1
    );
    let stored = b.readership(0).unwrap();
    assert_eq!(stored.polls, [polls(102, 1)]);
    assert_eq!(stored.reports, third);
    assert_eq!(b.readership(103).unwrap(), Default::default());
}
