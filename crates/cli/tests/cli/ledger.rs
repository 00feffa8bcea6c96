//! The audit ledger on the real SQLite file: tampering found by editing the
//! database directly, crash safety under SIGKILL, search and evidence.

use std::io::BufRead;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use super::*;

/// An installation with a ledger of a dozen entries under signed checkpoints.
fn busy_env() -> Env {
    let env = Env::with_people();
    env.run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()])
        .ok();
    for id in ["C-1", "C-2", "C-3"] {
        env.run(&["customers", "show", id]).ok();
    }
    env.run(&["--as", "p-2", "customers", "show", "C-3"]).fails();
    env.run(&["customers", "search", "nguyen"]).ok();
    env.run(&["audit", "verify"]).ok();
    env
}

/// The ledger's own database file, edited directly as an attacker with the
/// file would.
fn db(env: &Env) -> rusqlite::Connection {
    rusqlite::Connection::open(env.data.join(store::LEDGER_FILE)).unwrap()
}

fn entry_bytes(conn: &rusqlite::Connection, idx: i64) -> Vec<u8> {
    conn.query_row("SELECT bytes FROM ledger_entries WHERE idx = ?1", [idx], |r| r.get(0))
        .unwrap()
}

/// Tampers with the database file, then expects `audit verify` to fail and
/// (where an entry is at fault) to name the first bad one.
fn check_tamper(name: &str, first_bad: Option<u64>, tamper: impl FnOnce(&rusqlite::Connection)) {
    let env = busy_env();
    let conn = db(&env);
    tamper(&conn);
    drop(conn);
    let out = env.run(&["audit", "verify"]).fails();
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("LEDGER TAMPERED"), "{name}: {text}");
    if let Some(n) = first_bad {
        assert!(
            text.contains(&format!("first bad entry: {n}")),
            "{name}: expected entry {n} named in:\n{text}"
        );
    }
}

#[test]
fn verify_passes_on_an_untouched_ledger() {
    let env = busy_env();
    let out = env.run(&["audit", "verify", "--json"]).ok().json();
    assert_eq!(out["ok"], true);
    assert!(out["entries_checked"].as_u64().unwrap() >= 7, "{out}");
}

#[test]
fn a_modified_entry_is_found() {
    check_tamper("modified", Some(3), |c| {
        let mut bytes = entry_bytes(c, 3);
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x20;
        c.execute("UPDATE ledger_entries SET bytes = ?1 WHERE idx = 3", [bytes])
            .unwrap();
    });
}

#[test]
fn a_deleted_entry_is_found() {
    check_tamper("deleted", Some(3), |c| {
        c.execute("DELETE FROM ledger_entries WHERE idx = 3", []).unwrap();
    });
}

#[test]
fn a_reordered_pair_is_found() {
    check_tamper("reordered", Some(3), |c| {
        let (a, b) = (entry_bytes(c, 3), entry_bytes(c, 4));
        c.execute("UPDATE ledger_entries SET bytes = ?1 WHERE idx = 3", [b])
            .unwrap();
        c.execute("UPDATE ledger_entries SET bytes = ?1 WHERE idx = 4", [a])
            .unwrap();
    });
}

#[test]
fn an_inserted_entry_is_found() {
    check_tamper("inserted", Some(3), |c| {
        c.execute_batch("UPDATE ledger_entries SET idx = idx + 1000 WHERE idx >= 3; UPDATE ledger_entries SET idx = idx - 999 WHERE idx >= 1003;").unwrap();
        // a copy of entry 2's whole row, leaf hash included
        c.execute(
            "INSERT INTO ledger_entries (idx, bytes, leaf) SELECT 3, bytes, leaf FROM ledger_entries WHERE idx = 2",
            [],
        )
        .unwrap();
    });
}

#[test]
fn a_modified_leaf_hash_is_found() {
    for (name, leaf) in [
        ("altered leaf", vec![0x5a_u8; 32]),
        ("truncated leaf", vec![0x5a_u8; 31]),
    ] {
        check_tamper(name, Some(3), |c| {
            c.execute("UPDATE ledger_entries SET leaf = ?1 WHERE idx = 3", [leaf])
                .unwrap();
        });
    }
}

#[test]
fn a_truncated_tail_is_found() {
    check_tamper("truncated", None, |c| {
        let max: i64 = c
            .query_row("SELECT MAX(idx) FROM ledger_entries", [], |r| r.get(0))
            .unwrap();
        c.execute("DELETE FROM ledger_entries WHERE idx >= ?1", [max - 1])
            .unwrap();
    });
}

