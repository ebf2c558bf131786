//! The `wordpress` kind: a WordPress site's REST API v2 (`/wp-json/wp/v2/posts`, or
//! `?rest_route=` on a site without pretty permalinks).
//!
//! Each poll reads the posts modified since the newest one seen (`modified_after`, oldest
//! change first, a page at a time, the high-water mark kept in the store after each page),
//! with `_embed` for authors, terms and the featured image. Posts that leave `publish`
//! (trashed, drafted, deleted) are not in that list, so a sweep lists the published ids
//! and retracts the others (after asking about them once more by id: paging races with
//! deletions); it also fetches published posts the store lacks (a scheduled
//! post that WordPress published without touching its modified time). The sweep costs a
//! request per hundred posts, so it runs at most once per `SWEEP_PER_PAGE` per page.
//!
//! Renaming a tag, a category or a user does not touch the modified time of the posts that
//! carry it either. So the sweep's list also says which tags, categories and author each
//! published post carries, and every `terms_refresh` (by the `Clock`) those are read again
//! by id; the posts carrying one whose name or slug changed since it was last seen are
//! read and mapped again. What was seen is kept in the store, so a rename made while
//! pressfeed was down counts too; what was never seen is only recorded.
//!
//! WordPress answers no conditional requests (no ETag, no Last-Modified), so none are made.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::{info, warn};
use url::Url;

use super::intake::Intake;
use super::status::Counts;
use super::{Item, Source, SourceError};
use crate::article::{Article, ArticleId};
use crate::client::{Answer, Fetched, Get, HttpClient};
use crate::clock::Clock;
use crate::config::WordPressSite;
use crate::link::HttpUrl;
use crate::sanitize::plain_text;

/// Posts per page: WordPress's maximum.
const PER_PAGE: usize = 100;
/// Only what the mapping reads (WordPress 5.4+; older ones embed everything).
const EMBED: &str = "author,wp:term,wp:featuredmedia";
/// What the sweep lists of each published post: its id, and what it carries (`Kind::field`).
const LISTED: &str = "id,author,categories,tags";
/// The sweep's minimal interval, per page of ids it read last time.
const SWEEP_PER_PAGE: Duration = Duration::from_secs(5);
/// `modified_after` is strictly after and has one-second resolution: reading from a second
/// before the mark sees a post saved in the same second as the last one read. What is read
/// twice is unchanged, and the store does not write it again.
const OVERLAP: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

pub(super) struct WordPressSource {
    source: Arc<Source>,
    /// The site's root, ending in `/`.
    root: Url,
    terms_refresh: Duration,
    client: HttpClient,
    intake: Intake,
    /// The time that says when the terms and users are due to be read again.
    clock: Clock,
    /// The site answers at `?rest_route=` only (pretty permalinks off).
    query_routes: bool,
    /// Published posts read but not stored (no section, invalid), with their modified time:
    /// the sweep does not fetch them again, and the re-read of the mark's second does not
    /// log them again. A change to one comes through `modified_after`.
    passed: HashMap<u64, Option<DateTime<FixedOffset>>>,
    /// Monotonic time, not the `Clock`: it paces the sweep's cost, it is no hour of the day.
    next_sweep: Option<Instant>,
    /// The last poll came before the sweep was due and left it out (see `owed_sweep`).
    sweep_owed: bool,
    /// When the terms and users are read again; `None`: at the next poll.
    next_refresh: Option<DateTime<Utc>>,
    /// The labels of the terms and users the posts carry, as last seen; loaded from the
    /// store at the first poll.
    labels: Option<Labels>,
    /// The site took the credentials (see `check_credentials`).
    credentials_checked: bool,
}

impl WordPressSource {
    pub fn new(
        source: Arc<Source>,
        site: WordPressSite,
        client: HttpClient,
        intake: Intake,
        clock: Clock,
    ) -> WordPressSource {
        WordPressSource {
            source,
            root: site.root.as_url().clone(),
            terms_refresh: site.terms_refresh,
            client,
            intake,
            clock,
            query_routes: false,
            passed: HashMap::new(),
            next_sweep: None,
            sweep_owed: false,
            next_refresh: None,
            labels: None,
            credentials_checked: false,
        }
    }

    /// Reads what changed, then sweeps when due, and reads the terms and users again when
    /// that is due. Returns when it read them, if it did.
    pub async fn poll(
        &mut self,
        counts: &mut Counts,
    ) -> Result<Option<DateTime<Utc>>, SourceError> {
        // Owed only by a poll that got as far as leaving the sweep out: a failing one is
        // tried again on the schedule, not at once.
        self.sweep_owed = false;
        self.check_credentials().await?;
        if self.labels.is_none() {
            self.labels = Some(self.saved_labels().await?);
        }
        self.changes(counts).await?;
        let now = self.clock.now();
        let refresh = self.next_refresh.is_none_or(|at| now >= at);
        self.sweep_owed = !refresh && self.next_sweep.is_some_and(|at| Instant::now() < at);
        if self.sweep_owed {
            return Ok(None);
        }
        let (pages, published) = self.sweep(counts).await?;
        self.next_sweep = Some(Instant::now() + SWEEP_PER_PAGE * pages.max(1) as u32);
        if !refresh {
            return Ok(None);
        }
        self.refresh(&published, counts).await?;
        self.next_refresh = Some(now + self.terms_refresh);
        Ok(Some(now))
    }

