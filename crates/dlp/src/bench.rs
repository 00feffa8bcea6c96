//! Scan throughput measurement, callable from `custodia bench` and the example binaries:
//! [`scan_throughput`] (one core, in memory) and [`scan_corpus`] (files on disk, all cores,
//! index build time and size, and the time ratio to ripgrep on the same files).

use std::path::PathBuf;

use crate::corpus;
use crate::edm::{EdmConfig, EdmIndex, EdmKey, NewCustomer};
use crate::fingerprint::{FingerprintConfig, FingerprintIndex, FingerprintKey};
use crate::policy::{Channel, Employment, Policy, ScanContext};
use crate::{scan_paths, DlpError, Inspector, Limits};

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
    add_customers(&mut edm, &corpus.customers);
    let inspector = Inspector::new(
        edm,
        FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default()),
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
    for (workload, files) in [("corpus, all formats", mixed), ("large csv", vec![large.as_slice()])] {
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

/// Settings of [`scan_corpus`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScanBenchConfig {
    /// Customers in the EDM index.
    pub customers: usize,
    /// Approximate size of the generated text corpus in bytes.
    pub corpus_bytes: u64,
    /// Scanning threads; 0 means all cores.
    pub threads: usize,
    /// Directory for the corpus; a fresh temporary directory (removed after) when None.
    pub dir: Option<PathBuf>,
    /// Also time ripgrep (`rg` on PATH) over the same files with the detector regexes.
    pub ripgrep: bool,
    /// Only build the index (time and size): no corpus, no scan.
    pub index_only: bool,
    /// Share of the corpus's bytes that are labelled documents (customer tables and
    /// prose leaking customers, and their look-alike negatives); the rest is ordinary
    /// business text ([`corpus::ordinary_documents`]). 1.0 scans leaks only.
    pub leak_share: f64,
}

impl Default for ScanBenchConfig {
    fn default() -> Self {
        Self {
            customers: 1_000_000,
            corpus_bytes: 1 << 30,
            threads: 0,
            dir: None,
            ripgrep: true,
            index_only: false,
            leak_share: 0.1,
        }
    }
}

/// Ripgrep's run over the same corpus.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RipgrepRun {
    /// Wall seconds, process start to exit.
    pub seconds: f64,
    /// Lines with a match, summed over files (`rg -c`).
    pub matching_lines: u64,
}

/// Figures of one [`scan_corpus`] run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScanBenchReport {
    /// Customers indexed.
    pub customers: usize,
    /// Seconds to build the index (including hashing every field).
    pub index_build_seconds: f64,
    /// CPU seconds of that build, when a CPU clock was given (the build is one thread).
    pub index_build_cpu_seconds: Option<f64>,
    /// Approximate heap bytes of the index ([`EdmIndex::memory_bytes`]).
    pub index_bytes: usize,
    /// Share of the corpus's bytes that are labelled documents.
    pub leak_share: f64,
    /// Files scanned.
    pub files: usize,
    /// Bytes scanned.
    pub corpus_bytes: u64,
    /// Threads used.
    pub threads: usize,
    /// Wall seconds of the scan (read, extract, EDM, detectors, policy).
    pub scan_seconds: f64,
    /// CPU seconds of this process during the scan, when a CPU clock was given: the
    /// per-core figure that does not depend on other load on the machine.
    pub scan_cpu_seconds: Option<f64>,
    /// Files whose verdict was not `allow`.
    pub files_flagged: usize,
    /// Distinct customer matches summed over files.
    pub customer_matches: usize,
    /// Files that could not be read.
    pub file_errors: usize,
    /// Ripgrep's run, when requested and `rg` could be started.
    pub ripgrep: Option<RipgrepRun>,
    /// Why ripgrep was not timed, when requested but unavailable.
    pub ripgrep_skipped: Option<String>,
}

impl ScanBenchReport {
    /// MiB/s over all threads.
    pub fn mib_per_second(&self) -> f64 {
        self.corpus_bytes as f64 / self.scan_seconds.max(1e-9) / MIB
    }

