//! Generator → CERT reader → scorer → evaluation at small scale, asserting the quality goals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use risk::{evaluate, generate, score_cert_dir, CertOptions, GeneratorConfig, ScoringConfig};

fn run(seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let config = GeneratorConfig::tiny(seed);
    let summary = generate(&config, dir.path()).unwrap();
    assert!(summary.events > 10_000, "too few events: {}", summary.events);
    let (report, scores) = score_cert_dir(dir.path(), &CertOptions::default(), &ScoringConfig::default()).unwrap();
    assert_eq!(report.malformed_count, 0, "{:?}", report.malformed);
    assert_eq!(report.events, summary.events);
    assert_eq!(scores.users.len(), config.users);
    let eval = evaluate(&scores.users, &summary.answers);
    let context = format!("seed {seed}: {eval:?}");
    assert!(eval.auc >= 0.98, "AUC below 0.98, {context}");
    assert!(eval.average_precision >= 0.90, "AP below 0.90, {context}");
    assert!(
        eval.benign_departing_alert_rate() <= 0.05,
        "benign departing alerted, {context}"
    );
    // Every departing thief (all scenarios but sabotage) alerted, and on the daily top-10
    // list, ≥ 7 days before leaving.
    for a in summary.answers.rows.iter().filter(|a| a.is_insider()) {
        if a.scenario.contains("sabotage") {
            continue;
        }
        let (_, lead) = eval.departing_lead_days.iter().find(|(u, _)| *u == a.user).unwrap();
        assert!(
            lead.is_some_and(|d| d >= 7),
            "{} ({}) alerted {lead:?} days before leaving, {context}",
            a.user,
            a.scenario
        );
        let (_, top) = eval.departing_top_lead_days.iter().find(|(u, _)| *u == a.user).unwrap();
        assert!(
            top.is_some_and(|d| d >= 7),
            "{} ({}) in the top 10 {top:?} days before leaving, {context}",
            a.user,
            a.scenario
        );
    }
    // Every score is explained.
    for s in scores.users.iter().filter(|s| s.score >= 30.0) {
        assert!(!s.reasons.is_empty(), "{} has no reasons", s.user);
    }
    // At most one open alert per person per episode, and within the daily budget.
    let mut per_day = std::collections::HashMap::new();
    for a in &scores.alerts {
        *per_day.entry(a.day).or_insert(0) += 1;
    }
    assert!(per_day.values().all(|&n| n <= 1), "budget exceeded: {per_day:?}");
}

#[test]
fn generated_data_meets_quality_goals() {
    for seed in [1, 2] {
        run(seed);
    }
}

#[test]
fn generator_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let config = GeneratorConfig::tiny(9);
    let sa = generate(&config, a.path()).unwrap();
    let sb = generate(&config, b.path()).unwrap();
    assert_eq!(sa, sb);
    for name in ["logon.csv", "http.csv", "answers.csv", "LDAP/2010-03.csv"] {
        let fa = std::fs::read(a.path().join(name)).unwrap();
        let fb = std::fs::read(b.path().join(name)).unwrap();
        assert_eq!(fa, fb, "{name} differs");
    }
}

/// More seeds; run with `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn generated_data_meets_quality_goals_many_seeds() {
    for seed in 3..13 {
        run(seed);
    }
}
