//! Short criterion benches: group-commit throughput and p99 latency with 256
//! writers, verification speed, and inclusion proofs at 10 million entries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ledger::merkle::Frontier;
use ledger::{
    inclusion_proof, leaf_hash, verify, AppendBatch, Checkpoint, ClientContext, Decision, Entry, Ledger, LedgerConfig,
    LedgerStore, MemoryStore, ResourceId, SigningKey, StoredCheckpoint,
};
use model::ManualClock;

const NAME: &str = "custodia.bench/ledger";

fn key() -> SigningKey {
    SigningKey::from_seed(NAME, &[1u8; 32]).unwrap()
}

fn entry(n: u64) -> Entry {
    Entry {
        index: n,
        time: 1_700_000_000_000 + n as i64,
        actor: format!("user-{}", n % 100),
        action: "customer.read".into(),
        resources: vec![ResourceId::Customer(format!("cust-{n}"))],
        decision: Decision::Allow,
        policies: vec!["policy-default-read".into()],
        record_count: 1,
        withheld_count: 0,
        fields: vec!["email".into(), "phone".into(), "address".into()],
        client: ClientContext {
            address: "10.1.2.3".into(),
            user_agent: "custodia-cli/0.1".into(),
            device: "laptop-42".into(),
        },
        justification: String::new(),
    }
}

const WRITERS: u64 = 256;
const PER_WRITER: u64 = 40;

/// Runs 256 writers appending concurrently; returns per-append latencies.
fn run_writers(ledger: &Arc<Ledger<MemoryStore>>) -> Vec<Duration> {
    let latencies = Arc::new(Mutex::new(Vec::with_capacity((WRITERS * PER_WRITER) as usize)));
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let ledger = Arc::clone(ledger);
            let latencies = Arc::clone(&latencies);
            std::thread::spawn(move || {
                let mut mine = Vec::with_capacity(PER_WRITER as usize);
                for i in 0..PER_WRITER {
                    let start = Instant::now();
                    ledger.append(entry(w * PER_WRITER + i)).unwrap();
                    mine.push(start.elapsed());
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    Arc::try_unwrap(latencies).unwrap().into_inner().unwrap()
}

fn open_ledger() -> Arc<Ledger<MemoryStore>> {
    let clock = ManualClock::new(0);
    Arc::new(
        Ledger::open(
            MemoryStore::new(),
            key(),
            Arc::new(clock),
            LedgerConfig::new(NAME),
            Vec::new(),
        )
        .unwrap(),
    )
}

fn bench_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(WRITERS * PER_WRITER));
    group.bench_function("256_writers_memory_store", |b| {
        b.iter_batched(open_ledger, |ledger| run_writers(&ledger), BatchSize::PerIteration)
    });
    group.finish();
    let mut all = Vec::new();
    for _ in 0..5 {
        all.extend(run_writers(&open_ledger()));
    }
    all.sort_unstable();
    let pct = |p: usize| all[(all.len() * p / 100).min(all.len() - 1)];
    println!(
        "append latency with {WRITERS} writers (memory store): p50 {:?}, p99 {:?}, max {:?}",
        pct(50),
        pct(99),
        all[all.len() - 1]
    );
}

/// A store of `n` entries written directly in batches (no committer), with a final checkpoint.
fn filled_store(n: u64) -> MemoryStore {
    let store = MemoryStore::new();
    let mut frontier = Frontier::new();
    let mut next = 0;
    while next < n {
        let end = (next + 10_000).min(n);
        let mut batch = AppendBatch {
            first_index: next,
            ..AppendBatch::default()
        };
        for i in next..end {
            batch.push_entry(&mut frontier, entry(i).encode().unwrap());
        }
        if end == n {
            let cp = Checkpoint {
                origin: NAME.into(),
                size: n,
                root: frontier.root(),
                time: 0,
            };
            batch.checkpoint = Some(StoredCheckpoint {
                size: n,
                time: 0,
                text: cp.sign(&key()).unwrap(),
            });
        }
        store.append_batch(&batch).unwrap();
        next = end;
    }
    store
}

fn bench_verify(c: &mut Criterion) {
    const N: u64 = 200_000;
    let store = filled_store(N);
    let vk = key().verifying_key();
    let bytes: usize = store.state().entries.values().map(|(bytes, _)| bytes.len()).sum();
    println!("verify: {N} entries, {} bytes on average", bytes as u64 / N);
    let mut group = c.benchmark_group("verify");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(N));
    group.bench_function("memory_store_200k_wall", |b| {
        b.iter(|| {
            let report = verify(&store, &vk, None);
            assert!(report.is_ok());
            report
        })
    });
    // the machine is shared: CPU time of the verifying thread is the per-core figure
    group.bench_function("memory_store_200k_thread_cpu", |b| {
        b.iter_custom(|iters| {
            let start = cpu_time::ThreadTime::now();
            for _ in 0..iters {
                assert!(verify(&store, &vk, None).is_ok());
            }
            start.elapsed()
        })
    });
    group.finish();
}

fn bench_proof(c: &mut Criterion) {
    const N: u64 = 10_000_000;
    // hashes only: the node table of a 10M-leaf tree
    let store = MemoryStore::new();
    {
        let mut state = store.state();
        let mut f = Frontier::new();
        for i in 0..N {
            f.push(leaf_hash(&i.to_be_bytes()), |id, h| state.put_node(id, *h).unwrap());
        }
    }
    let mut group = c.benchmark_group("proof");
    group.sample_size(10).measurement_time(Duration::from_secs(3));
    let mut i = 0u64;
    group.bench_function("inclusion_10m", |b| {
        b.iter(|| {
            i = (i + 7_919_993) % N;
            inclusion_proof(&store, i, N - 3).unwrap()
        })
    });
    group.bench_function("consistency_10m", |b| {
        b.iter(|| {
            i = (i + 7_919_993) % (N - 3);
            ledger::consistency_proof(&store, i + 1, N - 3).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_append, bench_verify, bench_proof);
criterion_main!(benches);
