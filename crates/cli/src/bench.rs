//! `custodia bench`: benchmarks that print their figures (medians and
//! ratios to a baseline measured in the same run). Not tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Subcommand;
use gateway::{AccessContext, Actor, AuditRecord, Gateway, Keyring, RecordError, Recorder, Ticket};
use model::{CustomerId, NewCustomer, SystemClock};
use store::{SqliteStore, Store};

use crate::install::Context;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Import customers with encryption and blind indexes, against a plain
    /// SQLite insert of the same rows; then time single decrypted reads.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// How many single-customer reads to time.
        #[arg(long, default_value_t = 20_000)]
        reads: usize,
    },
    /// Durable ledger appends with many concurrent writers, verification
    /// speed and inclusion proofs, against a plain SQLite insert loop.
    Ledger {
        #[arg(long, default_value_t = 256)]
        writers: usize,
        #[arg(long, default_value_t = 400)]
        per_writer: usize,
        /// Also fill a second SQLite ledger with this many entries (written in
        /// batches, without the committer) and time inclusion proofs in it.
        #[arg(long, value_name = "ENTRIES")]
        proof_at: Option<u64>,
    },
    /// Authenticated, authorized, audited, durable customer reads over HTTP
    /// with many connections, against the same server's health route.
    Serve(crate::bench_serve::ServeBenchArgs),
    /// Policy decisions, gateway reads against raw decrypted reads, export authorization.
    Gateway {
        #[arg(long, default_value_t = 100_000)]
        customers: usize,
        #[arg(long, default_value_t = 10_000)]
        people: usize,
    },
    /// Insider-risk scoring of a CERT r4.2-sized data set against merely parsing its CSVs.
    Risk(crate::risk_cmd::BenchArgs),
    /// DLP scanning of a generated text corpus against an exact-data-match
    /// index, with ripgrep over the same files for the same detector regexes.
    Scan {
        #[arg(long, default_value_t = 1_000_000)]
        customers: usize,
        /// Corpus size in MiB.
        #[arg(long, default_value_t = 1024)]
        mib: u64,
        /// Share of the corpus's bytes that are documents leaking customers (and their
        /// look-alike negatives); the rest is ordinary business text. 1.0 scans leaks only.
        #[arg(long, default_value_t = 0.1)]
        leak_share: f64,
        /// Skip the ripgrep comparison.
        #[arg(long)]
        no_ripgrep: bool,
        /// Only build the index and print its build time and size (e.g. with
        /// `--customers 10000000`).
        #[arg(long)]
        index_only: bool,
        /// Scanning threads (0 = all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Latency percentiles of 1 MiB emails with attachments sent through the
    /// ICAP server (REQMOD over loopback) to the DLP engine.
    Icap(crate::bench_icap::IcapBenchArgs),
    /// Appends until killed, printing acknowledged indexes (crash tests).
    #[command(hide = true)]
    CrashWriter {
        #[arg(long, default_value_t = 16)]
        writers: usize,
    },
}

/// Keeps records in memory: the benchmarks measure the vault, not the ledger.
#[derive(Default)]
struct CountingRecorder(Mutex<u64>);

impl Recorder for CountingRecorder {
    fn submit(&self, _record: &AuditRecord) -> Result<Ticket, RecordError> {
        let mut n = self.0.lock().map_err(|_| RecordError("poisoned".into()))?;
        *n += 1;
        Ok(Ticket::durable())
    }
}

pub fn run(ctx: &Context, cmd: BenchCmd) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Import { rows, reads } => import(rows, reads),
        BenchCmd::Ledger {
            writers,
            per_writer,
            proof_at,
        } => crate::ledger_tools::bench(writers, per_writer, proof_at),
        BenchCmd::Gateway { customers, people } => gateway(customers, people),
        BenchCmd::Serve(args) => crate::bench_serve::run(args),
        BenchCmd::Risk(args) => crate::risk_cmd::bench(args),
        BenchCmd::Scan {
            customers,
            mib,
            leak_share,
            no_ripgrep,
            index_only,
            threads,
        } => {
            let config = dlp::bench::ScanBenchConfig {
                customers,
                corpus_bytes: mib * 1024 * 1024,
                ripgrep: !no_ripgrep,
                leak_share,
                index_only,
                threads,
                ..Default::default()
            };
            let start = Instant::now();
            let clock = move || start.elapsed().as_secs_f64();
            // CPU seconds give the per-core rate whatever else runs on the machine.
            let cpu_clock = || cpu_time::ProcessTime::now().as_duration().as_secs_f64();
            outln!("{}", dlp::bench::scan_corpus(&config, &clock, Some(&cpu_clock))?);
            if let (Some(peak), Some(now)) = (resident_mib("VmHWM:"), resident_mib("VmRSS:")) {
                let held = if index_only {
                    "the index and one batch of 100,000 generated customers"
                } else {
                    "the index, the generated corpus and the scan"
                };
                outln!("memory: {peak:.1} MiB peak resident for the whole process ({held}), {now:.1} MiB at the end");
            }
            Ok(())
        }
        BenchCmd::Icap(args) => crate::bench_icap::run(args),
        BenchCmd::CrashWriter { writers } => crate::ledger_tools::crash_writer(ctx, writers),
    }
}