    /// When the sweep the last poll left out is due: a poll asked for out of schedule (a
    /// post trashed, or published by WP-Cron, which only the sweep notices) must not wait
    /// for the next scheduled one to be swept.
    pub fn owed_sweep(&self) -> Option<Instant> {
        self.next_sweep.filter(|_| self.sweep_owed)
    }

    /// Every published post modified since the high-water mark, a page at a time, the mark
    /// saved after each page.
    async fn changes(&mut self, counts: &mut Counts) -> Result<(), SourceError> {
        let mut state = self.intake.state().await?;
        let mut mark = state
            .high_water
            .as_deref()
            .and_then(|mark| DateTime::parse_from_rfc3339(mark).ok());
        let mut page = 1;
        loop {
            let mut query = vec![
                ("_embed", EMBED.to_owned()),
                ("status", "publish".to_owned()),
                ("orderby", "modified".to_owned()),
                ("order", "asc".to_owned()),
                ("per_page", PER_PAGE.to_string()),
                ("page", page.to_string()),
            ];
            if let Some(mark) = mark {
                let since = (mark.to_utc() - OVERLAP).format("%Y-%m-%dT%H:%M:%SZ");
                query.push(("modified_after", since.to_string()));
            }
            let (pages, posts) = self.posts(&query).await?;
            let before = mark;
            let mut items = Vec::with_capacity(posts.len());
            for mapped in self.map(posts).await? {
                if mapped.modified > mark {
                    mark = mapped.modified;
                }
                if let Some(item) = self.remember(mapped) {
                    items.push(item);
                }
            }
            self.intake.land(items, counts).await?;
            // After each page: a failure later resumes from here.
            state.high_water =
                mark.map(|mark| mark.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            self.intake.save_state(state.clone()).await?;
            if page >= pages {
                return Ok(());
            }
            // Reading on from the new mark rather than at the next page: a post edited
            // meanwhile moves to the end of the list and would shift one unread post onto
            // a page already read. The same mark again (a page of posts all saved in one
            // second) reads the next page instead.
            page = if mark > before { 1 } else { page + 1 };
        }
    }

    /// Retracts stored posts that are no longer published and fetches published ones the
    /// store lacks. Returns how many pages of ids it read, and the published posts with
    /// what each carries.
    async fn sweep(&mut self, counts: &mut Counts) -> Result<(usize, Published), SourceError> {
        let mut published = Published::new();
        let mut page = 1;
        let pages = loop {
            let query = [
                ("_fields", LISTED.to_owned()),
                ("status", "publish".to_owned()),
                ("orderby", "id".to_owned()),
                ("order", "asc".to_owned()),
                ("per_page", PER_PAGE.to_string()),
                ("page", page.to_string()),
            ];
            let (pages, posts) = self.posts(&query).await?;
            published.extend(posts.iter().filter_map(listed));
            if page >= pages {
                break pages;
            }
            page += 1;
        };
        // A post deleted while the pages were read shifts a later one onto a page already
        // read: the stored posts missing from the list are asked about once more, by id.
        let prefix = id_prefix(&self.source);
        let unlisted: Vec<u64> = self
            .intake
            .stored_ids()
            .await?
            .iter()
            .filter_map(|id| id.strip_prefix(&prefix)?.parse().ok())
            .filter(|post| !published.contains_key(post))
            .collect();
        for chunk in unlisted.chunks(PER_PAGE) {
            let query = [
                ("_fields", LISTED.to_owned()),
                ("status", "publish".to_owned()),
                ("include", join(chunk)),
                ("per_page", PER_PAGE.to_string()),
            ];
            let (_, posts) = self.posts(&query).await?;
            published.extend(posts.iter().filter_map(listed));
        }
        let ids: BTreeSet<String> = published
            .keys()
            .map(|&post| self.article_id(post))
            .collect();
        self.intake.sweep(&ids, counts).await?;
        let stored = self.intake.stored_ids().await?;
        let missing: Vec<u64> = published
            .keys()
            .copied()
            .filter(|post| {
                !self.passed.contains_key(post) && !stored.contains(&self.article_id(*post))
            })
            .collect();
        if !missing.is_empty() {
            info!(source = %self.source.name, posts = missing.len(), "fetching published posts the store lacks");
        }
        self.fetch(&missing, counts).await?;
        Ok((pages, published))
    }

    /// Reads the labels of the terms and users the `published` posts carry, by id, and
    /// maps again the posts carrying one whose label changed since it was last seen. A
    /// term or user not seen before is only recorded, so the first refresh reads no post.
    async fn refresh(
        &mut self,
        published: &Published,
        counts: &mut Counts,
    ) -> Result<(), SourceError> {
        let mut carried: BTreeMap<Kind, BTreeSet<u64>> = BTreeMap::new();
        for &(kind, id) in published.values().flatten() {
            carried.entry(kind).or_default().insert(id);
        }
        let seen = self.labels.clone().unwrap_or_default();
        let mut current = Labels::default();
        for (kind, ids) in carried {
            let ids: Vec<u64> = ids.into_iter().collect();
            match self.read_labels(kind, &ids).await? {
                Some(listed) => {
                    for labelled in listed {
                        current.insert((kind, labelled.id), labelled.label());
                    }
                }
                // Not readable here: what was seen stays, to compare with once it is.
                None => {
                    for &id in &ids {
                        if let Some(label) = seen.get((kind, id)) {
                            current.insert((kind, id), label.clone());
                        }
                    }
                }
            }
        }
        let changed: BTreeSet<Ref> = current
            .iter()
            .filter(|(r, label)| seen.get(*r).is_some_and(|was| was != *label))
            .map(|(r, _)| r)
            .collect();
        let posts: Vec<u64> = published
            .iter()
            .filter(|(_, refs)| refs.iter().any(|r| changed.contains(r)))
            .map(|(&post, _)| post)
            .collect();
        if !changed.is_empty() {
            let renamed: Vec<String> = changed.iter().map(|(k, id)| format!("{k}/{id}")).collect();
            info!(source = %self.source.name, ?renamed, posts = posts.len(), "terms or users changed; mapping their posts again");
        }
        self.fetch(&posts, counts).await?;
        // What was read is what the posts carry now: a term or user no post carries any
        // more is forgotten.
        if self.labels.as_ref() != Some(&current) {
            let text = serde_json::to_string(&current).expect("labels serialize");
            self.intake.save_labels(text).await?;
        }
        self.labels = Some(current);
        Ok(())
    }

    /// The `kind` with `ids`, by id; `None` when the site does not let them be listed (many
    /// sites hide `/wp/v2/users` from visitors; WordPress lists only the authors of
    /// published posts to anyone without `list_users`).
    async fn read_labels(
        &mut self,
        kind: Kind,
        ids: &[u64],
    ) -> Result<Option<Vec<Labelled>>, SourceError> {
        let mut all = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(PER_PAGE) {
            let query = [
                ("_fields", "id,name,slug".to_owned()),
                ("include", join(chunk)),
                ("per_page", PER_PAGE.to_string()),
            ];
            let answer = match self.api(kind.route(), &query).await {
                Ok(answer) => answer,
                Err(SourceError::Fetch(e))
                    if matches!(
                        e.status(),
                        Some(
                            http::StatusCode::UNAUTHORIZED
                                | http::StatusCode::FORBIDDEN
                                | http::StatusCode::NOT_FOUND
                        )
                    ) =>
                {
                    warn!(source = %self.source.name, error = %e, "the site does not list its {kind}; renamed {kind} reach the feeds only with an edit of the post");
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let listed: Vec<Labelled> = serde_json::from_slice(&answer.body).map_err(|e| {
                SourceError::Read(format!("{}: not a JSON array of {kind}: {e}", answer.url))
            })?;
            all.extend(listed);
        }
        Ok(Some(all))
    }

    /// The labels saved by an earlier run; none when there are none, or when they cannot
    /// be read (then every term and user is recorded afresh).
    async fn saved_labels(&self) -> Result<Labels, SourceError> {
        let Some(text) = self.intake.labels().await? else {
            return Ok(Labels::default());
        };
        Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
            warn!(source = %self.source.name, error = %e, "the saved labels of terms and users are unreadable; recording them afresh");
            Labels::default()
        }))
    }

