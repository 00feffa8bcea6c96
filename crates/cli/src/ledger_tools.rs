//! `custodia bench ledger` and the hidden crash-test writer: the ledger
//! over the real SQLite store, many writers at once.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ledger::{ClientContext, Decision, Entry, Ledger, LedgerConfig, ResourceId, SigningKey};
use model::SystemClock;
use store::{SqliteStore, Store};

use crate::install::Context;

/// A realistic audit entry: one customer read with its fields.
pub fn sample_entry(n: u64) -> Entry {
    Entry {
        index: 0,
        time: 1_790_000_000_000 + n as i64,
        actor: format!("person:p-{:04}", n % 60),
        action: "customer.read".into(),
        resources: vec![ResourceId::Customer(format!("C-{:06}", n % 20_000))],
        decision: if n.is_multiple_of(17) {
            Decision::Deny
        } else {
            Decision::Allow
        },
        policies: vec!["rep-reads-own-accounts".into()],
        record_count: 1,
        withheld_count: 0,
        fields: vec!["name".into(), "emails".into(), "phones".into()],
        client: ClientContext {
            address: "10.20.30.40".into(),
            user_agent: "custodia-cli/0.1".into(),
            device: "laptop-42".into(),
        },
        justification: String::new(),
    }
}

/// Appends from `writers` threads until killed, printing each acknowledged
/// index on its own line (flushed), for the crash-safety test.
pub fn crash_writer(ctx: &Context, writers: usize) -> anyhow::Result<()> {
    let inst = ctx.open()?;
    let ledger = Arc::clone(&inst.ledger);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    std::thread::scope(|s| {
        for w in 0..writers {
            let ledger = Arc::clone(&ledger);
            let out = Arc::clone(&out);
            s.spawn(move || {
                for i in 0.. {
                    match ledger.append(sample_entry(w as u64 * 1_000_000 + i)) {
                        Ok(receipt) => {
                            if let Ok(mut o) = out.lock() {
                                let _ = writeln!(o, "{}", receipt.index);
                                let _ = o.flush();
                            }
                        }
                        Err(e) => {
                            eprintln!("append failed: {e}");
                            return;
                        }
                    }
                }
            });
        }
    });
    Ok(())
}

/// Durable appends with `writers` concurrent writers against the ledger on
/// SQLite, and in the same run a plain SQLite insert loop with one fsync
/// per transaction.
pub fn bench(writers: usize, per_writer: usize, proof_at: Option<u64>) -> anyhow::Result<()> {
    // Removed when dropped, also when the benchmark stops early.
    let dir = tempfile::Builder::new().prefix("custodia-bench-ledger-").tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path())?);
    let key = SigningKey::generate("custodia/bench")?;
    let ledger = Arc::new(Ledger::open(
        Arc::clone(&store),
        key,
        Arc::new(SystemClock),
        LedgerConfig::new("custodia/bench"),
        Vec::new(),
    )?);
    let total = writers * per_writer;
    outln!(
        "bench ledger: {writers} writers x {per_writer} appends = {total} durable entries, twice (SQLite; each acknowledged after its log flush)"
    );
    // Threads blocked on `append`, as the CLI and ingest workers write; then
    // async tasks awaiting `submit`, as the server's requests write.
    let threads = print_appends(
        &format!("{writers} writer threads"),
        append_from_threads(&ledger, writers, per_writer),
    )?;
    let tasks = print_appends(
        &format!("{writers} writer tasks"),
        append_from_tasks(&ledger, writers, per_writer)?,
    )?;
    let rate = threads.max(tasks);

    // Verification speed over what was just written. Verification runs on
    // this one thread (SQLite reads included), so the thread's CPU time gives
    // the per-core figure even when other processes share the machine.
    let t = Instant::now();
    let cpu = cpu_time::ThreadTime::now();
    let report = ledger::verify(store.as_ref(), &ledger.verifying_key(), None);
    let vcpu = cpu.elapsed().as_secs_f64();
    let vsecs = t.elapsed().as_secs_f64();
    outln!(
        "  full verification:               {:>10.0} entries/s wall, {:.0} per CPU-second of its one thread ({} entries, ok: {}) (goal >= 1,500,000 per core)",
        report.entries_checked as f64 / vsecs,
        report.entries_checked as f64 / vcpu,
        report.entries_checked,
        report.is_ok()
    );

    // Inclusion proof over the stored tree.
    let size = report.entries_checked;
    let t = Instant::now();
    let n = 2000u64;
    for i in 0..n {
        ledger::inclusion_proof(store.as_ref(), (i * 7919) % size.max(1), size)?;
    }
    outln!(
        "  inclusion proof at {size} entries:  {:>8.1} us each",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );

    // Baseline: the same entries inserted one transaction (and one fsync) each.
    let base_n = 2000usize.min(total);
    let conn = rusqlite::Connection::open(dir.path().join("plain.db"))?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE log (idx INTEGER PRIMARY KEY, bytes BLOB NOT NULL);")?;
    let mut stmt = conn.prepare("INSERT INTO log (idx, bytes) VALUES (?1, ?2)")?;
    let t = Instant::now();
    for i in 0..base_n {
        let bytes = sample_entry(i as u64).encode()?;
        conn.execute_batch("BEGIN")?;
        stmt.execute(rusqlite::params![i as i64, bytes])?;
        conn.execute_batch("COMMIT")?;
    }
    let base_rate = base_n as f64 / t.elapsed().as_secs_f64();
    outln!("  plain SQLite, one fsync per insert: {base_rate:>7.0} inserts/s");
    outln!("  ratio custodia / plain:          {:>10.1}x", rate / base_rate);
    drop(stmt);
    drop(conn);
    if let Ok(l) = Arc::try_unwrap(ledger) {
        l.close();
    }
    let proofs = match proof_at {
        Some(entries) => proofs_in_filled_ledger(&dir.path().join("proofs"), entries),
        None => Ok(()),
    };
    proofs
}

