//! pressfeed: builds RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds of a news site's sections
//! once per change and serves the bytes with correct HTTP caching.
//!
//! The modules below are listed in the order an article travels, one line each on what it
//! owns; each uses only modules listed above it (`tests/architecture.rs` checks). The
//! article's path through them is drawn in `docs/architecture.md`.
#![forbid(unsafe_code)]

// Words every later module speaks: time, validated names and URLs.
pub mod clock; // wall time from one seam: the system's in production, a manual one in tests
mod slug; // `Slug`: a section or source name fit for a URL and a file name
mod link; // `HttpUrl`: an absolute http(s) URL, the only link a feed may carry

// An article arrives and is checked.
pub mod markup; // size and nesting limits on article HTML, checked before any parser runs
mod text; // the one cleaning rule for plain-text fields: the text as a reader sees it
pub mod article; // the article JSON and its validation (`Article`, `ArticleId` ...)
pub mod media; // media referenced by an article: lead image, explicit media, embeds
pub mod sanitize; // article HTML made safe for feeds
pub mod item; // an article prepared for feeds once, at write time (`FeedItem`)
pub mod dimension; // feeds by dimension: `all`, a tag, an author; names folded into slugs, feed keys
pub mod archive; // archives (RFC 5005): a feed's articles by calendar month, the names of their documents

// What the site is, and where things are kept.
pub mod digest; // the hash that names bytes (ETags)
mod fsutil; // crash-safe file replacement
mod crypto; // the crypto of every TLS connection, outbound or served: ring, named once
pub mod config; // every configuration type and its loading, from files
pub mod store; // the store: articles, change log, saved feeds, source state, sections
pub mod import; // NDJSON in, batched upserts into the store
pub mod live; // the configuration in force: site.toml and the store's sections; import, export
mod lease; // which one of the processes sharing a store polls sources and pings hubs

// From items to served bytes.
pub mod build; // a section and its items in, feed bytes out (RSS, Atom, JSON Feed, previews, OPML)
pub mod partner; // partner feeds: the items each partner's rules let in, its window and size cap, the lint's problems
mod sendfile; // large feed bodies also kept in unnamed files, sent with `sendfile`
mod catalog; // the built feeds and their header values, swapped in whole
pub mod publish; // built bytes → catalog feeds with validators, saved in the store
mod readers; // who polls each feed: client families, aggregators' subscriber counts, by day in the store
mod metrics; // counters and gauges for `/metrics`
mod ondemand; // feeds by dimension (all, tag, author): built on first request, kept in a bounded cache
mod client; // the one outbound HTTP client (sources, WebSub)
mod websub; // tells WebSub hubs when a feed's bytes change
mod bucket; // copies every changed feed file to an S3-compatible bucket for a CDN
mod schedule; // when to rebuild which section; rebuilds off the request path
mod source; // pulls articles from WordPress, JSON documents and folders on a schedule

// The edges: HTTP in, files out, and the wiring.
pub mod http; // the hyper server: routing, caching, codings, connections, access log, shutdown
pub mod admin; // the admin API: sections and articles over HTTP, bearer tokens, audit log
pub mod export; // `pressfeed build --out`: the published files and their headers on disk
pub mod app; // wires the above together for `pressfeed serve`
