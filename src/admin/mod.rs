//! The admin API under `/admin/api/`: authentication, the scope each request needs, routing
//! and the audit log of writes. Sections (`sections`), articles (`articles`) and the pulled
//! sources (`sources`: their state, and asking one to poll now) and who reads the feeds
//! (`readers`: subscribers, polls by client, a chart per section) have a file each; cron
//! previews (`schedule`), bodies (`body`), tokens and their scopes (`auth`) and error answers
//! (`error`) too. Feeds are served elsewhere, sync and without this module: only
//! `/admin/api/` requests come here (the admin page's static files are `crate::http`'s).

mod articles;
mod auth;
mod body;
mod error;
mod lint;
mod readers;
mod schedule;
mod sections;
mod sources;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};

use auth::{Caller, Scope};
pub use auth::{MIN_TOKEN_LEN, TokenError, Tokens};
use error::{ApiError, json_response};

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::http::{AdminHandler, Body};
use crate::live::LiveConfig;
use crate::schedule::Notifier;
use crate::source::Registry;
use crate::store::Store;

/// The largest request body by default: a full batch of long articles fits.
pub const DEFAULT_MAX_BODY: usize = 8 << 20;
/// The most articles one `POST /admin/api/articles` may carry; bigger imports belong to
/// `pressfeed import`, or several requests.
pub const MAX_BATCH: usize = 1000;

const PREFIX: &str = "/admin/api/";

/// How the admin API is set up. No tokens: the API is off and `/admin/api/` answers 404.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Who may call the API; none turns it off.
    pub tokens: Tokens,
    /// Bytes.
    pub max_body: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            tokens: Tokens::default(),
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// Why the admin API's settings were refused (`Settings::from_values`).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A token, or the token file, is not usable.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// `PRESSFEED_ADMIN_MAX_BODY` is not a byte count above 0; holds the value given.
    #[error("PRESSFEED_ADMIN_MAX_BODY must be a number of bytes above 0, not {0:?}")]
    MaxBody(String),
}

impl Settings {
    /// From the values of `PRESSFEED_ADMIN_TOKEN` (one token line, `label:token` or just
    /// the token), `PRESSFEED_ADMIN_TOKEN_FILE` (a file of such lines) and
    /// `PRESSFEED_ADMIN_MAX_BODY` (bytes). The caller reads the environment.
    pub fn from_values(
        token: Option<&str>,
        token_file: Option<&Path>,
        max_body: Option<&str>,
    ) -> Result<Settings, SettingsError> {
        let mut tokens = Tokens::default();
        if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
            tokens.add_lines(token, "PRESSFEED_ADMIN_TOKEN")?;
        }
        if let Some(file) = token_file {
            tokens.add_file(file)?;
        }
        let max_body = match max_body.map(str::trim).filter(|v| !v.is_empty()) {
            None => DEFAULT_MAX_BODY,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| SettingsError::MaxBody(v.to_owned()))?,
        };
        Ok(Settings { tokens, max_body })
    }
}

/// What the admin API works on; one per server, shared by its requests.
pub struct Admin {
    tokens: Tokens,
    max_body: usize,
    live: Arc<LiveConfig>,
    store: Store,
    /// Woken after every article write.
    notifier: Notifier,
    /// Read only, for what the section list says about each section's current feed, and
    /// the problems the lint found in the partner feeds.
    catalog: Catalog,
    /// How the sources are doing; and how to ask one to poll now.
    sources: Registry,
    /// What "now" is for `/admin/api/schedule`.
    clock: Clock,
}

impl Admin {
    /// `None` when no token is configured: the API is off.
    pub(crate) fn new(
        settings: Settings,
        live: Arc<LiveConfig>,
        store: Store,
        notifier: Notifier,
        catalog: Catalog,
        sources: Registry,
        clock: Clock,
    ) -> Option<Admin> {
        (!settings.tokens.is_empty()).then(|| Admin {
            tokens: settings.tokens,
            max_body: settings.max_body,
            live,
            store,
            notifier,
            catalog,
            sources,
            clock,
        })
    }
}

/// What the audit log says about a write beyond who, method, path and status.
#[derive(Default)]
struct Audit {
    /// The scope that let the write in (`admin` for a token without scopes), or, refused
    /// with 403, the one it lacked.
    scope: Option<Scope>,
    slug: Option<String>,
    ids: Vec<String>,
    count: Option<usize>,
}

impl Audit {
    /// Lets the request go on if `caller` may do what needs `needed`, noting the scope that
    /// allowed it. Called before a body is read: a token out of scope is refused unread.
    fn allow(&mut self, caller: &Caller, needed: Scope) -> Result<(), ApiError> {
        let granted = caller.grant(needed);
        self.scope = Some(granted.unwrap_or(needed));
        granted.map(|_| ()).ok_or(ApiError::Forbidden(needed))
    }

    /// The ids, shortened: a batch of a thousand would drown the log.
    fn ids(&self) -> Option<String> {
        const SHOWN: usize = 10;
        if self.ids.is_empty() {
            return None;
        }
        let mut out = self
            .ids
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(",");
        if self.ids.len() > SHOWN {
            let _ = write!(out, ",…(+{})", self.ids.len() - SHOWN);
        }
        Some(out)
    }
}

impl Admin {
    /// The handler the server answers `/admin/` requests with.
    pub fn handler(self) -> AdminHandler {
        let admin = Arc::new(self);
        Arc::new(move |req| Box::pin(handle(req, admin.clone())))
    }
}

