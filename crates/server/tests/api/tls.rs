//! HTTPS with a self-signed certificate.

use super::*;

#[tokio::test]
async fn https_with_a_trusted_self_signed_certificate_and_no_plain_http() {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let (identity, pem) = server::TlsIdentity::self_signed(&names).unwrap();
    let fingerprint = identity.fingerprint_sha256();
    let s = serve_with(false, Some(identity), None).await;
    assert!(s.base.starts_with("https://127.0.0.1:"));
    let trusting = Client::with_root_certificate(&s.base, pem.as_bytes()).unwrap();
    assert_eq!(trusting.health().await.unwrap()["status"], "ok");
    assert_eq!(fingerprint.split(':').count(), 32);
    // A client that does not trust the certificate is refused…
    assert!(matches!(s.client().health().await, Err(ClientError::Http(_))));
    // …and so is plain HTTP on the TLS port.
    let plain = Client::new(&s.base.replace("https://", "http://")).unwrap();
    assert!(plain.health().await.is_err());
    // The server still serves after the bad connections.
    assert_eq!(trusting.health().await.unwrap()["status"], "ok");
}
