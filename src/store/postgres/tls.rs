//! TLS to the store, as libpq's `sslmode` and `sslrootcert` in the URL ask
//! (`Settings::parse`), with one difference: every mode that takes TLS verifies the
//! server's certificate, chain and host name, `require` too. The store's password and
//! every article go over this connection, and TLS that does not check whom it talks to
//! stops only a reader of the wire, not the man in the middle it is there for. `prefer`,
//! with which libpq takes whatever TLS the server offers, unverified, is plain text here:
//! pressfeed never takes TLS it has not verified.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::SettingsError;

/// What pressfeed makes of libpq's `sslmode`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Tls {
    /// `disable`, `prefer`: plain text.
    Off,
    /// `require`, `verify-ca`, `verify-full`: TLS, the server's certificate verified, chain
    /// and host name (see the module's comment for why `require` and `verify-ca`
    /// check the name too).
    Verified,
}

impl Tls {
    fn of_sslmode(value: &str) -> Result<Tls, SettingsError> {
        match value {
            "disable" | "prefer" => Ok(Tls::Off),
            "require" | "verify-ca" | "verify-full" => Ok(Tls::Verified),
            other => Err(SettingsError::SslMode(other.to_owned())),
        }
    }
}

/// A `postgres://` URL with libpq's `sslmode` and `sslrootcert` taken out of its query:
/// tokio-postgres reads `sslmode` only in part (no `verify-` modes) and refuses
/// `sslrootcert`, so they are read here and the rest is left to it.
pub(super) struct Stripped<'a> {
    pub(super) url: Cow<'a, str>,
    pub(super) tls: Option<Tls>,
    pub(super) root_cert: Option<PathBuf>,
}

impl Stripped<'_> {
    pub(super) fn of(url: &str) -> Result<Stripped<'_>, SettingsError> {
        let untouched = Stripped {
            url: Cow::Borrowed(url),
            tls: None,
            root_cert: None,
        };
        let Some(rest) = ["postgres://", "postgresql://"]
            .iter()
            .find_map(|scheme| url.strip_prefix(scheme))
        else {
            // libpq's `key=value` form, or no PostgreSQL URL: tokio-postgres judges it.
            return Ok(untouched);
        };
        // Where tokio-postgres finds the query: at the first `?` after the credentials,
        // which end at the first `@`.
        let credentials = rest.find('@').map_or(0, |at| at + 1);
        let Some(mark) = rest[credentials..].find('?') else {
            return Ok(untouched);
        };
        let query_at = url.len() - rest.len() + credentials + mark;
        let mut stripped = untouched;
        let mut kept = Vec::new();
        // As libpq, a parameter given twice counts as its last.
        for pair in url[query_at + 1..].split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match &*percent_decode_str(key).decode_utf8_lossy() {
                "sslmode" => {
                    stripped.tls = Some(Tls::of_sslmode(
                        &percent_decode_str(value).decode_utf8_lossy(),
                    )?)
                }
                "sslrootcert" => {
                    let path: Vec<u8> = percent_decode_str(value).collect();
                    stripped.root_cert = Some(PathBuf::from(OsStr::from_bytes(&path)));
                }
                _ => kept.push(pair),
            }
        }
        let base = &url[..query_at];
        stripped.url = if kept.is_empty() {
            Cow::Borrowed(base)
        } else {
            Cow::Owned(format!("{base}?{}", kept.join("&")))
        };
        Ok(stripped)
    }
}

/// The TLS of a store whose `sslmode` takes it: the server's certificate must chain to a
/// Mozilla root (webpki-roots, as the HTTP client's) or to a certificate of the PEM file
/// `root_cert`, a provider's CA bundle, and name the host the URL names.
pub(super) fn verifying(root_cert: Option<&Path>) -> Result<MakeRustlsConnect, SettingsError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = root_cert {
        let invalid = |reason: String| SettingsError::RootCertInvalid {
            path: path.to_owned(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|source| SettingsError::RootCertUnreadable {
            path: path.to_owned(),
            source,
        })?;
        let mut added = 0;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            let certificate = certificate.map_err(|e| invalid(e.to_string()))?;
            roots
                .add(certificate)
                .map_err(|e| invalid(format!("a certificate in it is refused: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(invalid("no PEM certificate in it".to_owned()));
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(crate::crypto::provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
