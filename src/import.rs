//! NDJSON import: articles streamed line by line into the store in batched transactions.
//! A bad line is reported with its number and field and skipped; good lines are kept.

use std::collections::VecDeque;
use std::io::BufRead;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender};

use crate::article::{Accepted, Article, ArticleError, Warning};
use crate::item::PreparedArticle;
use crate::store::{Store, StoreError};

/// Articles per transaction: big enough that commits don't dominate, small enough that
/// memory stays flat and a running server sees progress.
const BATCH: usize = 1000;

/// One line that was not imported.
#[derive(Debug)]
pub struct BadLine {
    /// 1-based.
    pub line: u64,
    /// Why the article on it was refused.
    pub error: ArticleError,
}

/// An optional field left out of the article on one line, which was imported without it.
#[derive(Debug)]
pub struct WarnedLine {
    /// 1-based.
    pub line: u64,
    /// The field and why.
    pub warning: Warning,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Articles written to the store: one per good line, a later line for an id winning.
    pub stored: u64,
    /// The lines skipped, in input order.
    pub bad: Vec<BadLine>,
    /// The fields left out of imported articles, in input order.
    pub warnings: Vec<WarnedLine>,
}

/// Why an import stopped. Batches written before stay in the store.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input could not be read.
    #[error("reading line {line}: {source}")]
    Read {
        /// The line being read, counting from 1.
        line: u64,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing a batch failed.
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
/// a batch (the good articles of `BATCH` lines) is handed to the writer.
///
/// Three stages: this thread reads lines in chunks of `BATCH`, a worker per core parses
/// and prepares them (sanitizing is the expensive part), and a writer thread stores the
/// batches. Chunks are handed on in the order they were read, so a later line for the
/// same id still wins and bad lines are reported in order, on this thread.
pub fn ndjson_with_progress(
    mut input: impl BufRead,
    store: &Store,
    mut on_bad: impl FnMut(&BadLine),
    mut on_batch: impl FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut report = ImportReport::default();
    let (chunks, to_prepare) =
        std::sync::mpsc::sync_channel::<(Chunk, Sender<PreparedChunk>)>(workers);
    let to_prepare = Mutex::new(to_prepare);
    std::thread::scope(|scope| {
        // Bounded channels and a bounded queue of chunks in preparation: memory stays flat
        // however big the file.
        let (batches, to_write) = std::sync::mpsc::sync_channel::<Vec<PreparedArticle>>(2);
        let writer = scope.spawn(move || -> Result<u64, StoreError> {
            store.with_bulk_settings(|| {
                let mut stored = 0;
                for batch in to_write {
                    store.upsert(&batch)?;
                    stored += batch.len() as u64;
                }
                Ok(stored)
            })
        });
        for _ in 0..workers {
            let to_prepare = &to_prepare;
            scope.spawn(move || {
                loop {
                    // The lock is held only while waiting for the next chunk.
                    let next = to_prepare.lock().map(|rx| rx.recv());
                    let Ok(Ok((chunk, done))) = next else { return };
                    let _ = done.send(chunk.prepare());
                }
            });
        }

        let mut in_preparation = VecDeque::new();
        let mut good = 0;
        // Hands the oldest chunk's articles to the writer; false once the writer stopped
        // (on an error, reported below).
        let mut hand_on = |pending: Receiver<PreparedChunk>| {
            let prepared = pending.recv().expect("the import workers do not panic");
            for bad in prepared.bad {
                on_bad(&bad);
                report.bad.push(bad);
            }
            report.warnings.extend(prepared.warned);
            good += prepared.articles.len() as u64;
            if prepared.articles.is_empty() {
                return true;
            }
            let sent = batches.send(prepared.articles).is_ok();
            if sent {
                on_batch(good);
            }
            sent
        };
        let mut line = 0;
        let read = loop {
            let (chunk, read) = Chunk::read(&mut input, &mut line);
            if !chunk.lines.is_empty() {
                let (done, pending) = std::sync::mpsc::channel();
                if chunks.send((chunk, done)).is_err() {
                    break Ok(());
                }
                in_preparation.push_back(pending);
            }
            if in_preparation.len() > workers
                && !hand_on(in_preparation.pop_front().expect("not empty"))
            {
                break Ok(());
            }
            match read {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        drop(chunks);
        while let Some(pending) = in_preparation.pop_front() {
            if !hand_on(pending) {
                break;
            }
        }
        drop(batches);
        report.stored = writer.join().expect("the import writer does not panic")?;
        read
    })?;
    Ok(report)
}

/// Up to `BATCH` non-blank lines of the input, with their line numbers.
struct Chunk {
    lines: Vec<(u64, Vec<u8>)>,
}

struct PreparedChunk {
    articles: Vec<PreparedArticle>,
    bad: Vec<BadLine>,
    warned: Vec<WarnedLine>,
}

impl Chunk {
    /// Reads the next chunk; the flag says whether there may be more input after it.
    /// `line` counts the lines read so far.
    fn read(input: &mut impl BufRead, line: &mut u64) -> (Chunk, Result<bool, ImportError>) {
        let mut lines = Vec::with_capacity(BATCH);
        while lines.len() < BATCH {
            let mut raw = Vec::new();
            *line += 1;
            match input.read_until(b'\n', &mut raw) {
                Ok(0) => return (Chunk { lines }, Ok(false)),
                Ok(_) if raw.trim_ascii().is_empty() => {}
                Ok(_) => lines.push((*line, raw)),
                Err(source) => {
                    let error = ImportError::Read {
                        line: *line,
                        source,
                    };
                    return (Chunk { lines }, Err(error));
                }
            }
        }
        (Chunk { lines }, Ok(true))
    }

    fn prepare(self) -> PreparedChunk {
        let mut prepared = PreparedChunk {
            articles: Vec::with_capacity(self.lines.len()),
            bad: Vec::new(),
            warned: Vec::new(),
        };
        for (line, raw) in self.lines {
            let parsed = match std::str::from_utf8(&raw) {
                Ok(text) => Article::from_json(text.trim_end_matches(['\n', '\r'])),
                Err(e) => Err(ArticleError::Syntax(format!("not UTF-8 ({e})"))),
            };
            match parsed {
                Ok(Accepted { article, warnings }) => {
                    prepared.articles.push(PreparedArticle::new(article));
                    let warned = warnings
                        .into_iter()
                        .map(|warning| WarnedLine { line, warning });
                    prepared.warned.extend(warned);
                }
                Err(error) => prepared.bad.push(BadLine { line, error }),
            }
        }
        prepared
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::ArticleId;

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
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn junk_in_an_optional_field_is_a_warning_and_the_article_lands() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let input = concat!(
            r#"{"id":"a","url":"https://x.example/a","title":"A","sections":["world"],"published_at":"2022-05-01T00:00:00Z","authors":[{"name":"\u0007"}],"tags":["\u200b","ok"]}"#,
            "\n",
        );
        let report = ndjson(input.as_bytes(), &store, |_| {}).unwrap();
        assert_eq!((report.stored, report.bad.len()), (1, 0));
        let noted: Vec<_> = report
            .warnings
            .iter()
            .map(|w| (w.line, w.warning.field.as_str()))
            .collect();
        assert_eq!(noted, [(1, "authors[0].name"), (1, "tags[0]")]);
    }

    #[test]
    fn chunks_prepared_in_parallel_land_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let article = |id: usize, title: &str| {
            format!(
                r#"{{"id":"a{id}","url":"https://x.example/{id}","title":"{title}","sections":["world"],"published_at":"2022-05-01T00:00:00Z"}}"#
            )
        };
        // Five chunks: the same id early and late (the later line wins however the workers
        // finish), and bad lines in different chunks, reported in order.
        let mut lines: Vec<String> = (0..5 * BATCH).map(|i| article(i, "first")).collect();
        lines[3] = "{broken".into();
        lines[4 * BATCH + 7] = article(1, "last");
        lines[3 * BATCH] = "[]".into();
        let mut heard = Vec::new();
        let mut progress = Vec::new();
        let report = ndjson_with_progress(
            lines.join("\n").as_bytes(),
            &store,
            |bad| heard.push(bad.line),
            |read| progress.push(read),
        )
        .unwrap();
        assert_eq!(heard, [4, 3 * BATCH as u64 + 1]);
        assert_eq!(report.stored, 5 * BATCH as u64 - 2);
        assert!(progress.is_sorted() && progress.len() == 5);
        assert_eq!(store.article_count().unwrap(), 5 * BATCH as i64 - 3);
        let id = ArticleId::parse("a1").unwrap();
        assert_eq!(store.get(&id).unwrap().unwrap().title, "last");
    }
}
