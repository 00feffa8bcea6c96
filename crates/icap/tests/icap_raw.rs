//! Raw ICAP over TCP against the real server: request bytes in, statuses/headers out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{exchange, http_post, multipart, parse_responses, reqmod, start_server, MarkerInspector, MARKER};
use icap::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const ISTAG: &str = "\"custodia-test\"";

fn config() -> ServerConfig {
    ServerConfig {
        istag: "custodia-test".into(),
        preview_bytes: 16,
        max_body_bytes: 4096,
        max_header_bytes: 2048,
        idle_timeout: Duration::from_millis(500),
        max_connections: 8,
        options_ttl: Duration::from_secs(600),
        ..ServerConfig::default()
    }
}

/// One expected response.
struct Expect {
    status: u16,
    /// (header, substring its value must contain)
    headers: &'static [(&'static str, &'static str)],
    /// Substrings the encapsulated sections + body must contain.
    contains: &'static [&'static str],
}

const fn status(status: u16) -> Expect {
    Expect {
        status,
        headers: &[],
        contains: &[],
    }
}

const BLOCKED: Expect = Expect {
    status: 200,
    headers: &[("encapsulated", "res-hdr=0, res-body=")],
    contains: &["HTTP/1.1 403 Forbidden", "Upload blocked"],
};

/// Sends `request` on a fresh connection and checks every response in order; every
/// response must carry the ISTag and parse completely.
async fn check(addr: SocketAddr, name: &str, request: &[u8], expected: &[Expect]) {
    let raw = exchange(addr, request).await;
    let responses = parse_responses(&raw)
        .unwrap_or_else(|e| panic!("{name}: malformed response ({e}): {:?}", String::from_utf8_lossy(&raw)));
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    let wanted: Vec<u16> = expected.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        wanted,
        "{name}: statuses; raw {:?}",
        String::from_utf8_lossy(&raw)
    );
    for (response, expect) in responses.iter().zip(expected) {
        assert_eq!(response.header("istag"), Some(ISTAG), "{name}: ISTag");
        for (header, needle) in expect.headers {
            let value = response.header(header).unwrap_or_default();
            assert!(value.contains(needle), "{name}: {header}: {value:?} lacks {needle:?}");
        }
        let mut content = response.sections.clone();
        content.extend_from_slice(response.body.as_deref().unwrap_or_default());
        let content = String::from_utf8_lossy(&content);
        for needle in expect.contains {
            assert!(content.contains(needle), "{name}: content lacks {needle:?}: {content}");
        }
    }
}

fn clean_body() -> Vec<u8> {
    b"just a holiday photo caption, nothing else to see here".to_vec()
}

fn dirty_body() -> Vec<u8> {
    let mut body = b"header,line\n".repeat(3);
    body.extend_from_slice(MARKER);
    body
}