    /// Reads `posts` (ids) with their embeds, maps and lands them.
    async fn fetch(&mut self, posts: &[u64], counts: &mut Counts) -> Result<(), SourceError> {
        for chunk in posts.chunks(PER_PAGE) {
            let query = [
                ("_embed", EMBED.to_owned()),
                ("status", "publish".to_owned()),
                ("include", join(chunk)),
                ("per_page", PER_PAGE.to_string()),
            ];
            let (_, posts) = self.posts(&query).await?;
            let mut items = Vec::with_capacity(posts.len());
            for mapped in self.map(posts).await? {
                items.extend(self.remember(mapped));
            }
            self.intake.land(items, counts).await?;
        }
        Ok(())
    }

    /// Records the labels a mapped post carries that were not seen yet, and which posts
    /// were not stored; the item to land, unless it is one of those as it was already.
    fn remember(&mut self, mapped: Mapped) -> Option<Item> {
        // A label seen before keeps its old value: the refresh compares with it, so the
        // other posts carrying a renamed term are mapped again even when this one shows
        // the new name first.
        let seen = self.labels.get_or_insert_default();
        for (r, label) in mapped.carried {
            seen.record(r, label);
        }
        let Some(post) = mapped.post else {
            return Some(mapped.item);
        };
        if matches!(mapped.item, Item::Article(_)) {
            self.passed.remove(&post);
        } else if self.passed.insert(post, mapped.modified) == Some(mapped.modified) {
            return None;
        }
        Some(mapped.item)
    }