#[test]
fn a_forged_checkpoint_is_found() {
    check_tamper("forged checkpoint", None, |c| {
        let text: String = c
            .query_row(
                "SELECT text FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        // Claim a different tree size, keeping the old signature.
        let size: u64 = lines[1].parse().unwrap();
        lines[1] = (size - 1).to_string();
        c.execute(
            "UPDATE ledger_checkpoints SET text = ?1 WHERE seq = (SELECT MAX(seq) FROM ledger_checkpoints)",
            [lines.join("\n") + "\n"],
        )
        .unwrap();
    });
}

#[test]
fn a_rewritten_history_disagrees_with_the_published_checkpoints() {
    let env = busy_env();
    let witness = env.root.join("witness.log");
    let w = witness.to_str().unwrap();
    env.run(&["--witness-file", w, "customers", "show", "C-1"]).ok();
    env.run(&["--witness-file", w, "audit", "verify", "--against", w]).ok();
    let empty = env.root.join("empty-witness.log");
    std::fs::write(&empty, "").unwrap();
    let out = env
        .run(&["audit", "verify", "--against", empty.to_str().unwrap()])
        .fails();
    assert!(out.stderr.contains("holds no published checkpoint"), "{}", out.stderr);
    // An insider with the signing key rewrites history and re-signs it: the
    // stored ledger is self-consistent, but no longer matches what was published.
    let conn = db(&env);
    conn.execute_batch("DELETE FROM ledger_entries; DELETE FROM ledger_tree; DELETE FROM ledger_checkpoints;")
        .unwrap();
    drop(conn);
    env.run(&["customers", "show", "C-2"]).ok();
    env.run(&["audit", "verify"]).ok();
    let out = env.run(&["audit", "verify", "--against", w]).fails();
    assert!(out.stdout.contains("LEDGER TAMPERED"), "{}", out.stdout);
}

#[test]
fn search_and_evidence_bundle_round_trip_and_any_changed_byte_fails() {
    let env = busy_env();
    let found = env.run(&["audit", "search", "--customer", "C-3", "--json"]).ok().json();
    let decisions: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["decision"].as_str().unwrap())
        .collect();
    assert!(
        decisions.contains(&"allow") && decisions.contains(&"deny"),
        "{decisions:?}"
    );
    let denied = env
        .run(&["audit", "search", "--person", "p-2", "--decision", "deny", "--json"])
        .ok()
        .json();
    assert_eq!(denied.as_array().unwrap().len(), 1);
    assert_eq!(denied[0]["action"], "customer.read");
    let bad = env.run(&["audit", "search", "--decision", "maybe"]).fails();
    assert!(
        bad.stderr.contains("expected allow, deny, error or admin"),
        "{}",
        bad.stderr
    );
    let bad = env.run(&["audit", "search", "--from", "yesterday"]).fails();
    assert!(bad.stderr.contains("is not a date"), "{}", bad.stderr);

    let bundle = env.root.join("case.zip");
    env.run(&[
        "audit",
        "export",
        "--person",
        "p-2",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        bundle.to_str().unwrap(),
    ])
    .ok();
    // Verified with no data directory at all.
    let elsewhere = Env::new();
    let out = elsewhere
        .run(&[
            "evidence",
            "verify",
            bundle.to_str().unwrap(),
            "--key",
            env.data.join("ledger.pub").to_str().unwrap(),
        ])
        .ok();
    assert!(out.stdout.contains("evidence OK: 1 entries"), "{}", out.stdout);
    // JSON says whether the signer was checked against the installation's key.
    let public = env.data.join("ledger.pub");
    let with_key = [
        "evidence",
        "verify",
        bundle.to_str().unwrap(),
        "--key",
        public.to_str().unwrap(),
        "--json",
    ];
    let checked = elsewhere.run(&with_key).ok().json();
    let unchecked = elsewhere
        .run(&with_key[..3].iter().chain(&["--json"]).copied().collect::<Vec<_>>())
        .ok()
        .json();
    assert_eq!(
        (checked["key_checked"].as_bool(), unchecked["key_checked"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(checked["entries"], unchecked["entries"]);
    // Another installation's key is refused.
    let other = Env::new();
    other.run(&["init"]).ok();
    let out = elsewhere
        .run(&[
            "evidence",
            "verify",
            bundle.to_str().unwrap(),
            "--key",
            other.data.join("ledger.pub").to_str().unwrap(),
        ])
        .fails();
    assert!(out.stderr.contains("not valid evidence"), "{}", out.stderr);
    // One changed byte anywhere fails, sampled across the whole file.
    let original = std::fs::read(&bundle).unwrap();
    let step = (original.len() / 97).max(1);
    for pos in (0..original.len()).step_by(step) {
        let mut bytes = original.clone();
        bytes[pos] ^= 0x01;
        let path = env.root.join("flipped.zip");
        std::fs::write(&path, &bytes).unwrap();
        let out = elsewhere.run(&["evidence", "verify", path.to_str().unwrap()]);
        assert_ne!(out.status, 0, "a bundle with byte {pos} changed was accepted");
    }
}

/// Many concurrent writers, SIGKILL at random moments, 100 times or more: every
/// acknowledged append survives and the ledger still verifies. On a loaded
/// machine the writers start slowly, so rounds go on (up to 400) until more
/// than 1,000 appends were acknowledged.
#[test]
fn acknowledged_appends_survive_sigkill() {
    let env = Env::with_people();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut total_acked = 0usize;
    for round in 0..400 {
        if round >= 100 && total_acked > 1000 {
            break;
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let run_ms = 20 + seed % 120;
        let mut child = env
            .command(&["bench", "crash-writer", "--writers", "16"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let acked = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let acked = Arc::clone(&acked);
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stdout).lines() {
                    match line.ok().and_then(|l| l.trim().parse::<i64>().ok()) {
                        Some(i) => acked.lock().unwrap().push(i),
                        None => break,
                    }
                }
            })
        };
        // Real time: the writer is a real process.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(std::time::Duration::from_millis(run_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let acked = acked.lock().unwrap().clone();
        total_acked += acked.len();
        let conn = db(&env);
        let mut stmt = conn
            .prepare("SELECT COUNT(*) FROM ledger_entries WHERE idx = ?1")
            .unwrap();
        for i in &acked {
            let n: i64 = stmt.query_row([i], |r| r.get(0)).unwrap();
            assert_eq!(n, 1, "round {round}: acknowledged entry {i} is missing after SIGKILL");
        }
        if round % 10 == 9 {
            let out = env.run(&["audit", "verify"]);
            assert_eq!(out.status, 0, "round {round}: {}{}", out.stdout, out.stderr);
        }
    }
    assert!(
        total_acked > 1000,
        "the writers barely ran ({total_acked} acknowledged appends)"
    );
    env.run(&["audit", "verify"]).ok();
}
