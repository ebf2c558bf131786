//! The site's sections as the store keeps them: each section file's TOML text, byte for
//! byte, with its hash, and the sections version every write bumps so that another process
//! (a replica, `pressfeed sections import`) notices a change with one cheap read. What the
//! text means is `config`'s business: callers validate before writing and parse what they
//! read; the store only keeps it.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::digest::content_hash;
use crate::slug::Slug;

/// One stored section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSection {
    /// Its slug, the name of its file.
    pub slug: Slug,
    /// The section file's text, exactly as imported or written.
    pub text: String,
    /// `content_hash` of `text`: what the admin API's ETag names.
    pub hash: String,
    /// The hash of the text last synced with files (seeded, imported or exported); `None`
    /// for a section only the admin API ever wrote. Unlike `hash`, it says whether the
    /// section was edited in the store since: `sections import` will not overwrite such an
    /// edit unless forced.
    pub synced: Option<String>,
    /// When the text was last written, in Unix seconds.
    pub changed: i64,
}

impl StoredSection {
    /// Whether the section was edited in the store since it was last synced with files.
    pub fn edited_since_sync(&self) -> bool {
        self.synced.as_deref() != Some(self.hash.as_str())
    }
}

/// What a section write expects to find in the store, checked inside its transaction: the
/// compare of a compare-and-set, so that two processes (or replicas) writing at once
/// cannot overwrite each other unseen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// No section of that slug.
    Absent,
    /// A section whose text has this hash.
    Hash(String),
}

/// One change to the stored sections.
#[derive(Debug, Clone)]
pub struct SectionWrite {
    pub(crate) slug: Slug,
    /// The new text and its hash; `None` removes the section.
    pub(crate) text: Option<(String, String)>,
    /// The text comes from a file (seed, import, export): it is the synced one from now on.
    /// Otherwise (the admin API) the synced hash stays what it was.
    pub(crate) synced: bool,
    pub(crate) expect: Option<Expect>,
}

impl SectionWrite {
    /// Stores `text` as section `slug`, written by the admin API.
    pub fn edit(slug: Slug, text: String, expect: Option<Expect>) -> SectionWrite {
        let hash = content_hash(text.as_bytes());
        SectionWrite {
            slug,
            text: Some((text, hash)),
            synced: false,
            expect,
        }
    }

    /// Stores `text` as section `slug`, read from a file: seeded, imported or exported.
    pub fn sync(slug: Slug, text: String, expect: Option<Expect>) -> SectionWrite {
        SectionWrite {
            synced: true,
            ..SectionWrite::edit(slug, text, expect)
        }
    }

    /// Whether the store as it is meets this write's expectation: `stored`, the hash of
    /// the stored text of its slug, if there is one.
    pub(super) fn expects(&self, stored: Option<&str>) -> bool {
        match &self.expect {
            None => true,
            Some(Expect::Absent) => stored.is_none(),
            Some(Expect::Hash(expected)) => stored == Some(expected.as_str()),
        }
    }

    /// Removes section `slug`.
    pub fn remove(slug: Slug, expect: Option<Expect>) -> SectionWrite {
        SectionWrite {
            slug,
            text: None,
            synced: false,
            expect,
        }
    }
}

impl Store {
    /// The sections version: bumped by every write of sections, by any process; 0 while
    /// the store never had sections (see `seed_sections`). One cheap read, for polling.
    pub fn sections_version(&self) -> Result<i64, StoreError> {
        self.call(|b| b.sections_version())
    }

    /// Every stored section, sorted by slug.
    pub fn sections(&self) -> Result<Vec<StoredSection>, StoreError> {
        self.call(|b| b.sections())
    }

    /// The stored section `slug`, if any.
    pub fn section(&self, slug: &Slug) -> Result<Option<StoredSection>, StoreError> {
        self.call(|b| b.section(slug))
    }

    /// Applies `writes` in one transaction stamped `now`, all or none, when every one's
    /// expectation holds; else `StoreError::SectionsChanged` naming the sections that did
    /// not meet them, and nothing is written. Returns the new sections version.
    pub fn write_sections(
        &self,
        writes: &[SectionWrite],
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.call(|b| b.write_sections(writes, None, now.timestamp()))
    }

    /// Stores `sections` (slug and file text) as the first sections of a store that never
    /// had any, and remembers that it has: from then on the store's sections are the
    /// truth, even when every one is removed. True if this call seeded; false if the store
    /// had been seeded already (by another process too).
    pub fn seed_sections(
        &self,
        sections: Vec<(Slug, String)>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let writes: Vec<_> = sections
            .into_iter()
            .map(|(slug, text)| SectionWrite::sync(slug, text, None))
            .collect();
        match self.call(|b| b.write_sections(&writes, Some(0), now.timestamp())) {
            Ok(_) => Ok(true),
            Err(StoreError::SectionsChanged(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
