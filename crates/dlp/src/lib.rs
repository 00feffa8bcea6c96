//! custodia DLP engine: decides whether outgoing content carries this company's customer
//! records, classified documents or other sensitive values.
//!
//! ```text
//! bytes ──extract (bounded)──▶ segments ──┬─ EdmIndex::find        → customers matched
//!                                         ├─ Detectors::scan       → findings
//!                                         └─ FingerprintIndex::find→ document hits
//!                                  Policy::decide(channel, employment, evidence) → Verdict
//! ```
//!
//! Public API (all through [`Inspector`] for the gateway):
//! - [`extract::extract`]`(bytes, &Limits) -> Extraction` — text segments with table rows,
//!   or [`extract::UninspectableReason`]s; bounded, never panics.
//! - [`edm::EdmIndex`] — `new(&EdmKey, EdmConfig)`, `add(id, &[(FieldKind, &str)], country)`,
//!   `remove(&RecordId)`, `compact()` (after a bulk load), `save() -> Vec<u8>`,
//!   `load(&EdmKey, &[u8])`, `find(&[Segment])`. About 150 bytes per customer.
//! - [`detect::Detectors`] — `new(&exclusions)`, `scan(text) -> Vec<Detection>`.
//! - [`fingerprint::FingerprintIndex`] — `new(&FingerprintKey, FingerprintConfig)`,
//!   `add(doc_id, text)`, `remove`, `contains`, `find(text)`.
//! - [`policy::Policy`] — rule table; `decide(&ScanContext, &Evidence) -> (Verdict, rules)`.
//! - [`Inspector::inspect`]`(bytes, &ScanContext) -> ScanResult` (serde-serializable).
//! - [`scan_paths`]`(&[PathBuf], &Inspector, &ScanContext, threads) -> Vec<FileResult>` —
//!   files and directory trees on all cores; unreadable files reported, not fatal.
//! - [`corpus`] — seeded generator of labelled positive and hard-negative files.
//! - [`bench::scan_throughput`] — MiB/s per core of a full inspection
//!   (`cargo run --release --example throughput -- 100000 16`).
//! - [`bench::scan_corpus`]`(&ScanBenchConfig, clock, cpu_clock) -> ScanBenchReport` — index build
//!   time and size, all-core scan of a generated text corpus, time ratio to ripgrep
//!   (`cargo run --release --example scan_corpus -- 1000000 1024`).
//!
//! Fuzzing: `crates/dlp/fuzz` (cargo-fuzz, nightly; its own workspace) has targets
//! `extract` and `edm_find`; crash inputs go to `tests/regressions/`, which
//! `tests/regressions.rs` replays and mutates on every test run.
//!
//! Positions ([`edm::FieldHit`]) are byte offsets into the extracted text: the segments
//! of the [`extract::Extraction`] joined with `\n`. Results carry record ids, kinds,
//! counts and offsets, never field values, so a [`ScanResult`] can be logged as JSON.

pub mod bench;
pub mod corpus;
pub mod detect;
pub mod edm;
mod evidence;
pub mod extract;
pub mod fingerprint;
mod lines;
mod masks;
pub mod normalize;
mod ole;
mod ooxml;
mod parallel;
pub mod phone;
pub mod policy;
mod postings;
mod rtf;
pub mod scan;
mod spaced;
mod sqlite;

use serde::{Deserialize, Serialize};

pub use detect::{Detection, DetectorKind, Detectors, Finding};
pub use edm::{CustomerMatch, EdmConfig, EdmIndex, EdmKey, FieldKind, NewCustomer, RecordId};
pub use extract::{decode_content_encoding, Limits, UninspectableReason};
pub use fingerprint::{FingerprintConfig, FingerprintHit, FingerprintIndex, FingerprintKey};
pub use policy::{Channel, Employment, Enforcement, Policy, ScanContext, Verdict};
pub use scan::{scan_paths, FileError, FileResult};

/// Detections below this confidence are not reported as findings.
pub const MIN_REPORTED_CONFIDENCE: f32 = 0.5;

/// Everything decided about one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    /// What to do.
    pub verdict: Verdict,
    /// Names of the rules that set the verdict.
    pub rules: Vec<String>,
    /// Number of distinct customers whose records were found.
    pub customer_records: usize,
    /// Number of other customers whose email address or phone number was found
    /// alone: contacts, not records (see [`edm::EdmMatches::contacts`]).
    #[serde(default)]
    pub customer_contacts: usize,
    /// The matched customers (record ids, field kinds, positions; never field values).
    pub customers: Vec<CustomerMatch>,
    /// Detector findings, one per detector.
    pub findings: Vec<Finding>,
    /// Registered documents found.
    pub fingerprint_hits: Vec<FingerprintHit>,
    /// First reason some content could not be inspected, if any.
    pub uninspectable: Option<UninspectableReason>,
}

/// Errors building an inspector.
#[derive(Debug, thiserror::Error)]
pub enum DlpError {
    /// Detector set failed to build.
    #[error(transparent)]
    Detectors(#[from] detect::DetectorError),
}

/// The assembled engine.
#[derive(Debug)]
pub struct Inspector {
    limits: Limits,
    edm: EdmIndex,
    detectors: Detectors,
    fingerprints: FingerprintIndex,
    policy: Policy,
}

impl Inspector {
    /// Assembles an inspector with the default detectors.
    pub fn new(
        edm: EdmIndex,
        fingerprints: FingerprintIndex,
        policy: Policy,
        limits: Limits,
    ) -> Result<Self, DlpError> {
        Ok(Self {
            limits,
            edm,
            detectors: Detectors::new(&[])?,
            fingerprints,
            policy,
        })
    }

