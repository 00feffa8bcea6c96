//! Document fingerprint boundary: containment, minimum characters, normalization, removal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dlp::fingerprint::{FingerprintConfig, FingerprintIndex};
use rand::{Rng, SeedableRng};

fn document(seed: u64, words: usize) -> String {
    let vocabulary = [
        "margin",
        "roadmap",
        "supplier",
        "tender",
        "prototype",
        "yield",
        "forecast",
        "alloy",
        "patent",
        "pricing",
        "discount",
        "wafer",
        "firmware",
        "calibration",
        "vendor",
        "quarter",
        "merger",
        "target",
        "pipeline",
        "design",
        "secret",
        "formula",
        "batch",
        "assembly",
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..words)
        .map(|_| vocabulary[rng.gen_range(0..vocabulary.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// `expected`: Some(min containment) when `doc` must be found in `text`, None otherwise.
fn check(index: &FingerprintIndex, name: &str, text: &str, doc: &str, expected: Option<f64>) {
    let hits = index.find(text);
    let hit = hits.iter().find(|h| h.doc_id == doc);
    match expected {
        Some(min) => {
            assert!(hit.is_some(), "{name}: {doc} not found, hits {hits:?}");
            let hit = hit.unwrap();
            assert!(
                hit.containment >= min,
                "{name}: containment {} < {min}",
                hit.containment
            );
        }
        None => assert!(hit.is_none(), "{name}: {doc} wrongly found: {hits:?}"),
    }
}

#[test]
fn containment_and_thresholds() {
    let plan = document(1, 2000);
    let other = document(2, 2000);
    let mut index = FingerprintIndex::new(FingerprintConfig::default());
    assert!(index.add("plan", &plan) > 100);
    index.add("other", &other);
    let words: Vec<&str> = plan.split(' ').collect();
    let quarter = words[500..1000].join(" ");
    let shouty = words[200..700].join("   ").to_uppercase();
    let small = words[100..130].join(" ");
    let unrelated = document(3, 3000);
    let cases: Vec<(&str, String, &str, Option<f64>)> = vec![
        ("whole", plan.clone(), "plan", Some(0.99)),
        (
            "quarter in prose",
            format!("{unrelated} {quarter} {unrelated}"),
            "plan",
            Some(0.2),
        ),
        ("case and whitespace", shouty, "plan", Some(0.2)),
        ("unrelated", unrelated.clone(), "plan", None),
        (
            "short excerpt under both thresholds",
            format!("{unrelated} {small}"),
            "plan",
            None,
        ),
        ("other doc only", other.clone(), "plan", None),
        ("other doc found", other.clone(), "other", Some(0.99)),
    ];
    for (name, text, doc, expected) in &cases {
        check(&index, name, text, doc, *expected);
    }
    assert!(index.remove("plan"));
    check(&index, "after removal", &plan, "plan", None);
}

#[test]
fn character_threshold_finds_a_long_passage_of_a_huge_document() {
    let huge = document(4, 40_000);
    let mut index = FingerprintIndex::new(FingerprintConfig::default());
    index.add("huge", &huge);
    let words: Vec<&str> = huge.split(' ').collect();
    // ~1% of the document but well over 300 characters.
    let passage = words[10_000..10_400].join(" ");
    let hits = index.find(&passage);
    let hit = hits.iter().find(|h| h.doc_id == "huge").expect("found by characters");
    assert!(hit.containment < 0.10);
    assert!(hit.matched_chars >= 300);
}
