//! pressfeed: builds RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds of a news site's sections
//! once per change and serves the bytes with correct HTTP caching.
//!
//! Layout, in the order an article travels:
//! - `clock`     wall time from one seam: the system's in production, a manual one in tests
//! - `article`   the article JSON and its validation (`Article`, `ArticleId` ...)
//! - `slug`, `link`  validated names and URLs shared by articles and sections
//! - `site`      `feeds/site.toml` and `feeds/sections/*.toml`: `Config`, `Section`, `Schedule`
//! - `import`    NDJSON in, batched upserts into the store
//! - `corpus`    deterministic demo and benchmark articles
//! - `item`      an article prepared for feeds once, at write time (`FeedItem`)
//! - `store`     the article store behind one `Store` handle: articles, the change log,
//!   saved feeds, source state; SQLite today (`store/sqlite/`)
//! - `markup`    size and nesting limits on article HTML, checked before any parser runs
//! - `media`     media referenced by an article
//! - `sanitize`  article HTML made safe for feeds
//! - `build`     a section and its items in, feed bytes out (RSS, Atom, JSON Feed); the
//!   site's OPML list and the stylesheet of the browser view
//! - `catalog`   the built feeds and their header values, swapped in whole
//! - `sendfile`  large feed bodies also kept in unnamed files, sent with `sendfile`
//! - `publish`   built bytes in, catalog `Feed`s out, kept in the store with their
//!   validators and served from it after a restart
//! - `schedule`  when to rebuild which section; rebuilds off the request path
//! - `websub`    tells WebSub hubs when a feed's bytes change, off the scheduler's thread
//! - `source`    pulls articles from WordPress, JSON documents and folders on a schedule
//! - `metrics`   counters and gauges for `/metrics`
//! - `http`      the hyper server: routing, caching, codings, shutdown, the admin page's files
//! - `reload`    the configuration in force, reloaded on admin writes, SIGHUP and file changes
//! - `admin`     the admin API: sections and articles over HTTP, bearer tokens, audit log
//! - `export`    `pressfeed build --out`: the published files, their codings and headers on disk
//! - `fsutil`    crash-safe file replacement
//! - `app`       wires the above together for `pressfeed serve`
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod article;
pub mod build;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod corpus;
pub mod digest;
pub mod export;
pub mod fsutil;
pub mod http;
pub mod import;
pub mod item;
pub mod link;
pub mod markup;
pub mod media;
pub mod metrics;
pub mod publish;
pub mod sanitize;
pub mod schedule;
pub mod sendfile;
pub mod slug;
pub mod source;
pub mod store;
pub mod websub;