    /// MiB per CPU second when CPU time was measured, else wall MiB/s per thread.
    pub fn mib_per_second_per_core(&self) -> f64 {
        match self.scan_cpu_seconds {
            Some(cpu) => self.corpus_bytes as f64 / cpu.max(1e-9) / MIB,
            None => self.mib_per_second() / self.threads.max(1) as f64,
        }
    }

    /// custodia's scan time divided by ripgrep's (goal: at most 1.5).
    pub fn ratio_to_ripgrep(&self) -> Option<f64> {
        self.ripgrep.as_ref().map(|rg| self.scan_seconds / rg.seconds.max(1e-9))
    }
}

const MIB: f64 = 1024.0 * 1024.0;

impl std::fmt::Display for ScanBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "index: {} customers built in {:.2} s{}, about {:.1} MiB ({:.0} bytes per customer)",
            self.customers,
            self.index_build_seconds,
            match self.index_build_cpu_seconds {
                Some(cpu) => format!(" ({cpu:.2} CPU seconds)"),
                None => String::new(),
            },
            self.index_bytes as f64 / MIB,
            self.index_bytes as f64 / self.customers.max(1) as f64
        )?;
        if self.files == 0 {
            return write!(f, "scan:  not run");
        }
        writeln!(
            f,
            "scan:  {} files, {:.1} MiB ({:.0}% documents leaking customers or look-alikes, {:.0}% ordinary text) in {:.2} s on {} threads: {:.1} MiB/s total, {:.1} MiB/s per core ({})",
            self.files,
            self.corpus_bytes as f64 / MIB,
            self.leak_share * 100.0,
            (1.0 - self.leak_share) * 100.0,
            self.scan_seconds,
            self.threads,
            self.mib_per_second(),
            self.mib_per_second_per_core(),
            match self.scan_cpu_seconds {
                Some(_) => "per CPU second",
                None => "wall time / threads",
            }
        )?;
        writeln!(
            f,
            "       {} files flagged, {} customer matches, {} unreadable",
            self.files_flagged, self.customer_matches, self.file_errors
        )?;
        match (&self.ripgrep, self.ratio_to_ripgrep(), &self.ripgrep_skipped) {
            (Some(rg), Some(ratio), _) => write!(
                f,
                "rg:    {:.2} s ({:.1} MiB/s, {} matching lines) for the detector regexes; custodia/rg time ratio {:.2} (goal <= 1.5)",
                rg.seconds,
                self.corpus_bytes as f64 / rg.seconds.max(1e-9) / MIB,
                rg.matching_lines,
                ratio
            ),
            (_, _, Some(why)) => write!(f, "rg:    not timed: {why}"),
            _ => write!(f, "rg:    not requested"),
        }
    }
}

