//! HTTPS: the API over rustls, from a PEM certificate chain and key, or
//! from a self-signed certificate for trials.
//!
//! Handshakes run in their own tasks with a deadline, so a client that
//! stalls its handshake does not hold up the others.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::AppState;

/// A TLS handshake not finished by then is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections whose handshake finished, waiting for the server to take them.
const ACCEPT_QUEUE: usize = 64;

/// Why a TLS identity could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the certificate file {path}: {problem}; pass a PEM file of the certificate chain")]
    Certificate { path: String, problem: String },
    #[error("cannot read the private key file {path}: {problem}; pass a PEM file with one PKCS#8, PKCS#1 or SEC1 key")]
    Key { path: String, problem: String },
    #[error("the certificate file {0} holds no certificate")]
    NoCertificate(String),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(String),
    #[error("cannot make a self-signed certificate: {0}")]
    SelfSigned(String),
}

/// A certificate chain and its private key.
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for TlsIdentity {
    // The private key never reaches Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("certificates", &self.chain.len())
            .field("sha256", &self.fingerprint_sha256())
            .finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsIdentity, TlsError> {
        let cert_err = |problem: String| TlsError::Certificate {
            path: cert.display().to_string(),
            problem,
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| cert_err(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| cert_err(e.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate(cert.display().to_string()));
        }
        // The error names the file only: a key parser's detail could quote key bytes.
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
            path: key.display().to_string(),
            problem: match e {
                tokio_rustls::rustls::pki_types::pem::Error::NoItemsFound => "no private key in it".into(),
                _ => "it is not a readable PEM private key".into(),
            },
        })?;
        Ok(TlsIdentity { chain, key })
    }

    /// A fresh self-signed certificate for `names` (DNS names or IP
    /// addresses), for trials. Returns it with its PEM, for clients to trust.
    pub fn self_signed(names: &[String]) -> Result<(TlsIdentity, String), TlsError> {
        let made =
            rcgen::generate_simple_self_signed(names.to_vec()).map_err(|e| TlsError::SelfSigned(e.to_string()))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
        let identity = TlsIdentity {
            chain: vec![made.cert.der().clone()],
            key,
        };
        Ok((identity, made.cert.pem()))
    }

    /// The leaf certificate's SHA-256 fingerprint, as colon-separated hex
    /// (what browsers show), for checking a self-signed certificate.
    pub fn fingerprint_sha256(&self) -> String {
        let Some(leaf) = self.chain.first() else {
            return String::new();
        };
        let digest = Sha256::digest(leaf.as_ref());
        digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
    }

    fn acceptor(self) -> Result<TlsAcceptor, TlsError> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(self.chain, self.key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Connections whose TLS handshake finished.
struct TlsListener {
    ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accepting task ended (its listener failed): serve no more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Accepts TCP connections and hands over those whose handshake finishes in time.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: tokio::sync::mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors and the like: pause rather than spin.
                tracing::error!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(error = %e, %peer, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// Serves the API over TLS on `listener` until the listener fails.
pub async fn serve_tls(listener: TcpListener, identity: TlsIdentity, state: AppState) -> std::io::Result<()> {
    let acceptor = identity.acceptor().map_err(std::io::Error::other)?;
    let local = listener.local_addr()?;
    let (tx, rx) = tokio::sync::mpsc::channel(ACCEPT_QUEUE);
    tokio::spawn(accept_loop(listener, acceptor, tx));
    crate::spawn_background(&state);
    // axum gives `ConnectInfo<SocketAddr>` for tapped listeners of any kind;
    // the tap itself does nothing.
    let listener = TlsListener { ready: rx, local }.tap_io(|_| {});
    axum::serve(
        listener,
        crate::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn self_signed_identity_has_a_fingerprint_and_no_key_in_debug() {
        let (identity, pem) = TlsIdentity::self_signed(&["localhost".into()]).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let fp = identity.fingerprint_sha256();
        assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
        assert!(!format!("{identity:?}").contains("key:"));
    }

    #[test]
    fn unreadable_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not pem").unwrap();
        let err = TlsIdentity::from_pem_files(&cert, &dir.path().join("key.pem")).unwrap_err();
        assert!(err.to_string().contains("cert.pem"), "{err}");
    }
}