/// Answers one `/admin/` request.
async fn handle<B>(req: Request<B>, admin: Arc<Admin>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return ApiError::NotFound("no such admin resource".into()).into_response();
    };
    let caller = match admin.tokens.authenticate(req.headers()) {
        Ok(caller) => caller,
        Err(failure) => {
            if write {
                tracing::warn!(target: "audit", who = "unauthenticated", %method, %path,
                    status = 401, "admin write refused");
            }
            return ApiError::Unauthorized(failure).into_response();
        }
    };
    let mut audit = Audit::default();
    let response = match route(&admin, req, rest, &caller, &mut audit).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    if write {
        tracing::info!(
            target: "audit",
            who = %caller,
            scope = audit.scope.map(tracing::field::display),
            %method,
            %path,
            slug = audit.slug.as_deref(),
            ids = audit.ids(),
            count = audit.count,
            status = response.status().as_u16(),
            "admin write"
        );
    }
    response
}

async fn route<B>(
    admin: &Arc<Admin>,
    req: Request<B>,
    rest: &str,
    caller: &Caller,
    audit: &mut Audit,
) -> Result<Response<Body>, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let not_allowed = |allow| ApiError::MethodNotAllowed {
        method: method.to_string(),
        allow,
    };
    // Bodies are read here, once, for the handlers that take one.
    let read = |accepted| body::read_json(&parts.headers, body, admin.max_body, accepted);
    let headers = || parts.headers.clone();
    // Any token may read the sections, the sources and a cron preview: configuration and
    // status, nothing secret, and what the admin page shows every signed-in token. Stored
    // articles include embargoed ones, so reading them needs `articles`.
    let reads = matches!(method, Method::GET | Method::HEAD);
    match rest.split_once('/') {
        None if rest == "whoami" => match method {
            Method::GET | Method::HEAD => Ok(json_response(StatusCode::OK, caller)),
            _ => Err(not_allowed("GET, HEAD")),
        },
        None if rest == "sections" => {
            if !reads {
                audit.allow(caller, Scope::Sections)?;
            }
            match method {
                Method::GET | Method::HEAD => sections::list(admin),
                Method::POST => sections::create(admin, read(body::JSON).await?, audit).await,
                _ => Err(not_allowed("GET, HEAD, POST")),
            }
        }
        Some(("sections", slug)) if !slug.is_empty() && !slug.contains('/') => {
            audit.slug = Some(slug.to_owned());
            if !reads {
                audit.allow(caller, Scope::Sections)?;
            }
            match method {
                Method::GET | Method::HEAD => sections::get(admin, slug),
                Method::PUT => {
                    let value = read(body::JSON).await?;
                    sections::replace(admin, value, headers(), slug).await
                }
                Method::PATCH => {
                    let patch = read(body::MERGE_PATCH).await?;
                    sections::patch(admin, patch, headers(), slug).await
                }
                Method::DELETE => sections::delete(admin, headers(), slug).await,
                _ => Err(not_allowed("GET, HEAD, PUT, PATCH, DELETE")),
            }
        }
        None if rest == "schedule" => match method {
            Method::GET | Method::HEAD => schedule::next(parts.uri.query(), admin.clock.now()),
            _ => Err(not_allowed("GET, HEAD")),
        },
        None if rest == "sources" => match method {
            Method::GET | Method::HEAD => Ok(sources::list(admin)),
            _ => Err(not_allowed("GET, HEAD")),
        },
        Some(("sources", path)) => match path.split_once('/') {
            Some((name, "poll")) if !name.is_empty() => {
                audit.slug = Some(name.to_owned());
                audit.allow(caller, Scope::Articles)?;
                match method {
                    Method::POST => sources::poll(admin, name),
                    _ => Err(not_allowed("POST")),
                }
            }
            _ => Err(ApiError::NotFound("no such admin resource".into())),
        },
        // Like readership, the partner feeds' state is the editors' to see.
        None if rest == "lint" => {
            audit.allow(caller, Scope::Sections)?;
            match method {
                Method::GET | Method::HEAD => lint::report(admin, parts.uri.query()),
                _ => Err(not_allowed("GET, HEAD")),
            }
        }
        // Readership is the editors' to see, not the CMS's.
        None if rest == "readers" => {
            audit.allow(caller, Scope::Sections)?;
            match method {
                Method::GET | Method::HEAD => readers::list(admin).await,
                _ => Err(not_allowed("GET, HEAD")),
            }
        }
        Some(("readers", chart)) if !chart.is_empty() && !chart.contains('/') => {
            audit.allow(caller, Scope::Sections)?;
            match method {
                Method::GET | Method::HEAD => readers::chart(admin, chart).await,
                _ => Err(not_allowed("GET, HEAD")),
            }
        }
        None if rest == "articles" => {
            audit.allow(caller, Scope::Articles)?;
            match method {
                Method::POST => articles::upsert(admin, read(body::JSON).await?, audit).await,
                _ => Err(not_allowed("POST")),
            }
        }
        Some(("articles", id)) if !id.is_empty() && !id.contains('/') => {
            audit.ids.push(id.to_owned());
            audit.allow(caller, Scope::Articles)?;
            match method {
                Method::GET | Method::HEAD => articles::get(admin, id).await,
                Method::PUT => articles::replace(admin, read(body::JSON).await?, id).await,
                Method::DELETE => articles::delete(admin, id).await,
                _ => Err(not_allowed("GET, HEAD, PUT, DELETE")),
            }
        }
        _ => Err(ApiError::NotFound("no such admin resource".into())),
    }
}