#[tokio::test]
async fn options_and_routing() {
    let server = start_server(config()).await;
    let addr = server.addr;
    check(
        addr,
        "options reqmod",
        b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
        &[Expect {
            status: 200,
            headers: &[
                ("methods", "REQMOD"),
                ("preview", "16"),
                ("allow", "204"),
                ("transfer-preview", "*"),
                ("max-connections", "8"),
                ("options-ttl", "600"),
                ("encapsulated", "null-body=0"),
            ],
            contains: &[],
        }],
    )
    .await;
    check(
        addr,
        "options respmod",
        b"OPTIONS icap://127.0.0.1/respmod ICAP/1.0\r\n\r\n",
        &[Expect {
            status: 200,
            headers: &[("methods", "RESPMOD")],
            contains: &[],
        }],
    )
    .await;
    let cases: &[(&str, &[u8], u16)] = &[
        ("unknown service", b"OPTIONS icap://127.0.0.1/nope ICAP/1.0\r\n\r\n", 404),
        ("unknown method", b"BREW icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n", 501),
        ("other version", b"OPTIONS icap://127.0.0.1/reqmod ICAP/2.0\r\n\r\n", 505),
        ("http version", b"OPTIONS icap://127.0.0.1/reqmod HTTP/1.1\r\n\r\n", 400),
        (
            "respmod on reqmod service",
            b"RESPMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nEncapsulated: res-hdr=0, null-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
            405,
        ),
        ("bad header line", b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nNo colon here\r\n\r\n", 400),
        ("bare LF request line", b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\n\r\n", 400),
        ("missing uri", b"OPTIONS ICAP/1.0\r\n\r\n", 400),
        ("truncated head", b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: x", 400),
    ];
    for (name, request, code) in cases {
        check(addr, name, request, &[status(*code)]).await;
    }
    // A client asking to close gets one answer, marked, and the second request is unread.
    check(
        addr,
        "connection close",
        b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nConnection: close\r\n\r\nOPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n",
        &[Expect {
            status: 200,
            headers: &[("connection", "close"), ("methods", "REQMOD")],
            contains: &[],
        }],
    )
    .await;
}

#[tokio::test]
async fn reqmod_decisions() {
    let server = start_server(config()).await;
    let addr = server.addr;
    let clean = clean_body();
    let dirty = dirty_body();
    let head = |body: &[u8]| http_post("text/plain", body.len());

    check(
        addr,
        "clean, allow 204",
        &reqmod(&head(&clean), &clean, None, true),
        &[status(204)],
    )
    .await;
    check(
        addr,
        "dirty, no preview",
        &reqmod(&head(&dirty), &dirty, None, true),
        &[BLOCKED],
    )
    .await;
    check(
        addr,
        "block reason is escaped",
        &reqmod(&head(&dirty), &dirty, None, true),
        &[Expect {
            contains: &["customer records found in &lt;the request body&gt;"],
            ..BLOCKED
        }],
    )
    .await;
    let tiny = b"tiny".to_vec();
    check(
        addr,
        "complete preview, clean",
        &reqmod(&head(&tiny), &tiny, Some(16), true),
        &[status(204)],
    )
    .await;
    check(
        addr,
        "preview then rest, clean",
        &reqmod(&head(&clean), &clean, Some(16), true),
        &[status(100), status(204)],
    )
    .await;
    check(
        addr,
        "preview then rest, dirty",
        &reqmod(&head(&dirty), &dirty, Some(16), true),
        &[status(100), BLOCKED],
    )
    .await;
    check(
        addr,
        "zero preview",
        &reqmod(&head(&dirty), &dirty, Some(0), true),
        &[status(100), BLOCKED],
    )
    .await;
    check(
        addr,
        "clean, no allow 204: echoed",
        &reqmod(&head(&clean), &clean, None, false),
        &[Expect {
            status: 200,
            headers: &[("encapsulated", "req-hdr=0, req-body=")],
            contains: &["POST http://127.0.0.1:9/upload", "holiday photo caption"],
        }],
    )
    .await;
    let get = "GET http://127.0.0.1:9/x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n";
    let null_body = format!(
        "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nEncapsulated: req-hdr=0, null-body={}\r\n\r\n{get}",
        get.len()
    );
    check(
        addr,
        "null body, echoed",
        null_body.as_bytes(),
        &[Expect {
            status: 200,
            headers: &[("encapsulated", "null-body=")],
            contains: &["GET http://127.0.0.1:9/x"],
        }],
    )
    .await;
    let panicky = common::PANIC_TRIGGER.to_vec();
    check(
        addr,
        "inspector panic fails closed",
        &reqmod(&head(&panicky), &panicky, None, true),
        &[BLOCKED],
    )
    .await;

    // Persistent connection: three requests, three responses, in order.
    let mut pipeline = reqmod(&head(&clean), &clean, None, true);
    pipeline.extend(reqmod(&head(&dirty), &dirty, Some(16), true));
    pipeline.extend_from_slice(b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n");
    check(
        addr,
        "persistent",
        &pipeline,
        &[status(204), status(100), BLOCKED, status(200)],
    )
    .await;

    let seen = server.inspector.seen.lock().unwrap().clone();
    let first = seen.first().unwrap();
    assert_eq!(first.method, "POST");
    assert_eq!(first.url, "http://127.0.0.1:9/upload");
    assert!(first.header_names.contains(&"content-type".to_string()));
    assert!(
        !first.header_names.contains(&"cookie".to_string()),
        "credentials must be removed"
    );
}

#[tokio::test]
async fn multipart_uploads_are_split() {
    let server = start_server(config()).await;
    let addr = server.addr;
    let content_type = "multipart/form-data; boundary=----b0undary";
    let clean = multipart("----b0undary", "holiday.csv", b"a,b\n1,2\n");
    let dirty = multipart("----b0undary", "export.csv", &dirty_body());
    check(
        addr,
        "multipart clean",
        &reqmod(&http_post(content_type, clean.len()), &clean, Some(16), true),
        &[status(100), status(204)],
    )
    .await;
    check(
        addr,
        "multipart dirty",
        &reqmod(&http_post(content_type, dirty.len()), &dirty, Some(16), true),
        &[
            status(100),
            Expect {
                contains: &["customer records found in &lt;export.csv&gt;"],
                ..BLOCKED
            },
        ],
    )
    .await;
    let broken = b"------b0undary\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nno closing boundary".to_vec();
    check(
        addr,
        "malformed multipart fails closed",
        &reqmod(&http_post(content_type, broken.len()), &broken, None, true),
        &[Expect {
            contains: &["multipart upload is malformed"],
            ..BLOCKED
        }],
    )
    .await;
    let seen = server.inspector.seen.lock().unwrap().clone();
    let parts = seen.first().unwrap().fields();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[0].field_name.as_deref(), Some("note"));
    assert_eq!(parts[1].filename.as_deref(), Some("holiday.csv"));
    assert_eq!(parts[1].content_type.as_deref(), Some("text/csv"));
    assert_eq!(parts[1].len, 8);
}

#[tokio::test]
async fn malformed_bodies_and_limits() {
    let server = start_server(config()).await;
    let addr = server.addr;
    let head = http_post("text/plain", 5);
    let prefix = |extra: &str| {
        format!(
            "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nAllow: 204\r\n{extra}Encapsulated: req-hdr=0, req-body={}\r\n\r\n{head}",
            head.len()
        )
    };
    let with_body = |body: &str| format!("{}{body}", prefix("")).into_bytes();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("non-hex chunk size", with_body("zz\r\nhello\r\n0\r\n\r\n"), 400),
        ("chunk size too small", with_body("3\r\nhello\r\n0\r\n\r\n"), 400),
        (
            "chunk size too large, truncated",
            with_body("50\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        ("negative chunk size", with_body("-5\r\nhello\r\n0\r\n\r\n"), 400),
        ("huge chunk size", with_body("fffffffffffffffffff\r\nhello\r\n"), 400),
        ("ieof on data chunk", with_body("5; ieof\r\nhello\r\n0\r\n\r\n"), 400),
        (
            "trailer after last chunk",
            with_body("5\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"),
            204,
        ),
        (
            "no header field after last chunk",
            with_body("5\r\nhello\r\n0\r\nnot a field\r\n\r\n"),
            400,
        ),
        ("bare LF after last chunk", with_body("5\r\nhello\r\n0\r\n\n"), 400),
        (
            "trailers too long",
            with_body(&format!("5\r\nhello\r\n0\r\n{}\r\n", "X-T: 1234567890\r\n".repeat(300))),
            400,
        ),
        (
            "chunk line without CRLF",
            with_body(&format!("{}\r\n", "5".repeat(2000))),
            400,
        ),
        ("truncated body", with_body("5\r\nhel"), 400),
        ("truncated before last chunk", with_body("5\r\nhello\r\n"), 400),
        (
            "missing Encapsulated",
            b"REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n".to_vec(),
            400,
        ),
        (
            "duplicate Encapsulated",
            format!(
                "{}5\r\nhello\r\n0\r\n\r\n",
                prefix(&format!("Encapsulated: req-hdr=0, req-body={}\r\n", head.len()))
            )
            .into_bytes(),
            400,
        ),
        (
            "offset shorter than HTTP head",
            format!(
                "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nEncapsulated: req-hdr=0, req-body=20\r\n\r\n{head}0\r\n\r\n"
            )
            .into_bytes(),
            400,
        ),
        (
            "offset past the limit",
            b"REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nEncapsulated: req-hdr=0, req-body=999999\r\n\r\n".to_vec(),
            400,
        ),
        (
            "garbage HTTP head",
            b"REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nEncapsulated: req-hdr=0, null-body=12\r\n\r\nnot http\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            "bad Preview",
            format!("{}5\r\nhello\r\n0\r\n\r\n", prefix("Preview: lots\r\n")).into_bytes(),
            400,
        ),
        (
            "preview longer than announced",
            format!("{}5\r\nhello\r\n0\r\n\r\n", prefix("Preview: 2\r\n")).into_bytes(),
            400,
        ),
        (
            "ICAP head over the limit",
            format!(
                "OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nX-Pad: {}\r\n\r\n",
                "a".repeat(4000)
            )
            .into_bytes(),
            400,
        ),
    ];
    for (name, request, code) in &cases {
        check(addr, name, request, &[status(*code)]).await;
    }

    // Over max_body_bytes (4096): blocked with a reason, connection stays usable.
    let big = vec![b'a'; 6000];
    let mut request = reqmod(&http_post("text/plain", big.len()), &big, Some(16), true);
    request.extend_from_slice(b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n");
    check(
        addr,
        "oversized body",
        &request,
        &[
            status(100),
            Expect {
                contains: &["larger than 4096 bytes"],
                ..BLOCKED
            },
            status(200),
        ],
    )
    .await;
    // Far over (more than 4x): blocked without reading to the end, then closed.
    let huge = vec![b'a'; 20_000];
    let mut request = reqmod(&http_post("text/plain", huge.len()), &huge, None, true);
    request.extend_from_slice(b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n");
    check(
        addr,
        "far oversized body",
        &request,
        &[Expect {
            headers: &[("encapsulated", "res-hdr=0, res-body="), ("connection", "close")],
            contains: &["larger than 4096 bytes"],
            ..BLOCKED
        }],
    )
    .await;
}

#[tokio::test]
async fn respmod_passes_through() {
    let server = start_server(config()).await;
    let response_head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
    let request = |allow: &str, preview: &str, body: &str| {
        format!(
            "RESPMOD icap://127.0.0.1/respmod ICAP/1.0\r\n{allow}{preview}Encapsulated: res-hdr=0, res-body={}\r\n\r\n{response_head}{body}",
            response_head.len()
        )
        .into_bytes()
    };
    let body = "5\r\nhello\r\n0\r\n\r\n";
    check(
        server.addr,
        "respmod preview",
        &request("", "Preview: 0\r\n", "0\r\n\r\n"),
        &[status(204)],
    )
    .await;
    check(
        server.addr,
        "respmod allow 204",
        &request("Allow: 204\r\n", "", body),
        &[status(204)],
    )
    .await;
    check(
        server.addr,
        "respmod echo",
        &request("", "", body),
        &[Expect {
            status: 200,
            headers: &[("encapsulated", "res-hdr=0, res-body=")],
            contains: &["HTTP/1.1 200 OK", "hello"],
        }],
    )
    .await;
    let big = "a".repeat(5000);
    let big_body = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    check(
        server.addr,
        "respmod too large to echo",
        &request("", "", &big_body),
        &[Expect {
            status: 500,
            headers: &[("connection", "close")],
            contains: &[],
        }],
    )
    .await;
    assert!(server.inspector.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn idle_and_connection_limits() {
    let server = start_server(ServerConfig {
        max_connections: 1,
        ..config()
    })
    .await;
    // Stalled mid-request: 408 after the idle timeout (500 ms), then closed.
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n")
        .await
        .unwrap();
    // While it holds the only slot, another connection is turned away with 503.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let overloaded = exchange(server.addr, b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n").await;
    let statuses: Vec<u16> = parse_responses(&overloaded).unwrap().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![503]);
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let statuses: Vec<u16> = parse_responses(&out).unwrap().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![408]);
    // Closing our side ends the server's drain and frees the slot.
    drop(stalled);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Idle between requests: closed silently; the slot is free again afterwards.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert!(out.is_empty());
    check(
        server.addr,
        "slot freed",
        b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n",
        &[status(200)],
    )
    .await;
}

/// Reads from `stream` until one whole ICAP head (ending in an empty line) came in.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n\r\n") {
        let read = stream.read(&mut byte).await.unwrap();
        assert_eq!(
            read,
            1,
            "closed before a whole head: {:?}",
            String::from_utf8_lossy(&out)
        );
        out.push(byte[0]);
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_request_trickled_in_is_cut_off_at_its_deadline() {
    let config = ServerConfig {
        idle_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(120),
        ..config()
    };
    let (client, server_side) = tokio::io::duplex(64 * 1024);
    let inspector = Arc::new(MarkerInspector::default());
    tokio::spawn(async move { icap::serve_connection(server_side, inspector, &config).await });
    let (mut from_server, mut to_server) = tokio::io::split(client);
    // One byte every 29 s, each under the idle timeout: the whole head would take 29 min.
    let head = b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    let started = Instant::now();
    tokio::spawn(async move {
        for byte in head {
            if to_server.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(29)).await;
        }
    });
    let answer = read_head(&mut from_server).await;
    let elapsed = started.elapsed();
    assert!(answer.starts_with("ICAP/1.0 408 "), "{answer}");
    assert!(answer.contains("Connection: close"), "{answer}");
    assert!(
        elapsed >= Duration::from_secs(120) && elapsed < Duration::from_secs(121),
        "answered after {elapsed:?}"
    );
    // The connection is closed, not kept for the rest of the trickle.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), from_server.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn keep_alive_waits_are_bounded_by_the_idle_timeout_alone() {
    let config = ServerConfig {
        idle_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(60),
        ..config()
    };
    let (mut client, server_side) = tokio::io::duplex(64 * 1024);
    let inspector = Arc::new(MarkerInspector::default());
    tokio::spawn(async move { icap::serve_connection(server_side, inspector, &config).await });
    // Five requests 29 s apart: the connection lives well past the request timeout.
    for _ in 0..5 {
        client
            .write_all(b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n")
            .await
            .unwrap();
        let answer = read_head(&mut client).await;
        assert!(answer.starts_with("ICAP/1.0 200 "), "{answer}");
        tokio::time::sleep(Duration::from_secs(29)).await;
    }
    // A request that starts late still has its whole deadline: half of it, trickled.
    let started = Instant::now();
    for byte in b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n".chunks(16) {
        client.write_all(byte).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let answer = read_head(&mut client).await;
    assert!(answer.starts_with("ICAP/1.0 200 "), "{answer}");
    assert!(started.elapsed() >= Duration::from_secs(30));
}

#[tokio::test]
async fn a_trickled_request_frees_its_connection_slot() {
    let server = start_server(ServerConfig {
        max_connections: 1,
        idle_timeout: Duration::from_millis(400),
        request_timeout: Duration::from_millis(1500),
        ..config()
    })
    .await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    let started = std::time::Instant::now();
    let head = b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nX-Pad: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut answer = Vec::new();
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        let mut buf = [0u8; 1024];
        if let Ok(Ok(read)) = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await {
            answer.extend_from_slice(&buf[..read]);
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
    let elapsed = started.elapsed();
    let statuses: Vec<u16> = parse_responses(&answer).unwrap().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![408], "after {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(1400), "cut off after {elapsed:?}");
    drop(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    check(
        server.addr,
        "slot freed after the deadline",
        b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\n\r\n",
        &[status(200)],
    )
    .await;
}

/// A server whose buffer budget (128 KiB) holds one 90 KiB body but not two bodies.
fn small_budget() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 100 * 1024,
        decoding_limits: dlp::Limits {
            max_expanded_bytes: 28 * 1024,
            ..dlp::Limits::default()
        },
        max_buffered_bytes: 128 * 1024,
        buffer_wait: Duration::from_millis(600),
        idle_timeout: Duration::from_secs(5),
        ..config()
    }
}

/// A clean upload of `len` bytes, without preview, whose last 5 bytes are its last chunk.
fn clean_upload(len: usize) -> Vec<u8> {
    let body = vec![b'a'; len];
    reqmod(&http_post("text/plain", body.len()), &body, None, true)
}

/// Opens a connection and sends all of `request` but its last chunk: the server has
/// read (and reserved) the whole body and waits for the end.
async fn hold_body(addr: SocketAddr, request: &[u8]) -> TcpStream {
    let (all_but_end, end) = request.split_at(request.len() - 5);
    assert_eq!(end, b"0\r\n\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(all_but_end).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream
}

fn statuses_of(raw: &[u8]) -> Vec<u16> {
    parse_responses(raw).unwrap().iter().map(|r| r.status).collect()
}

#[tokio::test]
async fn the_buffer_budget_is_shared_waited_for_and_given_back() {
    let server = start_server(small_budget()).await;
    let addr = server.addr;
    let held = clean_upload(90 * 1024);
    let second = clean_upload(40 * 1024);

    // The first holds 90 KiB: the second waits its 600 ms, then is refused (fail closed).
    let mut first = hold_body(addr, &held).await;
    let started = std::time::Instant::now();
    let refused = exchange(addr, &second).await;
    let elapsed = started.elapsed();
    let responses = parse_responses(&refused).unwrap();
    assert_eq!(statuses_of(&refused), vec![503]);
    assert_eq!(responses[0].header("connection"), Some("close"));
    assert!(
        responses[0]
            .header("x-icap-error")
            .unwrap_or_default()
            .contains("max_buffered_bytes"),
        "{responses:?}"
    );
    assert!(elapsed >= Duration::from_millis(550), "refused after {elapsed:?}");

    // The first finishes while the second waits: the second gets the budget and passes.
    let waiting = tokio::spawn(async move { exchange(addr, &second).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    first.write_all(b"0\r\n\r\n").await.unwrap();
    let answer = read_head(&mut first).await;
    assert!(answer.starts_with("ICAP/1.0 204 "), "{answer}");
    assert_eq!(statuses_of(&waiting.await.unwrap()), vec![204]);

    // The first connection stays open and holds nothing now: a third fits.
    check(addr, "third after the first ended", &held, &[status(204)]).await;

    // A connection dropped in the middle of its body gives its reservation back too.
    let dropped = hold_body(addr, &held).await;
    drop(dropped);
    tokio::time::sleep(Duration::from_millis(200)).await;
    check(addr, "after a dropped upload", &held, &[status(204)]).await;
    drop(first);
    assert_eq!(server.inspector.seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn undoing_a_content_coding_takes_buffer_budget_too() {
    use flate2::write::GzEncoder;
    use std::io::Write;

    // 96 KiB of budget: one 32 KiB body, and what one body may expand to (64 KiB).
    let server = start_server(ServerConfig {
        max_body_bytes: 32 * 1024,
        decoding_limits: dlp::Limits {
            max_expanded_bytes: 64 * 1024,
            ..dlp::Limits::default()
        },
        max_buffered_bytes: 96 * 1024,
        buffer_wait: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(5),
        ..config()
    })
    .await;
    let addr = server.addr;
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&vec![b'a'; 20 * 1024]).unwrap();
    let gzipped = encoder.finish().unwrap();
    let head = http_post("text/plain", gzipped.len()).replace("\r\n\r\n", "\r\nContent-Encoding: gzip\r\n\r\n");
    let compressed = reqmod(&head, &gzipped, None, true);
    let plain = clean_upload(30 * 1024);

    // Alone, the compressed upload is decoded and passes.
    check(addr, "gzip alone", &compressed, &[status(204)]).await;
    // With 30 KiB held, another plain body fits, but not room to decode (64 KiB).
    let holder = hold_body(addr, &plain).await;
    check(addr, "plain beside a held body", &plain, &[status(204)]).await;
    check(addr, "gzip beside a held body", &compressed, &[status(503)]).await;
    drop(holder);
    tokio::time::sleep(Duration::from_millis(200)).await;
    check(addr, "gzip after the holder left", &compressed, &[status(204)]).await;
    let seen = server.inspector.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|upload| upload.unreadable.is_none()), "{seen:?}");
}

#[test]
fn buffer_budget_config_is_checked() {
    assert!(small_budget().validate().is_ok());
    for bad in [
        ServerConfig {
            max_buffered_bytes: 100 * 1024,
            ..small_budget()
        },
        ServerConfig {
            max_buffered_bytes: 0,
            ..small_budget()
        },
        ServerConfig {
            max_body_bytes: 200 * 1024,
            ..small_budget()
        },
        ServerConfig {
            request_timeout: Duration::from_secs(1),
            ..small_budget()
        },
    ] {
        assert!(
            matches!(bad.validate(), Err(icap::ConfigError::BadLimit { .. })),
            "accepted {bad:?}"
        );
    }
}

#[tokio::test]
async fn only_the_proxys_network_may_connect() {
    let options = b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: x\r\n\r\n";
    // By default, loopback: the proxy on the same machine is answered.
    let local = start_server(ServerConfig::default()).await;
    let answer = exchange(local.addr, options).await;
    assert!(
        answer.starts_with(b"ICAP/1.0 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // A server for the proxy at 10.1.2.3 disconnects this client unanswered, and
    // never inspects (or records) what it sends.
    let remote = start_server(ServerConfig {
        allowed_clients: vec!["10.1.2.3/32".parse().unwrap()],
        ..ServerConfig::default()
    })
    .await;
    let upload = reqmod(&http_post("text/plain", MARKER.len()), MARKER, None, true);
    for request in [options.as_slice(), upload.as_slice()] {
        assert!(exchange(remote.addr, request).await.is_empty());
    }
    assert!(remote.inspector.seen.lock().unwrap().is_empty());
    let config = ServerConfig::default();
    assert!(config.allows("::ffff:127.0.0.1".parse().unwrap()));
    assert!(!config.allows("10.1.2.3".parse().unwrap()));
    let nobody = ServerConfig {
        allowed_clients: vec![],
        ..ServerConfig::default()
    };
    assert!(nobody.validate().is_err());
}
