//! `custodia risk`: generate → import-cert → scores / evaluate, and event ingest.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Env;

/// An initialized data directory: risk data lives in its store.
fn initialized() -> Env {
    let env = Env::new();
    env.run(&["init"]).ok();
    env
}

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
    let env = initialized();
    let cert = tiny_cert(&env);
    let import = env.run(&["risk", "import-cert", cert.to_str().unwrap()]).ok();
    for needle in ["logon.csv", "malformed rows", "departed users", "Saved "] {
        assert!(import.stdout.contains(needle), "{needle}: {}", import.stdout);
    }
    assert!(import.stdout.contains("to the store (risk/state)"), "{}", import.stdout);
    assert!(
        !env.data.join("risk-state.bin").exists(),
        "no state file beside the store"
    );

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
    let env = initialized();
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
    let env = initialized();
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
    assert!(out.stderr.contains("run `custodia init` first"), "{}", out.stderr);
    env.run(&["init"]).ok();
    let out = env.run(&["risk", "scores"]).fails();
    assert!(out.stderr.contains("risk import-cert"), "{}", out.stderr);
    // A corrupt state file of an earlier version is refused, and left where it is.
    std::fs::write(env.data.join("risk-state.bin"), b"CRSK\x01\xff").unwrap();
    let out = env.run(&["risk", "scores"]).fails();
    assert!(out.stderr.contains("corrupt at byte"), "{}", out.stderr);
    assert!(env.data.join("risk-state.bin").exists());
}

#[test]
fn a_state_file_of_an_earlier_version_moves_into_the_store_once() {
    let env = initialized();
    let mut agg = risk::Aggregator::new(0);
    for (user, ts) in [("ann", 1_262_430_000_000i64), ("bob", 1_262_431_000_000)] {
        agg.add_event(
            &risk::parse_event(&format!(
                r#"{{"ts_ms":{ts},"user":"{user}","type":"logon","pc":"PC-1"}}"#
            ))
            .unwrap(),
        );
    }
    let legacy = env.data.join("risk-state.bin");
    std::fs::write(&legacy, agg.to_state_bytes()).unwrap();
    let out = env.run(&["risk", "scores", "--format", "csv"]).ok();
    assert!(out.stderr.contains("moved"), "{}", out.stderr);
    assert!(!legacy.exists(), "the file is deleted once imported");
    let again = env.run(&["risk", "scores", "--format", "csv"]).ok();
    assert_eq!(again.stdout, out.stdout, "the same state, now from the store");
    assert_eq!(again.stdout.lines().count(), 3, "{}", again.stdout);
    assert!(again.stderr.is_empty(), "{}", again.stderr);
}

/// Receives the webhook's POSTs (answering 200) until `want` JSON lines arrived.
fn webhook_listener(want: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/siem", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut lines = Vec::new();
        while lines.len() < want {
            let (conn, _) = listener.accept().unwrap();
            let mut reader = std::io::BufReader::new(conn);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            lines.extend(String::from_utf8(body).unwrap().lines().map(str::to_string));
            let mut conn = reader.into_inner();
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
        }
        lines
    });
    (url, handle)
}

#[test]
fn forward_sends_each_alert_once_as_syslog_and_json_lines() {
    let env = initialized();
    let cert = tiny_cert(&env);
    env.run(&["risk", "import-cert", cert.to_str().unwrap()]).ok();
    let alerts = env.run(&["risk", "scores", "--format", "json"]).ok().json();
    let alerted: HashSet<String> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| !u["first_alert"].is_null())
        .map(|u| u["user"].as_str().unwrap().to_string())
        .collect();
    assert!(!alerted.is_empty());

    let syslog = UdpSocket::bind("127.0.0.1:0").unwrap();
    syslog.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // One alert per alerted person (alerts close when risk fades, so maybe more).
    let out_probe = env.run(&["risk", "forward"]).fails();
    assert!(
        out_probe.stderr.contains("nothing to forward to"),
        "{}",
        out_probe.stderr
    );
    let (url, webhook) = webhook_listener(alerted.len());
    let out = env
        .run(&[
            "risk",
            "forward",
            "--syslog",
            &format!("udp://{}", syslog.local_addr().unwrap()),
            "--webhook",
            &url,
            "--hostname",
            "test-host",
        ])
        .ok();
    let sent: usize = out
        .stdout
        .split("syslog sent ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(sent >= alerted.len(), "{}", out.stdout);
    let mut messages = Vec::new();
    let mut buf = [0u8; 8192];
    while messages.len() < sent {
        let (n, _) = syslog.recv_from(&mut buf).unwrap();
        messages.push(String::from_utf8(buf[..n].to_vec()).unwrap());
    }
    for m in &messages {
        assert!(m.starts_with('<') && m.contains(">1 "), "{m}");
        assert!(
            m.contains(" test-host custodia-risk - risk-alert [risk@32473 person=\""),
            "{m}"
        );
    }
    let json_lines = webhook.join().unwrap();
    let people: HashSet<String> = json_lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["score"].as_f64().unwrap() >= 50.0, "{l}");
            assert!(!v["reasons"].as_array().unwrap().is_empty(), "{l}");
            v["user"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(people, alerted);

    // Deduplicated: a second run finds nothing new to send.
    let again = env
        .run(&[
            "risk",
            "forward",
            "--syslog",
            &format!("udp://{}", syslog.local_addr().unwrap()),
        ])
        .ok();
    assert!(again.stdout.contains(", 0 new or escalated"), "{}", again.stdout);

    let bad = env
        .run(&["risk", "forward", "--webhook", "https://siem.example/x"])
        .fails();
    assert!(bad.stderr.contains("https is not spoken"), "{}", bad.stderr);
    let bad = env.run(&["risk", "forward", "--syslog", "127.0.0.1:514"]).fails();
    assert!(bad.stderr.contains("udp:// or tcp://"), "{}", bad.stderr);
    // `serve` takes the same flags and refuses a bad target before it listens.
    let bad = env
        .run(&["serve", "--listen", "127.0.0.1:0", "--syslog", "syslog://x"])
        .fails();
    assert!(bad.stderr.contains("udp:// or tcp://"), "{}", bad.stderr);
}

