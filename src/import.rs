//! NDJSON import: articles streamed line by line into the store in batched transactions.
//! A bad line is reported with its number and field and skipped; good lines are kept.

use std::io::BufRead;

use crate::article::{Article, ArticleError};
use crate::store::{Prepared, Store, StoreError};

/// Articles per transaction: big enough that commits don't dominate, small enough that
/// memory stays flat and a running server sees progress.
const BATCH: usize = 1000;

/// One line that was not imported.
#[derive(Debug)]
pub struct BadLine {
    /// 1-based.
    pub line: u64,
    pub error: ArticleError,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub stored: u64,
    pub bad: Vec<BadLine>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading line {line}: {source}")]
    Read { line: u64, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports every line of `input`; `on_bad` hears of each bad line as it is found.
pub fn ndjson(
    input: impl BufRead,
    store: &Store,
    on_bad: impl FnMut(&BadLine),
) -> Result<ImportReport, ImportError> {
    ndjson_with_progress(input, store, on_bad, |_| {})
}

/// `ndjson`, and `on_batch` hears how many good articles have been read so far each time
/// a batch is handed to the writer (every `BATCH` articles, and once at the end).
///
/// Two stages on two threads: this one reads, validates and prepares articles (sanitizing
/// is the expensive part), a writer thread stores the batches, so both cores work.
pub fn ndjson_with_progress(
    mut input: impl BufRead,
    store: &Store,
    mut on_bad: impl FnMut(&BadLine),
    mut on_batch: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    std::thread::scope(|scope| {
        // Two batches in flight at most: memory stays flat however big the file.
        let (batches, to_write) = std::sync::mpsc::sync_channel::<Vec<Prepared>>(2);
        let writer = scope.spawn(move || -> Result<u64, StoreError> {
            let mut stored = 0;
            for batch in to_write {
                store.upsert_prepared(&batch)?;
                stored += batch.len() as u64;
            }
            Ok(stored)
        });

        let mut batch = Vec::with_capacity(BATCH);
        let mut raw = Vec::new();
        let mut line = 0;
        let mut good = 0;
        let read = loop {
            raw.clear();
            line += 1;
            match input.read_until(b'\n', &mut raw) {
                Ok(0) => break Ok(()),
                Ok(_) => {}
                Err(source) => break Err(ImportError::Read { line, source }),
            }
            let parsed = match std::str::from_utf8(&raw) {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => Article::from_json(text.trim_end_matches(['\n', '\r'])),
                Err(e) => Err(ArticleError::Syntax(format!("not UTF-8 ({e})"))),
            };
            match parsed {
                Ok(article) => {
                    batch.push(Prepared::new(article));
                    good += 1;
                }
                Err(error) => {
                    let bad = BadLine { line, error };
                    on_bad(&bad);
                    report.bad.push(bad);
                }
            }
            if batch.len() == BATCH {
                // A send fails only when the writer stopped on an error, reported below.
                if batches.send(std::mem::take(&mut batch)).is_err() {
                    break Ok(());
                }
                on_batch(good);
            }
        };
        if !batch.is_empty() && batches.send(batch).is_ok() {
            on_batch(good);
        }
        drop(batches);
        report.stored = writer.join().expect("the import writer does not panic")?;
        read
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_lines_land_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let input = concat!(
            r#"{"id":"a","url":"https://x.example/a","title":"A","sections":["world"],"published_at":"2022-05-01T00:00:00Z"}"#,
            "\n\n",
            r#"{"id":"b","url":"nope","title":"B","sections":["world"],"published_at":"2022-05-01T00:00:00Z"}"#,
            "\n{broken\n",
            r#"{"id":"c","url":"https://x.example/c","title":"C","sections":["world"],"status":"draft"}"#,
        );
        let mut heard = 0;
        let report = ndjson(input.as_bytes(), &store, |_| heard += 1).unwrap();
        assert_eq!(report.stored, 2);
        assert_eq!(heard, 2);
        assert_eq!(report.bad[0].line, 3);
        assert_eq!(report.bad[0].error.field_name(), Some("url"));
        assert_eq!(report.bad[1].line, 4);
        assert_eq!(store.article_count().unwrap(), 2);
    }
}
