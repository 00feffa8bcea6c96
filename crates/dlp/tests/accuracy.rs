//! File-level precision/recall and customer-count accuracy on the generated corpus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dlp::corpus;
use dlp::edm::{EdmConfig, EdmIndex, EdmKey};

fn index_for(corpus: &corpus::Corpus) -> EdmIndex {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([42; 32]), EdmConfig::default());
    for c in &corpus.customers {
        let fields = c.fields();
        let borrowed: Vec<_> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        edm.add(c.id.as_str(), &borrowed, Some(c.country));
    }
    edm
}

#[test]
fn precision_recall_and_counts_on_generated_corpus() {
    for seed in [1u64, 2] {
        measure(seed, 400, 96, 96);
    }
}

/// Same with an index of 50,000 customers, where common names have many postings.
/// Heavy in debug builds: `cargo test --release --test accuracy -- --ignored`.
#[test]
#[ignore]
fn precision_recall_with_a_large_index() {
    measure(3, 50_000, 200, 200);
}

fn measure(seed: u64, customers: usize, positives: usize, negatives: usize) {
    {
        let corpus = corpus::generate(seed, customers, positives, negatives);
        let edm = index_for(&corpus);
        let limits = dlp::Limits::default();
        let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
        let mut count_errors = Vec::new();
        let (mut expected_total, mut found_total) = (0usize, 0usize);
        for file in &corpus.files {
            let extraction = dlp::extract::extract(&file.bytes, &limits);
            let matches = edm.find(&extraction.segments);
            let found = matches.distinct_customers();
            let positive = file.expected_customers > 0;
            match (positive, found > 0) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    eprintln!("false positive {} found {found}", file.name);
                    for m in &matches.customers {
                        let text: String = extraction
                            .segments
                            .iter()
                            .map(|s| s.text.as_str())
                            .collect::<Vec<_>>()
                            .join("\n");
                        let spans: Vec<&str> = m.hits.iter().filter_map(|h| text.get(h.start..h.end)).collect();
                        eprintln!("  {:?} {:?} {spans:?}", m.customer_id, m.fields);
                        if let Some(c) = corpus.customers.iter().find(|c| c.id == m.customer_id.0) {
                            eprintln!("  customer {:?}", c.fields());
                        }
                    }
                }
                (true, false) => {
                    fneg += 1;
                    eprintln!("missed {} ({:?})", file.name, extraction.uninspectable);
                }
                _ => {}
            }
            if positive {
                expected_total += file.expected_customers;
                found_total += found;
                let expected = file.expected_customers as f64;
                let error = (found as f64 - expected).abs() / expected;
                if error > 0.05 {
                    count_errors.push(format!("{}: expected {expected} found {found}", file.name));
                }
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fneg).max(1) as f64;
        let total_error = (found_total as f64 - expected_total as f64).abs() / expected_total as f64;
        eprintln!(
            "seed {seed}: {} files, precision {precision:.3} recall {recall:.3}, customers expected {expected_total} found {found_total}, files with count error > 5%: {count_errors:?}",
            corpus.files.len()
        );
        assert!(total_error <= 0.05, "customer count error {total_error}");
        assert!(precision >= 0.98, "precision {precision}");
        assert!(recall >= 0.98, "recall {recall}");
        assert!(count_errors.len() * 50 <= tp, "count errors: {count_errors:?}");
    }
}

/// Ordinary business text (notes naming colleagues with customers' first and last names,
/// figure tables, logs, code, Vietnamese notes), the bulk of the scan benchmark's corpus,
/// matches no customer.
#[test]
fn ordinary_documents_match_no_customer() {
    let corpus = corpus::generate(5, 2_000, 0, 0);
    let edm = index_for(&corpus);
    let documents = corpus::ordinary_documents(13, 1 << 20);
    assert!(documents.len() > 50, "{} documents", documents.len());
    for document in &documents {
        let found = edm.find_in_text(document);
        assert_eq!(found.distinct_customers(), 0, "{:?}", found.customers);
    }
}
