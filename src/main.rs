//! The `pressfeed` command line: parses flags, loads the configuration, and hands over to
//! the library. Errors are reported here, once, with their context.

// mimalloc: feed builds allocate many short strings; it cut the RSS build by a third.
// Built with `no_thp` (Cargo.toml): otherwise it asks the kernel for transparent huge pages
// on its arenas, and handing freed pages back then splits them, which stalled one build in
// a hundred by 30-100 ms and doubled the kernel's share of a build (BENCHMARKS.md,
// 2026-12-06, morning).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{BufRead, BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use pressfeed::article::ArticleId;
use pressfeed::clock::Clock;
use pressfeed::config::{Config, ConfigError, Partner};
use pressfeed::http::{AccessLog, LogFormat};
use pressfeed::partner::Report;
use pressfeed::store::{PostgresSettings, Store, StoreError};
use pressfeed::{admin, app, build, export, import, live, publish, store};

/// The exit codes, for `--help` (README.md has them too).
const EXIT_CODES: &str = "Exit codes:
  0  success
  1  failure: I/O, the store, bad lines in an import, an article that is not there,
     sections an import refused (edited in the store since their last import),
     errors found by `lint` in the partner feeds,
     a `migrate` target that is not empty, a `restore` refused (the store is open in a
     pressfeed process, or the file is not a readable pressfeed store)
  2  invalid configuration or arguments (also an invalid PRESSFEED_LOG_FORMAT, a
     bad file in `sections import`, or `backup`/`restore` of a PostgreSQL store)";

/// Import progress goes to stderr this often, in articles read.
const PROGRESS_EVERY: u64 = 10_000;

