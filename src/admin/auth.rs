//! Who may use the admin API: bearer tokens from the environment or a token file (never
//! from `feeds/`, which may be public or in version control), checked in constant time.
//! Tokens are kept only as hashes and never logged; a caller is known by its token's label,
//! and may do what its token's scopes allow (`Scope`).

use std::fmt;
use std::path::Path;

use http::HeaderMap;
use http::header::AUTHORIZATION;
use serde::Serialize;
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// Shorter tokens are refused: the admin API rewrites the site's configuration.
pub const MIN_TOKEN_LEN: usize = 16;
const MAX_LABEL_LEN: usize = 64;

/// The configured tokens. Empty means the admin API is off.
#[derive(Default, Clone)]
pub struct Tokens {
    entries: Vec<Entry>,
}

#[derive(Clone)]
struct Entry {
    label: String,
    scopes: Vec<Scope>,
    // A hash, not the token: comparing fixed-size digests also hides the token's length.
    digest: [u8; 32],
}

/// What a token may do, written in brackets after its label: `cms[articles]:token`. The
/// first two split the API between the CMS and the editors, so a leaked ingest token
/// cannot delete sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Pushing, reading and retracting articles, and asking a source to poll now.
    Articles,
    /// Creating, changing and deleting sections.
    Sections,
    /// Everything, endpoints added later too; what a token without brackets may do.
    Admin,
}

impl Scope {
    const ALL: [Scope; 3] = [Scope::Articles, Scope::Sections, Scope::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Articles => "articles",
            Scope::Sections => "sections",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// No derive: even a debug print must not show anything derived from a token.
impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<_> = self.entries.iter().map(|e| &e.label).collect();
        f.debug_struct("Tokens").field("labels", &labels).finish()
    }
}

/// Why the admin tokens could not be set up. Never quotes a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A line's label or token breaks a rule on length or characters.
    #[error("{origin} line {line}: {reason}")]
    Bad {
        /// Where the line came from: `PRESSFEED_ADMIN_TOKEN` or the token file's path.
        origin: String,
        /// The line's number, counting from 1.
        line: usize,
        /// The rule the line breaks.
        reason: String,
    },
    /// The token file could not be read.
    #[error("reading the admin token file {path}: {source}")]
    Read {
        /// The token file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Invalid,
}

impl AuthFailure {
    pub fn message(self) -> &'static str {
        match self {
            AuthFailure::Missing => "this API needs an Authorization: Bearer <token> header",
            AuthFailure::Malformed => "the Authorization header is not \"Bearer <token>\"",
            AuthFailure::Invalid => "the token is not valid",
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3).
    pub fn challenge(self) -> &'static str {
        match self {
            AuthFailure::Missing => "Bearer realm=\"pressfeed admin\"",
            AuthFailure::Malformed => "Bearer realm=\"pressfeed admin\", error=\"invalid_request\"",
            AuthFailure::Invalid => "Bearer realm=\"pressfeed admin\", error=\"invalid_token\"",
        }
    }
}

/// An authenticated caller, named by its token's label (`token#N` when it has none), with
/// its token's scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    label: String,
    scopes: Vec<Scope>,
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl Caller {
    /// The scope that lets this caller make a request needing `needed`: `needed` itself when
    /// the token has it, else `admin`; `None` when the token has neither.
    pub fn grant(&self, needed: Scope) -> Option<Scope> {
        [needed, Scope::Admin]
            .into_iter()
            .find(|s| self.scopes.contains(s))
    }
}

