//! The SQLite backend against the store contract, and SQLite-specific bad input.
#![allow(clippy::unwrap_used)]

use store::{SqliteStore, Store, StoreError};

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::create(dir.path()).unwrap();
    (dir, store)
}

mod conformance {
    use super::*;
    store::conformance_tests!(fresh());
}

#[test]
fn people_updates_exclude_each_other_across_processes() {
    // Two handles on one data directory are what the CLI and a server are: their
    // writer mutexes are apart, so only the database's own lock can order them.
    let (dir, store) = fresh();
    let other = SqliteStore::open(dir.path()).unwrap();
    store::conformance::people_updates_exclude_each_other(&store, &other);
}

#[test]
fn newer_schema_is_refused_with_a_clear_message() {
    let (dir, store) = fresh();
    drop(store);
    let conn = rusqlite_bump(dir.path());
    drop(conn);
    let err = SqliteStore::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("upgrade custodia"));
}

fn rusqlite_bump(dir: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("custodia.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    conn
}

#[test]
fn missing_data_dir_says_run_init() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(&dir.path().join("nothing")).err().unwrap();
    assert!(err.to_string().contains("custodia init"), "{err}");
}

/// Closing a store closes every connection, its checkpointer's first, so the
/// last one to close empties and deletes the write-ahead logs: a log left
/// behind (as a failed import on a full disk left one) holds its space.
#[test]
fn closing_the_store_deletes_its_write_ahead_logs() {
    let (dir, store) = fresh();
    store.put_setting("installation", "kept").unwrap();
    assert_eq!(store.get_setting("installation").unwrap().as_deref(), Some("kept"));
    let logs = ["custodia.db-wal".to_owned(), format!("{}-wal", store::LEDGER_FILE)];
    for log in &logs {
        assert!(dir.path().join(log).exists(), "{log} exists while the store is open");
    }
    drop(store);
    for log in &logs {
        assert!(!dir.path().join(log).exists(), "{log} is left after the store closed");
    }
}

/// Deleting the ledger's file must not pass for a fresh, empty ledger.
#[test]
fn a_data_dir_without_its_ledger_file_is_refused() {
    let (dir, store) = fresh();
    store.put_setting("installation", "kept").unwrap();
    drop(store);
    std::fs::remove_file(dir.path().join(store::LEDGER_FILE)).unwrap();
    let err = SqliteStore::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("ledger") && err.to_string().contains("backup"),
        "{err}"
    );
    assert!(
        !dir.path().join(store::LEDGER_FILE).exists(),
        "no empty ledger was made"
    );
}

/// A ledger file left from an earlier installation is never wiped by a new one.
#[test]
fn a_new_vault_beside_an_old_ledger_is_refused() {
    let (dir, store) = fresh();
    drop(store);
    std::fs::remove_file(dir.path().join(store::DB_FILE)).unwrap();
    let before = std::fs::read(dir.path().join(store::LEDGER_FILE)).unwrap();
    let err = SqliteStore::create(dir.path()).err().unwrap();
    assert!(err.to_string().contains("earlier installation"), "{err}");
    assert_eq!(std::fs::read(dir.path().join(store::LEDGER_FILE)).unwrap(), before);
}

#[test]
fn erased_customer_leaves_no_bytes_in_the_files() {
    let (dir, store) = fresh();
    let mut c = store::conformance::sample_customer("C-42", "p-1");
    c.key.sealed = b"WRAPPED-KEY-MARKER-0123456789".to_vec();
    c.fields[0].1 = b"CIPHERTEXT-MARKER-ABCDEFGHIJ".to_vec();
    store
        .insert_customers(&[c.clone(), store::conformance::sample_customer("C-43", "p-1")])
        .unwrap();
    assert!(store.erase_customer(&c.meta.id).unwrap());
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for marker in [&b"WRAPPED-KEY-MARKER"[..], b"CIPHERTEXT-MARKER"] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker),
                "erased bytes survive on disk"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn read_only_data_dir_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, store) = fresh();
    drop(store);
    // Root ignores permissions; the check is meaningful only for other users.
    if running_as_root() {
        return;
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(dir.path().join("custodia.db"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let result = SqliteStore::open(dir.path()).and_then(|s| s.put_setting("a", "b"));
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(matches!(result, Err(StoreError::ReadOnly(_))), "{result:?}");
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

#[test]
fn two_processes_reserve_customer_numbers_at_once_without_failing() {
    // A server and a CLI command on one data directory each have their own connection:
    // a reservation reads the counter, then writes it, and must not fail because the
    // other wrote in between (SQLite refuses to upgrade a stale read to a write).
    let (dir, first) = fresh();
    let second = SqliteStore::open(dir.path()).unwrap();
    let stores = [std::sync::Arc::new(first), std::sync::Arc::new(second)];
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let store = std::sync::Arc::clone(&stores[i % 2]);
            std::thread::spawn(move || (0..100).map(|_| store.reserve_customer_numbers(1)).collect::<Vec<_>>())
        })
        .collect();
    let mut numbers = Vec::new();
    for handle in handles {
        for reserved in handle.join().unwrap() {
            numbers.push(reserved.unwrap());
        }
    }
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers, (1..=400).collect::<Vec<u64>>());
}
