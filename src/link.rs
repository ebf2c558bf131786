//! `HttpUrl`: an absolute http(s) URL, the only kind of link a feed may carry.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// An absolute `http` or `https` URL with a host. Feed readers resolve nothing for us, so a
/// relative or `javascript:` URL in a feed is a broken link at best and an attack at worst.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpUrl(Url);

impl HttpUrl {
    pub fn parse(s: &str) -> Result<HttpUrl, String> {
        let url = Url::parse(s).map_err(|e| format!("{s:?} is not an absolute URL ({e})"))?;
        HttpUrl::try_from(url)
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl TryFrom<Url> for HttpUrl {
    type Error = String;
    fn try_from(url: Url) -> Result<Self, Self::Error> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{:?} must be an http or https URL", url.as_str()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{:?} has no host", url.as_str()));
        }
        Ok(HttpUrl(url))
    }
}

impl TryFrom<String> for HttpUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        HttpUrl::parse(&s)
    }
}

impl From<HttpUrl> for String {
    fn from(u: HttpUrl) -> String {
        u.0.into()
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_absolute_web_urls() {
        assert!(HttpUrl::parse("https://asianlite.example/2022/05/14/x/").is_ok());
        assert!(HttpUrl::parse("http://127.0.0.1:8080/feeds/").is_ok());
    }

    #[test]
    fn rejects_other_urls() {
        for bad in [
            "/relative",
            "javascript:alert(1)",
            "ftp://x.example/",
            "mailto:a@b.c",
            "https://",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
