//! One configuration file read whole: its TOML parsed once, then deserialized into its type
//! with every problem told, each with its field and line, not only the first. What the
//! values mean is the types' business (`Section`, `Site`, `Source` ...), not this file's.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue, ValueDeserializer};

use super::{ConfigError, Problem};

/// A TOML file's text, parsed, and the problems found in it so far.
pub(crate) struct TomlFile<'a> {
    path: &'a Path,
    text: &'a str,
    /// The whole file as a value, so that a path of the file always starts from a value.
    root: Spanned<DeValue<'a>>,
    problems: Vec<Problem>,
}

impl<'a> TomlFile<'a> {
    /// Parses `text`, the file at `path`. A syntax error is the one problem told: the TOML
    /// parser cannot find its way past it.
    pub(crate) fn parse(path: &'a Path, text: &'a str) -> Result<TomlFile<'a>, ConfigError> {
        let table = DeTable::parse(text).map_err(|e| {
            ConfigError(vec![Problem {
                file: path.to_owned(),
                field: None,
                line: e.span().map(|span| line(text, span.start)),
                message: format!(
                    "{}; the rest of the file is checked once this is mended",
                    e.message()
                ),
            }])
        })?;
        let span = table.span();
        Ok(TomlFile {
            path,
            text,
            root: Spanned::new(span, DeValue::Table(table.into_inner())),
            problems: Vec::new(),
        })
    }

    /// The file as a `T`, or `None` when it cannot be one; every problem found on the way is
    /// kept for `finish`.
    ///
    /// serde stops at the first error, so the file is deserialized again and again from a
    /// working copy: each time the value at fault is told and taken out, until what is left
    /// deserializes or the file itself lacks a required field. A table that lacks one is
    /// taken out whole once the field is told; its other values have been seen by then.
    pub(crate) fn deserialize<T: DeserializeOwned>(&mut self) -> Option<T> {
        let mut working = self.root.clone();
        loop {
            let error =
                match serde_path_to_error::deserialize(ValueDeserializer::from(working.clone())) {
                    Ok(value) => return Some(value),
                    Err(error) => error,
                };
            let path: Vec<Segment> = error.path().iter().cloned().collect();
            let error = error.into_inner();
            let message = error.message();
            // serde names a missing field at its table.
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next());
            let (at, take_out, message) = match missing {
                Some(key) => {
                    let key = Segment::Map { key: key.into() };
                    let at = path.iter().cloned().chain([key]).collect();
                    (at, path, "required")
                }
                None => (path.clone(), path, message),
            };
            let field = field_name(&self.root, &working, &at);
            // A field taken out comes back as missing, and a rule between fields (a source's
            // kind and url) fails when one of them was taken out: both were told already.
            if !self.told_at_or_under(&field) {
                // The file's own span says nothing about where a field should be.
                let line = if take_out.is_empty() {
                    None
                } else {
                    find(&working, &take_out)
                        .map(Spanned::span)
                        .or(error.span())
                        .map(|span| line(self.text, span.start))
                };
                self.tell((!field.is_empty()).then_some(field), line, message.into());
            }
            if !take(&mut working, &take_out) {
                return None;
            }
        }
    }

    /// Tells each of `fields` the file lacks. serde names only the first field missing from
    /// a table, and cannot go past it; call this before `deserialize`, which then leaves
    /// them untold.
    pub(crate) fn require(&mut self, fields: &[&str]) {
        for field in fields {
            if self.get(field).is_none() {
                self.tell(Some((*field).into()), None, "required".into());
            }
        }
    }

    /// The value of the top-level `key` as written, for rules over the file as a whole.
    pub(crate) fn get(&self, key: &str) -> Option<&Spanned<DeValue<'a>>> {
        self.root.get_ref().get(key)
    }

    /// Tells a problem with `field`, whose value is at `span` of the text.
    pub(crate) fn report(&mut self, field: String, span: Range<usize>, message: String) {
        let line = line(self.text, span.start);
        self.tell(Some(field), Some(line), message);
    }

    fn tell(&mut self, field: Option<String>, line: Option<usize>, message: String) {
        self.problems.push(Problem {
            file: self.path.to_owned(),
            field,
            line,
            message,
        });
    }

    /// `value` if nothing was found wrong, else every problem in the order of the file
    /// (those of no line, a missing required field, first).
    pub(crate) fn finish<T>(mut self, value: Option<T>) -> Result<T, ConfigError> {
        self.problems.sort_by_key(|p| p.line);
        match value {
            Some(value) if self.problems.is_empty() => Ok(value),
            _ => Err(ConfigError(self.problems)),
        }
    }

    /// Whether a problem was told for `field` or a value inside it.
    fn told_at_or_under(&self, field: &str) -> bool {
        self.problems
            .iter()
            .filter_map(|p| p.field.as_deref())
            .any(|told| {
                told.strip_prefix(field).is_some_and(|rest| {
                    field.is_empty() || rest.is_empty() || rest.starts_with(['.', '['])
                })
            })
    }
}

