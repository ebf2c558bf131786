//! Who may use the admin API: bearer tokens from the environment or a token file (never
//! from `feeds/`, which may be public or in version control), checked in constant time.
//! Tokens are kept only as hashes and never logged; a caller is known by its token's label.

use std::fmt;
use std::path::Path;

use http::HeaderMap;
use http::header::AUTHORIZATION;
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
    // A hash, not the token: comparing fixed-size digests also hides the token's length.
    digest: [u8; 32],
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

/// An authenticated caller, named by its token's label (`token#N` when it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(String);

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

    /// Adds the tokens of `text`, one per line: `label:token` or just `token` (a line is
    /// split at its first colon). Blank lines and `#` comments are skipped, so a file can
    /// hold the old and the new token while clients rotate. `origin` names the source in
    /// errors, which never quote a token.
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
            Ok(Caller(entry.label.clone()))
        } else {
            Err(AuthFailure::Invalid)
        }
    }
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
