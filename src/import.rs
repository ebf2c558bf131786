//! NDJSON import: articles streamed line by line into the store in batched transactions.
//! A bad line is reported with its number and field and skipped; good lines are kept.

use std::io::BufRead;

use crate::article::{Article, ArticleError};
use crate::store::{Store, StoreError};

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
    mut on_bad: impl FnMut(&BadLine),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut input = input;
    let mut raw = Vec::new();
    let mut line = 0;
    loop {
        raw.clear();
        line += 1;
        let read = input
            .read_until(b'\n', &mut raw)
            .map_err(|source| ImportError::Read { line, source })?;
        if read == 0 {
            break;
        }
        let parsed = match std::str::from_utf8(&raw) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => Article::from_json(text.trim_end_matches(['\n', '\r'])),
            Err(e) => Err(ArticleError::Syntax(format!("not UTF-8 ({e})"))),
        };
        match parsed {
            Ok(article) => batch.push(article),
            Err(error) => {
                let bad = BadLine { line, error };
                on_bad(&bad);
                report.bad.push(bad);
            }
        }
        if batch.len() == BATCH {
            store.upsert(&batch)?;
            report.stored += batch.len() as u64;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.upsert(&batch)?;
        report.stored += batch.len() as u64;
    }
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
