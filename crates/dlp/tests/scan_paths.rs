//! Directory scanning boundary: recursion, order, unreadable paths, thread independence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use dlp::{
    scan_paths, Channel, EdmConfig, EdmIndex, EdmKey, Employment, FieldKind, FileError, FingerprintConfig,
    FingerprintIndex, FingerprintKey, Inspector, Limits, Policy, ScanContext, Verdict,
};

fn inspector() -> Inspector {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    edm.add(
        "c-1",
        &[
            (FieldKind::Name, "Ana Rossi"),
            (FieldKind::Email, "ana.rossi@example.com"),
            (FieldKind::Phone, "+39 347 123 4567"),
        ],
        Some("IT"),
    );
    Inspector::new(
        edm,
        FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default()),
        Policy::default(),
        Limits::default(),
    )
    .unwrap()
}

fn context() -> ScanContext {
    ScanContext {
        channel: Channel::Upload,
        employment: Employment::Active,
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn scans_trees_in_order_and_reports_unreadable_paths() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "b/leak.csv",
        "name,email\nAna Rossi,ana.rossi@example.com\n",
    );
    write(dir.path(), "a/clean.txt", "lunch at noon");
    write(dir.path(), "a/deeper/more/clean.txt", "nothing here");
    let missing = dir.path().join("missing.txt");
    let paths = vec![dir.path().to_path_buf(), missing.clone()];
    let inspector = inspector();
    let results = scan_paths(&paths, &inspector, &context(), 4);
    let names: Vec<PathBuf> = results.iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        names,
        vec![
            dir.path().join("a/clean.txt"),
            dir.path().join("a/deeper/more/clean.txt"),
            dir.path().join("b/leak.csv"),
            missing.clone(),
        ]
    );
    let verdicts: Vec<Option<Verdict>> = results
        .iter()
        .map(|r| r.result.as_ref().ok().map(|s| s.verdict))
        .collect();
    assert_eq!(verdicts[0], Some(Verdict::Allow));
    assert_eq!(verdicts[1], Some(Verdict::Allow));
    let leak = results[2].result.as_ref().unwrap();
    assert_eq!(leak.customer_records, 1);
    assert_ne!(leak.verdict, Verdict::Allow);
    assert!(matches!(
        &results[3].result,
        Err(FileError::Unreadable { path, .. }) if path.ends_with("missing.txt")
    ));
    // One JSON object per file, errors included.
    let json = serde_json::to_value(&results[3]).unwrap();
    assert!(json["error"].as_str().unwrap().contains("could not read"));
    let json = serde_json::to_value(&results[2]).unwrap();
    assert_eq!(json["customer_records"], 1);
    // The thread count changes nothing but speed.
    assert_eq!(scan_paths(&paths, &inspector, &context(), 1), results);
}

/// Fifos, devices and links to directories out of the scan are reported, not read and
/// not passed over: a scan that says nothing of a path reads as a clean one. A fifo read would
/// wait for a writer forever, a device would never end, a followed link could loop.
#[cfg(unix)]
#[test]
fn paths_that_are_not_files_are_reported_and_not_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tree/a.txt", "lunch at noon");
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("tree/pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink("/dev/null", dir.path().join("tree/null")).unwrap();
    // A link back into the tree loses nothing and is passed over; one leading out of
    // the scan is named.
    std::os::unix::fs::symlink(".", dir.path().join("tree/loop")).unwrap();
    write(dir.path(), "elsewhere/far.txt", "not in the scan");
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("tree/link")).unwrap();
    let paths = vec![dir.path().join("tree"), PathBuf::from("/dev/null")];
    let results = scan_paths(&paths, &inspector(), &context(), 2);
    let outcome: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            let name = r.path.file_name().unwrap().to_string_lossy().into_owned();
            match &r.result {
                Ok(scan) => (name, format!("{:?}", scan.verdict)),
                Err(FileError::NotAFile { what, .. }) => (name, what.clone()),
                Err(other) => (name, format!("unexpected: {other}")),
            }
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("a.txt", "Allow"),
        (
            "link",
            "a link to a directory (not followed; give the directory itself to scan it)",
        ),
        ("null", "a device"),
        ("pipe", "a fifo"),
        ("null", "a device"),
    ]
    .iter()
    .map(|(name, what)| (name.to_string(), what.to_string()))
    .collect();
    assert_eq!(outcome, expected);
    let json = serde_json::to_value(&results[3]).unwrap();
    assert_eq!(json["error_detail"]["kind"], "not_a_file", "{json}");
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .ends_with("pipe is a fifo, so it was not scanned"),
        "{json}"
    );
}

/// A file name that is not UTF-8 is reported like any other (found in review: its
/// serialization failed and ended `custodia --json scan` there): the path as text with
/// U+FFFD, and its exact bytes in base64 beside it; other paths carry no bytes.
#[cfg(unix)]
#[test]
fn a_path_that_is_not_utf8_serializes_with_its_bytes() {
    use base64::Engine as _;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"b\xff.csv");
    for name in [std::ffi::OsStr::new("a.csv"), odd, std::ffi::OsStr::new("c.txt")] {
        std::fs::write(dir.path().join(name), "name,email\nAna Rossi,ana.rossi@example.com\n").unwrap();
    }
    let results = scan_paths(&[dir.path().to_path_buf()], &inspector(), &context(), 1);
    let lines: Vec<serde_json::Value> = results.iter().map(|r| serde_json::to_value(r).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_eq!(line["customer_records"], 1, "{line}");
    }
    let bytes = |line: &serde_json::Value| {
        line.get("path_bytes").map(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.as_str().unwrap())
                .unwrap()
        })
    };
    let odd_path = dir.path().join(odd);
    assert_eq!(bytes(&lines[1]), Some(odd_path.as_os_str().as_bytes().to_vec()));
    assert!(
        lines[1]["path"].as_str().unwrap().ends_with("b\u{FFFD}.csv"),
        "{}",
        lines[1]
    );
    assert_eq!((bytes(&lines[0]), bytes(&lines[2])), (None, None));
}
