//! Replays every saved input in `tests/regressions/` (hand-made malformed files and any
//! crash input found by fuzzing, see `fuzz/`) through the extractor, exact data match and
//! the whole inspector; then mutates them (truncation, byte flips, splices) with proptest.
//! Nothing may panic, and every reported position must lie inside the extracted text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::LazyLock;

use dlp::{
    Channel, EdmConfig, EdmIndex, EdmKey, Employment, FieldKind, FingerprintConfig, FingerprintIndex, FingerprintKey,
    Inspector, Limits, Policy, ScanContext,
};

const LIMITS: Limits = Limits {
    max_depth: 3,
    max_expanded_bytes: 4 << 20,
    max_ratio: 100,
    max_members: 64,
    max_work_bytes: 8 << 20,
};

static INSPECTOR: LazyLock<Inspector> = LazyLock::new(|| {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([9; 32]), EdmConfig::default());
    edm.add(
        "c-1",
        &[
            (FieldKind::Name, "Ana Rossi"),
            (FieldKind::Email, "ana.rossi@example.com"),
            (FieldKind::Phone, "+39 347 123 4567"),
            (FieldKind::Address, "12 Via Roma, 00100 Roma"),
            (FieldKind::CustomerId, "CU-000123"),
        ],
        Some("IT"),
    );
    Inspector::new(
        edm,
        FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default()),
        Policy::default(),
        LIMITS,
    )
    .unwrap()
});

static SAVED: LazyLock<Vec<(PathBuf, Vec<u8>)>> = LazyLock::new(|| {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    files
});

fn check(bytes: &[u8]) {
    let extraction = dlp::extract::extract(bytes, &LIMITS);
    // Segments are joined with an empty line between them.
    let stream_len: usize = extraction.segments.iter().map(|s| s.text.len() + 2).sum();
    for customer in customers_found(&extraction.segments) {
        for hit in customer.hits {
            assert!(hit.start <= hit.end && hit.end <= stream_len);
        }
    }
    let context = ScanContext {
        channel: Channel::Email,
        employment: Employment::Active,
    };
    let result = INSPECTOR.inspect(bytes, &context);
    assert!(serde_json::to_string(&result).is_ok());
}

fn customers_found(segments: &[dlp::extract::Segment]) -> Vec<dlp::CustomerMatch> {
    static EDM: LazyLock<EdmIndex> = LazyLock::new(|| {
        let mut edm = EdmIndex::new(&EdmKey::from_bytes([9; 32]), EdmConfig::default());
        edm.add(
            "c-1",
            &[(FieldKind::Name, "Ana Rossi"), (FieldKind::Phone, "+39 347 123 4567")],
            Some("IT"),
        );
        edm
    });
    EDM.find(segments).customers
}

#[test]
fn every_saved_input_replays_without_panic() {
    assert!(SAVED.len() >= 5, "the regression corpus is missing");
    for (path, bytes) in SAVED.iter() {
        let outcome = std::panic::catch_unwind(|| check(bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn mutated_saved_inputs_do_not_panic(
        pick in 0usize..1000,
        cut in 0usize..100_000,
        flips in proptest::collection::vec((0usize..100_000, proptest::prelude::any::<u8>()), 0..8),
        splice in 0usize..1000,
    ) {
        let (_, base) = &SAVED[pick % SAVED.len()];
        let mut bytes = base.clone();
        for (at, value) in flips {
            if !bytes.is_empty() {
                let len = bytes.len();
                bytes[at % len] = value;
            }
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let (_, other) = &SAVED[splice % SAVED.len()];
        bytes.extend_from_slice(&other[..other.len() / 2]);
        check(&bytes);
    }
}