impl Tokens {
    /// True when no token is configured: the admin API is off.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many tokens are configured (the old and the new one while clients rotate).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds the tokens of `text`, one per line: `label:token`, `label[scope,…]:token` or just
    /// `token` (a line is split at its first colon). Without brackets a token has the `admin`
    /// scope, as every token had before scopes. Blank lines and `#` comments are skipped, so
    /// a file can hold the old and the new token while clients rotate. `origin` names the
    /// source in errors, which never quote a token, nor the label part, in case a token was
    /// pasted there.
    pub fn add_lines(&mut self, text: &str, origin: &str) -> Result<(), TokenError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: String| TokenError::Bad {
                origin: origin.to_owned(),
                line: i + 1,
                reason,
            };
            let (label, token) = match line.split_once(':') {
                Some((label, token)) => (Some(label.trim()), token.trim()),
                None => (None, line),
            };
            let (label, scopes) = match label.map(split_scopes) {
                None => (None, vec![Scope::Admin]),
                Some(Ok((label, scopes))) => (Some(label), scopes),
                Some(Err(reason)) => return Err(bad(reason)),
            };
            if let Some(label) = label
                && (label.is_empty()
                    || label.len() > MAX_LABEL_LEN
                    || !label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
            {
                return Err(bad(format!(
                    "a label is 1 to {MAX_LABEL_LEN} of A-Z a-z 0-9 - _ . @"
                )));
            }
            if token.len() < MIN_TOKEN_LEN {
                return Err(bad(format!(
                    "a token needs at least {MIN_TOKEN_LEN} characters"
                )));
            }
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(bad(
                    "a token is printable ASCII without spaces (it travels in a header)".into(),
                ));
            }
            let label = match label {
                Some(label) => label.to_owned(),
                None => format!("token#{}", self.entries.len() + 1),
            };
            self.entries.push(Entry {
                label,
                scopes,
                digest: digest(token),
            });
        }
        Ok(())
    }

    /// Adds the tokens of the file at `path` (see `add_lines`).
    pub fn add_file(&mut self, path: &Path) -> Result<(), TokenError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
            path: path.display().to_string(),
            source,
        })?;
        self.add_lines(&text, &path.display().to_string())
    }

    /// Checks the request's bearer token against every configured token. The comparison
    /// takes the same time whichever token matches, or none.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, AuthFailure> {
        let value = headers.get(AUTHORIZATION).ok_or(AuthFailure::Missing)?;
        let token = bearer(value.as_bytes()).ok_or(AuthFailure::Malformed)?;
        let presented = digest_bytes(token);
        let mut found = subtle::Choice::from(0);
        let mut index = 0u64;
        for (i, entry) in self.entries.iter().enumerate() {
            let equal = presented.ct_eq(&entry.digest);
            index.conditional_assign(&(i as u64), equal);
            found |= equal;
        }
        if bool::from(found) {
            let entry = usize::try_from(index)
                .ok()
                .and_then(|i| self.entries.get(i))
                .ok_or(AuthFailure::Invalid)?;
            Ok(Caller {
                label: entry.label.clone(),
                scopes: entry.scopes.clone(),
            })
        } else {
            Err(AuthFailure::Invalid)
        }
    }
}

