//! The crypto every TLS connection of pressfeed uses, outbound or served: ring, named in
//! this one place. It knows nothing of certificates or of what the connections carry.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// ring, named: the crates in the tree bring two providers (object_store brings
/// aws-lc-rs), and with two built in rustls leaves the choice to the program.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