/// Builds RSS, Atom and JSON feeds of a news site's sections and serves them fast.
#[derive(Parser)]
#[command(
    name = "pressfeed",
    version,
    propagate_version = true,
    after_help = EXIT_CODES
)]
struct Cli {
    /// The site's configuration: site.toml, and sections/*.toml, which seed a store that
    /// never had sections (the store's sections are the ones in force).
    #[arg(long, env = "PRESSFEED_FEEDS", default_value = "feeds", global = true)]
    feeds: PathBuf,
    /// Where the SQLite store lives [default: data_dir of site.toml].
    #[arg(long, env = "PRESSFEED_DATA", global = true)]
    data: Option<PathBuf>,
    /// A PostgreSQL store shared by every replica, `postgres://USER@HOST:PORT/DATABASE`, in
    /// place of SQLite in the data directory [default: store of site.toml]. The password
    /// comes from PRESSFEED_STORE_PASSWORD_FILE or PRESSFEED_STORE_PASSWORD if set.
    #[arg(long, env = "PRESSFEED_STORE", global = true, hide_env_values = true)]
    store: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every section's feeds over HTTP, rebuilding them as articles change.
    Serve {
        /// Address to listen on [default: listen of site.toml].
        #[arg(long, env = "PRESSFEED_LISTEN")]
        listen: Option<String>,
        /// Serve HTTPS with this PEM certificate chain, read again when it changes
        /// [default: tls.certificate of site.toml].
        #[arg(long, env = "PRESSFEED_TLS_CERTIFICATE", requires = "tls_key")]
        tls_certificate: Option<PathBuf>,
        /// The PEM private key of --tls-certificate [default: tls.key of site.toml].
        #[arg(long, env = "PRESSFEED_TLS_KEY", requires = "tls_certificate")]
        tls_key: Option<PathBuf>,
        /// With TLS, also listen for plain HTTP here and redirect every request to HTTPS
        /// [default: tls.redirect_listen of site.toml].
        #[arg(long, env = "PRESSFEED_REDIRECT_LISTEN")]
        redirect_listen: Option<String>,
        /// A file of admin API tokens, one per line: `label:token` or `token`. The admin
        /// API is off unless this or the PRESSFEED_ADMIN_TOKEN environment variable (never
        /// a flag: command lines are visible to every user) gives a token.
        #[arg(long, env = "PRESSFEED_ADMIN_TOKEN_FILE")]
        admin_token_file: Option<PathBuf>,
        /// The largest admin request body, in bytes [default: 8 MiB].
        #[arg(long, env = "PRESSFEED_ADMIN_MAX_BODY")]
        admin_max_body: Option<String>,
        /// Log one line per request to this file (appended to), or to stderr for `-`, in
        /// the form PRESSFEED_LOG_FORMAT sets [default: no access log].
        #[arg(long, env = "PRESSFEED_ACCESS_LOG")]
        access_log: Option<PathBuf>,
    },
    /// Load NDJSON articles (one JSON object per line; `-` for stdin), upserting by id.
    Import {
        /// The NDJSON file, or `-` for standard input.
        file: PathBuf,
    },
    /// Write every feed to a directory with its headers, as the server serves them (for a CDN or bucket).
    Build {
        /// The directory to write `feeds/<slug>.<format>`, `feeds/index.opml`,
        /// `feeds/feed.xsl` and their `.headers.json` sidecars into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check the partner feeds against their partners' rules (docs/partners.md), as the
    /// server would build them now: one line per problem, tab-separated (severity, feed,
    /// article id or `-`, rule, what was found, the rule's source); exit 1 if any is an
    /// error (an article left out of a partner's feed, or a feed the partner refuses).
    Lint {
        /// Only this partner's feeds: flipboard, smartnews, msn, google-news or feedly.
        #[arg(long)]
        partner: Option<String>,
        /// Only this section's feeds.
        section: Option<String>,
    },
    /// Validate the configuration: every problem of every file, one line each, and sources
    /// this machine cannot serve (credential variables unset, a file or folder missing) and
    /// TLS files it cannot read; exit 2 if any.
    Check,
    /// The site's sections.
    Sections {
        #[command(subcommand)]
        command: SectionsCommand,
    },
    /// Articles in the store.
    Articles {
        #[command(subcommand)]
        command: ArticlesCommand,
    },
    /// Write a consistent copy of the SQLite store to FILE while servers keep serving and
    /// writing it: every write acknowledged before the backup began is in it.
    ///
    /// The copy is made in one read of the store (SQLite's `VACUUM INTO`), checked, and
    /// renamed into place, so FILE is always a whole backup. A PostgreSQL store is backed
    /// up with pg_dump instead (docs/operations.md).
    Backup {
        /// The backup file to write; replaced if it exists.
        file: PathBuf,
    },
    /// Replace the SQLite store with a backup made by `pressfeed backup`.
    ///
    /// FILE is checked first: a pressfeed store, of a schema this pressfeed reads (an older
    /// one is migrated when the store next opens), undamaged. Refused, with nothing
    /// changed, while any pressfeed process (a server, an import) has the store open:
    /// stop them first. The store is replaced by a rename, so a crash leaves the old store
    /// or the restored one. A PostgreSQL store is restored with pg_restore instead.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Copy the data directory's SQLite store into an empty PostgreSQL store, as stored.
    ///
    /// The source is the SQLite store of --data (or data_dir of site.toml), never --store.
    /// Copied: articles and their prepared items, the change counter, the sections, the
    /// saved feeds with their ETags and Last-Modified, what sources remember; all in one
    /// transaction. A store that holds articles, sections or saved feeds is refused and
    /// nothing is written (exit 1). Stop every pressfeed writing the SQLite store first.
    Migrate {
        /// The PostgreSQL store, `postgres://USER@HOST:PORT/DATABASE`; the password comes
        /// from PRESSFEED_STORE_PASSWORD_FILE or PRESSFEED_STORE_PASSWORD if set.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum SectionsCommand {
    /// One line per section in the store, tab-separated: slug, title, enabled or disabled,
    /// feed URLs.
    List,
    /// Write every section in the store to DIR/<slug>.toml; other files in DIR stay.
    Export {
        /// The directory to write into; made if missing.
        dir: PathBuf,
    },
    /// Make the store's sections those of DIR/*.toml, in one transaction: new files are
    /// added, changed ones replace the stored text, and stored sections with no file are
    /// removed. Every file is validated first; if any is bad nothing is written (exit 2).
    /// A section edited in the store (admin API) since its last import or export is
    /// neither replaced nor removed, and nothing is written (exit 1), unless --force.
    Import {
        /// The directory of section files, e.g. a git checkout's feeds/sections.
        dir: PathBuf,
        /// Overwrite and remove sections edited in the store since their last import.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ArticlesCommand {
    /// Print an article as stored, as pretty JSON; exit 1 if there is none.
    Show {
        /// The article's id.
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "pressfeed=info,audit=info".into());
    // Colours for a person at a terminal, never in a file or a pipe; NO_COLOR (no-color.org)
    // turns them off there too.
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    // One JSON object per line for log shippers; the default stays readable for people.
    let format = match std::env::var("PRESSFEED_LOG_FORMAT").as_deref() {
        Ok("json") => LogFormat::Json,
        Ok("text") | Err(_) => LogFormat::Text,
        Ok(other) => {
            eprintln!("pressfeed: PRESSFEED_LOG_FORMAT must be `json` or `text`, not {other:?}");
            return ExitCode::from(2);
        }
    };
    match format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    match run(cli, format) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pressfeed: {}", told(&e));
            ExitCode::FAILURE
        }
    }
}

/// `e` and its causes, each said once. Most errors here, and tokio-postgres's and the
/// standard library's I/O errors inside them, put their cause in their own message as
/// well, so anyhow's `{:#}` said it twice or three times ("No such file or directory (os
/// error 2): No such file or directory (os error 2)"): a cause already said is left out.
fn told(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain().map(ToString::to_string) {
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

fn run(cli: Cli, log_format: LogFormat) -> Result<ExitCode> {
    let feeds = cli.feeds;
    if let Command::Check = cli.command {
        return check(&feeds);
    }
    let site = match Config::load_site(&feeds) {
        Ok(site) => site,
        Err(e) => return Ok(has_problems(&feeds, &e)),
    };
    if let Command::Migrate { to } = &cli.command {
        let target = match postgres_settings(to) {
            Ok(settings) => settings,
            Err(e) => {
                eprintln!("pressfeed: --to: {}", told(&e));
                return Ok(ExitCode::from(2));
            }
        };
        return migrate(&site.data_dir(&feeds, cli.data.as_deref()), &target);
    }
    let store_url = cli
        .store
        .or_else(|| Some(site.store.as_ref()?.as_str().to_owned()));
    let store_at = match store_url {
        Some(url) => match postgres_settings(&url) {
            Ok(settings) => StoreAt::Postgres(Box::new(settings)),
            Err(e) => {
                eprintln!("pressfeed: {}", told(&e));
                return Ok(ExitCode::from(2));
            }
        },
        None => StoreAt::Sqlite(site.data_dir(&feeds, cli.data.as_deref())),
    };
    // The configuration in force: site.toml and the store's sections (seeded once from
    // feeds/sections). Only for the commands that use sections.
    let in_force = |store: &Store| match live::load(&feeds, store, Clock::system().now()) {
        Ok(config) => Ok(Ok(config)),
        Err(live::SectionsError::Invalid(e)) => Ok(Err(has_problems(&feeds, &e))),
        Err(e) => Err(anyhow::Error::new(e).context("loading the sections from the store")),
    };
    match cli.command {
        Command::Check | Command::Migrate { .. } => unreachable!("answered above"),
        Command::Serve {
            listen,
            tls_certificate,
            tls_key,
            redirect_listen,
            admin_token_file,
            admin_max_body,
            access_log,
        } => {
            let token = std::env::var("PRESSFEED_ADMIN_TOKEN").ok();
            let admin = admin::Settings::from_values(
                token.as_deref(),
                admin_token_file.as_deref(),
                admin_max_body.as_deref(),
            )
            .context("admin API settings")?;
            let access_log = access_log
                .map(|path| {
                    AccessLog::open(&path, log_format)
                        .with_context(|| format!("opening the access log {}", path.display()))
                })
                .transpose()?;
            let store = open_store(&store_at)?;
            let mut config = match in_force(&store)? {
                Ok(config) => config,
                Err(code) => return Ok(code),
            };
            config.site.tls = tls_settings(&config, tls_certificate, tls_key, redirect_listen)?;
            serve(config, store, &store_at, listen, admin, access_log)
        }
        Command::Import { file } => import_file(&store_at, &file),
        Command::Backup { file } => backup(&store_at, &file),
        Command::Restore { file } => restore(&store_at, &file),
        Command::Sections { command } => {
            let store = open_store(&store_at)?;
            match command {
                SectionsCommand::List => match in_force(&store)? {
                    Ok(config) => {
                        list_sections(&config);
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(code) => Ok(code),
                },
                SectionsCommand::Export { dir } => {
                    if let Err(code) = in_force(&store)? {
                        return Ok(code);
                    }
                    let written = live::export(&dir, &store, Clock::system().now())
                        .with_context(|| format!("exporting the sections to {}", dir.display()))?;
                    println!("exported {written} sections to {}", dir.display());
                    Ok(ExitCode::SUCCESS)
                }
                SectionsCommand::Import { dir, force } => import_sections(&store, &dir, force),
            }
        }
        Command::Articles {
            command: ArticlesCommand::Show { id },
        } => show_article(&store_at, &id),
        Command::Build { out } => {
            let store = open_store(&store_at)?;
            match in_force(&store)? {
                Ok(config) => build_out(&config, &store, &out),
                Err(code) => Ok(code),
            }
        }
        Command::Lint { partner, section } => {
            let store = open_store(&store_at)?;
            match in_force(&store)? {
                Ok(config) => lint(&config, &store, partner.as_deref(), section.as_deref()),
                Err(code) => Ok(code),
            }
        }
    }
}

/// `pressfeed lint`: exit 2 for a partner or section that does not exist, 1 for errors.
fn lint(
    config: &Config,
    store: &Store,
    partner: Option<&str>,
    section: Option<&str>,
) -> Result<ExitCode> {
    if let Some(name) = partner.filter(|&p| p != "feedly" && Partner::named(p).is_none()) {
        eprintln!(
            "pressfeed lint: no partner {name:?}; partners: flipboard, smartnews, msn, google-news, feedly"
        );
        return Ok(ExitCode::from(2));
    }
    if let Some(slug) = section.filter(|&s| config.section(s).is_none()) {
        eprintln!("pressfeed lint: no section {slug:?}");
        return Ok(ExitCode::from(2));
    }
    let problems = publish::lint(store, config, Clock::system().now())
        .context("reading the sections' articles")?;
    let report = Report::new(config, problems, partner, section);
    for p in &report.problems {
        let feed = p
            .feed
            .as_deref()
            .or(p.section.as_deref())
            .unwrap_or("site.toml");
        let left_out = if p.left_out { " (left out)" } else { "" };
        println!(
            "{}\t{feed}\t{}\t{}\t{}{left_out}\t{}",
            p.severity().name(),
            p.item.as_deref().unwrap_or("-"),
            p.rule.id,
            p.found,
            p.rule.source,
        );
    }
    eprintln!(
        "pressfeed lint: {} partner feeds, {} errors, {} warnings",
        report.feeds.len(),
        report.errors,
        report.warnings
    );
    Ok(if report.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `pressfeed check`: the files in `feeds` (site.toml and sections/*.toml, whatever the
/// store holds) and what this machine needs to serve them.
fn check(feeds: &Path) -> Result<ExitCode> {
    let config = match Config::load(feeds).and_then(|c| c.check_environment().map(|()| c)) {
        Ok(config) => config,
        Err(e) => return Ok(has_problems(feeds, &e)),
    };
    println!(
        "{}: site, {} sections and {} sources are valid",
        feeds.display(),
        config.sections.len(),
        config.site.sources.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `pressfeed sections import`: exit 2 for bad files, 1 for sections edited in the store.
fn import_sections(store: &Store, dir: &Path, force: bool) -> Result<ExitCode> {
    match live::import(dir, store, force, Clock::system().now()) {
        Ok(report) => {
            println!(
                "sections import from {}: {} added, {} changed, {} removed, {} unchanged",
                dir.display(),
                report.added.len(),
                report.changed.len(),
                report.removed.len(),
                report.unchanged.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(live::SectionsError::Invalid(e)) => {
            eprintln!("{e}");
            eprintln!(
                "pressfeed: {} has problems; no section was imported",
                dir.display()
            );
            Ok(ExitCode::from(2))
        }
        Err(e @ live::SectionsError::EditedInStore(_)) => {
            eprintln!("pressfeed: {e}; no section was imported");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            Err(anyhow::Error::new(e).context(format!("importing sections from {}", dir.display())))
        }
    }
}

/// Tells every problem of the configuration in `feeds`, one a line; exit 2.
fn has_problems(feeds: &Path, problems: &ConfigError) -> ExitCode {
    eprintln!("{problems}");
    eprintln!(
        "pressfeed: {} has problems; nothing was done",
        feeds.display()
    );
    ExitCode::from(2)
}

/// Where the store is: SQLite in a data directory, or a PostgreSQL database.
enum StoreAt {
    Sqlite(PathBuf),
    Postgres(Box<PostgresSettings>),
}

impl std::fmt::Display for StoreAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreAt::Sqlite(dir) => write!(f, "SQLite in {}", dir.display()),
            StoreAt::Postgres(settings) => write!(f, "PostgreSQL at {settings}"),
        }
    }
}

/// The PostgreSQL store named by `url`, with the password from PRESSFEED_STORE_PASSWORD_FILE
/// (its first line) or PRESSFEED_STORE_PASSWORD when either is set: a password in a
/// command line is visible to every user of the machine.
fn postgres_settings(url: &str) -> Result<PostgresSettings> {
    let password = match (
        std::env::var_os("PRESSFEED_STORE_PASSWORD_FILE"),
        std::env::var("PRESSFEED_STORE_PASSWORD"),
    ) {
        (Some(_), Ok(_)) => anyhow::bail!(
            "both PRESSFEED_STORE_PASSWORD_FILE and PRESSFEED_STORE_PASSWORD are set; set one"
        ),
        (Some(path), _) => {
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!("reading PRESSFEED_STORE_PASSWORD_FILE {}", path.display())
            })?;
            Some(text.lines().next().unwrap_or_default().to_owned())
        }
        (None, Ok(password)) => Some(password),
        (None, Err(_)) => None,
    };
    Ok(PostgresSettings::parse(url, password.as_deref())?)
}

/// The `[tls]` of `config` with the flags over it; `None` for plain HTTP. A flag's file is
/// made absolute (it is relative to the working directory); a site.toml one stays
/// relative to the feeds directory, where `app::run` looks for it.
fn tls_settings(
    config: &Config,
    certificate: Option<PathBuf>,
    key: Option<PathBuf>,
    redirect_listen: Option<String>,
) -> Result<Option<pressfeed::config::Tls>> {
    let tls = match (certificate.zip(key), config.site.tls.clone()) {
        (Some((certificate, key)), site) => pressfeed::config::Tls {
            certificate: std::path::absolute(&certificate)?,
            key: std::path::absolute(&key)?,
            redirect_listen: site.as_ref().and_then(|s| s.redirect_listen.clone()),
            redirect_port: site.as_ref().and_then(|s| s.redirect_port),
            hsts_max_age: site.and_then(|s| s.hsts_max_age),
        },
        (None, Some(site)) => site,
        (None, None) if redirect_listen.is_some() => {
            anyhow::bail!("--redirect-listen redirects to HTTPS, which needs a certificate and key")
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(pressfeed::config::Tls {
        redirect_listen: redirect_listen.or(tls.redirect_listen.clone()),
        ..tls
    }))
}

/// Opens the store and prepares again what older preparation rules left in it.
fn open_store(at: &StoreAt) -> Result<Store> {
    let context = || format!("opening the store ({at})");
    let store = match at {
        StoreAt::Sqlite(dir) => Store::open(dir),
        StoreAt::Postgres(settings) => Store::open_postgres(settings),
    }
    .with_context(context)?;
    app::prepare_stale(&store).with_context(context)?;
    Ok(store)
}

fn serve(
    config: Config,
    store: Store,
    store_at: &StoreAt,
    listen: Option<String>,
    admin: admin::Settings,
    access_log: Option<AccessLog>,
) -> Result<ExitCode> {
    app::seed_if_new(&config, &store)?;
    let listen = listen.unwrap_or_else(|| config.site.listen.clone());
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        let redirect = match config.site.tls.as_ref().and_then(|t| t.redirect_listen.as_ref()) {
            Some(at) => Some(
                tokio::net::TcpListener::bind(at)
                    .await
                    .with_context(|| format!("listening for the redirect to HTTPS on {at}"))?,
            ),
            None => None,
        };
        let scheme = if config.site.tls.is_some() { "https" } else { "http" };
        // One write: a reader that stops after the URL list (a script, a test) must not
        // make a later line fail with a broken pipe.
        use std::fmt::Write as _;
        let mut banner = format!(
            "pressfeed serving {} on {scheme}://{addr}/\n",
            config.dir.display()
        );
        if let Some(redirect) = &redirect {
            writeln!(
                banner,
                "Redirecting plain HTTP on http://{}/ to HTTPS.",
                redirect.local_addr()?
            )?;
        }
        for section in config.sections.iter().filter(|s| s.enabled) {
            for format in build::Format::ALL {
                writeln!(banner, "  {scheme}://{addr}/feeds/{}", format.file_name(section))?;
            }
        }
        writeln!(
            banner,
            "  {scheme}://{addr}/feeds/{}",
            build::OPML_FILE_NAME
        )?;
        writeln!(banner, "  http://{addr}/feeds/")?;
        for source in &config.site.sources {
            writeln!(
                banner,
                "Pulling articles from source {} ({} {}, schedule \"{}\").",
                source.name,
                source.kind(),
                source.location(),
                source.schedule.as_str()
            )?;
        }
        if admin.tokens.is_empty() {
            banner.push_str(
                "Admin API off: set PRESSFEED_ADMIN_TOKEN or PRESSFEED_ADMIN_TOKEN_FILE to enable it.\n",
            );
        } else {
            writeln!(
                banner,
                "Admin API on {scheme}://{addr}/admin/api/ ({} tokens).",
                admin.tokens.len()
            )?;
        }
        writeln!(
            banner,
            "Edits to {} and section changes in the store (admin API, `pressfeed sections import`) are served without a restart (SIGHUP reloads at once).",
            config.dir.join("site.toml").display()
        )?;
        writeln!(banner, "Articles and sections are kept in {store_at}.")?;
        banner.push_str("Ctrl-C stops it.\n");
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(banner.as_bytes())?;
            out.flush()?;
        }
        app::run(
            app::Listeners {
                serve: listener,
                redirect,
            },
            config,
            store,
            admin,
            access_log,
            Clock::system(),
            shutdown_signal(),
        )
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("signal received");
}

fn import_file(store_at: &StoreAt, file: &Path) -> Result<ExitCode> {
    let store = open_store(store_at)?;
    // On a terminal, a progress bar (bytes of a file, or a count for stdin); in a log, a
    // line per step.
    let bar = std::io::stderr().is_terminal().then(|| progress_bar(file));
    let input: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        match &bar {
            Some(bar) => Box::new(BufReader::with_capacity(1 << 20, bar.wrap_read(f))),
            None => Box::new(BufReader::with_capacity(1 << 20, f)),
        }
    };
    let mut next = PROGRESS_EVERY;
    let report = import::ndjson_with_progress(
        input,
        &store,
        |bad| match &bar {
            Some(bar) => bar.println(format!("line {}: {}", bad.line, bad.error)),
            None => eprintln!("line {}: {}", bad.line, bad.error),
        },
        |read| match &bar {
            Some(bar) => bar.set_message(format!("{read} articles")),
            None if read >= next => {
                eprintln!("import: {read} articles read");
                next = (read / PROGRESS_EVERY + 1) * PROGRESS_EVERY;
            }
            None => {}
        },
    )?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for warned in &report.warnings {
        eprintln!("line {}: warning: {}", warned.line, warned.warning);
    }
    println!(
        "imported {} articles, {} bad lines, {} warnings",
        report.stored,
        report.bad.len(),
        report.warnings.len()
    );
    Ok(if report.bad.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `pressfeed backup`: the SQLite store copied to `file`.
fn backup(store_at: &StoreAt, file: &Path) -> Result<ExitCode> {
    let StoreAt::Sqlite(dir) = store_at else {
        return Ok(postgres_has_its_own_tools(store_at, "backup"));
    };
    let summary = store::backup(dir, file).with_context(|| {
        format!(
            "backing up {store_at} to {}; no backup was written",
            file.display()
        )
    })?;
    println!(
        "backed up {} articles (schema version {}) from {store_at} to {}",
        summary.articles,
        summary.schema,
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `pressfeed restore`: the SQLite store replaced with the backup `file`.
fn restore(store_at: &StoreAt, file: &Path) -> Result<ExitCode> {
    let StoreAt::Sqlite(dir) = store_at else {
        return Ok(postgres_has_its_own_tools(store_at, "restore"));
    };
    let summary = store::restore(file, dir).with_context(|| {
        format!(
            "restoring {} into {store_at}; the store was not replaced",
            file.display()
        )
    })?;
    println!(
        "restored {} articles (schema version {}) from {} into {store_at}",
        summary.articles,
        summary.schema,
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `backup` and `restore` copy a SQLite file; a PostgreSQL store has pg_dump and
/// pg_restore, which know its server. Exit 2: the command does not apply.
fn postgres_has_its_own_tools(store_at: &StoreAt, command: &str) -> ExitCode {
    eprintln!(
        "pressfeed: `{command}` copies a SQLite store, and the store is {store_at}: use \
         pg_dump and pg_restore (docs/operations.md, \"Backup and restore\")"
    );
    ExitCode::from(2)
}

/// `pressfeed migrate`: the SQLite store in `data_dir` copied into the empty PostgreSQL
/// store `target`. Neither store's items are prepared again: the copy keeps the source's,
/// and the first command on the target prepares them if they are stale.
fn migrate(data_dir: &Path, target: &PostgresSettings) -> Result<ExitCode> {
    // `Store::open` would make an empty store of a mistyped directory, and copy it.
    let file = data_dir.join(pressfeed::store::FILE_NAME);
    if !file.exists() {
        eprintln!(
            "pressfeed: no SQLite store at {}; nothing was copied",
            file.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let source = Store::open(data_dir)
        .with_context(|| format!("opening the store (SQLite in {})", data_dir.display()))?;
    let to = Store::open_postgres(target)
        .with_context(|| format!("opening the store (PostgreSQL at {target})"))?;
    let every = PROGRESS_EVERY as usize;
    let mut next = every;
    let copied = source.copy_into(&to, &mut |copied| {
        if copied >= next {
            eprintln!("migrate: {copied} articles copied");
            next = (copied / every + 1) * every;
        }
    });
    let copied = match copied {
        Ok(copied) => copied,
        Err(StoreError::NotEmpty {
            articles,
            sections,
            feeds,
        }) => {
            eprintln!(
                "pressfeed: {target} is not empty: it holds {articles} articles, {sections} \
                 sections and {feeds} saved feeds; nothing was written (migrate copies only \
                 into an empty store)"
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "copying SQLite in {} to {target}; nothing was written",
                data_dir.display()
            )));
        }
    };
    println!(
        "migrated {} articles, {} sections, {} feeds, {} sources to {target}",
        copied.articles, copied.sections, copied.feeds, copied.sources
    );
    Ok(ExitCode::SUCCESS)
}

/// Bytes of a file with an ETA, or a spinner for stdin, whose size is unknown.
fn progress_bar(file: &Path) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    let size = (file != Path::new("-"))
        .then(|| std::fs::metadata(file).ok().map(|m| m.len()))
        .flatten();
    match size {
        Some(size) => ProgressBar::new(size).with_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)")
                .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template")),
    }
}

fn list_sections(config: &Config) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for section in &config.sections {
        let urls: Vec<String> = build::Format::ALL
            .iter()
            .map(|f| config.site.feed_url(&f.file_name(section)))
            .collect();
        let state = if section.enabled {
            "enabled"
        } else {
            "disabled"
        };
        // A closed pipe (`| head`) ends the listing; it is not an error.
        if writeln!(
            out,
            "{}\t{}\t{state}\t{}",
            section.slug,
            section.title,
            urls.join(" ")
        )
        .is_err()
        {
            return;
        }
    }
}

fn show_article(store_at: &StoreAt, id: &str) -> Result<ExitCode> {
    let id = match ArticleId::parse(id) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("pressfeed: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let store = open_store(store_at)?;
    match store.get(&id)? {
        Some(article) => {
            println!("{}", serde_json::to_string_pretty(&article)?);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("pressfeed: no article {id} in the store");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn build_out(config: &Config, store: &Store, out: &Path) -> Result<ExitCode> {
    let written = export::export(config, store, out, Clock::system().now())?;
    println!(
        "wrote {written} files, their .gz and .br variants and headers to {}",
        out.join("feeds").display()
    );
    Ok(ExitCode::SUCCESS)
}
