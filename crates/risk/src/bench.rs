//! Throughput of end-to-end scoring against bare csv parsing of the same files.

use std::path::Path;
use std::time::Instant;

use crate::cert::{read_cert_dir, CertOptions};
use crate::error::RiskError;
use crate::features::Aggregator;
use crate::score::ScoringConfig;

/// Figures of one [`bench_cert_dir`] run.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Activity rows in the five files.
    pub rows: u64,
    /// Seconds to merely parse them with the csv crate (byte records, no conversion).
    pub parse_seconds: f64,
    /// Seconds to read, aggregate and score them, alerts and reasons included.
    pub score_seconds: f64,
}

impl BenchReport {
    /// Rows per second of bare parsing.
    pub fn parse_rate(&self) -> f64 {
        self.rows as f64 / self.parse_seconds.max(1e-9)
    }

    /// Rows per second end to end.
    pub fn score_rate(&self) -> f64 {
        self.rows as f64 / self.score_seconds.max(1e-9)
    }

    /// End-to-end time over parse time (goal ≤ 3).
    pub fn ratio(&self) -> f64 {
        self.score_seconds / self.parse_seconds.max(1e-9)
    }
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows: csv parse {:.2} s ({:.2} M rows/s), score end-to-end {:.2} s ({:.2} M rows/s), ratio {:.2}x vs csv crate",
            self.rows,
            self.parse_seconds,
            self.parse_rate() / 1e6,
            self.score_seconds,
            self.score_rate() / 1e6,
            self.ratio()
        )
    }
}

/// Times bare csv parsing, then full scoring, of a CERT directory. Benchmarks are the one
/// place this crate reads a clock (a measurement, not a parameter).
pub fn bench_cert_dir(dir: &Path) -> Result<BenchReport, RiskError> {
    let started = Instant::now();
    let mut rows = 0u64;
    for name in ["logon.csv", "device.csv", "file.csv", "email.csv", "http.csv"] {
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_path(&path)
            .map_err(|e| RiskError::Csv {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            rows += 1;
        }
    }
    let parse_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut agg = Aggregator::new(0);
    read_cert_dir(dir, &CertOptions::default(), &mut agg)?;
    let report = agg.score(&ScoringConfig::default());
    let score_seconds = started.elapsed().as_secs_f64();
    std::hint::black_box(report);
    Ok(BenchReport {
        rows,
        parse_seconds,
        score_seconds,
    })
}
