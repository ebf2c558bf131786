//! The numbers pressfeed exposes at `/metrics` (Prometheus text format): builds and the
//! store. Counters are atomics; nothing here is on the request path but the encoding of
//! `/metrics` itself.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SectionLabel {
    pub section: String,
}

pub struct Metrics {
    registry: Registry,
    /// Catalog snapshots published (one per rebuild of one or more sections).
    pub rebuilds: Counter,
    pub rebuild_failures: Counter,
    pub section_builds: Family<SectionLabel, Counter>,
    pub rebuild_seconds: Histogram,
    pub last_rebuild: Gauge<f64, AtomicU64>,
    pub articles: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("pressfeed");
        let rebuilds = Counter::default();
        let rebuild_failures = Counter::default();
        let section_builds = Family::<SectionLabel, Counter>::default();
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
            "section_builds",
            "Builds of one section in every format",
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
        Metrics {
            registry,
            rebuilds,
            rebuild_failures,
            section_builds,
            rebuild_seconds,
            last_rebuild,
            articles,
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}