    /// Maps a page of posts off the async threads: HTML is parsed for every title.
    async fn map(&self, posts: Vec<Value>) -> Result<Vec<Mapped>, SourceError> {
        let source = self.source.clone();
        Ok(tokio::task::spawn_blocking(move || {
            posts
                .into_iter()
                .map(|post| map_post(&source, post))
                .collect()
        })
        .await?)
    }

    fn article_id(&self, post: u64) -> String {
        article_id(&self.source, post)
    }

    /// One page of `/wp/v2/posts`: the number of pages (`X-WP-TotalPages`) and the posts.
    async fn posts(
        &mut self,
        query: &[(&str, String)],
    ) -> Result<(usize, Vec<Value>), SourceError> {
        let answer = self.api(POSTS, query).await?;
        let pages = answer
            .headers
            .get("x-wp-totalpages")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1);
        let posts = tokio::task::spawn_blocking(move || {
            serde_json::from_slice(&answer.body).map_err(|e| {
                SourceError::Read(format!("{}: not a JSON array of posts: {e}", answer.url))
            })
        })
        .await??;
        Ok((pages, posts))
    }

    /// Once per start, that the site takes the source's credentials. WordPress answers a
    /// request with a wrong application password as if it had none (the public posts), so
    /// without this a mistyped password would go unnoticed; `users/me` says 401.
    async fn check_credentials(&mut self) -> Result<(), SourceError> {
        let Some(credentials) = &self.source.credentials else {
            return Ok(());
        };
        if self.credentials_checked {
            return Ok(());
        }
        let (user, password) = (
            credentials.username_env.clone(),
            credentials.password_env.clone(),
        );
        match self.api(ME, &[("_fields", "id".to_owned())]).await {
            Ok(_) => {
                self.credentials_checked = true;
                Ok(())
            }
            Err(SourceError::Fetch(e))
                if matches!(
                    e.status(),
                    Some(http::StatusCode::UNAUTHORIZED | http::StatusCode::FORBIDDEN)
                ) =>
            {
                Err(SourceError::Credentials(format!(
                    "the site does not accept the user and application password in {user} and \
                     {password}: {e}"
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// GETs `route` of the REST API, switching to `?rest_route=` for good when the site
    /// has no `/wp-json/` (pretty permalinks off).
    async fn api(
        &mut self,
        route: &str,
        query: &[(&str, String)],
    ) -> Result<Box<Answer>, SourceError> {
        let auth = self.source.authorization()?;
        let get = |url| Get {
            url,
            auth: auth.as_ref(),
            validators: None,
            accept: "application/json",
        };
        let url = endpoint(&self.root, self.query_routes, route, query);
        let fetched = match self.client.get(&get(url)).await {
            Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) && !self.query_routes => {
                let url = endpoint(&self.root, true, route, query);
                let fetched = self.client.get(&get(url)).await?;
                self.query_routes = true;
                info!(source = %self.source.name, "no /wp-json/ route on the site; using ?rest_route=");
                fetched
            }
            other => other?,
        };
        match fetched {
            Fetched::Body(answer) => Ok(answer),
            Fetched::NotModified => Err(SourceError::Read(
                "answered 304 to an unconditional request".into(),
            )),
        }
    }
}

/// The REST routes read.
const POSTS: &str = "/wp/v2/posts";
const ME: &str = "/wp/v2/users/me";

/// The URL of `route` with `query`, below `root` or (`query_routes`) by `?rest_route=`.
fn endpoint(root: &Url, query_routes: bool, route: &str, query: &[(&str, String)]) -> Url {
    let mut url = if query_routes {
        let mut url = root.clone();
        url.query_pairs_mut().append_pair("rest_route", route);
        url
    } else {
        root.join(&format!("wp-json{route}"))
            .expect("a path joins to an http URL")
    };
    url.query_pairs_mut()
        .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    url
}

/// Post ids as `include` takes them.
fn join(posts: &[u64]) -> String {
    posts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// What the ids of a source's articles start with.
fn id_prefix(source: &Source) -> String {
    format!("wp-{}-", source.name)
}

fn article_id(source: &Source, post: u64) -> String {
    format!("{}{post}", id_prefix(source))
}

/// What a post carries that has a name of its own on the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Tags,
    Categories,
    Users,
}

impl Kind {
    /// The REST route listing them.
    fn route(self) -> &'static str {
        match self {
            Kind::Tags => "/wp/v2/tags",
            Kind::Categories => "/wp/v2/categories",
            Kind::Users => "/wp/v2/users",
        }
    }

    /// The field of a post holding the ids of those it carries.
    fn field(self) -> &'static str {
        match self {
            Kind::Tags => "tags",
            Kind::Categories => "categories",
            Kind::Users => "author",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Tags => "tags",
            Kind::Categories => "categories",
            Kind::Users => "users",
        })
    }
}

/// A tag, category or user, by id.
type Ref = (Kind, u64);

/// Each published post by id, with what it carries.
type Published = BTreeMap<u64, Vec<Ref>>;

/// What the mapping reads of a term or a user: a tag's and an author's name, a category's
/// slug (which picks the section) and an author's (in the link to their page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Label {
    name: String,
    slug: String,
}

