//! The PostgreSQL backend against the store contract, against a real server
//! (see `store::testing`), and PostgreSQL-specific bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use store::testing::{admin_execute, fresh_database, postgres_server, with_database, TestDatabase};
use store::{PostgresOptions, PostgresStore, Store, StoreError};

fn fresh() -> (TestDatabase, PostgresStore) {
    let db = fresh_database();
    let store = PostgresStore::connect(db.url()).unwrap();
    (db, store)
}

mod conformance {
    use super::*;
    store::conformance_tests!(fresh());
}

#[test]
fn people_updates_exclude_each_other_across_servers() {
    let (db, store) = fresh();
    let other = PostgresStore::connect(db.url()).unwrap();
    store::conformance::people_updates_exclude_each_other(&store, &other);
}

#[test]
fn reopening_keeps_data_and_does_not_migrate_twice() {
    let (db, store) = fresh();
    store.put_setting("k", "v").unwrap();
    drop(store);
    let again = PostgresStore::connect(db.url()).unwrap();
    assert_eq!(again.get_setting("k").unwrap().as_deref(), Some("v"));
    assert_eq!(again.backend(), "postgres");
}

#[test]
fn newer_schema_is_refused_with_a_clear_message() {
    let (db, store) = fresh();
    drop(store);
    admin_execute(db.name(), "UPDATE schema_version SET version = 99");
    let err = PostgresStore::connect(db.url()).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerDatabaseSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade custodia"), "{err}");
}

#[test]
fn wrong_password_is_an_authentication_error_without_the_password() {
    let db = fresh_database();
    admin_execute(
        db.name(),
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pw_user') THEN
             CREATE ROLE pw_user LOGIN PASSWORD 'right-password'; END IF; END $$;",
    );
    let server = with_database(&postgres_server(), db.name());
    let (scheme, rest) = server.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let url = format!("{scheme}://pw_user:Wr0ng-S3cret@{host}");
    let err = PostgresStore::connect(&url).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Authentication { .. }), "{err}");
    assert!(text.contains("pw_user@"), "names the target: {text}");
    assert!(text.contains("password"), "says what to check: {text}");
    assert!(!text.contains("Wr0ng-S3cret"), "password leaked: {text}");
    assert!(!format!("{err:?}").contains("Wr0ng-S3cret"), "password leaked in Debug");
}

#[test]
fn unreachable_server_is_a_clear_error_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://someone:TopS3cret@127.0.0.1:{port}/custodia");
    let options = PostgresOptions {
        connect_timeout: std::time::Duration::from_secs(3),
        ..PostgresOptions::default()
    };
    let err = PostgresStore::connect_with(&url, &options).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
    assert!(
        text.contains(&format!("postgres://someone@127.0.0.1:{port}/custodia")),
        "{text}"
    );
    assert!(!text.contains("TopS3cret"), "{text}");
    assert!(!format!("{err:?}").contains("TopS3cret"));
}

#[test]
fn missing_database_says_create_it() {
    let url = with_database(&postgres_server(), "custodia_no_such_db");
    let err = PostgresStore::connect(&url).unwrap_err();
    assert!(err.to_string().contains("createdb"), "{err}");
}

#[test]
fn invalid_url_is_refused_without_echoing_it() {
    let err = PostgresStore::connect("postgres://u:Secr3t@host:notaport/db").unwrap_err();
    assert!(matches!(err, StoreError::InvalidDatabaseUrl(_)), "{err}");
    assert!(!err.to_string().contains("Secr3t"), "{err}");
}

#[test]
fn reads_survive_a_dropped_connection_and_writes_say_so() {
    let (db, store) = fresh();
    store.put_setting("k", "v").unwrap();
    // kill every server process of this database, as a restart or a
    // failover would: the pooled connection is now dead
    admin_execute(
        "postgres",
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name()
        ),
    );
    assert_eq!(
        store.get_setting("k").unwrap().as_deref(),
        Some("v"),
        "a read is retried once on a fresh connection"
    );
    admin_execute(
        "postgres",
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name()
        ),
    );
    // the connection died before BEGIN: nothing was sent, the write is retried
    store.put_setting("k", "w").unwrap();
    assert_eq!(store.get_setting("k").unwrap().as_deref(), Some("w"));
}

