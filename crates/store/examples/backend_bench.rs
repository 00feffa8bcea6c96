//! Store-level figures for docs/scaling.md: customer reads and ledger
//! appends on SQLite and on PostgreSQL (a benchmark, not a test).
//!
//! `cargo run --release -p store --features testing --example backend_bench`
//! (PostgreSQL from `CUSTODIA_TEST_POSTGRES` or a throwaway cluster; note
//! the throwaway cluster runs with fsync off, so its append figures are an
//! upper bound).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger::{ClientContext, Decision, Entry, Ledger, LedgerConfig, ResourceId, SigningKey};
use model::ManualClock;
use store::conformance::sample_customer;
use store::{PostgresStore, SqliteStore, Store};

const CUSTOMERS: usize = 20_000;
const THREADS: usize = 8;
const READ_FOR: Duration = Duration::from_secs(4);

fn fill(store: &dyn Store) {
    let rows: Vec<_> = (0..CUSTOMERS)
        .map(|i| sample_customer(&format!("C-{i:06}"), &format!("p-{}", i % 50)))
        .collect();
    for chunk in rows.chunks(2000) {
        store.insert_customers(chunk).unwrap();
    }
}

/// Point reads of whole sealed customers (meta, fields, key, lookups) from
/// `THREADS` threads spread over the given stores.
fn reads(stores: &[Arc<dyn Store>]) -> f64 {
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&stores[t % stores.len()]);
            std::thread::spawn(move || {
                let mut n = 0u64;
                let mut i = t * 7919;
                while start.elapsed() < READ_FOR {
                    i = (i + 104_729) % CUSTOMERS;
                    let id = model::CustomerId(format!("C-{i:06}"));
                    assert!(store.get_customer(&id).unwrap().is_some());
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    total as f64 / start.elapsed().as_secs_f64()
}

fn entry(n: u64) -> Entry {
    Entry {
        index: 0,
        time: 1_700_000_000_000 + n as i64,
        actor: format!("p-{}", n % 50),
        action: "customer.read".into(),
        resources: vec![ResourceId::Customer(format!("C-{n:06}"))],
        decision: Decision::Allow,
        policies: vec!["default".into()],
        record_count: 1,
        withheld_count: 0,
        fields: vec!["name".into(), "emails".into()],
        client: ClientContext::default(),
        justification: String::new(),
    }
}

/// Appends from `THREADS` threads spread over one ledger per store (one
/// ledger per server); returns acknowledged entries per second.
fn appends(stores: &[Arc<dyn Store>], per_thread: u64) -> f64 {
    let clock = ManualClock::new(1_700_000_000_000);
    let ledgers: Vec<Arc<Ledger<Arc<dyn Store>>>> = stores
        .iter()
        .map(|s| {
            Arc::new(
                Ledger::open(
                    Arc::clone(s),
                    SigningKey::from_seed("bench", &[1; 32]).unwrap(),
                    Arc::new(clock.clone()),
                    LedgerConfig::new("bench"),
                    Vec::new(),
                )
                .unwrap(),
            )
        })
        .collect();
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS * 4)
        .map(|t| {
            let ledger = Arc::clone(&ledgers[t % ledgers.len()]);
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    ledger.append(entry(t as u64 * 1_000_000 + i)).unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    (THREADS as u64 * 4 * per_thread) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path()).unwrap());
    let db = store::testing::fresh_database();
    let pg1: Arc<dyn Store> = Arc::new(PostgresStore::connect(db.url()).unwrap());
    let pg2: Arc<dyn Store> = Arc::new(PostgresStore::connect(db.url()).unwrap());
    fill(sqlite.as_ref());
    fill(pg1.as_ref());
    let sq_reads = reads(std::slice::from_ref(&sqlite));
    let pg_reads = reads(&[Arc::clone(&pg1), Arc::clone(&pg2)]);
    println!("customer reads, {THREADS} threads, {CUSTOMERS} customers:");
    println!("  sqlite (one process):           {sq_reads:>9.0} reads/s");
    println!(
        "  postgres (two stores/pools):    {pg_reads:>9.0} reads/s  ({:.2}x sqlite)",
        pg_reads / sq_reads
    );
    let sq_app = appends(std::slice::from_ref(&sqlite), 250);
    let pg_app1 = appends(std::slice::from_ref(&pg1), 250);
    let pg_app2 = appends(&[pg1, pg2], 250);
    println!("ledger appends, {} threads, group commit:", THREADS * 4);
    println!("  sqlite, one ledger:             {sq_app:>9.0} entries/s");
    println!("  postgres, one ledger:           {pg_app1:>9.0} entries/s");
    println!("  postgres, two ledgers (2 servers): {pg_app2:>6.0} entries/s");
}
