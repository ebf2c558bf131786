//! The sections in force are the store's. This file moves them between section files and
//! the store: seeding a store that never had sections from `feeds/sections/*.toml`, reading
//! the stored texts back as sections, and `pressfeed sections export` and `import`.
//!
//! Import is meant for section files kept in git: the directory is the whole set of
//! sections. A file whose section is not stored is added, one whose text differs replaces
//! it, a stored section with no file is removed. Every file is validated first and nothing
//! is written if any is bad. A section edited in the store (by the admin API) since it was
//! last synced with files is neither replaced nor removed unless forced: export first,
//! commit, and import. Every change lands in one transaction whose compare-and-set
//! (`store::Expect`) also refuses a section edited between the check and the write.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::{self, Config, ConfigError, Section};
use crate::fsutil;
use crate::store::{Expect, SectionWrite, Store, StoreError, StoredSection};

/// Why sections could not be loaded, imported or exported.
#[derive(Debug, thiserror::Error)]
pub enum SectionsError {
    /// Section files (or `site.toml`, or a stored text) do not load: every problem, with
    /// file, line and field.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// These sections were edited in the store since they were last synced with files;
    /// an import without `force` leaves every section as it is.
    #[error(
        "edited in the store since the last import or export, so not overwritten: {}; \
         export them first, or import with --force to overwrite them",
        .0.join(", ")
    )]
    EditedInStore(Vec<String>),
    /// The store failed, or a section changed while the import was writing.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A section file could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The section a stored text describes; its problems are told as those of
/// `sections/<slug>.toml`, the file it came from or `sections export` writes.
pub(super) fn parse(row: &StoredSection) -> Result<Section, ConfigError> {
    let path = Path::new("sections").join(format!("{}.toml", row.slug));
    config::parse_section(&path, &row.text)
}

/// The configuration in force for the site in `dir`: its `site.toml` and the store's
/// sections, seeded from `dir/sections/*.toml` if the store never had sections (stamped
/// `now`). What every command that uses sections runs first.
pub fn load(dir: &Path, store: &Store, now: DateTime<Utc>) -> Result<Config, SectionsError> {
    let site = Config::load_site(dir)?;
    if store.sections_version()? == 0 {
        let files = config::read_section_files(&dir.join("sections"))?;
        let count = files.len();
        let seed = files
            .into_iter()
            .map(|file| (file.section.slug, file.text))
            .collect();
        if store.seed_sections(seed, now)? {
            tracing::info!(
                sections = count,
                "store seeded with the sections of {}",
                dir.join("sections").display()
            );
        }
    }
    let loaded = super::Loaded::new(dir, site, store.sections()?)?;
    Ok((*loaded.config).clone())
}

/// What an import did, by slug.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Sections that were not stored.
    pub added: Vec<String>,
    /// Sections whose stored text the file's replaced.
    pub changed: Vec<String>,
    /// Stored sections with no file, removed.
    pub removed: Vec<String>,
    /// Sections stored with the file's very text.
    pub unchanged: Vec<String>,
}

/// Makes the stored sections those of the `*.toml` files in `dir`, in one transaction
/// stamped `now` (see the file's doc for the rules). `force` overwrites and removes
/// sections edited in the store since they were last synced.
pub fn import(
    dir: &Path,
    store: &Store,
    force: bool,
    now: DateTime<Utc>,
) -> Result<ImportReport, SectionsError> {
    let files = config::read_section_files(dir)?;
    let mut stored: std::collections::BTreeMap<_, _> = store
        .sections()?
        .into_iter()
        .map(|s| (s.slug.clone(), s))
        .collect();
    let mut report = ImportReport::default();
    let mut edited = Vec::new();
    let mut writes = Vec::new();
    for file in files {
        let slug = file.section.slug;
        match stored.remove(&slug) {
            None => {
                report.added.push(slug.to_string());
                writes.push(SectionWrite::sync(slug, file.text, Some(Expect::Absent)));
            }
            Some(old) if old.text == file.text => {
                // The same text: nothing to replace, but from now on it counts as synced.
                if old.edited_since_sync() {
                    writes.push(SectionWrite::sync(
                        slug.clone(),
                        file.text,
                        Some(Expect::Hash(old.hash)),
                    ));
                }
                report.unchanged.push(slug.to_string());
            }
            Some(old) => {
                if old.edited_since_sync() {
                    edited.push(slug.to_string());
                }
                report.changed.push(slug.to_string());
                writes.push(SectionWrite::sync(
                    slug,
                    file.text,
                    Some(Expect::Hash(old.hash)),
                ));
            }
        }
    }
    for (slug, old) in stored {
        if old.edited_since_sync() {
            edited.push(slug.to_string());
        }
        report.removed.push(slug.to_string());
        writes.push(SectionWrite::remove(slug, Some(Expect::Hash(old.hash))));
    }
    if !edited.is_empty() && !force {
        edited.sort();
        return Err(SectionsError::EditedInStore(edited));
    }
    if !writes.is_empty() {
        store.write_sections(&writes, now)?;
    }
    Ok(report)
}

/// Writes every stored section to `dir/<slug>.toml` (creating `dir`), each file replaced
/// crash-safely, and marks what it wrote as synced (stamped `now`), so a later import of
/// those files is not refused. Other files in `dir` are left alone. Returns how many were
/// written.
pub fn export(dir: &Path, store: &Store, now: DateTime<Utc>) -> Result<usize, SectionsError> {
    let write_err = |path: &Path| {
        let path = path.to_owned();
        move |source| SectionsError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    let stored = store.sections()?;
    let mut synced = Vec::new();
    for section in &stored {
        let path = dir.join(format!("{}.toml", section.slug));
        fsutil::write_atomically(&path, section.text.as_bytes()).map_err(write_err(&path))?;
        if section.edited_since_sync() {
            synced.push(SectionWrite::sync(
                section.slug.clone(),
                section.text.clone(),
                Some(Expect::Hash(section.hash.clone())),
            ));
        }
    }
    if !synced.is_empty() {
        store.write_sections(&synced, now)?;
    }
    Ok(stored.len())
}
