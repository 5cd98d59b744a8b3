//! TLS for the direct transport: rustls with the webpki roots and the ring provider, as
//! reqwest's `rustls-tls` has it, so no system OpenSSL is needed.

use std::sync::Arc;

use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// A connector that trusts the webpki roots and offers only HTTP/1.1 by ALPN.
pub(crate) fn connector() -> Result<TlsConnector, String> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // An explicit provider: the process-wide default may be unset, or set to another one
    // by some other crate, and rustls panics when it has to guess.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}