/// Acknowledged appends of one run and how long each waited.
struct AppendRun {
    latencies: Vec<Duration>,
    seconds: f64,
}

impl AppendRun {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds
    }
}

/// Prints a run's rate and latency percentiles; returns the rate.
fn print_appends(label: &str, mut run: AppendRun) -> anyhow::Result<f64> {
    let rate = run.rate();
    run.latencies.sort();
    let lat = &run.latencies;
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    outln!(
        "  group commit, {label:<20} {:>8.0} appends/s   p50 {:.2} ms   p99 {:.2} ms (goal >= 100,000/s, p99 <= 5 ms)",
        rate,
        ms(pct(0.5)),
        ms(pct(0.99))
    );
    Ok(rate)
}

fn append_from_threads(ledger: &Arc<Ledger<Arc<dyn Store>>>, writers: usize, per_writer: usize) -> AppendRun {
    let latencies = Mutex::new(Vec::with_capacity(writers * per_writer));
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let latencies = &latencies;
            s.spawn(move || {
                let mut mine = Vec::with_capacity(per_writer);
                for i in 0..per_writer {
                    let start = Instant::now();
                    if ledger.append(sample_entry((w * per_writer + i) as u64)).is_ok() {
                        mine.push(start.elapsed());
                    }
                }
                if let Ok(mut l) = latencies.lock() {
                    l.extend(mine);
                }
            });
        }
    });
    AppendRun {
        seconds: t.elapsed().as_secs_f64(),
        latencies: latencies.into_inner().unwrap_or_default(),
    }
}

/// The server's shape: each writer a task on a two-thread runtime, holding
/// no thread while its entry's batch is written and flushed.
fn append_from_tasks(
    ledger: &Arc<Ledger<Arc<dyn Store>>>,
    writers: usize,
    per_writer: usize,
) -> anyhow::Result<AppendRun> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
    let t = Instant::now();
    let latencies = runtime.block_on(async {
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let ledger = Arc::clone(ledger);
                tokio::spawn(async move {
                    let mut mine = Vec::with_capacity(per_writer);
                    for i in 0..per_writer {
                        let start = Instant::now();
                        let Ok(pending) = ledger.submit(sample_entry((w * per_writer + i) as u64)) else {
                            break;
                        };
                        if pending.await.is_ok() {
                            mine.push(start.elapsed());
                        }
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::with_capacity(writers * per_writer);
        for task in tasks {
            all.extend(task.await.unwrap_or_default());
        }
        all
    });
    Ok(AppendRun {
        seconds: t.elapsed().as_secs_f64(),
        latencies,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Fills a SQLite ledger with `entries` entries in batches of 10,000 (the
/// committer's work without its waiting) and times inclusion proofs in it:
/// each proof reads about log2(entries) stored nodes.
fn proofs_in_filled_ledger(dir: &std::path::Path, entries: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let store = SqliteStore::create(dir)?;
    let bar = indicatif::ProgressBar::new(entries);
    let mut frontier = ledger::merkle::Frontier::new();
    let mut next = 0u64;
    while next < entries {
        let end = (next + 10_000).min(entries);
        let mut batch = ledger::AppendBatch {
            first_index: next,
            ..Default::default()
        };
        for i in next..end {
            let mut entry = sample_entry(i);
            entry.index = i;
            batch.push_entry(&mut frontier, entry.encode()?);
        }
        ledger::LedgerStore::append_batch(&store, &batch)?;
        bar.set_position(end);
        next = end;
    }
    bar.finish_and_clear();
    let root = frontier.root();
    // The filled ledger has no checkpoints, so any key serves to verify it.
    let t = Instant::now();
    let cpu = cpu_time::ThreadTime::now();
    let report = ledger::verify(
        &store,
        &ledger::SigningKey::generate("custodia/bench")?.verifying_key(),
        None,
    );
    let vcpu = cpu.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.root == root && report.entries_checked == entries,
        "verification disagrees with the filled tree"
    );
    outln!(
        "  full verification at {entries} entries: {:.0} entries/s wall, {:.0} per CPU-second (goal >= 1,500,000 per core)",
        entries as f64 / t.elapsed().as_secs_f64(),
        entries as f64 / vcpu
    );
    let n = 2000u64;
    let mut times = Vec::with_capacity(n as usize);
    for i in 0..n {
        let index = (i * 7_919_993) % entries.max(1);
        let t = Instant::now();
        let proof = ledger::inclusion_proof(&store, index, entries)?;
        times.push(t.elapsed());
        let leaf = ledger::LedgerStore::get_entries(&store, &[index])?
            .into_iter()
            .next()
            .flatten()
            .ok_or_else(|| anyhow::anyhow!("entry {index} missing"))?;
        anyhow::ensure!(
            ledger::verify_inclusion(index, entries, &ledger::leaf_hash(&leaf), &proof, &root).is_ok(),
            "the proof of entry {index} does not verify"
        );
    }
    times.sort();
    outln!(
        "  inclusion proof at {entries} entries: median {:.1} us, p99 {:.1} us (goal <= 100 us)",
        times[times.len() / 2].as_secs_f64() * 1e6,
        times[times.len() * 99 / 100].as_secs_f64() * 1e6
    );
    Ok(())
}
