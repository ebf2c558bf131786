//! Where a source's items enter the store: good articles are upserted (only those that
//! changed), bad items are skipped with a logged reason naming the source and the item,
//! withdrawn ones and those the source no longer has are retracted. The scheduler is told,
//! so the feeds follow as they do for pushed articles.

use std::collections::BTreeSet;

use tracing::{info, warn};

use super::status::Counts;
use super::{Item, Source, SourceError};
use crate::article::{Accepted, Article, ArticleId};
use crate::item::PreparedArticle;
use crate::schedule::Notifier;
use crate::store::{SourceState, Store};

/// A source's way into the store. Store calls run on blocking threads.
pub(super) struct Intake {
    name: String,
    store: Store,
    notifier: Notifier,
}

/// What a batch left in the store, for a sweep after it.
#[derive(Debug, Default)]
pub(super) struct Landed {
    /// Ids whose stored article stays: the good items, and the bad ones whose id is known.
    pub kept: BTreeSet<String>,
    /// A bad item's id could not be made out: a sweep now might retract its article.
    pub unknown_ids: bool,
}

impl Intake {
    pub fn new(name: &str, store: Store, notifier: Notifier) -> Intake {
        Intake {
            name: name.to_owned(),
            store,
            notifier,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The article of an item that passed validation; the optional fields left out of it
    /// are logged, as bad items are, for the people who keep the source.
    pub fn accepted(source: &Source, label: &str, accepted: Accepted) -> Article {
        for warning in &accepted.warnings {
            warn!(source = %source.name, item = %label, %warning, "field left out of an item");
        }
        accepted.article
    }

    /// Sorts an article of a JSON or directory source: its `sections` are the source's
    /// categories, mapped as the source says.
    pub fn route(source: &Source, mut article: Article, label: String) -> Item {
        match source.sections(article.sections.iter().map(|s| s.as_str())) {
            Ok(sections) => {
                article.sections = sections;
                Item::Article(Box::new(article))
            }
            Err(reason) => Item::Withdrawn {
                id: article.id,
                label,
                reason,
            },
        }
    }

    /// Stores what `items` hold and adds it up in `counts`.
    pub async fn land(&self, items: Vec<Item>, counts: &mut Counts) -> Result<Landed, SourceError> {
        let mut landed = Landed::default();
        let mut articles = Vec::new();
        let mut withdrawn = Vec::new();
        counts.seen += items.len() as u64;
        for item in items {
            match item {
                Item::Article(article) => {
                    landed.kept.insert(article.id.to_string());
                    articles.push(*article);
                }
                Item::Withdrawn { id, label, reason } => {
                    info!(source = %self.name, item = %label, id = %id, %reason, "item not for the feeds");
                    counts.skipped += 1;
                    withdrawn.push(id);
                }
                Item::Bad { id, label, reason } => {
                    warn!(source = %self.name, item = %label, id = id.as_ref().map(tracing::field::display), %reason, "bad item skipped");
                    counts.skipped += 1;
                    match id {
                        Some(id) => {
                            landed.kept.insert(id.to_string());
                        }
                        None => landed.unknown_ids = true,
                    }
                }
            }
        }
        // An id twice in one batch: the last one is the source's latest word.
        let mut seen = std::collections::HashSet::new();
        let mut unique: Vec<Article> = articles
            .into_iter()
            .rev()
            .filter(|a| seen.insert(a.id.clone()))
            .collect();
        unique.reverse();
        let good = unique.len() as u64;
        let written = self.upsert(unique).await?;
        counts.upserted += written as u64;
        counts.unchanged += good - written as u64;
        withdrawn.retain(|id| !landed.kept.contains(id.as_str()));
        if !withdrawn.is_empty() {
            // Only this source's own: an article of the same id pushed in is not its to retract.
            let mine = self.stored_ids().await?;
            withdrawn.retain(|id| mine.contains(id.as_str()));
        }
        counts.retracted += self.retract(withdrawn).await? as u64;
        Ok(landed)
    }

    /// Retracts this source's stored articles whose ids are not in `kept`: the source no
    /// longer has them.
    pub async fn sweep(
        &self,
        kept: &BTreeSet<String>,
        counts: &mut Counts,
    ) -> Result<(), SourceError> {
        let gone: Vec<ArticleId> = self
            .stored_ids()
            .await?
            .iter()
            .filter(|id| !kept.contains(*id))
            .filter_map(|id| ArticleId::parse(id).ok())
            .collect();
        if !gone.is_empty() {
            info!(source = %self.name, ids = ?gone.iter().map(ArticleId::as_str).collect::<Vec<_>>(), "the source no longer has these articles");
        }
        counts.retracted += self.retract(gone).await? as u64;
        Ok(())
    }

    /// Ids of the articles this source stored.
    pub async fn stored_ids(&self) -> Result<BTreeSet<String>, SourceError> {
        let (store, name) = (self.store.clone(), self.name.clone());
        Ok(tokio::task::spawn_blocking(move || store.source_ids(&name)).await??)
    }

    pub async fn state(&self) -> Result<SourceState, SourceError> {
        let (store, name) = (self.store.clone(), self.name.clone());
        Ok(tokio::task::spawn_blocking(move || store.source_state(&name)).await??)
    }

    pub async fn save_state(&self, state: SourceState) -> Result<(), SourceError> {
        let (store, name) = (self.store.clone(), self.name.clone());
        Ok(tokio::task::spawn_blocking(move || store.save_source_state(&name, &state)).await??)
    }

    /// What the source last saved of the labels its articles carry, as it wrote it.
    pub async fn labels(&self) -> Result<Option<String>, SourceError> {
        let (store, name) = (self.store.clone(), self.name.clone());
        Ok(tokio::task::spawn_blocking(move || store.source_labels(&name)).await??)
    }

    pub async fn save_labels(&self, labels: String) -> Result<(), SourceError> {
        let (store, name) = (self.store.clone(), self.name.clone());
        Ok(tokio::task::spawn_blocking(move || store.save_source_labels(&name, &labels)).await??)
    }

    async fn upsert(&self, articles: Vec<Article>) -> Result<usize, SourceError> {
        if articles.is_empty() {
            return Ok(0);
        }
        let (store, name) = (self.store.clone(), self.name.clone());
        let written = tokio::task::spawn_blocking(move || {
            // Preparing (sanitizing) is the slow part; it runs here, off the async threads.
            let prepared: Vec<PreparedArticle> =
                articles.into_iter().map(PreparedArticle::new).collect();
            store.upsert_from_source(&name, &prepared)
        })
        .await??;
        if written > 0 {
            self.notifier.articles_changed();
        }
        Ok(written)
    }

    async fn retract(&self, ids: Vec<ArticleId>) -> Result<usize, SourceError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let store = self.store.clone();
        let removed = tokio::task::spawn_blocking(move || store.retract_all(&ids)).await??;
        if removed > 0 {
            self.notifier.articles_changed();
        }
        Ok(removed)
    }
}
