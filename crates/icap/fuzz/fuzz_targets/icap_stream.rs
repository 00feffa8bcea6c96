//! Any bytes as one ICAP connection's input, through the real server: it must never
//! panic or hang, and whatever it answers must be complete ICAP responses. Crash
//! inputs go to `tests/regressions/`, which `tests/regressions.rs` replays in CI.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use icap::{InspectionOutcome, Inspector, ServerConfig, Upload};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Blocks uploads that carry the word `block` anywhere, so both answers are reached.
struct WordInspector;

impl Inspector for WordInspector {
    fn inspect(&self, upload: &Upload) -> InspectionOutcome {
        if upload
            .parts
            .iter()
            .any(|part| part.data.windows(5).any(|w| w == b"block"))
        {
            InspectionOutcome::Block {
                reason: "blocked".into(),
            }
        } else {
            InspectionOutcome::Allow
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
    else {
        return;
    };
    let config = ServerConfig {
        preview_bytes: 16,
        max_body_bytes: 4096,
        max_header_bytes: 1024,
        idle_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    runtime.block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let serving = tokio::spawn(async move {
            let _ = icap::serve_connection(server, Arc::new(WordInspector), &config).await;
        });
        let _ = client.write_all(data).await;
        let _ = client.shutdown().await;
        let mut answer = Vec::new();
        // Paused time: the idle timeouts pass at once, so a stalled parse ends too.
        let read = tokio::time::timeout(Duration::from_secs(60), client.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "the server did not close the connection");
        let _ = serving.await;
        if !answer.is_empty() {
            assert!(
                answer.starts_with(b"ICAP/1.0 "),
                "{:?}",
                String::from_utf8_lossy(&answer)
            );
        }
    });
});
