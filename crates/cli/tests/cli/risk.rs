//! `custodia risk`: generate → import-cert → scores / evaluate, and event ingest.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::Env;

/// A tiny generated CERT data set (seed 1) inside the environment's folder.
fn tiny_cert(env: &Env) -> PathBuf {
    let dir = env.root.join("cert");
    let out = env
        .run(&["risk", "generate", dir.to_str().unwrap(), "--scale", "tiny"])
        .ok();
    assert!(out.stdout.contains("answers.csv"), "{}", out.stdout);
    dir
}

/// (user, kind) of every labelled person in `answers.csv`.
fn answers(dir: &Path) -> HashMap<String, String> {
    let mut r = csv::Reader::from_path(dir.join("answers.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), rec[1].to_string())
        })
        .collect()
}

/// Everyone in any LDAP snapshot.
fn ldap_users(dir: &Path) -> HashSet<String> {
    let mut users = HashSet::new();
    for entry in std::fs::read_dir(dir.join("LDAP")).unwrap() {
        let mut r = csv::Reader::from_path(entry.unwrap().path()).unwrap();
        for rec in r.records() {
            users.insert(rec.unwrap()[1].to_string());
        }
    }
    users
}

fn is_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

#[test]
fn generated_data_imports_scores_and_evaluates() {
    let env = Env::new();
    let cert = tiny_cert(&env);
    let import = env.run(&["risk", "import-cert", cert.to_str().unwrap()]).ok();
    for needle in ["logon.csv", "malformed rows", "departed users", "Saved "] {
        assert!(import.stdout.contains(needle), "{needle}: {}", import.stdout);
    }
    assert!(env.data.join("risk-state.bin").is_file());

    let out = env.run(&["risk", "scores", "--format", "csv"]).ok();
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("user,score,first_alert,reasons"));
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    let rows: Vec<(String, f64, String)> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), 4, "{rec:?}");
            (rec[0].to_string(), rec[1].parse().unwrap(), rec[2].to_string())
        })
        .collect();
    let scored: HashSet<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(scored.len(), rows.len(), "one row per user");
    assert_eq!(scored, ldap_users(&cert), "everyone employed is scored");
    for (user, score, first_alert) in &rows {
        assert!((0.0..=100.0).contains(score), "{user} {score}");
        assert!(
            first_alert.is_empty() || is_iso_date(first_alert),
            "{user}: {first_alert:?}"
        );
    }
    // Insiders above every plain employee (unlabelled people).
    let truth = answers(&cert);
    let score_of = |kind: &str| -> Vec<f64> {
        rows.iter()
            .filter(|(u, _, _)| truth.get(u).map(String::as_str).unwrap_or("none") == kind)
            .map(|r| r.1)
            .collect()
    };
    let insiders = score_of("insider");
    let plain = score_of("none");
    assert_eq!(insiders.len(), 5);
    let lowest_insider = insiders.iter().copied().fold(f64::MAX, f64::min);
    let highest_plain = plain.iter().copied().fold(0.0, f64::max);
    assert!(
        lowest_insider > highest_plain,
        "insiders {insiders:?}, highest plain employee {highest_plain}"
    );

    let eval = env
        .run(&[
            "risk",
            "evaluate",
            "--answers",
            cert.join("answers.csv").to_str().unwrap(),
        ])
        .ok();
    let auc: f64 = eval
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("ROC AUC"))
        .unwrap_or_else(|| panic!("no AUC in {}", eval.stdout))
        .trim()
        .parse()
        .unwrap();
    assert!(auc >= 0.98, "{}", eval.stdout);
    assert!(eval.stdout.contains("benign departing alert rate"));
    assert!(eval.stdout.contains("recall at top 10"));
}

#[test]
fn malformed_cert_rows_are_reported_with_file_and_line_and_skipped() {
    let env = Env::new();
    let cert = tiny_cert(&env);
    let logon = cert.join("logon.csv");
    let mut text = std::fs::read_to_string(&logon).unwrap();
    let good_lines = text.lines().count();
    text.push_str("{X1},13/45/2010 07:00:00,U1,PC-1,Logon\n{X2},01/04/2010 07:00:00,U1\n");
    std::fs::write(&logon, text).unwrap();
    let out = env.run(&["risk", "import-cert", cert.to_str().unwrap()]).ok();
    let first_bad = good_lines + 1;
    let second_bad = good_lines + 2;
    assert!(
        out.stdout.contains(&format!("logon.csv line {first_bad}: date")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("logon.csv line {second_bad}: expected at least")),
        "{}",
        out.stdout
    );
    let malformed = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("malformed rows"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(malformed, "2");
    // Skipped: the bad rows' user never appears.
    let scores = env.run(&["risk", "scores", "--format", "csv"]).ok();
    assert!(!scores.stdout.lines().any(|l| l.starts_with("U1,")));
}

const EVENTS: &str = r#"{"ts_ms":1262430000000,"user":"ann","type":"logon","pc":"PC-1"}
{"ts_ms":1262430000000,"user":"bob","type":"teleport"}
{"ts_ms":1262431000000,"user":"ann","type":"file_copy","pc":"PC-1","direction":"to_removable","files":40}

not json at all
{"ts_ms":1262432000000,"user":"bob","type":"email","external":1,"attachments":2}
"#;

#[test]
fn ingest_reports_bad_lines_and_keeps_good_events() {
    let env = Env::new();
    let events = env.file("events.jsonl", EVENTS);
    let out = env.run(&["risk", "ingest", events.to_str().unwrap()]).ok();
    assert!(
        out.stdout.contains("Accepted 3 events, rejected 2 lines"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("line 2: "), "{}", out.stdout);
    assert!(out.stdout.contains("line 5: "), "{}", out.stdout);
    // A second ingest adds to the saved state.
    env.run(&["risk", "ingest", events.to_str().unwrap()]).ok();
    let json = env.run(&["risk", "scores", "--format", "json"]).ok().json();
    let users: HashSet<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, HashSet::from(["ann", "bob"]));
}

#[test]
fn scores_without_data_or_with_a_corrupt_state_fail_clearly() {
    let env = Env::new();
    let out = env.run(&["risk", "scores"]).fails();
    assert!(out.stderr.contains("risk import-cert"), "{}", out.stderr);
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(env.data.join("risk-state.bin"), b"CRSK\x01\xff").unwrap();
    let out = env.run(&["risk", "scores"]).fails();
    assert!(out.stderr.contains("corrupt at byte"), "{}", out.stderr);
}

#[test]
fn scores_table_of_a_seeded_data_set() {
    let env = Env::new();
    let cert = tiny_cert(&env);
    env.run(&["risk", "import-cert", cert.to_str().unwrap()]).ok();
    let out = env.run(&["risk", "scores", "--top", "6"]).ok();
    insta::assert_snapshot!("risk_scores_table_tiny_seed_1", out.stdout);
}

#[test]
fn bench_prints_rates_ratio_and_memory_and_rejects_an_unknown_scale() {
    let env = Env::new();
    let out = env.run(&["bench", "risk", "--scale", "tiny"]).ok();
    for needle in ["rows/s", "ratio", "peak memory"] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
    let out = env.run(&["bench", "risk", "--scale", "/no/such/dir"]).fails();
    assert!(out.stderr.contains("neither tiny"), "{}", out.stderr);
}