/// The process's peak (`VmHWM:`) or current (`VmRSS:`) resident memory, where the
/// system says it (Linux).
fn resident_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn import(rows: usize, reads: usize) -> anyhow::Result<()> {
    let dir = tempdir()?;
    outln!(
        "bench import: {rows} customers, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let company = demo::company(1);
    let customers = demo::customers(1, rows, &company);

    // Baseline: the same rows, plaintext, into a plain SQLite table with the
    // same durability and cache settings and indexes on email and phone.
    let plain_dir = dir.path().join("plain");
    std::fs::create_dir_all(&plain_dir)?;
    let plain_secs = plain_sqlite_insert(&plain_dir.join("plain.db"), &customers)?;

    let vault_dir = dir.path().join("vault");
    std::fs::create_dir_all(&vault_dir)?;
    let gw = fresh_gateway(&vault_dir)?;
    let actor = Actor::Operator { name: "bench".into() };
    let access = AccessContext::default();
    // Everyone as employed: customers cannot be given to someone who has left.
    gw.import_people(
        &actor,
        &access,
        &demo::activity::people_at_start(&company),
        &company.teams,
    )?;
    let ids: Vec<CustomerId> = customers.iter().filter_map(|c| c.id.clone()).collect();
    let plain_index_secs = plain_edm_index(&customers);
    let t = Instant::now();
    let report = gw.import_customers(&actor, &access, customers, false, &|_| {})?;
    let vault_secs = t.elapsed().as_secs_f64();

    let rate = |secs: f64| report.imported as f64 / secs;
    outln!(
        "  custodia import (seal + blind index + insert): {:>10.0} rows/s  ({vault_secs:.2} s)",
        rate(vault_secs)
    );
    outln!(
        "  plain SQLite insert, no encryption:            {:>10.0} rows/s  ({plain_secs:.2} s)",
        rate(plain_secs)
    );
    outln!(
        "  ratio custodia time / plain time:              {:>10.2}x  (goal <= 3x)",
        vault_secs / plain_secs
    );

    let mut timings = Vec::with_capacity(reads);
    let step = (ids.len() / reads.max(1)).max(1);
    for id in ids.iter().step_by(step).take(reads) {
        let t = Instant::now();
        let view = gw.read_customer(&actor, &access, id)?;
        timings.push(t.elapsed());
        std::hint::black_box(view);
    }
    timings.sort();
    let pct = |p: f64| {
        timings
            .get(((timings.len() as f64 * p) as usize).min(timings.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    outln!(
        "  decrypted read by id (gateway, recording excluded): median {:.1} us, p99 {:.1} us over {} reads (goal median <= 20 us)",
        micros(pct(0.5)),
        micros(pct(0.99)),
        timings.len()
    );

    let t = Instant::now();
    std::hint::black_box(gw.dlp_inspector(&actor, &access, dlp::Policy::default())?);
    let vault_index_secs = t.elapsed().as_secs_f64();
    outln!(
        "  DLP index from the vault (read + decrypt + key): {:>10.0} rows/s  ({vault_index_secs:.2} s)",
        rate(vault_index_secs)
    );
    outln!(
        "  DLP index from the same rows in memory:          {:>10.0} rows/s  ({plain_index_secs:.2} s)",
        rate(plain_index_secs)
    );
    outln!(
        "  ratio vault / in memory:                         {:>10.2}x",
        vault_index_secs / plain_index_secs
    );
    Ok(())
}

/// Seconds to build the exact-data-match index of `customers` from their
/// plaintext in memory, as the vault's index keys them: the floor under
/// building it from the vault, which reads and decrypts them first.
fn plain_edm_index(customers: &[NewCustomer]) -> f64 {
    let t = Instant::now();
    let mut edm = dlp::EdmIndex::new(&dlp::EdmKey::from_bytes([3; 32]), dlp::EdmConfig::default());
    for page in customers.chunks(4096) {
        let batch: Vec<_> = page
            .iter()
            .filter_map(|c| {
                let mut fields = vec![(dlp::FieldKind::CustomerId, c.id.as_ref()?.as_str())];
                fields.push((dlp::FieldKind::Name, c.display_name.as_str()));
                for (kind, values) in [
                    (dlp::FieldKind::Email, &c.emails),
                    (dlp::FieldKind::Phone, &c.phones),
                    (dlp::FieldKind::Address, &c.addresses),
                ] {
                    fields.extend(values.iter().map(|v| (kind, v.as_str())));
                }
                Some(dlp::NewCustomer {
                    id: c.id.as_ref()?.as_str(),
                    fields,
                    country: c.country.as_deref(),
                })
            })
            .collect();
        edm.add_many(&batch, 0);
    }
    edm.compact();
    std::hint::black_box(edm);
    t.elapsed().as_secs_f64()
}

/// A new vault in `dir` behind a gateway whose recording only counts (the
/// benchmarks time the vault and the policy, not the ledger).
fn fresh_gateway(dir: &std::path::Path) -> anyhow::Result<Gateway> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::create(dir)?);
    let keys = Keyring::generate("bench")?;
    Gateway::initialize(store.as_ref(), &keys, 0)?;
    Ok(Gateway::open(
        store,
        keys,
        Arc::new(SystemClock),
        Arc::new(CountingRecorder::default()),
    )?)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// A directory for a benchmark's stores, removed when dropped: also when the benchmark
/// stops early (an error, or a reader that closed the pipe).
fn tempdir() -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("custodia-bench-")
        .tempdir()
        .context("cannot create a temporary directory")
}

fn plain_sqlite_insert(path: &std::path::Path, customers: &[NewCustomer]) -> anyhow::Result<f64> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-262144;
         CREATE TABLE customers (id TEXT PRIMARY KEY, owner TEXT, team TEXT, territory TEXT, country TEXT, classification INTEGER,
           compartments TEXT, name TEXT, company TEXT, emails TEXT, phones TEXT, addresses TEXT, notes TEXT, value INTEGER, bank TEXT);
         CREATE INDEX customers_owner ON customers(owner);
         CREATE TABLE lookups (kind TEXT, value TEXT, customer_id TEXT);
         CREATE INDEX lookups_value ON lookups(kind, value);",
    )?;
    let t = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut insert =
            tx.prepare("INSERT INTO customers VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)")?;
        let mut lookup = tx.prepare("INSERT INTO lookups VALUES (?1, ?2, ?3)")?;
        for c in customers {
            let id = c.id.as_ref().map_or("", |i| i.as_str());
            insert.execute(rusqlite::params![
                id,
                c.owner.as_ref().map(|o| o.as_str()),
                c.team.as_ref().map(|t| t.as_str()),
                c.territory,
                c.country,
                c.classification.map(|x| x.level()),
                serde_json::to_string(&c.compartments)?,
                c.display_name,
                c.company,
                serde_json::to_string(&c.emails)?,
                serde_json::to_string(&c.phones)?,
                serde_json::to_string(&c.addresses)?,
                c.notes,
                c.annual_value,
                c.bank_details,
            ])?;
            for e in &c.emails {
                lookup.execute(rusqlite::params!["email", e.to_lowercase(), id])?;
            }
            for p in &c.phones {
                lookup.execute(rusqlite::params!["phone", p, id])?;
            }
        }
    }
    tx.commit()?;
    Ok(t.elapsed().as_secs_f64())
}

