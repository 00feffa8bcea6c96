//! Architecture rules checked as tests (rust-analyzer style tidy checks).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn crates() -> Vec<(String, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

/// The `[dependencies]` section's crate names (not dev-dependencies).
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once('=') {
                deps.push(name.trim().to_owned());
            }
        }
    }
    deps
}

#[test]
fn folder_name_is_crate_name() {
    for (folder, path) in crates() {
        let text = std::fs::read_to_string(path.join("Cargo.toml")).unwrap();
        assert!(
            text.contains(&format!("name = \"{folder}\"")),
            "crates/{folder}: the package name must equal the folder name"
        );
    }
}

/// Invariant 1: only the gateway can turn ciphertext into plaintext, because
/// only it can reach the keys and the AEAD.
#[test]
fn only_the_gateway_depends_on_crypto() {
    for (name, path) in crates() {
        if name == "gateway" || name == "crypto" {
            continue;
        }
        assert!(
            !dependencies(&path.join("Cargo.toml")).contains(&"crypto".to_owned()),
            "crates/{name} depends on crypto: only the gateway may hold keys and open sealed fields"
        );
    }
}

/// The risk engine and the ledger see ids and counts only: they must not
/// depend on the vault's storage or gateway.
#[test]
fn analytics_and_ledger_stay_away_from_the_vault() {
    for name in ["risk", "ledger", "dlp", "policy", "icap"] {
        let manifest = workspace().join("crates").join(name).join("Cargo.toml");
        if !manifest.exists() {
            continue;
        }
        let deps = dependencies(&manifest);
        for forbidden in ["store", "gateway", "crypto"] {
            assert!(
                !deps.contains(&forbidden.to_owned()),
                "crates/{name} must not depend on {forbidden}"
            );
        }
    }
}

/// Libraries report through return values, not by printing.
#[test]
fn library_crates_do_not_print() {
    let binaries = ["cli", "xtask"];
    for (name, path) in crates() {
        if binaries.contains(&name.as_str()) {
            continue;
        }
        for file in rust_files(&path.join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                assert!(
                    !(code.contains("println!(") || code.contains("eprintln!(") || code.contains("dbg!(")),
                    "{}:{}: library code prints; return the value instead",
                    file.display(),
                    i + 1
                );
            }
        }
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(rust_files(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}
