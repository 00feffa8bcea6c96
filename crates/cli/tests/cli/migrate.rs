//! `custodia migrate` and `--database`: a demo installation moved to a real
//! PostgreSQL (see `store::testing`) keeps every entry and its root hash.

use store::testing::fresh_database;

use crate::Env;

#[test]
fn a_demo_installation_moves_to_postgres_with_the_same_ledger_root() {
    let env = Env::new();
    let dir = env.root.join("demo");
    let dir_arg = dir.to_str().unwrap();
    env.run(&["demo", "--dir", dir_arg, "--customers", "400", "--force"])
        .ok();
    let db = fresh_database();

    let moved = env
        .run(&["--json", "migrate", "--from", dir_arg, "--to", db.url()])
        .ok()
        .json();
    assert_eq!(moved["root_before"], moved["root_after"], "{moved}");
    assert!(moved["ledger_entries"].as_u64().unwrap() > 0, "{moved}");
    assert_eq!(moved["tables"]["customers"], 400, "{moved}");
    assert!(moved["tables"]["people"].as_u64().unwrap() > 0);
    assert!(moved["tables"]["data_keys"].as_u64().unwrap() >= 400);
    assert!(moved["tables"]["ledger_checkpoints"].as_u64().unwrap() > 0);
    let shown = moved["to"].as_str().unwrap();
    assert!(
        !shown.contains(store::testing::PASSWORD),
        "no password in output: {shown}"
    );

    // The migrated installation works with the data directory's keys and
    // the PostgreSQL store: records decrypt, the ledger verifies and the
    // audit goes on from where SQLite left it.
    let on_pg = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_custodia"))
            .args(["--data-dir", dir_arg])
            .args(args)
            .env("CUSTODIA_DATABASE", db.url())
            .env_remove("CUSTODIA_KEYRING")
            .env_remove("CUSTODIA_DATA_DIR")
            .env_remove("CUSTODIA_KEY_FILE")
            .output()
            .unwrap();
        crate::to_run(out)
    };
    let listed = on_pg(&["--json", "customers", "list", "--limit", "1000"]).ok().json();
    assert_eq!(listed["records"].as_array().unwrap().len(), 400);
    let verified = on_pg(&["--json", "audit", "verify"]).ok().json();
    assert_eq!(verified["ok"], true, "{verified}");
    assert!(
        verified["entries_checked"].as_u64().unwrap() > moved["ledger_entries"].as_u64().unwrap(),
        "the reads above were recorded in PostgreSQL's ledger: {verified}"
    );

    // A second migration into the now non-empty database is refused.
    let again = env.run(&["migrate", "--from", dir_arg, "--to", db.url()]).fails();
    assert!(again.stderr.contains("already holds custodia data"), "{}", again.stderr);
}

#[test]
fn migrate_with_a_wrong_password_says_so_without_showing_it() {
    let env = Env::new();
    let dir = env.root.join("demo");
    let dir_arg = dir.to_str().unwrap();
    env.run(&["demo", "--dir", dir_arg, "--customers", "20", "--force"])
        .ok();
    let db = fresh_database();
    let url = db
        .url()
        .replacen(&format!(":{}@", store::testing::PASSWORD), ":N0t-The-Passw0rd@", 1);
    assert_ne!(url, db.url());
    let out = env.run(&["migrate", "--from", dir_arg, "--to", &url]).fails();
    assert!(out.stderr.contains("refused the credentials"), "{}", out.stderr);
    assert!(!out.stderr.contains("N0t-The-Passw0rd"), "{}", out.stderr);
    // and nothing was written: the right password finds the database empty
    env.run(&["migrate", "--from", dir_arg, "--to", db.url()]).ok();
}

#[test]
fn database_must_be_a_postgres_url() {
    let env = Env::with_people();
    let out = env
        .run(&["--database", "mysql://x:y@localhost/db", "people", "list"])
        .fails();
    assert!(out.stderr.contains("postgres://"), "{}", out.stderr);
}