    /// Replaces the detector set (e.g. with company-specific exclusions).
    pub fn with_detectors(mut self, detectors: Detectors) -> Self {
        self.detectors = detectors;
        self
    }

    /// The extraction bounds.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The customer index.
    pub fn edm(&self) -> &EdmIndex {
        &self.edm
    }

    /// The customer index, for incremental updates.
    pub fn edm_mut(&mut self) -> &mut EdmIndex {
        &mut self.edm
    }

    /// The document index.
    pub fn fingerprints(&self) -> &FingerprintIndex {
        &self.fingerprints
    }

    /// The document index, for incremental updates.
    pub fn fingerprints_mut(&mut self) -> &mut FingerprintIndex {
        &mut self.fingerprints
    }

    /// Inspects one file. Never panics; bounded by the inspector's [`Limits`].
    pub fn inspect(&self, bytes: &[u8], context: &ScanContext) -> ScanResult {
        self.inspect_parts(&[bytes], context)
    }

    /// Inspects one file with its name, which is read too, as a text of its own before
    /// the content (see [`extract::file_name_text`]): a file named after a customer's
    /// record holds it whatever its content.
    pub fn inspect_named(&self, bytes: &[u8], name: &str, context: &ScanContext) -> ScanResult {
        let mut extraction = match context.channel {
            // A message being sent: its own envelope is not content.
            policy::Channel::Email => extract::extract_sent_mail(bytes, &self.limits),
            _ => extract::extract(bytes, &self.limits),
        };
        if let Some(segment) = extract::name_segment(name) {
            extraction.segments.insert(0, segment);
        }
        self.inspect_extraction(extraction, &[], context)
    }

    /// Inspects the parts of one transfer (the files and fields of one upload) as one
    /// content: each part is extracted on its own, all under one set of [`Limits`], and
    /// their text is matched and decided on together, so a customer list split over
    /// several parts, each under a threshold, counts whole.
    pub fn inspect_parts(&self, parts: &[&[u8]], context: &ScanContext) -> ScanResult {
        self.inspect_parts_and_credentials(parts, &[], context)
    }

    /// [`Inspector::inspect_parts`] of a request that also carries `credentials` (its
    /// cookies and tokens), read for customer records only: a token sent to the service
    /// it belongs to is what it is for, and the secret detectors would stop every
    /// signed-in request, but a customer list put where a token goes is a leak.
    pub fn inspect_parts_and_credentials(
        &self,
        parts: &[&[u8]],
        credentials: &[&str],
        context: &ScanContext,
    ) -> ScanResult {
        let extraction = match (context.channel, parts) {
            // A message being sent: its own envelope is not content.
            (policy::Channel::Email, [message]) => extract::extract_sent_mail(message, &self.limits),
            _ => extract::extract_parts(parts, &self.limits),
        };
        self.inspect_extraction(extraction, credentials, context)
    }

    /// Matches and decides on what was extracted of one transfer; `credentials` as in
    /// [`Inspector::inspect_parts_and_credentials`].
    fn inspect_extraction(
        &self,
        mut extraction: extract::Extraction,
        credentials: &[&str],
        context: &ScanContext,
    ) -> ScanResult {
        extraction
            .rereadings
            .extend(credentials.iter().map(|credential| extract::Segment {
                text: (*credential).to_string(),
                rows: Vec::new(),
                source: "credentials".into(),
            }));
        let (mut text, mut rows) = edm::join_owned_segments(std::mem::take(&mut extraction.segments));
        // Second readings go last, read for customers only (see `Extraction::rereadings`).
        let read_once = text.len();
        if !extraction.rereadings.is_empty() {
            let (again, again_rows) = edm::join_segments(&extraction.rereadings);
            rows.extend(
                again_rows
                    .iter()
                    .map(|(start, end)| (start + read_once, end + read_once)),
            );
            text.push_str(&again);
        }
        // Read once, used by both: which lines can hold a digit- or `@`-led candidate.
        let lines = lines::LineClasses::of(&text);
        // The customer index and the other checks read the same text apart.
        let (matches, (detections, fingerprint_hits)) = parallel::join(
            text.len() >= parallel::MIN_BYTES,
            || self.edm.find_in_lines(&text, &lines, &rows),
            || {
                let detections: Vec<_> = self
                    .detectors
                    .scan_lines(&text, &lines)
                    .into_iter()
                    .filter(|d| d.start < read_once && d.confidence >= MIN_REPORTED_CONFIDENCE)
                    .collect();
                (
                    detections,
                    self.fingerprints.find(text.get(..read_once).unwrap_or(&text)),
                )
            },
        );
        let findings = detect::summarize(&detections);
        let uninspectable = extraction.uninspectable.first().cloned();
        let evidence = policy::Evidence {
            customers: matches.distinct_customers(),
            contacts: matches.contacts,
            detections: &detections,
            fingerprint_hits: &fingerprint_hits,
            uninspectable: uninspectable.is_some(),
        };
        let (verdict, rules) = self.policy.decide(context, &evidence);
        ScanResult {
            verdict,
            rules,
            customer_records: matches.distinct_customers(),
            customer_contacts: matches.contacts,
            customers: matches.customers,
            findings,
            fingerprint_hits,
            uninspectable,
        }
    }
}
