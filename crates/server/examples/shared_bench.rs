//! Audited customer reads (policy decision, ledger append with group
//! commit, unwrap, open, mask) through the gateway: one instance on SQLite
//! against two instances sharing one PostgreSQL database, in the same run.
//! A benchmark for docs/scaling.md, not a test; HTTP is not included.
//!
//! `CUSTODIA_TEST_POSTGRES=postgres://… cargo run --release -p server --example shared_bench`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway::{AccessContext, Actor, Gateway, Keyring};
use ledger::{Ledger, LedgerConfig, SigningKey};
use model::{Classification, CustomerId, NewCustomer, PersonId, Role, SharedClock, SystemClock};
use store::conformance::sample_person;
use store::{PostgresStore, SqliteStore, Store};

const CUSTOMERS: usize = 2_000;
const THREADS: usize = 16;
const RUN_FOR: Duration = Duration::from_secs(5);

fn customer(i: usize) -> NewCustomer {
    NewCustomer {
        id: Some(CustomerId(format!("C-{i:05}"))),
        display_name: format!("Customer {i}"),
        company: "Acme".into(),
        emails: vec![format!("c{i}@example.com")],
        phones: vec![format!("+84 912 {:03} {:03}", i / 1000, i % 1000)],
        addresses: vec![],
        notes: String::new(),
        annual_value: None,
        bank_details: None,
        country: Some("VN".into()),
        owner: Some(PersonId("rep".into())),
        team: None,
        territory: None,
        classification: Some(Classification::Internal),
        compartments: Default::default(),
    }
}

fn gateway(store: Arc<dyn Store>, keys: &Keyring) -> Arc<Gateway> {
    let clock: SharedClock = Arc::new(SystemClock);
    let ledger = Arc::new(
        Ledger::open(
            Arc::clone(&store),
            SigningKey::from_seed("bench", &[3; 32]).unwrap(),
            Arc::clone(&clock),
            LedgerConfig::new("bench"),
            Vec::new(),
        )
        .unwrap(),
    );
    let keys = Keyring::from_text(&keys.to_text(), "bench").unwrap();
    Arc::new(Gateway::open(store, keys, clock, ledger).unwrap())
}

fn fill(store: &dyn Store, keys: &Keyring) {
    Gateway::initialize(store, keys, 0).unwrap();
}

fn load(g: &Gateway) {
    let op = Actor::Operator { name: "bench".into() };
    let ctx = AccessContext::default();
    let mut rep = sample_person("rep", Role::SalesRep);
    rep.team = None;
    rep.compartments = Default::default();
    g.import_people(&op, &ctx, &[rep], &[]).unwrap();
    g.import_customers(&op, &ctx, (0..CUSTOMERS).map(customer).collect(), false, &|_| {})
        .unwrap();
}

fn reads(gateways: &[Arc<Gateway>]) -> f64 {
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let g = Arc::clone(&gateways[t % gateways.len()]);
            std::thread::spawn(move || {
                let actor = Actor::Person(PersonId("rep".into()));
                let ctx = AccessContext::default();
                let mut n = 0u64;
                let mut i = t * 131;
                while start.elapsed() < RUN_FOR {
                    i = (i + 7919) % CUSTOMERS;
                    g.read_customer(&actor, &ctx, &CustomerId(format!("C-{i:05}"))).unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let keys = Keyring::generate("bench").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path()).unwrap());
    fill(sqlite.as_ref(), &keys);
    let on_sqlite = gateway(sqlite, &keys);
    load(&on_sqlite);

    let db = store::testing::fresh_database();
    let pg_a: Arc<dyn Store> = Arc::new(PostgresStore::connect(db.url()).unwrap());
    fill(pg_a.as_ref(), &keys);
    let a = gateway(pg_a, &keys);
    load(&a);
    let b = gateway(Arc::new(PostgresStore::connect(db.url()).unwrap()), &keys);

    let sq = reads(&[on_sqlite]);
    let pg_one = reads(std::slice::from_ref(&a));
    let pg = reads(&[a, b]);
    println!("audited customer reads through the gateway, {THREADS} threads, {CUSTOMERS} customers:");
    println!("  sqlite, one instance:          {sq:>8.0} reads/s");
    println!(
        "  postgres, one instance:        {pg_one:>8.0} reads/s  ({:.2}x sqlite)",
        pg_one / sq
    );
    println!(
        "  postgres, two instances:       {pg:>8.0} reads/s  ({:.2}x sqlite)",
        pg / sq
    );
}
