//! HTTPS on the listener: rustls with the certificate and key files of `[tls]`, HTTP/2 or
//! HTTP/1.1 as the client's ALPN asks. The files are read again whenever they change
//! (certbot and cert-manager replace them while the server runs, usually by renaming new
//! files into place), and a pair that loads is offered to every new connection from then
//! on; open connections keep the certificate they began with. A pair that does not load
//! (half-written, a key of another certificate) leaves the pair before served and says why
//! in the log and in `/metrics`. Not here: the handshake's place in a connection's life
//! (`server`) and the plain-HTTP redirect (`redirect`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::TimeDelta;
use http::HeaderValue;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config;
use crate::metrics::Metrics;

/// How often the files are looked at. A renewal lands weeks before the old certificate
/// expires, so a few seconds late costs nothing; reading two small files this often
/// costs nothing either.
const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// Why a certificate and key pair did not load.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file holds no PEM section of the kind asked for, or a damaged one.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: String,
        /// What is missing or wrong.
        message: String,
    },
    /// The key is not one rustls can sign with, or not the certificate's.
    #[error("{key} does not fit {certificate}: {source}")]
    Key {
        /// The certificate file.
        certificate: String,
        /// The key file.
        key: String,
        /// What rustls said.
        source: rustls::Error,
    },
}

/// HTTPS for one listener: the acceptor its connections are handshaken by, the HSTS
/// header its responses carry, and the reloading of its files.
pub struct Tls {
    acceptor: TlsAcceptor,
    hsts: Option<HeaderValue>,
    certificates: Arc<Certificates>,
    /// The files as `load` read them: what the first look compares with.
    loaded: Read,
}

impl Tls {
    /// Loads the pair `settings` names; the server does not start without one that loads.
    pub fn load(settings: &config::Tls) -> Result<Tls, TlsError> {
        let provider = crate::crypto::provider();
        let files = Files {
            certificate: settings.certificate.clone(),
            key: settings.key.clone(),
        };
        let read = files.read()?;
        let first = read.certified_key(&files, &provider)?;
        let certificates = Arc::new(Certificates {
            served: ArcSwap::from_pointee(first),
            files,
            provider: provider.clone(),
        });
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring's provider has the cipher suites of TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(certificates.clone());
        // h2 first: a client that speaks both gets one connection for all its requests.
        server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let hsts = settings.hsts_max_age.map(|seconds| {
            HeaderValue::from_str(&format!("max-age={seconds}")).expect("digits are a header")
        });
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            hsts,
            certificates,
            loaded: read,
        })
    }

    pub(super) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// The `Strict-Transport-Security` value, when HSTS is on.
    pub(super) fn hsts(&self) -> Option<HeaderValue> {
        self.hsts.clone()
    }

    /// Looks at the files every `RELOAD_EVERY` of `clock` and serves a changed pair that
    /// loads, until the task is aborted. The first look compares with the files `load` read,
    /// so a change made since is not missed.
    pub fn watch(&self, clock: Clock, metrics: Arc<Metrics>) -> JoinHandle<()> {
        let certificates = self.certificates.clone();
        let loaded = self.loaded.clone();
        let every = TimeDelta::from_std(RELOAD_EVERY).expect("a few seconds");
        tokio::spawn(async move {
            let mut seen = Some(loaded);
            loop {
                clock.sleep_until(clock.now() + every).await;
                let certificates = certificates.clone();
                let looked = tokio::task::spawn_blocking(move || {
                    let read = certificates.files.read();
                    (certificates, read)
                })
                .await;
                let Ok((certificates, read)) = looked else {
                    continue;
                };
                // Unchanged, or changed to what was refused last time: nothing new to say.
                let read = match read {
                    Ok(read) if Some(&read) == seen.as_ref() => continue,
                    Ok(read) => read,
                    Err(e) => {
                        // Between a rename out and one in, a file may be missing for a
                        // moment; told once, and the pair is read again when it is back.
                        if seen.take().is_some() {
                            warn!(error = %e, "TLS files unreadable; the certificate served before stays");
                            metrics.tls_reload_failures.inc();
                        }
                        continue;
                    }
                };
                match read.certified_key(&certificates.files, &certificates.provider) {
                    Ok(key) => {
                        certificates.served.store(Arc::new(key));
                        metrics.tls_reloads.inc();
                        info!(
                            certificate = %certificates.files.certificate.display(),
                            "TLS certificate reloaded; new connections get it"
                        );
                    }
                    Err(e) => {
                        metrics.tls_reload_failures.inc();
                        warn!(error = %e, "TLS files changed but do not load; the certificate served before stays");
                    }
                }
                seen = Some(read);
            }
        })
    }
}

/// Where the pair is.
#[derive(Debug)]
struct Files {
    certificate: PathBuf,
    key: PathBuf,
}

/// The two files' bytes as read at one look.
#[derive(Clone, PartialEq)]
struct Read {
    certificate: Vec<u8>,
    key: Vec<u8>,
}

impl Files {
    fn read(&self) -> Result<Read, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        Ok(Read {
            certificate: read(&self.certificate)?,
            key: read(&self.key)?,
        })
    }
}

impl Read {
    /// The pair parsed, its key checked against the certificate's public key: a key of
    /// another certificate would fail every handshake.
    fn certified_key(
        &self,
        files: &Files,
        provider: &CryptoProvider,
    ) -> Result<CertifiedKey, TlsError> {
        let pem = |path: &Path, message: String| TlsError::Pem {
            path: path.display().to_string(),
            message,
        };
        let chain = CertificateDer::pem_slice_iter(&self.certificate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem(&files.certificate, format!("not PEM certificates: {e}")))?;
        if chain.is_empty() {
            return Err(pem(
                &files.certificate,
                "no CERTIFICATE section in it".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key)
            .map_err(|e| pem(&files.key, format!("no private key in it: {e}")))?;
        CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Key {
            certificate: files.certificate.display().to_string(),
            key: files.key.display().to_string(),
            source,
        })
    }
}

/// The pair handed to each new handshake: swapped whole, so a handshake gets the old
/// pair or the new one, never a certificate with the other's key.
#[derive(Debug)]
struct Certificates {
    served: ArcSwap<CertifiedKey>,
    files: Files,
    provider: Arc<CryptoProvider>,
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.served.load_full())
    }
}