#[test]
fn a_failed_batch_writes_nothing() {
    let (_db, store) = fresh();
    let a = store::conformance::sample_customer("C-1", "p-1");
    let mut bad = store::conformance::sample_customer("C-2", "p-1");
    // a NUL byte is not valid in PostgreSQL text: the second row fails
    bad.meta.country = Some("V\0N".into());
    assert!(store.insert_customers(&[a.clone(), bad]).is_err());
    assert_eq!(store.count_customers().unwrap(), 0, "all or nothing");
    assert!(store.wrapped_keys(None, 10).unwrap().is_empty());
    store.insert_customers(&[a]).unwrap();
}

#[test]
fn two_stores_on_one_database_see_each_others_writes() {
    let (db, first) = fresh();
    let second = Arc::new(PostgresStore::connect(db.url()).unwrap());
    let s = store::SessionRecord {
        id: "s-1".into(),
        token_hash: [3; 32],
        person: model::PersonId("p-1".into()),
        created_ms: 1,
        last_seen_ms: 1,
        expires_ms: 1000,
        idle_timeout_ms: 100,
        revoked: false,
        mfa_ms: 0,
    };
    use store::AuthStore;
    first.insert_session(&s).unwrap();
    assert!(!second.session_by_token(&[3; 32]).unwrap().unwrap().revoked);
    first.revoke_session("s-1").unwrap();
    assert!(second.session_by_token(&[3; 32]).unwrap().unwrap().revoked);
    let v1 = first.put_policy("a", &model::PersonId("p".into()), 1).unwrap();
    let v2 = second.put_policy("b", &model::PersonId("p".into()), 2).unwrap();
    assert_eq!((v1, v2), (1, 2));
}

fn ledger_entry(n: u64) -> ledger::Entry {
    ledger::Entry {
        index: 0,
        time: 1_700_000_000_000 + n as i64,
        actor: format!("p-{}", n % 5),
        action: "customer.read".into(),
        resources: vec![ledger::ResourceId::Customer(format!("C-{n}"))],
        decision: ledger::Decision::Allow,
        policies: vec!["default".into()],
        record_count: 1,
        withheld_count: 0,
        fields: vec!["name".into()],
        client: ledger::ClientContext::default(),
        justification: String::new(),
    }
}