/// Labels by kind and id; saved in the store as this JSON.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct Labels(BTreeMap<Kind, BTreeMap<u64, Label>>);

impl Labels {
    fn get(&self, (kind, id): Ref) -> Option<&Label> {
        self.0.get(&kind)?.get(&id)
    }

    fn insert(&mut self, (kind, id): Ref, label: Label) {
        self.0.entry(kind).or_default().insert(id, label);
    }

    /// Keeps `label` unless one is known already.
    fn record(&mut self, (kind, id): Ref, label: Label) {
        self.0.entry(kind).or_default().entry(id).or_insert(label);
    }

    fn iter(&self) -> impl Iterator<Item = (Ref, &Label)> {
        self.0
            .iter()
            .flat_map(|(&kind, ids)| ids.iter().map(move |(&id, label)| ((kind, id), label)))
    }
}

/// A term or a user as the REST API lists it, and as `_embed` embeds it.
#[derive(Deserialize)]
struct Labelled {
    id: u64,
    name: String,
    slug: String,
    /// Terms only: `category`, `post_tag`, or another taxonomy.
    #[serde(default)]
    taxonomy: Option<String>,
    /// Users only: their page on the site.
    #[serde(default)]
    link: Option<String>,
}

impl Labelled {
    fn label(&self) -> Label {
        Label {
            name: self.name.clone(),
            slug: self.slug.clone(),
        }
    }
}

/// A post of the sweep's list (`LISTED`): its id, and what it carries.
fn listed(post: &Value) -> Option<(u64, Vec<Ref>)> {
    let id = post.get("id")?.as_u64()?;
    let mut refs = Vec::new();
    for kind in [Kind::Tags, Kind::Categories, Kind::Users] {
        match post.get(kind.field()) {
            Some(Value::Array(ids)) => {
                refs.extend(ids.iter().filter_map(Value::as_u64).map(|i| (kind, i)));
            }
            Some(one) => refs.extend(one.as_u64().map(|i| (kind, i))),
            None => {}
        }
    }
    Some((id, refs))
}

/// A post, sorted out.
#[derive(Debug)]
pub(super) struct Mapped {
    /// The post's id, when it could be read.
    pub post: Option<u64>,
    pub modified: Option<DateTime<FixedOffset>>,
    pub item: Item,
    /// The tags, categories and authors it was mapped with.
    carried: Vec<(Ref, Label)>,
}

/// The fields of a post the mapping reads; the rest is ignored.
#[derive(Deserialize)]
struct Post {
    id: u64,
    #[serde(default)]
    status: Option<String>,
    link: String,
    title: Rendered,
    #[serde(default)]
    excerpt: Option<Rendered>,
    #[serde(default)]
    content: Option<Rendered>,
    #[serde(default)]
    date_gmt: Option<String>,
    #[serde(default)]
    modified_gmt: Option<String>,
    #[serde(default, rename = "_embedded")]
    embedded: Embedded,
}

#[derive(Deserialize, Default)]
struct Rendered {
    #[serde(default)]
    rendered: String,
    #[serde(default)]
    protected: bool,
}

/// What `_embed` brought. Entries stay loose: an embed the user may not see is an error
/// object (`{"code": "rest_forbidden", ...}`) in place of the thing, and is left out.
#[derive(Deserialize, Default)]
struct Embedded {
    #[serde(default)]
    author: Vec<Value>,
    #[serde(default, rename = "wp:featuredmedia")]
    featured_media: Vec<Value>,
    #[serde(default, rename = "wp:term")]
    terms: Vec<Value>,
}

