//! Latency of one REQMOD round trip over loopback TCP for a 1 MB upload with a trivial
//! inspector, on a persistent connection; prints p50/p99 next to criterion's figures.
//!
//! Run: `cargo bench --bench icap_latency -- --sample-size 10 --measurement-time 5`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use icap::{InspectionOutcome, Inspector, ServerConfig, Upload};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const BODY_BYTES: usize = 1024 * 1024;
const PREVIEW_BYTES: usize = 4096;

/// Looks at every byte once (so the body is really handed over) and allows.
struct AllowAll;

impl Inspector for AllowAll {
    fn inspect(&self, upload: &Upload) -> InspectionOutcome {
        let total: usize = upload.parts.iter().map(|p| p.data.len()).sum();
        assert_eq!(total, BODY_BYTES);
        InspectionOutcome::Allow
    }
}

fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// (first part up to the preview's end, rest after 100 Continue or empty).
fn request(preview: bool) -> (Vec<u8>, Vec<u8>) {
    let body = vec![b'x'; BODY_BYTES];
    let http = format!(
        "POST http://127.0.0.1:9/upload HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Type: application/octet-stream\r\nContent-Length: {BODY_BYTES}\r\n\r\n"
    );
    let preview_header = if preview {
        format!("Preview: {PREVIEW_BYTES}\r\n")
    } else {
        String::new()
    };
    let mut first = format!(
        "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n{preview_header}Encapsulated: req-hdr=0, req-body={}\r\n\r\n{http}",
        http.len()
    )
    .into_bytes();
    let mut rest = Vec::new();
    if preview {
        chunk(&mut first, &body[..PREVIEW_BYTES]);
        first.extend_from_slice(b"0\r\n\r\n");
        chunk(&mut rest, &body[PREVIEW_BYTES..]);
        rest.extend_from_slice(b"0\r\n\r\n");
    } else {
        chunk(&mut first, &body);
        first.extend_from_slice(b"0\r\n\r\n");
    }
    (first, rest)
}

/// Reads one response head and returns its status code.
async fn read_status(conn: &mut BufReader<TcpStream>) -> u16 {
    let mut line = String::new();
    conn.read_line(&mut line).await.unwrap();
    let status = line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    loop {
        let mut header = String::new();
        conn.read_line(&mut header).await.unwrap();
        if header == "\r\n" || header.is_empty() {
            return status;
        }
    }
}

async fn round_trip(conn: &mut BufReader<TcpStream>, first: &[u8], rest: &[u8]) {
    conn.get_mut().write_all(first).await.unwrap();
    if !rest.is_empty() {
        assert_eq!(read_status(conn).await, 100);
        conn.get_mut().write_all(rest).await.unwrap();
    }
    assert_eq!(read_status(conn).await, 204);
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = ServerConfig {
            preview_bytes: PREVIEW_BYTES,
            ..ServerConfig::default()
        };
        tokio::spawn(icap::serve(listener, Arc::new(AllowAll), config));
        addr
    });
    let mut group = c.benchmark_group("icap_reqmod_1mb");
    group.throughput(Throughput::Bytes(BODY_BYTES as u64));
    for (name, preview) in [("allow204", false), ("preview_100_continue", true)] {
        let (first, rest) = request(preview);
        let samples = Mutex::new(Vec::new());
        let mut conn = runtime.block_on(async {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            BufReader::new(stream)
        });
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let start = Instant::now();
                    runtime.block_on(round_trip(&mut conn, &first, &rest));
                    let took = start.elapsed();
                    samples.lock().unwrap().push(took);
                    total += took;
                }
                total
            })
        });
        let mut sorted = samples.into_inner().unwrap();
        sorted.sort();
        println!(
            "icap_reqmod_1mb/{name}: {} round trips, p50 {:.3} ms, p99 {:.3} ms",
            sorted.len(),
            percentile(&sorted, 0.50).as_secs_f64() * 1e3,
            percentile(&sorted, 0.99).as_secs_f64() * 1e3,
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