/// Parses the TOML `text` of the file at `path` into `T`, telling every problem in it.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    let mut file = TomlFile::parse(path, text)?;
    let value = file.deserialize();
    file.finish(value)
}

/// The line, counted from 1, of the byte at `offset`.
fn line(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn find<'v, 'i>(
    value: &'v Spanned<DeValue<'i>>,
    path: &[Segment],
) -> Option<&'v Spanned<DeValue<'i>>> {
    path.iter().try_fold(value, |value, segment| match segment {
        Segment::Map { key } => value.get_ref().get(key.as_str()),
        Segment::Seq { index } => value.get_ref().get(*index),
        Segment::Enum { .. } | Segment::Unknown => None,
    })
}

/// Takes the value at `path` out of `value`; false when there is none to take (the root).
fn take(value: &mut Spanned<DeValue<'_>>, path: &[Segment]) -> bool {
    let Some((last, path)) = path.split_last() else {
        return false;
    };
    let parent = path
        .iter()
        .try_fold(value, |value, segment| match (value.get_mut(), segment) {
            (DeValue::Table(table), Segment::Map { key }) => table.get_mut(key.as_str()),
            (DeValue::Array(array), Segment::Seq { index }) => array.get_mut(*index),
            _ => None,
        });
    match (parent.map(Spanned::get_mut), last) {
        (Some(DeValue::Table(table)), Segment::Map { key }) => table.remove(key.as_str()).is_some(),
        (Some(DeValue::Array(array)), Segment::Seq { index }) if *index < array.len() => {
            // `DeArray` can only be built anew without the element.
            let elements = std::mem::replace(array, DeArray::new());
            *array = elements
                .into_iter()
                .enumerate()
                .filter_map(|(i, element)| (i != *index).then_some(element))
                .collect();
            true
        }
        _ => false,
    }
}

/// The name of the field at `path` in `working`, as the file has it (`sources[1].name`):
/// taking elements out of an array shifts the later ones, so each index is found again by
/// its element's place in the text.
fn field_name(
    file: &Spanned<DeValue<'_>>,
    working: &Spanned<DeValue<'_>>,
    path: &[Segment],
) -> String {
    let mut name = String::new();
    let (mut file, mut working) = (Some(file), Some(working));
    for segment in path {
        let segment = match segment {
            Segment::Seq { index } => {
                working = working.and_then(|w| w.get_ref().get(*index));
                let index = working
                    .and_then(|element| {
                        let elements = file?.get_ref().as_array()?;
                        elements.iter().position(|e| e.span() == element.span())
                    })
                    .unwrap_or(*index);
                file = file.and_then(|f| f.get_ref().get(index));
                Segment::Seq { index }
            }
            Segment::Map { key } => {
                working = working.and_then(|w| w.get_ref().get(key.as_str()));
                file = file.and_then(|f| f.get_ref().get(key.as_str()));
                segment.clone()
            }
            Segment::Enum { .. } | Segment::Unknown => {
                (working, file) = (None, None);
                segment.clone()
            }
        };
        if !name.is_empty() && !matches!(segment, Segment::Seq { .. }) {
            name.push('.');
        }
        name.push_str(&segment.to_string());
    }
    name
}