impl Embedded {
    /// The categories and tags, as `(kind, term)`; other taxonomies are left out.
    fn terms(&self) -> impl Iterator<Item = (Kind, Labelled)> + '_ {
        self.terms
            .iter()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|t| Labelled::deserialize(t).ok())
            .filter_map(|t| match t.taxonomy.as_deref() {
                Some("category") => Some((Kind::Categories, t)),
                Some("post_tag") => Some((Kind::Tags, t)),
                _ => None,
            })
    }

    fn authors(&self) -> impl Iterator<Item = Labelled> + '_ {
        self.author
            .iter()
            .filter_map(|a| Labelled::deserialize(a).ok())
    }

    /// What the post carries, with the labels it was mapped with.
    fn carried(&self) -> Vec<(Ref, Label)> {
        let users = self.authors().map(|user| (Kind::Users, user));
        self.terms()
            .chain(users)
            .map(|(kind, l)| ((kind, l.id), l.label()))
            .collect()
    }
}

#[derive(Deserialize)]
struct Attachment {
    source_url: String,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    alt_text: Option<String>,
    #[serde(default)]
    caption: Option<Rendered>,
    /// An object for images, but PHP writes an empty one as `[]`: read loosely.
    #[serde(default)]
    media_details: Value,
}

/// A post of `source` as an article, or why it is not one.
pub(super) fn map_post(source: &Source, value: Value) -> Mapped {
    let post_id = value.get("id").and_then(Value::as_u64);
    let modified = value
        .get("modified_gmt")
        .and_then(Value::as_str)
        .and_then(gmt);
    let (item, carried) = match serde_json::from_value::<Post>(value) {
        Ok(post) => {
            let carried = post.embedded.carried();
            (post_item(source, post), carried)
        }
        Err(e) => {
            let bad = Item::Bad {
                id: post_id.and_then(|p| ArticleId::parse(&article_id(source, p)).ok()),
                label: post_id.map_or_else(|| "a post".to_owned(), |p| format!("post {p}")),
                reason: format!("not a WordPress post: {e}"),
            };
            (bad, Vec::new())
        }
    };
    Mapped {
        post: post_id,
        modified,
        item,
        carried,
    }
}

fn post_item(source: &Source, post: Post) -> Item {
    let id = ArticleId::parse(&article_id(source, post.id))
        .expect("a source name and a number make a valid id");
    let label = format!("post {}", post.id);
    let withdrawn = |reason: String| Item::Withdrawn {
        id: id.clone(),
        label: label.clone(),
        reason,
    };
    if let Some(status) = post.status.as_deref().filter(|s| *s != "publish") {
        return withdrawn(format!("its status is {status:?}"));
    }
    let content = post.content.unwrap_or_default();
    if content.protected {
        return withdrawn("it is password-protected".into());
    }
    let terms: Vec<(Kind, Labelled)> = post.embedded.terms().collect();
    let categories = terms.iter().filter(|(kind, _)| *kind == Kind::Categories);
    let sections = match source.sections(categories.map(|(_, t)| t.slug.as_str())) {
        Ok(sections) => sections,
        Err(reason) => return withdrawn(reason),
    };
    let tags: Vec<String> = terms
        .iter()
        .filter(|(kind, _)| *kind == Kind::Tags)
        .map(|(_, t)| plain_text(&t.name))
        .collect();
    let authors: Vec<Value> = post
        .embedded
        .authors()
        .map(|user| {
            let mut author = json!({ "name": plain_text(&user.name) });
            if let Some(link) = user.link.filter(|l| HttpUrl::parse(l).is_ok()) {
                author["url"] = Value::String(link);
            }
            author
        })
        .collect();
    let published = post.date_gmt.as_deref().and_then(gmt);
    let modified = post.modified_gmt.as_deref().and_then(gmt);
    let Some(published) = published else {
        return Item::Bad {
            id: Some(id),
            label,
            reason: "date_gmt: missing or not a date".into(),
        };
    };
    // A post back-dated after its last edit has a modified time before its date.
    let updated = modified.filter(|m| *m > published).unwrap_or(published);
    let excerpt = post
        .excerpt
        .filter(|e| !e.protected && !e.rendered.trim().is_empty())
        .map(|e| e.rendered.trim().to_owned());
    let mut doc = json!({
        "id": id.as_str(),
        "url": post.link,
        "title": plain_text(&post.title.rendered),
        "sections": sections,
        "status": "published",
        "published_at": published.to_rfc3339(),
        "updated_at": updated.to_rfc3339(),
        "authors": authors,
        "tags": tags,
        "body_html": content.rendered,
    });
    if let Some(excerpt) = excerpt {
        doc["summary"] = Value::String(excerpt);
    }
    if let Some(image) = post.embedded.featured_media.first().and_then(lead_image) {
        doc["image"] = image;
    }
    match Article::from_value(doc) {
        Ok(accepted) => Item::Article(Box::new(Intake::accepted(source, &label, accepted))),
        Err(e) => Item::Bad {
            id: Some(id),
            label,
            reason: e.to_string(),
        },
    }
}

