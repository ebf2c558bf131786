//! The `json` kind: articles in the spec's shape, as NDJSON or a JSON array, over HTTP (with
//! conditional GETs) or from a file (read again when its size or modification time changes).
//! The document is the source's whole set: an article that leaves it is retracted. An empty
//! document is taken for a broken one, not for "retract everything" (`[]` says that).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;
use tracing::warn;
use url::Url;

use super::intake::Intake;
use super::status::Counts;
use super::{Item, Source, SourceError};
use crate::article::{Article, ArticleId};
use crate::client::{Fetched, Get, HttpClient, Validators};

/// What the `Accept` header asks for.
const ACCEPT: &str = "application/x-ndjson, application/json;q=0.9, */*;q=0.1";

pub(super) enum Location {
    Url(Url),
    /// The file, and its modification time and size when last read.
    File(PathBuf, Option<(Option<SystemTime>, u64)>),
}

pub(super) struct JsonSource {
    source: Arc<Source>,
    location: Location,
    client: HttpClient,
    intake: Intake,
}

impl JsonSource {
    pub fn new(
        source: Arc<Source>,
        location: Location,
        client: HttpClient,
        intake: Intake,
    ) -> JsonSource {
        JsonSource {
            source,
            location,
            client,
            intake,
        }
    }

    /// Reads the document if it changed and lands it; true when it had not changed.
    pub async fn poll(&mut self, counts: &mut Counts) -> Result<bool, SourceError> {
        match &mut self.location {
            Location::Url(url) => {
                let mut state = self.intake.state().await?;
                let validators = Validators {
                    etag: state.etag.clone(),
                    last_modified: state.last_modified.clone(),
                };
                let same_url = state.fetched_url.as_deref() == Some(url.as_str());
                let auth = self.source.authorization()?;
                let get = Get {
                    url: url.clone(),
                    auth: auth.as_ref(),
                    validators: same_url.then_some(&validators),
                    accept: ACCEPT,
                };
                let Fetched::Body(answer) = self.client.get(&get).await? else {
                    return Ok(true);
                };
                let (source, body) = (self.source.clone(), answer.body.clone());
                let items = tokio::task::spawn_blocking(move || parse(&source, &body)).await??;
                land_all(&self.intake, items, counts).await?;
                state.fetched_url = Some(url.to_string());
                state.etag = answer.validators.etag;
                state.last_modified = answer.validators.last_modified;
                self.intake.save_state(state).await?;
                Ok(false)
            }
            Location::File(path, last) => {
                let (file, seen) = (path.clone(), *last);
                let read = tokio::task::spawn_blocking(move || {
                    let meta = std::fs::metadata(&file)?;
                    let stamp = (meta.modified().ok(), meta.len());
                    if seen == Some(stamp) {
                        return Ok(None);
                    }
                    Ok::<_, std::io::Error>(Some((stamp, std::fs::read(&file)?)))
                })
                .await?
                .map_err(|e| SourceError::Read(format!("{}: {e}", path.display())))?;
                let Some((stamp, bytes)) = read else {
                    return Ok(true);
                };
                let source = self.source.clone();
                let items = tokio::task::spawn_blocking(move || parse(&source, &bytes))
                    .await?
                    .map_err(|e| SourceError::Read(format!("{}: {e}", path.display())))?;
                land_all(&self.intake, items, counts).await?;
                *last = Some(stamp);
                Ok(false)
            }
        }
    }
}

/// Lands a whole document, then retracts what it no longer has.
async fn land_all(
    intake: &Intake,
    items: Vec<Item>,
    counts: &mut Counts,
) -> Result<(), SourceError> {
    let landed = intake.land(items, counts).await?;
    if landed.unknown_ids {
        warn!(source = %intake.name(), "an item without a readable id: nothing is retracted until it is fixed");
    } else {
        intake.sweep(&landed.kept, counts).await?;
    }
    Ok(())
}

/// The items of a document: a JSON array, or NDJSON (one article per line). An error means
/// the document as a whole cannot be read; a bad item is an `Item::Bad`.
pub(super) fn parse(source: &Source, bytes: &[u8]) -> Result<Vec<Item>, SourceError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| bytes[i]) {
        None => Err(SourceError::Read(
            "the document is empty; an empty array [] says there are no articles".into(),
        )),
        Some(b'[') => {
            let values: Vec<Value> = serde_json::from_slice(bytes)
                .map_err(|e| SourceError::Read(format!("not a JSON array of articles: {e}")))?;
            Ok(values
                .into_iter()
                .enumerate()
                .map(|(i, value)| item(source, value, format!("[{i}]")))
                .collect())
        }
        Some(_) => Ok(bytes
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.trim_ascii().is_empty())
            .map(|(i, line)| {
                let label = format!("line {}", i + 1);
                match serde_json::from_slice::<Value>(line) {
                    Ok(value) => item(source, value, label),
                    Err(e) => Item::Bad {
                        id: None,
                        label,
                        reason: format!("not valid JSON: {e}"),
                    },
                }
            })
            .collect()),
    }
}

/// One article value, validated and routed to its sections.
pub(super) fn item(source: &Source, value: Value, label: String) -> Item {
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| ArticleId::parse(id).ok());
    match Article::from_value(value) {
        Ok(accepted) => {
            let article = Intake::accepted(source, &label, accepted);
            Intake::route(source, article, label)
        }
        Err(e) => Item::Bad {
            id,
            label,
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(categories: &str) -> Source {
        crate::config::parse_toml(
            std::path::Path::new("site.toml"),
            &format!("name = \"wire\"\nkind = \"json\"\npath = \"a.ndjson\"\n{categories}"),
        )
        .unwrap()
    }

    const GOOD: &str = r#"{"id":"a","url":"https://x.example/a","title":"A","sections":["world"],"published_at":"2024-01-01T10:00:00Z"}"#;

    fn labels(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|item| match item {
                Item::Article(a) => format!("ok {}", a.id),
                Item::Withdrawn { id, .. } => format!("withdrawn {id}"),
                Item::Bad { id, label, .. } => format!("bad {label} {id:?}"),
            })
            .collect()
    }

    #[test]
    fn ndjson_lines_each_stand_alone() {
        let text = format!(
            "{GOOD}\n\n{{broken\n{}\r\n",
            GOOD.replace("\"a\"", "\"b\"")
                .replace("https://x.example/a", "nope")
        );
        let items = parse(&source(""), text.as_bytes()).unwrap();
        assert_eq!(
            labels(&items),
            [
                "ok a",
                "bad line 3 None",
                "bad line 4 Some(ArticleId(\"b\"))"
            ]
        );
    }

    #[test]
    fn an_array_and_its_bad_elements() {
        let text = format!("\u{feff} [{GOOD}, 3]");
        let items = parse(&source(""), text.as_bytes()).unwrap();
        assert_eq!(labels(&items), ["ok a", "bad [1] None"]);
        assert!(parse(&source(""), b"[").is_err());
        assert!(
            parse(&source(""), b" \n ").is_err(),
            "empty is broken, not 'none'"
        );
        assert!(parse(&source(""), b"[]").unwrap().is_empty());
    }

    #[test]
    fn sections_go_through_the_categories_table() {
        let mapped = source("[categories]\nworld = \"international\"");
        let items = parse(&mapped, GOOD.as_bytes()).unwrap();
        let Item::Article(article) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(article.sections[0].as_str(), "international");
        let unmapped = source("[categories]\nsport = \"sport\"");
        let items = parse(&unmapped, GOOD.as_bytes()).unwrap();
        assert_eq!(labels(&items), ["withdrawn a"]);
    }
}
