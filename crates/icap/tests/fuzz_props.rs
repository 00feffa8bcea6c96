//! Fuzz-style properties: random and mutated ICAP input never panics the server and
//! always yields complete, well-formed ICAP responses (possibly none) and a closed stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{http_post, multipart, parse_responses, reqmod, MarkerInspector, MARKER};
use icap::{Inspector, ServerConfig};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config() -> ServerConfig {
    ServerConfig {
        preview_bytes: 8,
        max_body_bytes: 512,
        max_header_bytes: 512,
        idle_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    }
}

/// Valid requests that mutations start from.
fn seeds() -> Vec<Vec<u8>> {
    let clean = b"harmless text body".to_vec();
    let mut dirty = b"a,b\n".to_vec();
    dirty.extend_from_slice(MARKER);
    let form = multipart("bnd", "rows.csv", &dirty);
    let response_head = "HTTP/1.1 200 OK\r\n\r\n";
    vec![
        b"OPTIONS icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: x\r\n\r\n".to_vec(),
        reqmod(&http_post("text/plain", clean.len()), &clean, None, true),
        reqmod(&http_post("text/plain", clean.len()), &clean, Some(8), false),
        reqmod(&http_post("text/plain", dirty.len()), &dirty, Some(8), true),
        reqmod(&http_post("multipart/form-data; boundary=bnd", form.len()), &form, Some(8), true),
        format!(
            "RESPMOD icap://127.0.0.1/respmod ICAP/1.0\r\nEncapsulated: res-hdr=0, res-body={}\r\n\r\n{response_head}5\r\nhello\r\n0\r\n\r\n",
            response_head.len()
        )
        .into_bytes(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Duplicate(usize, usize),
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len().max(1);
        match mutation {
            Mutation::Flip(at, value) => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b ^= value | 1;
                }
            }
            Mutation::Truncate(at) => bytes.truncate(at % len),
            Mutation::Insert(at, data) => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, data.iter().copied());
            }
            Mutation::Duplicate(at, n) => {
                let start = (at % len).min(bytes.len());
                let end = (start + n).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        b"\r\n".to_vec(),
        b"0; ieof\r\n\r\n".to_vec(),
        b"ffffffff\r\n".to_vec(),
        b"Preview: 0\r\n".to_vec(),
        b"Encapsulated: req-hdr=0, req-body=5\r\n".to_vec(),
        b";ieof".to_vec(),
        b"\0\xff".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, v)| Mutation::Flip(a, v)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(a, d)| Mutation::Insert(a, d)),
        (any::<usize>(), interesting).prop_map(|(a, d)| Mutation::Insert(a, d)),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
    ]
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (prop::sample::select(seeds()), prop::collection::vec(mutation(), 1..6))
        .prop_map(|(seed, mutations)| apply(seed, &mutations))
}

fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    let tokens = prop::sample::select(vec![
        "REQMOD ",
        "RESPMOD ",
        "OPTIONS ",
        "icap://127.0.0.1/reqmod ",
        "icap://h/respmod ",
        "ICAP/1.0",
        "\r\n",
        "Encapsulated: ",
        "req-hdr=0",
        ", req-body=",
        ", res-hdr=",
        ", null-body=",
        "res-body=",
        "12",
        "0",
        "999999999",
        "Preview: ",
        "Allow: 204",
        "POST / HTTP/1.1",
        "Host: x",
        "5\r\nhello\r\n",
        "0\r\n\r\n",
        "0; ieof\r\n\r\n",
        ":",
        " ",
    ]);
    prop::collection::vec(tokens, 0..40).prop_map(|t| t.concat().into_bytes())
}

/// Feeds `input` to one connection and checks the invariant. With `close_write` false the
/// client keeps its side open, so only the server's idle timeout can end the exchange.
async fn run_case(input: Vec<u8>, close_write: bool) -> Result<(), TestCaseError> {
    let (mut client, server_end) = tokio::io::duplex(8 * 1024);
    let inspector: Arc<dyn Inspector> = Arc::new(MarkerInspector::default());
    let server = tokio::spawn(async move { icap::serve_connection(server_end, inspector, &config()).await });
    let (mut read_half, mut write_half) = tokio::io::split(&mut client);
    let writer = async {
        // The server may stop reading early (error or close): write errors are expected.
        let _ = write_half.write_all(&input).await;
        if close_write {
            let _ = write_half.shutdown().await;
        }
    };
    let mut output = Vec::new();
    let reader = read_half.read_to_end(&mut output);
    let finished = tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(writer, reader) }).await;
    prop_assert!(finished.is_ok(), "connection neither answered nor closed within 10 s");
    let joined = tokio::time::timeout(Duration::from_secs(5), server).await;
    prop_assert!(matches!(joined, Ok(Ok(Ok(())))), "server task failed: {joined:?}");
    let responses = parse_responses(&output);
    prop_assert!(
        responses.is_ok(),
        "malformed output {:?}: {:?}",
        responses.err(),
        String::from_utf8_lossy(&output)
    );
    for response in responses.unwrap_or_default() {
        prop_assert!(response.header("istag").is_some(), "response without ISTag");
    }
    Ok(())
}

fn run(strategy: impl Strategy<Value = Vec<u8>>, cases: u32, close_write: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |input| runtime.block_on(run_case(input, close_write)))
        .unwrap();
}

#[test]
fn random_bytes_never_break_the_server() {
    run(prop::collection::vec(any::<u8>(), 0..1024), 200, true);
}

#[test]
fn mutated_requests_never_break_the_server() {
    run(mutated(), 400, true);
}

#[test]
fn token_soup_never_breaks_the_server() {
    run(token_soup(), 300, true);
}

#[test]
fn stalled_clients_are_closed_by_the_idle_timeout() {
    // Each case waits out the 300 ms idle timeout, so keep the count small.
    run(prop_oneof![mutated(), token_soup()], 12, false);
}