/// Two servers' ledgers on one database: the advisory lock and the size
/// check keep one totally ordered log; the stale writer reloads and retries.
#[test]
fn two_ledgers_on_one_database_keep_one_verifiable_log() {
    let db = fresh_database();
    let key = || ledger::SigningKey::from_seed("custodia.test/pg", &[7; 32]).unwrap();
    let clock = model::ManualClock::new(1_700_000_000_000);
    let open = || {
        let store = Arc::new(PostgresStore::connect(db.url()).unwrap());
        ledger::Ledger::open(
            store,
            key(),
            Arc::new(clock.clone()),
            ledger::LedgerConfig::new("custodia.test/pg"),
            Vec::new(),
        )
        .unwrap()
    };
    let (a, b) = (Arc::new(open()), Arc::new(open()));
    let mut indexes = Vec::new();
    for n in 0..10 {
        indexes.push(a.append(ledger_entry(2 * n)).unwrap().index);
        indexes.push(b.append(ledger_entry(2 * n + 1)).unwrap().index);
    }
    assert_eq!(
        indexes,
        (0..20).collect::<Vec<_>>(),
        "interleaved appends get consecutive indexes"
    );
    let threads: Vec<_> = [Arc::clone(&a), Arc::clone(&b)]
        .into_iter()
        .enumerate()
        // enough threads that each committer always has a batch waiting: a
        // writer that only retried on conflict would starve behind the other
        .flat_map(|(w, l)| (0..12).map(move |t| (w, t, Arc::clone(&l))))
        .map(|(w, t, l)| {
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| {
                        l.append(ledger_entry(10_000 * (w as u64 + 1) + 100 * t + i))
                            .unwrap()
                            .index
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    indexes.extend(threads.into_iter().flat_map(|t| t.join().unwrap()));
    indexes.sort_unstable();
    assert_eq!(
        indexes,
        (0..620).collect::<Vec<_>>(),
        "no index used twice, none skipped"
    );
    a.checkpoint_now().unwrap();
    let cp = b.checkpoint_now().unwrap();
    let vk = key().verifying_key();
    assert_eq!(ledger::Checkpoint::open(&cp, &vk).unwrap().size, 620);
    let report = ledger::verify(&**a.store(), &vk, None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, 620);
    assert_eq!(report.unsigned_tail, 0);
}

/// A restart or failover kills the ledger's pooled connections: the next
/// group commit takes its turn and appends on live ones, each entry once.
#[test]
fn the_ledger_appends_after_its_connections_are_dropped() {
    let db = fresh_database();
    let key = || ledger::SigningKey::from_seed("custodia.test/pg", &[7; 32]).unwrap();
    let store = Arc::new(PostgresStore::connect(db.url()).unwrap());
    let ledger = ledger::Ledger::open(
        Arc::clone(&store),
        key(),
        Arc::new(model::ManualClock::new(1_700_000_000_000)),
        ledger::LedgerConfig::new("custodia.test/pg"),
        Vec::new(),
    )
    .unwrap();
    let mut indexes = Vec::new();
    for round in 0..3 {
        indexes.push(ledger.append(ledger_entry(2 * round)).unwrap().index);
        admin_execute(
            "postgres",
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
                db.name()
            ),
        );
        indexes.push(ledger.append(ledger_entry(2 * round + 1)).unwrap().index);
    }
    assert_eq!(indexes, (0..6).collect::<Vec<_>>());
    let vk = key().verifying_key();
    let report = ledger::verify(&*store, &vk, None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, 6, "no entry written twice");
    // the turn above drained the dead connections; an append alone meets one
    // and appends again on a live one
    ledger.close();
    let next = ledger::AppendBatch {
        first_index: 6,
        entries: vec![(b"seventh".to_vec(), ledger::leaf_hash(b"seventh"))],
        ..ledger::AppendBatch::default()
    };
    admin_execute(
        "postgres",
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name()
        ),
    );
    use ledger::LedgerStore;
    store.append_batch(&next).unwrap();
    assert_eq!(store.size().unwrap(), 7);
}

/// A database of schema 8 kept each leaf hash in `ledger_tree` at position
/// `idx * 64`: a ledger turned back into that layout verifies after the
/// upgrade with the same root, and its proofs (which read leaves from the
/// entry rows now) still verify.
#[test]
fn leaf_hashes_move_into_the_entry_rows_on_upgrade() {
    use ledger::LedgerStore;
    let db = fresh_database();
    let key = ledger::SigningKey::from_seed("custodia.test/pg", &[7; 32]).unwrap();
    let vk = key.verifying_key();
    let n = 45;
    {
        let store = PostgresStore::connect(db.url()).unwrap();
        let ledger = ledger::Ledger::open(
            store,
            key,
            Arc::new(model::ManualClock::new(1_700_000_000_000)),
            ledger::LedgerConfig::new("custodia.test/pg"),
            Vec::new(),
        )
        .unwrap();
        for i in 0..n {
            ledger.append(ledger_entry(i)).unwrap();
        }
        ledger.checkpoint_now().unwrap();
        ledger.close();
    }
    admin_execute(
        db.name(),
        "INSERT INTO ledger_tree (pos, hash) SELECT idx * 64, leaf FROM ledger_entries;
         ALTER TABLE ledger_entries DROP COLUMN leaf;
         UPDATE schema_version SET version = 8;",
    );
    let store = PostgresStore::connect(db.url()).unwrap();
    let report = ledger::verify(&store, &vk, None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, n);
    let cp = ledger::Checkpoint::open(&store.latest_checkpoint().unwrap().unwrap().text, &vk).unwrap();
    assert_eq!((cp.size, cp.root), (n, report.root));
    for index in [0, 17, 44] {
        let proof = ledger::inclusion_proof(&store, index, n).unwrap();
        let bytes = store.get_entries(&[index]).unwrap()[0].clone().unwrap();
        ledger::verify_inclusion(index, n, &ledger::leaf_hash(&bytes), &proof, &cp.root).unwrap();
    }
    // 13 leaves: the root at that size needs the leaf of entry 12 alone
    let at_13 = ledger::root_from_store(&store, 13).unwrap();
    let proof = ledger::consistency_proof(&store, 13, n).unwrap();
    ledger::verify_consistency(13, n, &at_13, &cp.root, &proof).unwrap();
    let leaf = ledger::NodeId { level: 0, index: 12 };
    let bytes = store.get_entries(&[12]).unwrap()[0].clone().unwrap();
    assert_eq!(store.get_nodes(&[leaf]).unwrap(), vec![Some(ledger::leaf_hash(&bytes))]);
}

#[test]
fn a_stale_batch_is_a_conflict_and_writes_nothing() {
    use ledger::LedgerStore;
    let (_db, store) = fresh();
    let batch = |first: u64| ledger::AppendBatch {
        first_index: first,
        entries: vec![(b"x".to_vec(), ledger::leaf_hash(b"x"))],
        nodes: Vec::new(),
        checkpoint: None,
    };
    store.append_batch(&batch(0)).unwrap();
    match store.append_batch(&batch(0)) {
        Err(ledger::StoreError::Conflict {
            batch_first: 0,
            store_size: 1,
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.size().unwrap(), 1);
    assert!(ledger::StoreError::Conflict {
        batch_first: 0,
        store_size: 1
    }
    .to_string()
    .contains("reopen"));
}

fn sqlite_with_customers() -> (tempfile::TempDir, store::SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = store::SqliteStore::create(dir.path()).unwrap();
    sqlite
        .insert_customers(&[
            store::conformance::sample_customer("C-1", "p-1"),
            store::conformance::sample_customer("C-2", "p-1"),
        ])
        .unwrap();
    sqlite.put_setting("installation", "inst-1").unwrap();
    (dir, sqlite)
}

#[test]
fn migration_copies_everything_and_refuses_a_second_time() {
    use ledger::LedgerStore;
    let (_dir, sqlite) = sqlite_with_customers();
    ledger::check_contract(&sqlite).unwrap();
    sqlite
        .put_policy("permit(principal, action, resource);", &model::PersonId("p".into()), 5)
        .unwrap();
    let (_db, pg) = fresh();
    let report = store::copy_sqlite_to_postgres(&sqlite, &pg).unwrap();
    assert_eq!(report.rows("customers"), 2);
    assert_eq!(report.rows("customer_lookups"), 4);
    assert_eq!(report.rows("ledger_entries"), 308);
    for id in ["C-1", "C-2"] {
        let id = model::CustomerId(id.into());
        assert_eq!(pg.get_customer(&id).unwrap(), sqlite.get_customer(&id).unwrap());
    }
    assert_eq!(pg.current_policy().unwrap(), sqlite.current_policy().unwrap());
    assert_eq!(pg.size().unwrap(), 308);
    assert_eq!(pg.latest_checkpoint().unwrap(), sqlite.latest_checkpoint().unwrap());
    // every leaf hash came along in its entry's row
    let leaves: Vec<ledger::NodeId> = (0..308).map(|index| ledger::NodeId { level: 0, index }).collect();
    let copied = pg.get_nodes(&leaves).unwrap();
    assert!(copied.iter().all(Option::is_some));
    assert_eq!(copied, sqlite.get_nodes(&leaves).unwrap());
    let again = store::copy_sqlite_to_postgres(&sqlite, &pg).unwrap_err();
    assert!(matches!(again, StoreError::TargetNotEmpty { .. }), "{again}");
}

#[test]
fn a_migration_failing_on_its_last_table_leaves_the_target_empty() {
    use ledger::LedgerStore;
    let (_dir, sqlite) = sqlite_with_customers();
    // PostgreSQL refuses NUL in text: the checkpoints, copied last, fail
    sqlite
        .append_batch(&ledger::AppendBatch {
            first_index: 0,
            checkpoint: Some(ledger::StoredCheckpoint {
                size: 0,
                time: 1,
                text: "bad\0checkpoint".into(),
            }),
            ..ledger::AppendBatch::default()
        })
        .unwrap();
    let (_db, pg) = fresh();
    assert!(store::copy_sqlite_to_postgres(&sqlite, &pg).is_err());
    assert_eq!(pg.count_customers().unwrap(), 0, "nothing half-written");
    assert_eq!(pg.get_setting("installation").unwrap(), None);
}

#[test]
fn a_migration_refuses_tables_it_does_not_know() {
    let (dir, sqlite) = sqlite_with_customers();
    let conn = rusqlite::Connection::open(dir.path().join(store::DB_FILE)).unwrap();
    conn.execute_batch("CREATE TABLE events_2027 (id INTEGER)").unwrap();
    drop(conn);
    let (_db, pg) = fresh();
    let err = store::copy_sqlite_to_postgres(&sqlite, &pg).unwrap_err();
    assert!(err.to_string().contains("events_2027"), "{err}");
    assert_eq!(pg.count_customers().unwrap(), 0);
}
