//! Replays every saved input in `tests/regressions/` (crash inputs found by
//! `cargo fuzz run icap_stream`, see `fuzz/`, and hand-made malformed requests) as one
//! connection's input to the real server: no panic, no hang, and only complete ICAP
//! responses come back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::{parse_responses, MarkerInspector};
use icap::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The settings of the fuzz target, so a saved input replays as it was found.
fn config() -> ServerConfig {
    ServerConfig {
        preview_bytes: 16,
        max_body_bytes: 4096,
        max_header_bytes: 1024,
        idle_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn saved_inputs_get_complete_answers_and_a_closed_stream() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 5, "the regression corpus is missing: {}", dir.display());
    for path in inputs {
        let input = std::fs::read(&path).unwrap();
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let serving = tokio::spawn(async move {
            icap::serve_connection(server, Arc::new(MarkerInspector::default()), &config())
                .await
                .unwrap();
        });
        let _ = client.write_all(&input).await;
        let _ = client.shutdown().await;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut answer)).await;
        assert!(
            read.is_ok(),
            "{}: the server did not close the connection",
            path.display()
        );
        serving
            .await
            .unwrap_or_else(|e| panic!("{}: the server panicked: {e}", path.display()));
        if let Err(e) = parse_responses(&answer) {
            panic!(
                "{}: an incomplete or malformed answer ({e}): {:?}",
                path.display(),
                String::from_utf8_lossy(&answer)
            );
        }
    }
}
