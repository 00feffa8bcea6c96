//! Document fingerprint boundary: containment, minimum characters, normalization, removal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dlp::fingerprint::{FingerprintConfig, FingerprintIndex, FingerprintKey};
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
    let mut index = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
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
    let mut index = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    index.add("huge", &huge);
    let words: Vec<&str> = huge.split(' ').collect();
    // ~1% of the document but well over 300 characters.
    let passage = words[10_000..10_400].join(" ");
    let hits = index.find(&passage);
    let hit = hits.iter().find(|h| h.doc_id == "huge").expect("found by characters");
    assert!(hit.containment < 0.10);
    assert!(hit.matched_chars >= 300);
}

#[test]
fn removal_and_replacement_keep_the_other_documents_findable() {
    let mut index = FingerprintIndex::new(&FingerprintKey::from_bytes([5; 32]), FingerprintConfig::default());
    let docs: Vec<(String, String)> = (0..12).map(|i| (format!("D-{i}"), document(100 + i, 600))).collect();
    for (id, text) in &docs {
        index.add(id, text);
    }
    assert_eq!(index.len(), 12);
    let containment = |index: &FingerprintIndex, id: &str, text: &str| {
        index
            .find(text)
            .into_iter()
            .find(|h| h.doc_id == id)
            .map(|h| h.containment)
    };
    let before: Vec<Option<f64>> = docs.iter().map(|(id, text)| containment(&index, id, text)).collect();
    assert!(before.iter().all(|c| c.is_some_and(|c| c > 0.99)), "{before:?}");

    // Removing most documents empties their slots and then rebuilds the postings.
    for (id, _) in docs.iter().take(9) {
        assert!(index.remove(id), "{id}");
        assert!(!index.contains(id));
    }
    assert!(!index.remove("D-0"), "removed twice");
    assert_eq!(index.len(), 3);
    for (n, (id, text)) in docs.iter().enumerate() {
        let found = containment(&index, id, text);
        if n < 9 {
            assert_eq!(found, None, "{id} found after removal");
        } else {
            assert_eq!(found, before[n], "{id} changed by the others' removal");
        }
    }

    // A removed id can come back, and replacing a document forgets its old text.
    index.add("D-0", &docs[0].1);
    assert_eq!(containment(&index, "D-0", &docs[0].1), before[0]);
    let replacement = document(999, 600);
    index.add("D-9", &replacement);
    assert_eq!(index.len(), 4);
    assert_eq!(
        containment(&index, "D-9", &docs[9].1),
        None,
        "old text of a replaced document"
    );
    assert!(containment(&index, "D-9", &replacement).is_some_and(|c| c > 0.99));
}
