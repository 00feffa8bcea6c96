//! `custodia scan` over real files, against the vault's own customers.

use super::*;

fn leak_csv(env: &Env, n: usize) -> String {
    let list = env
        .run(&["customers", "list", "--json", "--limit", &n.to_string()])
        .ok()
        .json();
    let mut csv = String::from("Name,Email,Phone\n");
    for r in list["records"].as_array().unwrap() {
        csv.push_str(&format!(
            "{},{},{}\n",
            r["fields"]["name"].as_str().unwrap(),
            r["fields"]["emails"][0].as_str().unwrap(),
            r["fields"]["phones"][0].as_str().unwrap()
        ));
    }
    csv
}

#[test]
fn scan_blocks_customer_lists_and_classified_documents_and_records_each_verdict() {
    let env = Env::with_people();
    env.run(&["customers", "import", env.file("c.csv", GOOD_CSV).to_str().unwrap()])
        .ok();
    let design = "Project Lotus enclosure: a two-part magnesium shell with the antenna printed on the inner wall to save four millimetres of height; the power budget is 180 mW while sampling. ".repeat(5);
    let doc = env.file("design.txt", &design);
    env.run(&[
        "documents",
        "add",
        doc.to_str().unwrap(),
        "--title",
        "Lotus",
        "--custodian",
        "p-1",
        "--classification",
        "secret",
    ])
    .ok();
    let dir = env.root.join("outgoing");
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(dir.join("accounts.csv"), leak_csv(&env, 3)).unwrap();
    std::fs::write(dir.join("nested/notes.txt"), "Lunch on Friday? Nothing else to report.").unwrap();
    std::fs::write(dir.join("copy-of-design.txt"), format!("FYI\n{design}")).unwrap();
    let out = env.run(&["scan", dir.to_str().unwrap(), "--json"]).ok();
    let lines: Vec<serde_json::Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one JSON object per file: {}", out.stdout);
    let by_name = |name: &str| {
        lines
            .iter()
            .find(|l| l["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    let accounts = by_name("accounts.csv");
    assert_eq!(accounts["customer_records"], 3, "{accounts}");
    assert_ne!(accounts["verdict"], "allow");
    let notes = by_name("notes.txt");
    assert_eq!(
        (notes["verdict"].as_str(), notes["customer_records"].as_u64()),
        (Some("allow"), Some(0))
    );
    let copy = by_name("copy-of-design.txt");
    assert_eq!(copy["fingerprint_hits"][0]["doc_id"], "D-00001", "{copy}");
    assert!(out.stderr.contains("scanned 3 files"), "{}", out.stderr);
    // Every verdict is in the ledger, with ids and counts but no values.
    let recorded = env
        .run(&["audit", "search", "--action", "dlp.scan.file", "--json"])
        .ok()
        .json();
    assert_eq!(recorded.as_array().unwrap().len(), 3);
    let text = recorded.to_string();
    assert!(
        !text.contains("an.nguyen@saomai.example") && !text.contains("Nguyễn"),
        "plaintext in the ledger: {text}"
    );
    // A departing person copying to USB is treated more strictly.
    env.run(&["people", "set-status", "p-2", "--status", "departing"]).ok();
    let one = env.root.join("one.csv");
    std::fs::write(&one, leak_csv(&env, 2)).unwrap();
    let active = env
        .run(&[
            "--as",
            "p-1",
            "scan",
            one.to_str().unwrap(),
            "--channel",
            "usb",
            "--json",
        ])
        .ok()
        .json();
    let departing = env
        .run(&[
            "--as",
            "p-2",
            "scan",
            one.to_str().unwrap(),
            "--channel",
            "usb",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(departing["verdict"], "block", "{departing}");
    assert_ne!(active["verdict"], departing["verdict"], "{active} vs {departing}");
    let bad = env.run(&["scan", one.to_str().unwrap(), "--channel", "pigeon"]).fails();
    assert!(
        bad.stderr.contains("expected file, upload, email, usb, print or chat"),
        "{}",
        bad.stderr
    );
}
