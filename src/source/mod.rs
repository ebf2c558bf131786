//! Sources the scheduler pulls articles from (`[[sources]]` in `feeds/site.toml`): a WordPress
//! site's REST API, a JSON document (URL or file), a folder of article files.
//!
//! - `run`        one task per source polling on its cron schedule, following reloads
//! - `wordpress`, `json`, `directory`  reading each kind into items
//! - `intake`     items into the store: upserts, skips with reasons, retractions
//! - `status`     how each source is doing, for the admin API and `/metrics`
//!
//! Articles reach the feeds the way pushed ones do: through the store, whose change log
//! tells the scheduler which sections to rebuild. A failing or slow source only fails
//! itself: the feeds, the other sources and the admin API go on.

mod directory;
mod intake;
mod json;
mod run;
mod status;
mod wordpress;

pub use run::supervise;
pub use status::{Registry, SourceStatus};

use crate::article::{Article, ArticleId};
use crate::config::{Credentials, Origin, Source};

/// One thing a source offered, sorted out.
#[derive(Debug)]
enum Item {
    Article(Box<Article>),
    /// Readable, but not for the feeds (no section, password-protected): any stored copy
    /// is retracted.
    Withdrawn {
        id: ArticleId,
        label: String,
        reason: String,
    },
    /// Unreadable or invalid: skipped until the source changes it; any stored copy stays.
    Bad {
        /// When the item's id could be made out.
        id: Option<ArticleId>,
        /// Where it was: `line 3`, `post 12`, `file a.md`.
        label: String,
        reason: String,
    },
}

/// Why a poll failed. The articles it stored before failing stay.
#[derive(Debug, thiserror::Error)]
enum SourceError {
    #[error(transparent)]
    Fetch(#[from] crate::client::FetchError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A file, a folder or a document that cannot be read at all.
    #[error("{0}")]
    Read(String),
    #[error("environment variable {0} is not set")]
    Env(String),
    #[error("{0}")]
    Credentials(String),
    #[error("a store task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

// Credentials are read from the environment when a request is made, not when the
// configuration loads: a rotated secret applies at the next poll.
impl Credentials {
    /// The `Authorization` header of HTTP basic auth, from the environment as it is now.
    fn authorization(&self) -> Result<http::HeaderValue, SourceError> {
        use base64::Engine as _;
        let var = |name: &str| std::env::var(name).map_err(|_| SourceError::Env(name.to_owned()));
        let pair = format!("{}:{}", var(&self.username_env)?, var(&self.password_env)?);
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        let mut value = http::HeaderValue::try_from(format!("Basic {encoded}"))
            .expect("base64 is a valid header value");
        value.set_sensitive(true);
        Ok(value)
    }
}

impl Source {
    /// The `Authorization` header of the source's requests, if it has credentials.
    fn authorization(&self) -> Result<Option<http::HeaderValue>, SourceError> {
        self.credentials
            .as_ref()
            .map(Credentials::authorization)
            .transpose()
    }
}
