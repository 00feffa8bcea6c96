//! Scans a generated text corpus on all cores and compares with ripgrep:
//! `cargo run --release --example scan_corpus [customers] [corpus_mib] [threads]`
//! (defaults: 1,000,000 customers, 1024 MiB, all cores).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut config = dlp::bench::ScanBenchConfig::default();
    if let Some(customers) = args.next().and_then(|a| a.parse().ok()) {
        config.customers = customers;
    }
    if let Some(mib) = args.next().and_then(|a| a.parse::<u64>().ok()) {
        config.corpus_bytes = mib << 20;
    }
    if let Some(threads) = args.next().and_then(|a| a.parse().ok()) {
        config.threads = threads;
    }
    let origin = std::time::Instant::now();
    let clock = move || origin.elapsed().as_secs_f64();
    let cpu_clock = || cpu_time::ProcessTime::now().as_duration().as_secs_f64();
    println!("{}", dlp::bench::scan_corpus(&config, &clock, Some(&cpu_clock))?);
    Ok(())
}
