//! Prints scan throughput: `cargo run --release --example throughput [customers] [large_mib]`.

/// Presidio's throughput as quoted in the task brief ("7 MB takes minutes"): 7 MB in
/// about two minutes. An order-of-magnitude reference, not a measurement made here.
const PRESIDIO_MIB_PER_SECOND: f64 = 7.0 / 120.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let customers = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let large_mib = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    // This thread's CPU time: the per-core figure does not depend on other load.
    let clock = || cpu_time::ThreadTime::now().as_duration().as_secs_f64();
    for t in dlp::bench::scan_throughput(customers, large_mib, 3, &clock)? {
        println!(
            "{:<22} {:>9} customers {:>10} bytes/pass {:>8.2} MiB per CPU second  ({:.0}x Presidio's ~{:.2} MiB/s)",
            t.workload,
            t.customers,
            t.bytes,
            t.mib_per_second,
            t.mib_per_second / PRESIDIO_MIB_PER_SECOND,
            PRESIDIO_MIB_PER_SECOND
        );
    }
    Ok(())
}