/// Errors of [`scan_corpus`].
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The inspector could not be built.
    #[error(transparent)]
    Dlp(#[from] DlpError),
    /// The corpus directory could not be written.
    #[error("could not write the benchmark corpus in {dir}: {source}; pass a writable directory")]
    Corpus {
        /// The directory.
        dir: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Wall and CPU seconds summed over the timed parts of a build.
#[derive(Default)]
struct BuildTime {
    seconds: f64,
    cpu_seconds: Option<f64>,
}

impl BuildTime {
    fn time(&mut self, clock: &dyn Fn() -> f64, cpu_clock: Option<&dyn Fn() -> f64>, work: impl FnOnce()) {
        let (start, cpu_start) = (clock(), cpu_clock.map(|c| c()));
        work();
        self.seconds += clock() - start;
        if let Some((cpu, start)) = cpu_clock.zip(cpu_start) {
            *self.cpu_seconds.get_or_insert(0.0) += cpu() - start;
        }
    }
}

/// Indexes generated customers as a bulk load from the vault does, on all cores.
pub fn add_customers(edm: &mut EdmIndex, customers: &[corpus::Customer]) {
    let fields: Vec<_> = customers.iter().map(corpus::Customer::fields).collect();
    let new: Vec<NewCustomer<'_>> = customers
        .iter()
        .zip(&fields)
        .map(|(c, fields)| NewCustomer {
            id: c.id.as_str(),
            fields: fields.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            country: Some(c.country),
        })
        .collect();
    edm.add_many(&new, 0);
}

/// Files of the generated corpus are about this large.
const CORPUS_FILE_BYTES: usize = 4 << 20;

/// Builds an index of `config.customers` customers (timed, with its size), writes a
/// mixed text corpus of about `config.corpus_bytes` (ordinary business text with
/// `config.leak_share` of its bytes CSV, TSV, HTML, JSON and prose documents leaking
/// some customers, plus look-alike negatives, concatenated into files of about 4 MiB),
/// scans it with every detector on `config.threads` threads through [`scan_paths`],
/// then, when asked and available, times `rg -c` with the detector regexes over the
/// same files. `clock` returns wall seconds and `cpu_clock`, when
/// given, this process's CPU seconds (library code reads no clock).
pub fn scan_corpus(
    config: &ScanBenchConfig,
    clock: &dyn Fn() -> f64,
    cpu_clock: Option<&dyn Fn() -> f64>,
) -> Result<ScanBenchReport, BenchError> {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([11; 32]), EdmConfig::default());
    let mut build = BuildTime::default();
    let corpus = if config.index_only {
        // Built from customers made a batch at a time, outside the timing, so the
        // process holds the index and one batch: its peak memory is the build's.
        let mut customers = corpus::customers(11, config.customers);
        loop {
            let batch: Vec<corpus::Customer> = customers.by_ref().take(100_000).collect();
            if batch.is_empty() {
                break;
            }
            build.time(clock, cpu_clock, || add_customers(&mut edm, &batch));
        }
        None
    } else {
        let corpus = corpus::generate(11, config.customers, 256, 128);
        build.time(clock, cpu_clock, || add_customers(&mut edm, &corpus.customers));
        Some(corpus)
    };
    build.time(clock, cpu_clock, || edm.compact());
    let index_build_seconds = build.seconds;
    let index_build_cpu_seconds = build.cpu_seconds;
    let index_bytes = edm.memory_bytes();
    let Some(corpus) = corpus else {
        return Ok(ScanBenchReport {
            customers: config.customers,
            index_build_seconds,
            index_build_cpu_seconds,
            index_bytes,
            leak_share: config.leak_share,
            files: 0,
            corpus_bytes: 0,
            threads: 0,
            scan_seconds: 0.0,
            scan_cpu_seconds: None,
            files_flagged: 0,
            customer_matches: 0,
            file_errors: 0,
            ripgrep: None,
            ripgrep_skipped: Some("--index-only".into()),
        });
    };
    let inspector = Inspector::new(
        edm,
        FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default()),
        Policy::default(),
        Limits::default(),
    )?;
    // Text documents only: the comparison with ripgrep is over plain text.
    let documents: Vec<&[u8]> = corpus
        .files
        .iter()
        .filter(|f| !f.encoded)
        .map(|f| f.bytes.as_slice())
        .filter(|b| std::str::from_utf8(b).is_ok() && !b.starts_with(b"From:"))
        .collect();
    let temporary;
    let dir = match &config.dir {
        Some(dir) => dir.clone(),
        None => {
            temporary = tempfile::tempdir().map_err(|source| BenchError::Corpus {
                dir: std::env::temp_dir().display().to_string(),
                source,
            })?;
            temporary.path().to_path_buf()
        }
    };
    let corpus_error = |source| BenchError::Corpus {
        dir: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(corpus_error)?;
    // Ordinary documents come from a pool of at most 64 MiB, cycled like the labelled
    // ones: generating a gigabyte word by word would take longer than scanning it.
    let leak_share = config.leak_share.clamp(0.0, 1.0);
    let ordinary_bytes = ((config.corpus_bytes as f64 * (1.0 - leak_share)) as usize).min(64 << 20);
    let ordinary = if leak_share < 1.0 {
        corpus::ordinary_documents(13, ordinary_bytes)
    } else {
        Vec::new()
    };
    let mut next_leak = documents.iter().copied().cycle();
    let mut next_ordinary = ordinary.iter().map(String::as_bytes).cycle();
    let (mut written, mut leaked): (u64, u64) = (0, 0);
    let mut paths = Vec::new();
    while written < config.corpus_bytes && !(documents.is_empty() && ordinary.is_empty()) {
        let mut file = Vec::with_capacity(CORPUS_FILE_BYTES + (64 << 10));
        while file.len() < CORPUS_FILE_BYTES && written + (file.len() as u64) < config.corpus_bytes {
            let so_far = written + file.len() as u64;
            // Whichever kind is behind its share comes next.
            let leak_due =
                !documents.is_empty() && ((leaked as f64) < leak_share * so_far as f64 || ordinary.is_empty());
            let document = if leak_due {
                next_leak.next()
            } else {
                next_ordinary.next()
            };
            let Some(document) = document else { break };
            if leak_due {
                leaked += document.len() as u64 + 1;
            }
            file.extend_from_slice(document);
            file.push(b'\n');
        }
        let path = dir.join(format!("corpus-{:05}.txt", paths.len()));
        std::fs::write(&path, &file).map_err(corpus_error)?;
        written += file.len() as u64;
        paths.push(path);
    }
    let threads = crate::scan::effective_threads(config.threads);
    let context = ScanContext {
        channel: Channel::Upload,
        employment: Employment::Active,
    };
    let (start, cpu_start) = (clock(), cpu_clock.map(|c| c()));
    let results = scan_paths(&paths, &inspector, &context, threads);
    let scan_seconds = clock() - start;
    let scan_cpu_seconds = cpu_clock.zip(cpu_start).map(|(c, start)| c() - start);
    let mut report = ScanBenchReport {
        customers: config.customers,
        index_build_seconds,
        index_build_cpu_seconds,
        index_bytes,
        leak_share: config.leak_share,
        files: results.len(),
        corpus_bytes: written,
        threads,
        scan_seconds,
        scan_cpu_seconds,
        files_flagged: 0,
        customer_matches: 0,
        file_errors: 0,
        ripgrep: None,
        ripgrep_skipped: None,
    };
    for result in &results {
        match &result.result {
            Ok(scan) => {
                report.customer_matches += scan.customer_records;
                if scan.verdict != crate::Verdict::Allow {
                    report.files_flagged += 1;
                }
            }
            Err(_) => report.file_errors += 1,
        }
    }
    if config.ripgrep {
        match time_ripgrep(&paths, threads, clock) {
            Ok(run) => report.ripgrep = Some(run),
            Err(why) => report.ripgrep_skipped = Some(why),
        }
    }
    Ok(report)
}

/// Runs `rg -c` with every detector regex over `paths`.
fn time_ripgrep(paths: &[PathBuf], threads: usize, clock: &dyn Fn() -> f64) -> Result<RipgrepRun, String> {
    let mut command = std::process::Command::new("rg");
    command
        .arg("-c")
        .arg("--no-messages")
        .arg("--no-filename")
        .arg("-j")
        .arg(threads.to_string());
    for pattern in crate::detect::detector_patterns() {
        command.arg("-e").arg(pattern);
    }
    command.arg("--").args(paths);
    let start = clock();
    let output = command
        .output()
        .map_err(|e| format!("could not start rg ({e}); install ripgrep to compare"))?;
    let seconds = clock() - start;
    // rg exits 1 when nothing matched; 2 is an error.
    if output.status.code() == Some(2) {
        return Err(format!("rg failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let matching_lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.trim().parse::<u64>().ok())
        .sum();
    Ok(RipgrepRun {
        seconds,
        matching_lines,
    })
}