/// Policy decisions, full gateway reads against raw decrypted reads, and
/// authorizing a 10,000-record export.
pub fn gateway(customers: usize, people: usize) -> anyhow::Result<()> {
    use policy::{Action, CustomerRecord, Level, PolicyEngine, Principal, RequestContext, ResourceRef};
    outln!("bench gateway: {people} people, {customers} customers, default policies");

    // Decisions straight from the engine, on a varied request mix.
    let principals: Vec<Principal> = (0..people)
        .map(|i| Principal {
            id: format!("p{i}"),
            role: ["sales_rep", "sales_manager", "support", "finance"][i % 4].into(),
            department: "Sales".into(),
            team: Some(format!("team{}", i % 500)),
            clearance: Level::Confidential,
            compartments: Default::default(),
            status: policy::EmploymentStatus::Active,
            manager: None,
        })
        .collect();
    let resources: Vec<ResourceRef> = (0..customers.min(100_000))
        .map(|i| {
            ResourceRef::Customer(CustomerRecord {
                id: format!("C-{i}"),
                owner: format!("p{}", (i * 7) % people.max(1)),
                team: Some(format!("team{}", i % 500)),
                territory: format!("t{}", i % 50),
                classification: if i % 5 == 0 {
                    Level::Confidential
                } else {
                    Level::Internal
                },
                compartments: Default::default(),
            })
        })
        .collect();
    let ctx = RequestContext::office_hours();
    // 20,000 decisions over a varied mix; `pass` picks a different set of
    // (person, customer) pairs, so a later pass finds in the cache only what
    // earlier, different requests with the same shape put there.
    let sample = |engine: &PolicyEngine, pass: usize| -> (Duration, Duration) {
        let mut t = Vec::with_capacity(20_000);
        for i in pass * 20_000..(pass + 1) * 20_000 {
            let p = &principals[(i * 31) % principals.len()];
            let r = &resources[(i * 17) % resources.len()];
            let action = [Action::CustomerRead, Action::CustomerSearch, Action::CustomerExport][i % 3];
            let s = Instant::now();
            std::hint::black_box(engine.authorize(p, action, r, &ctx));
            t.push(s.elapsed());
        }
        t.sort();
        (t[t.len() / 2], t[t.len() * 99 / 100])
    };
    // Each policy set three ways: every decision evaluated by Cedar; the cache
    // filling from empty; and the cache in steady state, on requests it has not seen.
    let measure = |engine: &PolicyEngine| -> [(Duration, Duration); 3] {
        engine.set_decision_cache(false);
        let uncached = sample(engine, 0);
        engine.set_decision_cache(true);
        let filling = sample(engine, 1);
        let _ = sample(engine, 2);
        [uncached, filling, sample(engine, 3)]
    };
    let engine = PolicyEngine::with_default_policies()?;
    let big = PolicyEngine::new(&format!(
        "{}\n{}",
        policy::DEFAULT_POLICIES,
        policy::synthetic_policies(10_000)
    ))?;
    let small_runs = measure(&engine);
    let big_runs = measure(&big);
    for (label, (p50, p99), (b50, b99)) in [
        ("uncached (Cedar every time)", small_runs[0], big_runs[0]),
        ("cache filling from empty", small_runs[1], big_runs[1]),
        ("cache steady state (new pairs)", small_runs[2], big_runs[2]),
    ] {
        outln!("  decision, {label}:");
        outln!(
            "    default policies:     p50 {:>6.1} us   p99 {:>6.1} us  (goal p50 <= 10, p99 <= 50)",
            micros(p50),
            micros(p99)
        );
        outln!(
            "    +10,000 policies:     p50 {:>6.1} us   p99 {:>6.1} us   p50 ratio {:.2}x (goal <= 2x)",
            micros(b50),
            micros(b99),
            b50.as_secs_f64() / p50.as_secs_f64()
        );
    }
    let export_ctx = RequestContext {
        record_count: 10_000,
        ..ctx
    };
    let mut runs = Vec::new();
    for _ in 0..5 {
        let s = Instant::now();
        std::hint::black_box(engine.authorize_many(
            &principals[1],
            Action::CustomerExport,
            &resources[..10_000.min(resources.len())],
            &export_ctx,
        ));
        runs.push(s.elapsed());
    }
    runs.sort();
    outln!(
        "  authorize a 10,000-record export:  median {:>6.1} ms (goal <= 50 ms)",
        runs[runs.len() / 2].as_secs_f64() * 1e3
    );

    // Full gateway reads (person: authorize + decrypt + mask) against raw
    // decrypted reads (operator: no policy), recording excluded from both.
    let dir = tempdir()?;
    let gw = fresh_gateway(dir.path())?;
    let operator = Actor::Operator { name: "bench".into() };
    let access = AccessContext {
        trusted_network: true,
        ..Default::default()
    };
    let company = demo::company(1);
    // Everyone as employed: customers cannot be given to someone who has left.
    let mut staff = demo::activity::people_at_start(&company);
    for i in 0..people.saturating_sub(staff.len()) {
        let mut p = company.people[2].clone();
        p.id = model::PersonId(format!("x-{i:05}"));
        staff.push(p);
    }
    gw.import_people(&operator, &access, &staff, &company.teams)?;
    let rows = demo::customers(1, customers, &company);
    let owner = rows
        .first()
        .and_then(|c| c.owner.clone())
        .unwrap_or_else(|| model::PersonId("p-0002".into()));
    let own: Vec<CustomerId> = rows
        .iter()
        .filter(|c| c.owner.as_ref() == Some(&owner))
        .filter_map(|c| c.id.clone())
        .take(2000)
        .collect();
    gw.import_customers(&operator, &access, rows, false, &|_| {})?;
    let rep = Actor::Person(owner);
    let time_reads = |actor: &Actor| -> anyhow::Result<Duration> {
        let mut t = Vec::with_capacity(own.len() * 3);
        for _ in 0..3 {
            for id in &own {
                let s = Instant::now();
                std::hint::black_box(gw.read_customer(actor, &access, id)?);
                t.push(s.elapsed());
            }
        }
        t.sort();
        Ok(t[t.len() / 2])
    };
    let raw = time_reads(&operator)?;
    let full = time_reads(&rep)?;
    outln!(
        "  read one customer: full gateway (policy + decrypt + mask) median {:.1} us, raw decrypted read {:.1} us, ratio {:.2}x (goal <= 2x)",
        micros(full),
        micros(raw),
        full.as_secs_f64() / raw.as_secs_f64()
    );
    Ok(())
}
