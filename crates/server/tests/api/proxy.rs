//! A server behind a reverse proxy: the client is the address the trusted
//! proxy names in `X-Forwarded-For`, for policy's trusted network, login
//! throttling and the ledger; from anyone else the header is ignored.
//! The test plays the proxy (it connects from loopback) and writes its
//! requests by hand, since a client has no business writing the header.

use gateway::{AccessContext, Actor, AuditQuery};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// Policy trusts 10.0.0.0/8; the proxy is on loopback.
async fn behind_proxy() -> Server {
    serve_configured(true, None, None, |state| {
        state
            .with_trusted_networks(vec!["10.0.0.0/8".parse().unwrap()])
            .with_trusted_proxies(vec!["127.0.0.1/32".parse().unwrap()])
    })
    .await
}

/// What came back: the status and the session cookie, if one was set.
struct Answer {
    status: u16,
    cookie: Option<String>,
}

/// Sends one request over a new connection, as a proxy would forward it.
async fn forward(
    s: &Server,
    method: &str,
    path: &str,
    forwarded_for: &[&str],
    cookie: Option<&str>,
    body: &serde_json::Value,
) -> Answer {
    let host = s.base.trim_start_matches("http://");
    let body = body.to_string();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for line in forwarded_for {
        request.push_str(&format!("X-Forwarded-For: {line}\r\n"));
    }
    if let Some(cookie) = cookie {
        request.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    request.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    let head = text.split("\r\n\r\n").next().unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let cookie = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie:")
                .then(|| l[11..].trim().to_owned())
        })
        .map(|c| c.split(';').next().unwrap().to_owned());
    Answer { status, cookie }
}

async fn login(s: &Server, person: &str, password: &str, forwarded_for: &[&str]) -> Answer {
    let body = serde_json::json!({"person": person, "password": password});
    forward(s, "POST", "/v1/auth/login", forwarded_for, None, &body).await
}

/// The client addresses the ledger holds for `action`, oldest first.
fn addresses(s: &Server, action: &str) -> Vec<String> {
    let query = AuditQuery {
        action: Some(action.into()),
        ..Default::default()
    };
    let operator = Actor::Operator { name: "test".into() };
    let mut entries = s
        .gateway
        .audit_search(&operator, &AccessContext::default(), &query, 100)
        .unwrap();
    entries.sort_by_key(|e| e.index);
    entries.into_iter().map(|e| e.client.address).collect()
}

#[tokio::test]
async fn exports_are_from_a_trusted_network_when_the_proxy_says_the_client_is_in_one() {
    let s = behind_proxy().await;
    let session = login(&s, "rep-a", PASSWORD, &["10.1.2.3"]).await;
    assert_eq!(session.status, 200);
    let cookie = session.cookie.unwrap();
    let export = serde_json::json!({"format": "csv"});
    // (what the proxy appends, expected status)
    let cases: &[(&[&str], u16)] = &[
        (&["10.1.2.3"], 200),
        // The client wrote a trusted address; the proxy appended the real one.
        (&["10.1.2.3, 203.0.113.9"], 403),
        (&["10.1.2.3", "203.0.113.9"], 403),
        // A chain of trusted proxies before the client.
        (&["10.1.2.3, 127.0.0.1"], 200),
        // The proxy named no client, or one it could not read: never trusted.
        (&[], 403),
        (&["unknown"], 403),
    ];
    for (forwarded_for, status) in cases {
        let answer = forward(&s, "POST", "/v1/exports", forwarded_for, Some(&cookie), &export).await;
        assert_eq!(answer.status, *status, "X-Forwarded-For {forwarded_for:?}");
    }
    let recorded = addresses(&s, "customer.export");
    let expected = [
        "10.1.2.3",
        "203.0.113.9",
        "203.0.113.9",
        "10.1.2.3",
        "127.0.0.1",
        "127.0.0.1",
    ];
    assert_eq!(recorded, expected, "the ledger names the client");
}

#[tokio::test]
async fn the_header_is_ignored_from_a_client_that_is_no_trusted_proxy() {
    // The usual test server: loopback is a trusted network, no proxy is trusted.
    let s = start().await;
    let session = login(&s, "rep-a", PASSWORD, &["203.0.113.9"]).await;
    assert_eq!(session.status, 200);
    let cookie = session.cookie.unwrap();
    let export = serde_json::json!({"format": "csv"});
    let answer = forward(&s, "POST", "/v1/exports", &["203.0.113.9"], Some(&cookie), &export).await;
    assert_eq!(answer.status, 200, "the peer, on loopback, is the client");
    assert_eq!(addresses(&s, "customer.export"), ["127.0.0.1"]);
    let logins = addresses(&s, "auth.login");
    assert!(logins.iter().all(|a| a == "127.0.0.1"), "{logins:?}");
}

#[tokio::test]
async fn one_clients_failed_logins_do_not_lock_out_the_others_behind_the_proxy() {
    let s = behind_proxy().await;
    // Names that are no one's: each is counted once, so only the address's
    // count can stop the guesser.
    let mut throttled = false;
    for n in 0..20 {
        let answer = login(&s, &format!("guess-{n}"), "wrong", &["198.51.100.7"]).await;
        throttled |= answer.status == 429;
    }
    assert!(throttled, "the guessing address is throttled");
    assert_eq!(login(&s, "rep-b", PASSWORD, &["198.51.100.7"]).await.status, 429);
    assert_eq!(login(&s, "rep-a", PASSWORD, &["198.51.100.8"]).await.status, 200);
}