/// A line's label part, `label` or `label[scope,…]`, split into the label and its scopes
/// (`admin` without brackets), sorted and without repeats. The reason is for a line's error.
fn split_scopes(part: &str) -> Result<(&str, Vec<Scope>), String> {
    let Some((label, list)) = part.split_once('[') else {
        return Ok((part, vec![Scope::Admin]));
    };
    let names = Scope::ALL.map(Scope::name).join(", ");
    let list = list
        .strip_suffix(']')
        .ok_or_else(|| format!("scopes follow the label in brackets: label[{names}]:token"))?;
    let mut scopes = list
        .split(',')
        .map(|name| {
            let name = name.trim();
            Scope::ALL
                .into_iter()
                .find(|s| s.name() == name)
                .ok_or_else(|| format!("a scope in the brackets is not one of {names}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    scopes.sort();
    scopes.dedup();
    Ok((label.trim_end(), scopes))
}

/// The token of an `Authorization: Bearer <token>` value (scheme in any case, RFC 6750 §2.1).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = token.strip_prefix(b" ")?.trim_ascii();
    (!token.is_empty() && token.iter().all(u8::is_ascii_graphic)).then_some(token)
}

fn digest(token: &str) -> [u8; 32] {
    digest_bytes(token.as_bytes())
}

fn digest_bytes(token: &[u8]) -> [u8; 32] {
    *blake3::hash(token).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";

    fn auth(tokens: &Tokens, value: &str) -> Result<Caller, AuthFailure> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        tokens.authenticate(&headers)
    }

    #[test]
    fn a_file_holds_labelled_and_bare_tokens_with_comments() {
        let mut tokens = Tokens::default();
        tokens
            .add_lines(
                &format!("# rotated 2024-05\n\nnewsroom: {A}\n  {B}  \n"),
                "f",
            )
            .unwrap();
        assert_eq!(tokens.len(), 2);
        assert_eq!(
            auth(&tokens, &format!("Bearer {A}")).unwrap().to_string(),
            "newsroom"
        );
        assert_eq!(
            auth(&tokens, &format!("bearer {B}")).unwrap().to_string(),
            "token#2"
        );
    }

    #[test]
    fn bad_lines_are_reported_without_the_token() {
        for line in [
            "short",
            "bad label!:aaaaaaaaaaaaaaaaaaaa",
            ":aaaaaaaaaaaaaaaaaaa",
        ] {
            let err = Tokens::default().add_lines(line, "tokens.txt").unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with("tokens.txt line 1"), "{message}");
            assert!(!message.contains("aaaa") && !message.contains("short"));
        }
    }

    #[test]
    fn scopes_follow_the_label_and_a_line_without_them_may_do_everything() {
        const C: &str = "cccccccccccccccccccccccc";
        let mut tokens = Tokens::default();
        tokens
            .add_lines(
                &format!("cms[articles]:{A}\ndesk [ sections , articles,sections ] : {B}\n{C}\n"),
                "f",
            )
            .unwrap();
        let caller = |token| auth(&tokens, &format!("Bearer {token}")).unwrap();
        let cms = caller(A);
        assert_eq!(cms.to_string(), "cms");
        assert_eq!(cms.scopes, [Scope::Articles]);
        assert_eq!(cms.grant(Scope::Articles), Some(Scope::Articles));
        assert_eq!(cms.grant(Scope::Sections), None);
        let desk = caller(B);
        assert_eq!(desk.to_string(), "desk");
        assert_eq!(desk.scopes, [Scope::Articles, Scope::Sections]);
        // Unscoped, as every token was before scopes: everything, by way of `admin`.
        let bare = caller(C);
        assert_eq!(bare.scopes, [Scope::Admin]);
        assert_eq!(bare.grant(Scope::Sections), Some(Scope::Admin));
        let mut old = Tokens::default();
        old.add_lines(&format!("newsroom:{A}"), "f").unwrap();
        assert_eq!(
            auth(&old, &format!("Bearer {A}")).unwrap().scopes,
            [Scope::Admin]
        );
    }

    #[test]
    fn a_bad_scope_is_reported_by_line_without_the_token() {
        for line in [
            format!("cms[articles,deploy]:{A}"),
            format!("cms[]:{A}"),
            format!("cms[articles:{A}]"),
            format!("cms[Admin]:{A}"),
            format!("[articles]:{A}"),
        ] {
            let err = Tokens::default()
                .add_lines(&format!("# ok\nci:{B}\n{line}"), "tokens.txt")
                .unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with("tokens.txt line 3: "), "{message}");
            assert!(
                !message.contains("aaaa") && !message.contains("bbbb"),
                "{message}"
            );
        }
        let err = Tokens::default()
            .add_lines(&format!("cms[deploy]:{A}"), "f")
            .unwrap_err();
        assert!(
            err.to_string().contains("articles, sections, admin"),
            "names the scopes there are: {err}"
        );
    }

    #[test]
    fn only_a_well_formed_known_bearer_token_passes() {
        let mut tokens = Tokens::default();
        tokens.add_lines(A, "env").unwrap();
        assert_eq!(
            tokens.authenticate(&HeaderMap::new()),
            Err(AuthFailure::Missing)
        );
        for malformed in [
            format!("Basic {A}"),
            "Bearer".into(),
            "Bearer ".into(),
            format!("Bearer{A}"),
            format!("Bearer {A} extra"),
        ] {
            assert_eq!(
                auth(&tokens, &malformed),
                Err(AuthFailure::Malformed),
                "{malformed}"
            );
        }
        assert_eq!(
            auth(&tokens, &format!("Bearer {B}")),
            Err(AuthFailure::Invalid)
        );
        assert_eq!(
            auth(&tokens, &format!("Bearer {A}a")),
            Err(AuthFailure::Invalid)
        );
        assert!(auth(&tokens, &format!("Bearer {A}")).is_ok());
        assert_eq!(
            Tokens::default().authenticate(&{
                let mut h = HeaderMap::new();
                h.insert(
                    AUTHORIZATION,
                    HeaderValue::from_str(&format!("Bearer {A}")).unwrap(),
                );
                h
            }),
            Err(AuthFailure::Invalid)
        );
    }

    #[test]
    fn debug_output_shows_labels_only() {
        let mut tokens = Tokens::default();
        tokens.add_lines(&format!("ci:{A}"), "env").unwrap();
        let shown = format!("{tokens:?}");
        assert!(shown.contains("ci") && !shown.contains('a'.to_string().repeat(8).as_str()));
    }
}
