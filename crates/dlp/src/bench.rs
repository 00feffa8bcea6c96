//! Scan throughput measurement, callable from `custodia bench` and the example binary.

use crate::corpus;
use crate::edm::{EdmConfig, EdmIndex, EdmKey};
use crate::fingerprint::{FingerprintConfig, FingerprintIndex};
use crate::policy::{Channel, Employment, Policy, ScanContext};
use crate::{DlpError, Inspector, Limits};

/// Throughput of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Throughput {
    /// What was scanned.
    pub workload: &'static str,
    /// Customers in the index.
    pub customers: usize,
    /// Bytes inspected per pass.
    pub bytes: usize,
    /// Mebibytes per second on one core.
    pub mib_per_second: f64,
}

/// Builds an index of `customers` synthetic customers plus all detectors, then inspects
/// two workloads `passes` times on this thread: the generated corpus (every format,
/// small files) and one large CSV of about `large_mib` MiB. `clock` returns seconds; it is
/// a parameter because library code does not read the wall clock.
pub fn scan_throughput(
    customers: usize,
    large_mib: usize,
    passes: usize,
    clock: &dyn Fn() -> f64,
) -> Result<Vec<Throughput>, DlpError> {
    let corpus = corpus::generate(7, customers, 64, 32);
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([7; 32]), EdmConfig::default());
    for c in &corpus.customers {
        let fields = c.fields();
        let borrowed: Vec<_> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        edm.add(c.id.as_str(), &borrowed, Some(c.country));
    }
    let inspector = Inspector::new(
        edm,
        FingerprintIndex::new(FingerprintConfig::default()),
        Policy::default(),
        Limits::default(),
    )?;
    let context = ScanContext {
        channel: Channel::Upload,
        employment: Employment::Active,
    };
    let mixed: Vec<&[u8]> = corpus.files.iter().map(|f| f.bytes.as_slice()).collect();
    let mut large = Vec::new();
    let csv_files: Vec<&[u8]> = corpus
        .files
        .iter()
        .filter(|f| f.name.ends_with("format-0"))
        .map(|f| f.bytes.as_slice())
        .collect();
    while large.len() < large_mib << 20 && !csv_files.is_empty() {
        for file in &csv_files {
            large.extend_from_slice(file);
        }
    }
    let mut out = Vec::new();
    for (workload, files) in [
        ("corpus, all formats", mixed),
        ("large csv", vec![large.as_slice()]),
    ] {
        let bytes: usize = files.iter().map(|f| f.len()).sum();
        let start = clock();
        for _ in 0..passes.max(1) {
            for file in &files {
                std::hint::black_box(inspector.inspect(file, &context));
            }
        }
        let seconds = (clock() - start).max(1e-9);
        out.push(Throughput {
            workload,
            customers,
            bytes,
            mib_per_second: (bytes * passes.max(1)) as f64 / seconds / (1024.0 * 1024.0),
        });
    }
    Ok(out)
}