/// The featured media as the article's lead image, if it is an image.
fn lead_image(value: &Value) -> Option<Value> {
    let media = Attachment::deserialize(value).ok()?;
    if media.media_type.as_deref().is_some_and(|t| t != "image") {
        return None;
    }
    let details = &media.media_details;
    let number = |field: &str| details.get(field).and_then(Value::as_u64);
    let caption = media
        .caption
        .map(|c| plain_text(&c.rendered))
        .filter(|c| !c.is_empty())
        .or(media.alt_text.filter(|a| !a.trim().is_empty()));
    let credit = details
        .pointer("/image_meta/credit")
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty());
    let mut image = json!({ "url": media.source_url });
    let fields = [
        ("type", media.mime_type.map(Value::from)),
        ("width", number("width").map(Value::from)),
        ("height", number("height").map(Value::from)),
        ("length", number("filesize").map(Value::from)),
        ("caption", caption.map(Value::from)),
        ("credit", credit.map(Value::from)),
    ];
    for (field, value) in fields {
        if let Some(value) = value {
            image[field] = value;
        }
    }
    Some(image)
}

/// A WordPress GMT time (`2026-11-30T17:39:44`, no offset).
fn gmt(text: &str) -> Option<DateTime<FixedOffset>> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc().fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/wordpress/");

    fn recorded(name: &str) -> Vec<Value> {
        let text = std::fs::read_to_string(format!("{DATA}{name}.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn source(categories: &str) -> Source {
        crate::config::parse_toml(
            std::path::Path::new("site.toml"),
            &format!(
            "name = \"newsroom\"\nkind = \"wordpress\"\nurl = \"http://127.0.0.1:8081/\"\n{categories}"
        ))
        .unwrap()
    }

    fn mapped(source: &Source, file: &str, post: u64) -> Mapped {
        let value = recorded(file)
            .into_iter()
            .find(|p| p["id"] == post)
            .unwrap();
        map_post(source, value)
    }

    fn article(source: &Source, file: &str, post: u64) -> Article {
        match mapped(source, file, post).item {
            Item::Article(article) => *article,
            other => panic!("post {post}: {other:?}"),
        }
    }

    #[test]
    fn a_post_with_its_embeds() {
        let source = source("[categories]\nworld = \"world\"\nbusiness = \"business\"");
        let m = mapped(&source, "posts-embed-page1", 11);
        assert_eq!(m.post, Some(11));
        assert_eq!(
            m.modified.unwrap().to_rfc3339(),
            "2026-11-30T17:39:44+00:00"
        );
        let Item::Article(a) = m.item else {
            panic!("{:?}", m.item)
        };
        assert_eq!(a.id.as_str(), "wp-newsroom-11");
        assert_eq!(
            a.url.as_str(),
            "http://127.0.0.1:53075/2026/11/election-night-a-record-turnout/"
        );
        assert_eq!(a.title, "Election night: a record turnout");
        assert_eq!(
            a.sections.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["world"]
        );
        assert_eq!(a.tags, ["Elections"]);
        assert_eq!(a.authors[0].name, "Ada Lovelace");
        assert_eq!(
            a.authors[0].url.as_ref().unwrap().as_str(),
            "http://127.0.0.1:53075/author/ada/"
        );
        assert_eq!(
            a.published_at.unwrap().to_rfc3339(),
            "2026-11-30T17:39:44+00:00"
        );
        assert!(a.summary.as_deref().unwrap().starts_with("<p>Polls closed"));
        let body = a.body_html.as_deref().unwrap();
        assert!(
            body.contains("https://www.youtube.com/embed/M7lc1UVf-VE"),
            "{body}"
        );
        let image = a.image.unwrap();
        assert_eq!(
            image.url.as_str(),
            "http://127.0.0.1:53075/wp-content/uploads/2026/11/lead.png"
        );
        assert_eq!(image.mime.as_deref(), Some("image/png"));
        assert_eq!(
            (image.width, image.height, image.length),
            (Some(640), Some(360), Some(1229))
        );
        assert_eq!(image.caption.as_deref(), Some("Lead image caption"));
        assert_eq!(image.credit, None);
    }

    #[test]
    fn the_youtube_embeds_become_media() {
        let source = source("");
        for (file, post) in [("posts-embed-page1", 11), ("posts-embed-page2", 9)] {
            let item = crate::item::FeedItem::prepare(&article(&source, file, post)).unwrap();
            let media = serde_json::to_string(&item).unwrap();
            assert!(media.contains("M7lc1UVf-VE"), "post {post}: {media}");
        }
    }

    #[test]
    fn titles_and_terms_are_text() {
        let source = source("");
        let a = article(&source, "posts-embed-page1", 10);
        assert_eq!(a.title, "Central banks – the “soft landing” & what’s next");
        assert_eq!(a.sections[0].as_str(), "business");
        let mut tags = a.tags.clone();
        tags.sort();
        assert_eq!(tags, ["Markets", "Rates"]);
        assert!(a.image.is_some());
        let edited = article(&source, "posts-modified-after", 10);
        assert_eq!(edited.title, "Central banks hold – markets rally");
        assert!(edited.updated_at > edited.published_at);
    }

    #[test]
    fn categories_pick_the_sections_or_withdraw_the_post() {
        let plain = source("");
        let both = article(&plain, "posts-embed-page2", 9);
        let mut sections: Vec<&str> = both.sections.iter().map(|s| s.as_str()).collect();
        sections.sort();
        assert_eq!(sections, ["business", "world"]);
        assert!(both.image.is_none(), "no featured media");
        // Without a table, WordPress's default category is a section slug like any other.
        assert_eq!(
            article(&plain, "posts-embed-page2", 8).sections[0].as_str(),
            "uncategorized"
        );
        let table = source("[categories]\nworld = \"international\"");
        assert_eq!(
            article(&table, "posts-embed-page2", 9).sections[0].as_str(),
            "international"
        );
        match mapped(&table, "posts-embed-page2", 8).item {
            Item::Withdrawn { id, reason, .. } => {
                assert_eq!(id.as_str(), "wp-newsroom-8");
                assert!(reason.contains("uncategorized"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_trashed_post_is_withdrawn_and_junk_is_bad() {
        let source = source("");
        let text =
            std::fs::read_to_string(format!("{DATA}trashed-get-authenticated.json")).unwrap();
        let trashed: Value = serde_json::from_str(&text).unwrap();
        assert!(matches!(
            map_post(&source, trashed).item,
            Item::Withdrawn { reason, .. } if reason.contains("trash")
        ));
        let junk = map_post(&source, json!({"id": 3, "title": 4}));
        assert!(matches!(
            junk.item,
            Item::Bad { id: Some(id), .. } if id.as_str() == "wp-newsroom-3"
        ));
        assert!(matches!(
            map_post(&source, json!([])).item,
            Item::Bad { id: None, .. }
        ));
    }

    fn label(name: &str, slug: &str) -> Label {
        Label {
            name: name.into(),
            slug: slug.into(),
        }
    }

    #[test]
    fn a_mapped_post_carries_its_terms_and_author_with_their_labels() {
        let source = source("");
        let mut carried = mapped(&source, "posts-embed-page1", 10).carried;
        carried.sort_by_key(|(r, _)| *r);
        assert_eq!(
            carried,
            [
                ((Kind::Tags, 5), label("Rates", "rates")),
                ((Kind::Tags, 6), label("Markets", "markets")),
                ((Kind::Categories, 3), label("Business", "business")),
                ((Kind::Users, 3), label("Ada Lovelace", "ada")),
            ]
        );
        assert!(map_post(&source, json!({"id": 3})).carried.is_empty());
    }

    #[test]
    fn the_sweeps_list_says_what_each_post_carries() {
        let post = json!({"id": 9, "author": 3, "categories": [2, 3], "tags": [7]});
        assert_eq!(
            listed(&post),
            Some((
                9,
                vec![
                    (Kind::Tags, 7),
                    (Kind::Categories, 2),
                    (Kind::Categories, 3),
                    (Kind::Users, 3)
                ]
            ))
        );
        assert_eq!(listed(&json!({"id": 1})), Some((1, Vec::new())));
        assert_eq!(listed(&json!({"author": 1})), None);
    }

    #[test]
    fn labels_keep_the_first_seen_and_round_trip_through_json() {
        let mut labels = Labels::default();
        labels.record((Kind::Tags, 4), label("Tennis", "tennis"));
        // Mapped later with the new name: the old one stays, for the refresh to compare.
        labels.record((Kind::Tags, 4), label("Tennis and Padel", "tennis"));
        labels.insert((Kind::Users, 3), label("Ada Lovelace", "ada"));
        assert_eq!(labels.get((Kind::Tags, 4)).unwrap().name, "Tennis");
        let text = serde_json::to_string(&labels).unwrap();
        assert_eq!(
            text,
            r#"{"tags":{"4":{"name":"Tennis","slug":"tennis"}},"users":{"3":{"name":"Ada Lovelace","slug":"ada"}}}"#
        );
        assert_eq!(serde_json::from_str::<Labels>(&text).unwrap(), labels);
        assert_eq!(labels.iter().count(), 2);
    }

    #[test]
    fn endpoints_with_and_without_pretty_permalinks() {
        let root = Url::parse("http://127.0.0.1:8081/blog/").unwrap();
        let query = [("page", "2".to_owned())];
        assert_eq!(
            endpoint(&root, false, POSTS, &query).as_str(),
            "http://127.0.0.1:8081/blog/wp-json/wp/v2/posts?page=2"
        );
        assert_eq!(
            endpoint(&root, true, POSTS, &query).as_str(),
            "http://127.0.0.1:8081/blog/?rest_route=%2Fwp%2Fv2%2Fposts&page=2"
        );
    }
}
