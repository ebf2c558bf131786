//! The `[tls]` table of `site.toml`: the certificate and key files `serve` speaks HTTPS
//! with, a plain-HTTP listener that redirects to it, and HSTS. Read when the server starts
//! (a change of the table needs a restart, like `listen`); the files it names are read
//! again while serving, by `http::tls`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::in_range;

/// The `[tls]` table. With it, the listener speaks only HTTPS.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// PEM: the certificate chain, the server's own first (certbot's `fullchain.pem`,
    /// cert-manager's `tls.crt`). Relative to the feeds directory.
    pub certificate: PathBuf,
    /// PEM: the certificate's private key, PKCS#8, PKCS#1 (RSA) or SEC1 (EC) (certbot's
    /// `privkey.pem`, cert-manager's `tls.key`). Relative to the feeds directory.
    pub key: PathBuf,
    /// An address for a plain-HTTP listener that answers every request with a redirect to
    /// the same host and path over HTTPS; none when not set.
    #[serde(default)]
    pub redirect_listen: Option<String>,
    /// The port the redirect names: the one clients reach HTTPS on, when a port mapping or
    /// a load balancer puts it elsewhere than the listener's own (443 behind most). The
    /// listener's port when not set.
    #[serde(default, deserialize_with = "port")]
    pub redirect_port: Option<u16>,
    /// Seconds of `Strict-Transport-Security: max-age=` sent with every HTTPS response;
    /// no such header when not set. Once a browser has seen it, it refuses plain HTTP to
    /// the host for that long: turn it on when HTTPS is there to stay.
    #[serde(default, deserialize_with = "max_age")]
    pub hsts_max_age: Option<u64>,
}

/// Two years: what the HSTS preload list asks for at most is one; more is a typo.
const MAX_HSTS_SECONDS: u64 = 2 * 365 * 24 * 3600;

fn max_age<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    in_range(d, 0, MAX_HSTS_SECONDS, "seconds").map(Some)
}

fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    in_range(d, 1, u64::from(u16::MAX), "port").map(|port| u16::try_from(port).ok())
}

impl Tls {
    /// The files made absolute: a relative path is relative to the feeds directory
    /// `feeds`, as every path in `site.toml` is.
    pub fn resolved(&self, feeds: &Path) -> Tls {
        Tls {
            certificate: feeds.join(&self.certificate),
            key: feeds.join(&self.key),
            ..self.clone()
        }
    }

    /// The files this process cannot open, as (field, why): what `pressfeed check` tells.
    /// Whether they hold a pair that loads is for the server to find, which reads them
    /// with the TLS library; a file missing or unreadable here is missing there too.
    pub(crate) fn unreadable(&self, feeds: &Path) -> Vec<(&'static str, String)> {
        let resolved = self.resolved(feeds);
        [("certificate", resolved.certificate), ("key", resolved.key)]
            .into_iter()
            .filter_map(|(field, path)| {
                let error = std::fs::File::open(&path).err()?;
                Some((field, format!("cannot read {}: {error}", path.display())))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{ConfigError, parse_toml};

    #[derive(Debug, Deserialize)]
    struct Site {
        tls: Option<Tls>,
    }

    fn parse(text: &str) -> Result<Site, ConfigError> {
        parse_toml(Path::new("site.toml"), text)
    }

    #[test]
    fn the_files_are_required_and_the_rest_optional() {
        let site = parse("[tls]\ncertificate = \"a.pem\"\nkey = \"/etc/k.pem\"\n").unwrap();
        let tls = site.tls.unwrap();
        assert_eq!(tls.redirect_listen, None);
        assert_eq!(tls.hsts_max_age, None);
        assert_eq!(tls.redirect_port, None);
        let resolved = tls.resolved(Path::new("/srv/feeds"));
        assert_eq!(resolved.certificate, Path::new("/srv/feeds/a.pem"));
        assert_eq!(resolved.key, Path::new("/etc/k.pem"));
        let ConfigError(problems) = parse("[tls]\ncertificate = \"a.pem\"\n").unwrap_err();
        assert_eq!(
            problems[0].field.as_deref(),
            Some("tls.key"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_bad_value_or_an_unknown_key_names_the_field() {
        for (text, field) in [
            (
                "[tls]\ncertificate = \"a\"\nkey = \"b\"\nhsts_max_age = -1\n",
                "tls.hsts_max_age",
            ),
            (
                "[tls]\ncertificate = \"a\"\nkey = \"b\"\nhsts = true\n",
                "tls.hsts",
            ),
            (
                "[tls]\ncertificate = \"a\"\nkey = \"b\"\nredirect_port = 65536\n",
                "tls.redirect_port",
            ),
        ] {
            let ConfigError(problems) = parse(text).unwrap_err();
            assert_eq!(problems[0].field.as_deref(), Some(field), "{problems:?}");
            assert_eq!(problems[0].line, Some(4), "{problems:?}");
        }
    }
}
