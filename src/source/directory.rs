//! The `directory` kind: a folder of article files, each `.json` (one article in the spec's
//! shape) or `.md` (Markdown, under TOML `+++` or YAML `---` front matter holding the other
//! fields; `id` defaults to the file's name). Watched by polling on the source's schedule:
//! files whose size or modification time changed are read again, a removed file's article
//! is retracted. Hidden files (`.name`) and other extensions are left alone, so an editor's
//! temporary files or a half-written `.tmp` never show.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value};
use tracing::warn;

use super::intake::Intake;
use super::status::Counts;
use super::{Item, Source, SourceError, json};

/// A file's modification time and size: when either changes, it is read again.
type Stamp = (Option<SystemTime>, u64);

pub(super) struct DirectorySource {
    source: Arc<Source>,
    dir: PathBuf,
    intake: Intake,
    /// Every article file as last landed, and the id its article has (`None`: unreadable).
    files: BTreeMap<PathBuf, (Stamp, Option<String>)>,
    /// False until a poll got through: then even an unchanged (or empty) folder is swept
    /// once, for files removed while the server was down.
    swept: bool,
}

impl DirectorySource {
    pub fn new(source: Arc<Source>, dir: PathBuf, intake: Intake) -> DirectorySource {
        DirectorySource {
            source,
            dir,
            intake,
            files: BTreeMap::new(),
            swept: false,
        }
    }

    /// Lands the files that changed and retracts the removed ones; true when nothing did.
    pub async fn poll(&mut self, counts: &mut Counts) -> Result<bool, SourceError> {
        let (dir, source) = (self.dir.clone(), self.source.clone());
        let known: BTreeMap<PathBuf, Stamp> = self
            .files
            .iter()
            .map(|(path, (stamp, _))| (path.clone(), *stamp))
            .collect();
        let scan = tokio::task::spawn_blocking(move || scan(&source, &dir, &known)).await??;
        let removed = self
            .files
            .keys()
            .any(|path| !scan.present.contains_key(path));
        if scan.changed.is_empty() && !removed && self.swept {
            return Ok(true);
        }
        let changed: BTreeSet<&PathBuf> = scan.changed.iter().map(|(path, _)| path).collect();
        // Unchanged files keep what they had.
        let mut files: BTreeMap<PathBuf, (Stamp, Option<String>)> = scan
            .present
            .keys()
            .filter(|path| !changed.contains(path))
            .map(|path| (path.clone(), self.files[path].clone()))
            .collect();
        let mut items = Vec::new();
        for (path, item) in scan.changed {
            let id = match &item {
                Item::Article(article) => Some(article.id.to_string()),
                Item::Withdrawn { id, .. } => Some(id.to_string()),
                Item::Bad { id, .. } => id.as_ref().map(ToString::to_string),
            };
            files.insert(path.clone(), (scan.present[&path], id));
            items.push(item);
        }
        let landed = self.intake.land(items, counts).await?;
        // Every file's id, the unchanged ones' too (a withdrawn one's was retracted above).
        let mut kept: BTreeSet<String> = landed.kept;
        let mut unknown = false;
        for (_, id) in files.values() {
            match id {
                Some(id) => {
                    kept.insert(id.clone());
                }
                None => unknown = true,
            }
        }
        self.files = files;
        if unknown {
            warn!(source = %self.intake.name(), "a file without a readable id: nothing is retracted until it is fixed");
        } else {
            self.intake.sweep(&kept, counts).await?;
        }
        // Until a file changes, a sweep would find what this one found (or is blocked).
        self.swept = true;
        Ok(false)
    }
}

/// The article files present now, and the items of those new or changed since `known`.
struct Scan {
    present: BTreeMap<PathBuf, Stamp>,
    changed: Vec<(PathBuf, Item)>,
}

fn scan(
    source: &Source,
    dir: &Path,
    known: &BTreeMap<PathBuf, Stamp>,
) -> Result<Scan, SourceError> {
    let unreadable = |e: std::io::Error| SourceError::Read(format!("{}: {e}", dir.display()));
    let mut present = BTreeMap::new();
    let mut changed = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if name.starts_with('.') || !matches!(kind.as_deref(), Some("json" | "md")) {
            continue;
        }
        // Gone between the listing and the stat: it is not there.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let stamp = (meta.modified().ok(), meta.len());
        present.insert(path.clone(), stamp);
        if known.get(&path) != Some(&stamp) {
            let item = read(source, &path, kind.as_deref() == Some("md"));
            changed.push((path, item));
        }
    }
    Ok(Scan { present, changed })
}