#[test]
fn the_demo_ranks_the_departing_exporter_first_and_not_the_one_who_took_nothing() {
    let env = Env::new();
    let dir = env.root.join("demo");
    let out = env
        .run(&["demo", "--dir", dir.to_str().unwrap(), "--customers", "3000", "--force"])
        .ok();
    let json = env
        .run(&[
            "--json",
            "demo",
            "--dir",
            dir.to_str().unwrap(),
            "--customers",
            "3000",
            "--force",
        ])
        .ok()
        .json();
    let thief = json["risk"]["thief"].as_str().unwrap();
    let clean = json["risk"]["clean_leaver"].as_str().unwrap();
    // Both salespeople are departing; the story is told in the output.
    let departing: Vec<&str> = json["departing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(departing.contains(&thief) && departing.contains(&clean), "{json}");
    // Their last uploads through the proxy: the thief's account list is stopped as
    // theirs, the farewell note passes.
    let uploads: Vec<(&str, bool)> = json["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["person"].as_str().unwrap(), u["blocked"].as_bool().unwrap()))
        .collect();
    assert_eq!(uploads, vec![(thief, true), (clean, false)], "{json}");
    let stopped = out
        .stdout
        .lines()
        .find(|l| l.contains(thief) && l.contains("accounts.csv"))
        .unwrap_or_else(|| panic!("no upload line in {}", out.stdout));
    assert!(
        stopped.contains("stopped: This upload contains") && stopped.contains("customer records"),
        "{stopped}"
    );
    assert!(
        out.stdout.contains("vault accesses through the gateway"),
        "{}",
        out.stdout
    );
    let first = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("#1 "))
        .unwrap_or_else(|| panic!("no ranking in {}", out.stdout));
    assert!(
        first.contains(thief) && first.contains("alerted 2026-"),
        "{first}\n{}",
        out.stdout
    );
    assert!(!first.contains("not alerted"), "{first}");
    // Reasons in plain words under the first place: the export and the departure.
    let reasons: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("#1 "))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- "))
        .collect();
    assert!(reasons.iter().any(|r| r.contains("exported")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("job or competitor sites")),
        "{reasons:?}"
    );
    // Nobody else was alerted: the managers' daily book reviews are their normal.
    let alerted = out
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('#') && l.contains(" alerted 20"))
        .count();
    assert_eq!(alerted, 1, "{}", out.stdout);
    let clean_line = out
        .stdout
        .lines()
        .find(|l| l.contains(clean) && l.contains("took nothing"))
        .unwrap_or_else(|| panic!("no line about {clean} in {}", out.stdout));
    assert!(clean_line.ends_with("not alerted"), "{clean_line}");
    assert!(json["risk"]["clean_leaver_rank"].as_u64().unwrap() > 1);

    // The state is in the demo's store: `risk scores` ranks the same person first.
    let mut scores = Env::new();
    scores.data = dir.clone();
    let csv = scores.run(&["risk", "scores", "--format", "csv"]).ok();
    let top = csv.stdout.lines().nth(1).unwrap();
    assert!(top.starts_with(&format!("{thief},")), "{}", csv.stdout);
    let clean_row = csv
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{clean},")))
        .unwrap();
    assert_eq!(clean_row.split(',').nth(2), Some(""), "{clean_row}");
    // The thief's exports are in the ledger, as the thief's own decisions.
    let audit = scores
        .run(&[
            "--json",
            "audit",
            "search",
            "--person",
            thief,
            "--action",
            "customer.search",
        ])
        .ok();
    assert!(audit.stdout.contains(thief), "{}", audit.stdout);
    // So is the stopped upload: the thief's, denied, under the departing rules.
    let uploads = scores
        .run(&[
            "--json",
            "audit",
            "search",
            "--person",
            thief,
            "--action",
            "dlp.scan.upload",
        ])
        .ok()
        .json();
    let upload = &uploads.as_array().unwrap()[0];
    assert_eq!(upload["decision"], "deny", "{upload}");
    assert!(
        upload["policies"]
            .to_string()
            .contains("departing with customer records"),
        "{upload}"
    );
}

#[test]
fn scores_table_of_a_seeded_data_set() {
    let env = initialized();
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
