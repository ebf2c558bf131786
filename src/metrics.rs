//! The numbers pressfeed exposes at `/metrics` (Prometheus text format): builds, the
//! store, requests and WebSub pings. Counters are atomics; the request path only
//! increments handles made at start (`HttpMetrics::record`), it never allocates a label.
//! Who reads the feeds is `readers::Tally`'s, encoded from it at each scrape.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::partner::Problem;
use crate::readers::Tally;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SectionLabel {
    pub section: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProblemLabel {
    partner: &'static str,
    rule: &'static str,
    severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabel {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EncodingLabel {
    encoding: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

/// A source's poll result (`ok`, `not_modified`, `error`) or article outcome (`seen`,
/// `upserted`, `skipped`, `retracted`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceOutcomeLabel {
    pub source: String,
    pub outcome: &'static str,
}

/// Per `[[sources]]` entry: its polls, its articles and when it last worked or failed.
pub struct SourceMetrics {
    pub polls: Family<SourceOutcomeLabel, Counter>,
    pub articles: Family<SourceOutcomeLabel, Counter>,
    pub last_success: Family<SourceLabel, Gauge<f64, AtomicU64>>,
    pub last_error: Family<SourceLabel, Gauge<f64, AtomicU64>>,
    /// 1 while the source's last poll succeeded.
    pub up: Family<SourceLabel, Gauge>,
}

impl SourceMetrics {
    fn new(registry: &mut Registry) -> SourceMetrics {
        let metrics = SourceMetrics {
            polls: Family::default(),
            articles: Family::default(),
            last_success: Family::default(),
            last_error: Family::default(),
            up: Family::default(),
        };
        registry.register(
            "source_polls",
            "Polls of each source, by result (ok, not_modified, error)",
            metrics.polls.clone(),
        );
        registry.register(
            "source_articles",
            "Articles of each source, by outcome (seen, upserted, skipped, retracted)",
            metrics.articles.clone(),
        );
        registry.register(
            "source_last_success_timestamp_seconds",
            "When each source's last successful poll ended (unix time)",
            metrics.last_success.clone(),
        );
        registry.register(
            "source_last_error_timestamp_seconds",
            "When each source's last failed poll ended (unix time)",
            metrics.last_error.clone(),
        );
        registry.register(
            "source_up",
            "1 if the source's last poll succeeded",
            metrics.up.clone(),
        );
        metrics
    }
}

/// The feeds built on demand (`ondemand`): their cache and their cold builds.
pub struct OnDemandMetrics {
    /// Bytes of the built feeds kept, every coding counted.
    pub cache_bytes: Gauge,
    /// Feeds (one format of one key) kept.
    pub cache_feeds: Gauge,
    /// Cold builds: for a request that found the feed not built.
    pub builds: Counter,
    /// Requests answered 503 because the cold builds at once were at their bound.
    pub refused: Counter,
}

impl OnDemandMetrics {
    fn new(registry: &mut Registry) -> OnDemandMetrics {
        let metrics = OnDemandMetrics {
            cache_bytes: Gauge::default(),
            cache_feeds: Gauge::default(),
            builds: Counter::default(),
            refused: Counter::default(),
        };
        registry.register(
            "on_demand_cache_bytes",
            "Bytes of feeds built on demand kept in memory, every coding counted",
            metrics.cache_bytes.clone(),
        );
        registry.register(
            "on_demand_cache_feeds",
            "Feeds built on demand kept in memory",
            metrics.cache_feeds.clone(),
        );
        registry.register(
            "on_demand_builds",
            "Feeds built on demand for a request that found them not built",
            metrics.builds.clone(),
        );
        registry.register(
            "on_demand_refused",
            "Requests for feeds built on demand answered 503: too many cold builds at once",
            metrics.refused.clone(),
        );
        metrics
    }
}

/// What a request was for, as `/metrics` groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Feed,
    Admin,
    Health,
    Metrics,
    Other,
}

impl Route {
    const ALL: [Route; 5] = [
        Route::Feed,
        Route::Admin,
        Route::Health,
        Route::Metrics,
        Route::Other,
    ];

    pub fn of(path: &str) -> Route {
        if path.starts_with("/feeds/") {
            Route::Feed
        } else if path.starts_with("/admin/") {
            Route::Admin
        } else {
            match path {
                "/healthz" | "/readyz" => Route::Health,
                "/metrics" => Route::Metrics,
                _ => Route::Other,
            }
        }
    }

    fn label(self) -> &'static str {
        match self {
            Route::Feed => "feed",
            Route::Admin => "admin",
            Route::Health => "health",
            Route::Metrics => "metrics",
            Route::Other => "other",
        }
    }
}

/// The statuses whose counters are made at start; any other status is looked up in the
/// family (a hash and a read lock, still no allocation: the labels are `'static`).
const COMMON_STATUSES: [u16; 12] = [200, 201, 204, 304, 400, 401, 404, 405, 406, 410, 412, 503];
/// Response body codings, as `Content-Encoding` names them (`identity` when absent).
const ENCODINGS: [&str; 3] = ["identity", "gzip", "br"];

/// Request counters: `pressfeed_http_requests_total{route,status}` and
/// `pressfeed_http_response_bytes_total{encoding}`; connections open and refused at the cap;
/// access log lines lost.
pub struct HttpMetrics {
    pub connections_open: Gauge,
    pub connections_refused: Counter,
    /// Lines the access log dropped at a full buffer (the disk too slow) or failed to write.
    pub access_log_dropped: Counter,
    requests: Family<RequestLabel, Counter>,
    /// Handles on `requests` for each route and common status, by index.
    common: [[Counter; COMMON_STATUSES.len()]; Route::ALL.len()],
    /// Handles on the bytes family, in the order of `ENCODINGS`.
    bytes: [Counter; ENCODINGS.len()],
}

impl HttpMetrics {
    fn new(registry: &mut Registry) -> HttpMetrics {
        let requests = Family::<RequestLabel, Counter>::default();
        let bytes = Family::<EncodingLabel, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        registry.register(
            "http_response_bytes",
            "Response body bytes sent, by content coding",
            bytes.clone(),
        );
        let common = Route::ALL.map(|route| {
            COMMON_STATUSES.map(|status| {
                requests
                    .get_or_create(&RequestLabel {
                        route: route.label(),
                        status,
                    })
                    .clone()
            })
        });
        let bytes =
            ENCODINGS.map(|encoding| bytes.get_or_create(&EncodingLabel { encoding }).clone());
        let connections_open = Gauge::default();
        registry.register(
            "http_connections_open",
            "Client connections being served",
            connections_open.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "http_connections_refused",
            "Connections answered 503 because max_connections were open",
            connections_refused.clone(),
        );
        let access_log_dropped = Counter::default();
        registry.register(
            "access_log_dropped_lines",
            "Access log lines dropped because the writer fell behind (a slow disk) or failed",
            access_log_dropped.clone(),
        );
        HttpMetrics {
            connections_open,
            connections_refused,
            access_log_dropped,
            requests,
            common,
            bytes,
        }
    }

    /// Counts one response: its route and status, and `body_bytes` sent in `encoding`
    /// (a `Content-Encoding` value, `None` for identity).
    pub fn record(&self, route: Route, status: u16, encoding: Option<&[u8]>, body_bytes: u64) {
        let r = route as usize;
        match COMMON_STATUSES.iter().position(|&s| s == status) {
            Some(i) => {
                self.common[r][i].inc();
            }
            None => {
                self.requests
                    .get_or_create(&RequestLabel {
                        route: route.label(),
                        status,
                    })
                    .inc();
            }
        }
        if body_bytes > 0 {
            let e = match encoding {
                Some(b"gzip") => 1,
                Some(b"br") => 2,
                _ => 0,
            };
            self.bytes[e].inc_by(body_bytes);
        }
    }
}

pub struct Metrics {
    registry: Registry,
    /// Catalog snapshots published (one per rebuild of one or more sections).
    pub rebuilds: Counter,
    pub rebuild_failures: Counter,
    /// Per section: how long its builds took, and (`_count`) how many there were.
    pub section_builds: Family<SectionLabel, Histogram, fn() -> Histogram>,
    pub rebuild_seconds: Histogram,
    pub last_rebuild: Gauge<f64, AtomicU64>,
    pub articles: Gauge,
    /// 1 while the store works, 0 while a fault degrades it (`store::StoreHealth`, which
    /// `/readyz` reads); the scheduler sets it at every poll.
    pub store_up: Gauge,
    pub http: HttpMetrics,
    pub websub_ok: Counter,
    pub websub_error: Counter,
    /// Files copied to (or deleted from) the `[publish]` bucket, by result.
    pub bucket_ok: Counter,
    pub bucket_error: Counter,
    pub sources: SourceMetrics,
    /// Reloads of the configuration that did not load (the last good one stayed served).
    pub config_load_failures: Counter,
    /// Certificate pairs that `http::tls` loaded while serving, and those it refused (the
    /// pair before stayed served).
    pub tls_reloads: Counter,
    pub tls_reload_failures: Counter,
    pub on_demand: OnDemandMetrics,
    /// Polls of each feed by client family and the subscribers aggregators announce.
    pub readers: Arc<Tally>,
    /// The lint's problems in the partner feeds as last built, by partner and rule.
    partner_problems: Family<ProblemLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("pressfeed");
        let rebuilds = Counter::default();
        let rebuild_failures = Counter::default();
        let section_builds =
            Family::<SectionLabel, Histogram, fn() -> Histogram>::new_with_constructor(
                // 0.5 ms to ~4 s.
                || Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            );
        // 1 ms to ~4 s.
        let rebuild_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 13));
        let last_rebuild = Gauge::<f64, AtomicU64>::default();
        let articles = Gauge::default();
        registry.register("rebuilds", "Catalog rebuilds published", rebuilds.clone());
        registry.register(
            "rebuild_failures",
            "Rebuilds that failed and will be retried",
            rebuild_failures.clone(),
        );
        registry.register(
            "section_build_duration_seconds",
            "Builds of one section in every format (query, render, compress), by section",
            section_builds.clone(),
        );
        registry.register(
            "rebuild_duration_seconds",
            "Time to rebuild the dirty sections",
            rebuild_seconds.clone(),
        );
        registry.register(
            "last_rebuild_timestamp_seconds",
            "When the catalog was last rebuilt (unix time)",
            last_rebuild.clone(),
        );
        registry.register("articles", "Articles in the store", articles.clone());
        let store_up = Gauge::default();
        registry.register(
            "store_up",
            "1 while the store works, 0 while a fault (disk full, I/O errors) degrades it",
            store_up.clone(),
        );
        let http = HttpMetrics::new(&mut registry);
        let websub = Family::<ResultLabel, Counter>::default();
        registry.register(
            "websub_pings",
            "WebSub publish pings sent to hubs, by result (each try counts)",
            websub.clone(),
        );
        let websub_ok = websub.get_or_create(&ResultLabel { result: "ok" }).clone();
        let websub_error = websub
            .get_or_create(&ResultLabel { result: "error" })
            .clone();
        let bucket = Family::<ResultLabel, Counter>::default();
        registry.register(
            "bucket_files",
            "Feed files copied to or deleted from the [publish] bucket, by result (each try counts)",
            bucket.clone(),
        );
        let bucket_ok = bucket.get_or_create(&ResultLabel { result: "ok" }).clone();
        let bucket_error = bucket
            .get_or_create(&ResultLabel { result: "error" })
            .clone();
        let sources = SourceMetrics::new(&mut registry);
        let config_load_failures = Counter::default();
        registry.register(
            "config_load_failures",
            "Reloads of the configuration that did not load; the last good one stays served",
            config_load_failures.clone(),
        );
        let tls_reloads = Family::<ResultLabel, Counter>::default();
        registry.register(
            "tls_certificate_reloads",
            "Certificate and key files read again while serving after they changed, by result \
             (ok: served to new connections; error: refused, the pair before stays served)",
            tls_reloads.clone(),
        );
        let tls_reload_failures = tls_reloads
            .get_or_create(&ResultLabel { result: "error" })
            .clone();
        let tls_reloads = tls_reloads
            .get_or_create(&ResultLabel { result: "ok" })
            .clone();
        let on_demand = OnDemandMetrics::new(&mut registry);
        let readers = Arc::new(Tally::default());
        registry.register_collector(Box::new(readers.clone()));
        let partner_problems = Family::<ProblemLabel, Gauge>::default();
        registry.register(
            "partner_problems",
            "Problems the lint finds in the partner feeds as last built, by partner, rule and \
             severity (error: the item was left out, or the partner refuses the feed)",
            partner_problems.clone(),
        );
        Metrics {
            readers,
            partner_problems,
            on_demand,
            registry,
            rebuilds,
            rebuild_failures,
            section_builds,
            rebuild_seconds,
            last_rebuild,
            articles,
            store_up,
            http,
            websub_ok,
            websub_error,
            bucket_ok,
            bucket_error,
            sources,
            config_load_failures,
            tls_reloads,
            tls_reload_failures,
        }
    }
}

impl Metrics {
    /// Counts `problems`, the lint's whole report, in place of the last count.
    pub fn count_problems(&self, problems: &[Problem]) {
        self.partner_problems.clear();
        for problem in problems {
            let label = ProblemLabel {
                partner: problem.partner_name(),
                rule: problem.rule.id,
                severity: problem.severity().name(),
            };
            self.partner_problems.get_or_create(&label).inc();
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}