/// One article file as an item.
fn read(source: &Source, path: &Path, markdown: bool) -> Item {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let label = format!("file {name}");
    let bad = |reason: String| Item::Bad {
        id: None,
        label: label.clone(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return bad(format!("cannot read: {e}")),
    };
    if !markdown {
        return match serde_json::from_str::<Value>(&text) {
            Ok(value) => json::item(source, value, label),
            Err(e) => bad(format!("not valid JSON: {e}")),
        };
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    match front_matter(&text, &stem) {
        Ok(value) => json::item(source, Value::Object(value), label),
        Err(reason) => bad(reason),
    }
}

/// A Markdown file's article: its front matter's fields, `id` defaulting to `stem`, and the
/// Markdown below as `body_html`.
fn front_matter(text: &str, stem: &str) -> Result<Map<String, Value>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (fence, rest) = if let Some(rest) = fence_line(text, "+++") {
        ("+++", rest)
    } else if let Some(rest) = fence_line(text, "---") {
        ("---", rest)
    } else {
        return Err("no front matter: start the file with a +++ (TOML) or --- (YAML) line".into());
    };
    let (head, body) = split_at_fence(rest, fence)
        .ok_or_else(|| format!("the front matter has no closing {fence} line"))?;
    let fields = if fence == "+++" {
        let table: toml::Table =
            toml::from_str(head).map_err(|e| format!("front matter: {}", e.message()))?;
        toml_to_json(toml::Value::Table(table))
    } else {
        serde_norway::from_str::<Value>(head).map_err(|e| format!("front matter: {e}"))?
    };
    let Value::Object(mut fields) = fields else {
        return Err("front matter: a table of the article's fields, like title = \"...\"".into());
    };
    if fields.contains_key("body_html") {
        return Err("body_html: the Markdown below the front matter is the body".into());
    }
    fields
        .entry("id")
        .or_insert_with(|| Value::String(stem.to_owned()));
    fields.insert("body_html".into(), Value::String(render(body)));
    Ok(fields)
}

/// The text after a first line that is `fence`, if it is.
fn fence_line<'a>(text: &'a str, fence: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(fence)?;
    let (line, rest) = rest.split_once('\n').unwrap_or((rest, ""));
    line.trim().is_empty().then_some(rest)
}

/// The front matter and what follows its closing `fence` line.
fn split_at_fence<'a>(text: &'a str, fence: &str) -> Option<(&'a str, &'a str)> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == fence {
            return Some((&text[..at], &text[at + line.len()..]));
        }
        at += line.len();
    }
    None
}

/// Markdown as HTML: CommonMark with tables, footnotes and strikethrough. Raw HTML passes
/// through here; it is sanitized with every article's body on its way into the store.
fn render(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    out
}

/// TOML as JSON; a TOML date-time becomes its RFC 3339 text, as the article's dates are.
fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_front_matter_with_dates_and_a_default_id() {
        let text = "+++\ntitle = \"Hello\"\nsections = [\"world\"]\npublished_at = 2024-01-01T10:00:00Z\n+++\n# Head\n\nSome *text*.\n";
        let fields = front_matter(text, "hello-world").unwrap();
        assert_eq!(fields["id"], "hello-world");
        assert_eq!(fields["published_at"], "2024-01-01T10:00:00Z");
        assert_eq!(
            fields["body_html"],
            "<h1>Head</h1>\n<p>Some <em>text</em>.</p>\n"
        );
    }

    #[test]
    fn yaml_front_matter() {
        let text = "---\nid: y1\ntitle: \"Yes: YAML\"\nsections: [world, business]\npublished_at: 2024-01-01T10:00:00Z\ntags:\n  - a\n---\nhttps://www.youtube.com/watch?v=SJ6vaRpQ0fc\n";
        let fields = front_matter(text, "ignored").unwrap();
        assert_eq!(fields["id"], "y1");
        assert_eq!(fields["title"], "Yes: YAML");
        assert_eq!(fields["sections"][1], "business");
        assert_eq!(fields["published_at"], "2024-01-01T10:00:00Z");
        assert!(
            fields["body_html"]
                .as_str()
                .unwrap()
                .contains("youtube.com/watch")
        );
    }

    #[test]
    fn broken_front_matter_says_what_is_wrong() {
        let cases = [
            ("# no front matter", "no front matter"),
            ("+++\ntitle = \"x\"\n", "no closing +++"),
            ("+++\ntitle = \n+++\n", "front matter"),
            ("---\n- a list\n---\n", "a table of the article's fields"),
            ("+++\nbody_html = \"<p>x</p>\"\n+++\n", "body_html"),
        ];
        for (text, expected) in cases {
            let err = front_matter(text, "x").unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
