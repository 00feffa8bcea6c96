//! `custodia bench icap`: time from the first byte of a REQMOD request to the last
//! byte of the verdict, for 1 MiB RFC 5322 emails with attachments sent through the
//! real ICAP server over loopback to the DLP engine (an index of many customers plus
//! every detector), one request at a time, reported as percentiles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Arguments of the ICAP benchmark.
#[derive(clap::Args)]
pub struct IcapBenchArgs {
    /// Customers in the exact-data-match index.
    #[arg(long, default_value_t = 1_000_000)]
    customers: usize,
    /// Requests to time (after a few untimed ones).
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Size of each email in KiB.
    #[arg(long, default_value_t = 1024)]
    kib: usize,
}

pub fn run(args: IcapBenchArgs) -> anyhow::Result<()> {
    let corpus = dlp::corpus::generate(5, args.customers, 0, 0);
    let mut edm = dlp::EdmIndex::new(&dlp::EdmKey::from_bytes([5; 32]), dlp::EdmConfig::default());
    dlp::bench::add_customers(&mut edm, &corpus.customers);
    edm.compact();
    let engine = dlp::Inspector::new(
        edm,
        dlp::FingerprintIndex::new(
            &dlp::FingerprintKey::from_bytes([2; 32]),
            dlp::FingerprintConfig::default(),
        ),
        dlp::Policy::default(),
        dlp::Limits::default(),
    )?;
    // Verdicts are counted, not written to a ledger: this times the ICAP and DLP path.
    let inspector: Arc<dyn icap::Inspector> = Arc::new(icap::DlpInspector::new(Arc::new(engine), |_, _, _, _| Ok(())));
    let emails: Vec<Vec<u8>> = (0..8).map(|i| email(&corpus.customers, i, args.kib << 10)).collect();
    let requests: Vec<Vec<u8>> = emails.iter().map(|e| reqmod(e)).collect();
    outln!(
        "bench icap: {} customers, {} requests of {} KiB RFC 5322 emails (text part and a CSV attachment \
         listing 3 customers among filler rows), one at a time over loopback",
        args.customers,
        args.requests,
        args.kib
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut latencies = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(icap::serve(listener, inspector, icap::ServerConfig::default()));
        let mut latencies = Vec::with_capacity(args.requests);
        let mut blocked = 0usize;
        for i in 0..args.requests + 5 {
            let request = requests.get(i % requests.len()).context("no request")?;
            let start = Instant::now();
            let mut stream = tokio::net::TcpStream::connect(address).await?;
            stream.write_all(request).await?;
            stream.shutdown().await?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await?;
            let took = start.elapsed();
            anyhow::ensure!(
                answer.starts_with(b"ICAP/1.0 200") || answer.starts_with(b"ICAP/1.0 204"),
                "the ICAP server answered {:?}",
                String::from_utf8_lossy(answer.get(..answer.len().min(80)).unwrap_or_default())
            );
            blocked += usize::from(answer.starts_with(b"ICAP/1.0 200"));
            // The first requests warm caches and the allocator.
            if i >= 5 {
                latencies.push(took);
            }
        }
        outln!(
            "  {blocked} of {} answers were blocks (the attachments carry customer rows)",
            args.requests + 5
        );
        anyhow::Ok(latencies)
    })?;
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies.get(index).copied().unwrap_or(Duration::ZERO)
    };
    outln!(
        "  latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal: p99 <= 50 ms)",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(0.99)),
        ms(at(1.0))
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A `size`-byte email: a short text part and a CSV attachment whose rows are filler
/// orders, with three of the index's customers among them.
fn email(customers: &[dlp::corpus::Customer], seed: usize, size: usize) -> Vec<u8> {
    let mut csv = String::from("order,date,item,quantity,amount,contact,email,phone\n");
    let mut row = 0usize;
    let pick = |n: usize| customers.get((seed * 7919 + n * 104_729) % customers.len().max(1));
    while csv.len() < size.saturating_sub(2048) {
        row += 1;
        match pick(row).filter(|_| row % 2000 == 1 && row < 6000) {
            Some(c) => csv.push_str(&format!(
                "{row},2024-05-{:02},leaked,1,0.00,{} {},{},+{} {}\n",
                row % 28 + 1,
                c.first,
                c.last,
                c.email,
                c.calling_code,
                c.national
            )),
            None => csv.push_str(&format!(
                "{row},2024-05-{:02},widget type {},{},{}.{:02},purchasing desk,orders@supplier.example,\n",
                row % 28 + 1,
                row % 97,
                row % 9 + 1,
                row % 500,
                row % 100
            )),
        }
    }
    format!(
        "From: rep@company.example\r\nTo: someone@elsewhere.example\r\nSubject: orders {seed}\r\n\
         Date: Mon, 6 May 2024 10:00:00 +0000\r\nMessage-ID: <{seed}@company.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b{seed}\"\r\n\r\n\
         --b{seed}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe May orders are attached.\r\n\
         --b{seed}\r\nContent-Type: text/csv; name=\"orders.csv\"\r\nContent-Disposition: attachment; \
         filename=\"orders.csv\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{csv}\r\n--b{seed}--\r\n"
    )
    .into_bytes()
}

/// A REQMOD request carrying `body` as the payload of an HTTP upload, without preview.
fn reqmod(body: &[u8]) -> Vec<u8> {
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: files.example\r\nContent-Type: message/rfc822\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut out = format!(
        "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n\
         Encapsulated: req-hdr=0, req-body={}\r\n\r\n{head}",
        head.len()
    )
    .into_bytes();
    out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n0\r\n\r\n");
    out
}
