#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Group commit, checkpoints, failing stores, witnessing and tamper detection.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ledger::{
    inclusion_proof, leaf_hash, read_witness_file, root_from_store, verify, verify_inclusion, Checkpoint,
    CheckpointSource, FileWitness, Finding, LedgerError, LedgerStore, MemoryStore, StoreError, StoredCheckpoint,
};
use model::ManualClock;

#[test]
fn concurrent_appends_get_distinct_durable_indexes() {
    let clock = ManualClock::new(1_700_000_000_000);
    let ledger = Arc::new(common::open(MemoryStore::new(), &clock, Vec::new()));
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| {
                        let e = common::entry(t * 100 + i);
                        let r = ledger.append(e.clone()).unwrap();
                        // acknowledged means stored: the entry is readable right now
                        let stored = ledger.store().get_entries(&[r.index]).unwrap();
                        let bytes = stored[0].clone().unwrap();
                        assert_eq!(leaf_hash(&bytes), r.leaf_hash);
                        r.index
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..800).collect::<Vec<_>>());
    let cp = ledger.checkpoint_now().unwrap();
    let vk = common::key().verifying_key();
    let cp = Checkpoint::open(&cp, &vk).unwrap();
    assert_eq!(cp.size, 800);
    assert_eq!(cp.root, root_from_store(ledger.store(), 800).unwrap());
    let report = verify(ledger.store(), &vk, None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, 800);
    assert_eq!(report.unsigned_tail, 0);
}

#[test]
fn checkpoints_follow_the_injected_clock() {
    let clock = ManualClock::new(10_000);
    let ledger = common::open(MemoryStore::new(), &clock, Vec::new());
    let count = |l: &ledger::Ledger<MemoryStore>| l.store().state().checkpoints.len();
    ledger.append(common::entry(0)).unwrap();
    assert_eq!(count(&ledger), 1, "first batch is signed at once");
    ledger.append(common::entry(1)).unwrap();
    clock.advance_ms(999);
    ledger.append(common::entry(2)).unwrap();
    assert_eq!(count(&ledger), 1, "less than a second later: no checkpoint yet");
    clock.advance_ms(1);
    ledger.append(common::entry(3)).unwrap();
    assert_eq!(count(&ledger), 2, "a second later: one checkpoint more");
    let latest = ledger.store().latest_checkpoint().unwrap().unwrap();
    // Normally entry 3's batch carries it (size 4). A committer thread that
    // was scheduled late, after the clock step but before entry 3 arrived,
    // signs the uncovered tail first (size 3): thread timing, not the clock,
    // picks between the two, so both are right.
    assert!(matches!((latest.size, latest.time), (3 | 4, 11_000)), "{latest:?}");
    // entries then a quiet ledger: the committer signs once the clock says so
    ledger.append(common::entry(4)).unwrap();
    clock.advance_ms(1000);
    let mut waited = 0;
    while count(&ledger) < 3 && waited < 100 {
        // Polls the committer thread's idle wake-up (real time), not the clock.
        #[allow(clippy::disallowed_methods)]
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    assert_eq!(count(&ledger), 3, "idle committer signs the uncovered tail");
    assert_eq!(ledger.store().latest_checkpoint().unwrap().unwrap().size, 5);
}

#[test]
fn close_drains_and_writes_a_final_checkpoint() {
    let clock = ManualClock::new(0);
    let store = Arc::new(MemoryStore::new());
    let ledger = ledger::Ledger::open(
        Arc::clone(&store),
        common::key(),
        Arc::new(clock.clone()),
        ledger::LedgerConfig::new(common::NAME),
        Vec::new(),
    )
    .unwrap();
    ledger.append(common::entry(0)).unwrap();
    ledger.append(common::entry(1)).unwrap();
    assert_eq!(store.latest_checkpoint().unwrap().unwrap().size, 1);
    ledger.close();
    assert_eq!(store.latest_checkpoint().unwrap().unwrap().size, 2);
    let report = verify(&store, &common::key().verifying_key(), None);
    assert!(report.is_ok() && report.unsigned_tail == 0, "{report:?}");
}

#[test]
fn a_failing_store_fails_every_waiter_of_the_batch_and_recovers() {
    let clock = ManualClock::new(0);
    let store = MemoryStore::new();
    store.state().fail_after = Some((2, "disk full".into()));
    let ledger = Arc::new(common::open(store, &clock, Vec::new()));
    ledger.append(common::entry(0)).unwrap();
    ledger.append(common::entry(1)).unwrap();
    // the third batch fails, whatever it holds
    let results: Vec<_> = (0..8)
        .map(|i| {
            let l = Arc::clone(&ledger);
            std::thread::spawn(move || l.append(common::entry(10 + i)))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    for r in &results {
        assert_eq!(r, &Err(LedgerError::Store(StoreError::Backend("disk full".into()))));
    }
    assert_eq!(
        ledger.store().size().unwrap(),
        2,
        "nothing of the failed batch is stored"
    );
    // the store heals: appends continue at the next index and the ledger verifies
    ledger.store().state().fail_after = None;
    let r = ledger.append(common::entry(99)).unwrap();
    assert_eq!(r.index, 2);
    ledger.checkpoint_now().unwrap();
    let report = verify(ledger.store(), &common::key().verifying_key(), None);
    assert!(report.is_ok(), "{:?}", report.findings);
}

/// Polls a future to completion on this thread (the ledger answers from its
/// committer thread; no runtime is needed to see the waker's effect).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

#[test]
fn submitted_entries_resolve_when_durable_whether_awaited_or_waited_for() {
    let clock = ManualClock::new(0);
    let store = MemoryStore::new();
    store.state().fail_after = Some((1, "disk full".into()));
    let ledger = common::open(store, &clock, Vec::new());
    // Awaited: the committer's answer wakes the task.
    let first = ledger.submit(common::entry(0)).unwrap();
    let receipt = block_on(first).unwrap();
    assert_eq!(receipt.index, 0);
    assert_eq!(ledger.store().size().unwrap(), 1, "durable when it resolves");
    // The next batch fails: both ways of waiting say so.
    let awaited = block_on(ledger.submit(common::entry(1)).unwrap());
    assert_eq!(
        awaited,
        Err(LedgerError::Store(StoreError::Backend("disk full".into())))
    );
    let waited = ledger.submit(common::entry(2)).unwrap().wait();
    assert_eq!(waited, Err(LedgerError::Store(StoreError::Backend("disk full".into()))));
    assert_eq!(ledger.store().size().unwrap(), 1);
    // A ledger closed under a pending entry answers, never leaves it hanging.
    ledger.store().state().fail_after = None;
    let pending = ledger.submit(common::entry(3)).unwrap();
    ledger.close();
    assert_eq!(pending.wait().map(|r| r.index), Ok(1));
}

#[test]
fn reopening_continues_the_tree() {
    let ledger = common::filled(25);
    let text = ledger.checkpoint_now().unwrap();
    let vk = common::key().verifying_key();
    let before = Checkpoint::open(&text, &vk).unwrap();
    let proof = inclusion_proof(ledger.store(), 7, 25).unwrap();
    let bytes = ledger.store().get_entries(&[7]).unwrap()[0].clone().unwrap();
    verify_inclusion(7, 25, &leaf_hash(&bytes), &proof, &before.root).unwrap();
    let r = ledger.append(common::entry(25)).unwrap();
    assert_eq!(r.index, 25);
}

#[test]
fn witness_file_receives_checkpoints_and_catches_a_rewritten_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("witness.log");
    let clock = ManualClock::new(0);
    let ledger = common::open(MemoryStore::new(), &clock, vec![Box::new(FileWitness::new(&path))]);
    for i in 0..30 {
        ledger.append(common::entry(i)).unwrap();
        clock.advance_ms(500);
    }
    ledger.checkpoint_now().unwrap();
    let published = read_witness_file(&path).unwrap();
    let stored = ledger.store().state().checkpoints.len();
    assert_eq!(published.len(), stored);
    assert!(ledger.take_witness_errors().is_empty());
    let vk = common::key().verifying_key();
    let report = verify(ledger.store(), &vk, Some(&published));
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.published_checked, published.len() as u64);
    // The same checkpoints published twice are as many checkpoints, not twice as many.
    let twice = [published.clone(), published.clone()].concat();
    let report = verify(ledger.store(), &vk, Some(&twice));
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.published_checked, published.len() as u64);

    // an insider with the signing key rewrites entry 3 and re-signs everything
    // in the store; the published checkpoints still disagree
    let forged = MemoryStore::new();
    let forger = common::open(forged, &ManualClock::new(0), Vec::new());
    for i in 0..30 {
        let mut e = common::entry(i);
        if i == 3 {
            e.record_count = 1000;
        }
        forger.append(e).unwrap();
    }
    forger.checkpoint_now().unwrap();
    let report = verify(forger.store(), &vk, Some(&published));
    assert!(!report.is_ok());
    assert!(
        report.findings.iter().all(|f| matches!(
            f,
            Finding::RootMismatch {
                source: CheckpointSource::Published(_),
                ..
            }
        )),
        "{:?}",
        report.findings
    );
    assert!(report.first_bad_entry().unwrap() <= 3);
}

fn vk() -> ledger::VerifyingKey {
    common::key().verifying_key()
}

/// One tamper case: mutate the store of a 40-entry ledger, then expect
/// `verify` to report `want_first` as the first bad entry and a finding matching `kind`.
fn check(name: &str, tamper: impl FnOnce(&MemoryStore), want_first: Option<u64>, kind: fn(&Finding) -> bool) {
    let ledger = common::filled(40);
    let clean = verify(ledger.store(), &vk(), None);
    assert!(clean.is_ok(), "{name}: clean ledger has findings {:?}", clean.findings);
    tamper(ledger.store());
    let report = verify(ledger.store(), &vk(), None);
    assert!(!report.is_ok(), "{name}: tampering not detected");
    assert!(report.findings.iter().any(kind), "{name}: {:?}", report.findings);
    assert_eq!(report.first_bad_entry(), want_first, "{name}: {:?}", report.findings);
    for f in &report.findings {
        assert!(!f.to_string().is_empty());
    }
}

#[test]
fn every_kind_of_tampering_is_detected() {
    check(
        "modified entry",
        |s| {
            let mut e = common::entry(17);
            e.index = 17;
            e.withheld_count = 0;
            e.record_count = 9999;
            // the row keeps its stored leaf hash
            s.state().entries.get_mut(&17).unwrap().0 = e.encode().unwrap();
        },
        Some(17),
        |f| matches!(f, Finding::NodeMismatch { node, .. } if node.level == 0),
    );
    check(
        "modified entry and its node hashes",
        |s| {
            // rewrite entry 17 and recompute its leaf and the whole node table to match
            let mut state = s.state();
            let mut e = common::entry(17);
            e.index = 17;
            e.record_count = 9999;
            let bytes = e.encode().unwrap();
            state.entries.insert(17, (bytes.clone(), leaf_hash(&bytes)));
            let leaves: Vec<_> = state.entries.values().map(|(_, leaf)| *leaf).collect();
            state.nodes.clear();
            let mut f = ledger::merkle::Frontier::new();
            for leaf in leaves {
                f.push(leaf, |id, h| {
                    if id.level > 0 {
                        state.put_node(id, *h).unwrap()
                    }
                });
            }
        },
        // checkpoints are at sizes 1, 11, 21, 31, 40: the one at 11 still matches
        Some(11),
        |f| {
            matches!(
                f,
                Finding::RootMismatch {
                    first_possible_entry: 11,
                    ..
                }
            )
        },
    );
    check(
        "altered leaf hash beside an intact entry",
        |s| {
            s.state().entries.get_mut(&23).unwrap().1[31] ^= 1;
        },
        Some(23),
        |f| {
            matches!(
                f,
                Finding::NodeMismatch {
                    node: ledger::NodeId { level: 0, index: 23 },
                    first_entry: 23
                }
            )
        },
    );
    check(
        "deleted entry",
        |s| {
            s.state().entries.remove(&12);
        },
        Some(12),
        |f| matches!(f, Finding::RowGap { position: 12, row: 13 }),
    );
    check(
        "deleted entry with renumbered rows",
        |s| {
            let mut state = s.state();
            // rows move with their leaf hashes
            let rest: Vec<_> = state.entries.split_off(&12).into_values().skip(1).collect();
            for (i, row) in (12u64..).zip(rest) {
                state.entries.insert(i, row);
            }
        },
        Some(12),
        |f| {
            matches!(
                f,
                Finding::IndexMismatch {
                    position: 12,
                    found: 13
                }
            )
        },
    );
    check(
        "reordered pair",
        |s| {
            // whole rows, each with its leaf hash
            let mut state = s.state();
            let a = state.entries[&20].clone();
            let b = state.entries[&21].clone();
            state.entries.insert(20, b);
            state.entries.insert(21, a);
        },
        Some(20),
        |f| {
            matches!(
                f,
                Finding::IndexMismatch {
                    position: 20,
                    found: 21
                }
            )
        },
    );
    check(
        "inserted entry",
        |s| {
            let mut state = s.state();
            // entry bytes shift up one row; each row keeps its leaf hash
            // (the new last row gets the right one for its bytes)
            let rest: Vec<_> = state.entries.split_off(&30).into_values().collect();
            let leaves: Vec<_> = rest.iter().map(|(_, leaf)| *leaf).collect();
            let mut forged = common::entry(500);
            forged.index = 30;
            let shifted = std::iter::once(forged.encode().unwrap()).chain(rest.into_iter().map(|(b, _)| b));
            for (i, bytes) in (30u64..).zip(shifted) {
                let leaf = leaves
                    .get((i - 30) as usize)
                    .copied()
                    .unwrap_or_else(|| leaf_hash(&bytes));
                state.entries.insert(i, (bytes, leaf));
            }
        },
        Some(30),
        |f| {
            matches!(
                f,
                Finding::IndexMismatch {
                    position: 31,
                    found: 30
                }
            )
        },
    );
    check(
        "truncated tail",
        |s| {
            let mut state = s.state();
            state.entries.split_off(&35);
        },
        Some(35),
        |f| {
            matches!(
                f,
                Finding::BeyondEnd {
                    size: 40,
                    entries: 35,
                    ..
                }
            )
        },
    );
    check(
        "forged checkpoint signature",
        |s| {
            let mut state = s.state();
            let cp = state.checkpoints.last_mut().unwrap();
            cp.text = cp.text.replacen("\n40\n", "\n41\n", 1);
        },
        None,
        |f| {
            matches!(
                f,
                Finding::BadCheckpoint {
                    source: CheckpointSource::Stored(_),
                    ..
                }
            )
        },
    );
    check(
        "checkpoint replaced by one from another key",
        |s| {
            let mut state = s.state();
            let cp = state.checkpoints.last_mut().unwrap();
            let parsed =
                Checkpoint::parse_body(cp.text.split("\n\n").next().map(|b| format!("{b}\n")).unwrap().as_str())
                    .unwrap();
            cp.text = parsed.sign(&common::other_key()).unwrap();
        },
        None,
        |f| matches!(f, Finding::BadCheckpoint { .. }),
    );
    check(
        "validly signed checkpoint with a wrong root",
        |s| {
            let bad = Checkpoint {
                origin: common::NAME.into(),
                size: 25,
                root: [0u8; 32],
                time: 5,
            };
            s.state().checkpoints.push(StoredCheckpoint {
                size: 25,
                time: 5,
                text: bad.sign(&common::key()).unwrap(),
            });
        },
        Some(21),
        |f| {
            matches!(
                f,
                Finding::RootMismatch {
                    size: 25,
                    first_possible_entry: 21,
                    ..
                }
            )
        },
    );
    check(
        "checkpoints reordered",
        |s| {
            let mut state = s.state();
            let n = state.checkpoints.len();
            state.checkpoints.swap(0, n - 1);
        },
        None,
        |f| matches!(f, Finding::CheckpointOrder { .. }),
    );
    check(
        "corrupt entry bytes",
        |s| {
            s.state().entries.get_mut(&5).unwrap().0.push(0);
        },
        Some(5),
        |f| matches!(f, Finding::Undecodable { position: 5, .. }),
    );
}

/// Opens a ledger over a copy of a filled ledger of 12 entries (checkpoints at 11 and
/// 12), changed by `tamper` as an attacker with write access to the store would.
fn reopened_after(tamper: impl FnOnce(&mut ledger::store::MemoryState)) -> Result<(), LedgerError> {
    let ledger = common::filled(12);
    let snapshot = {
        let s = ledger.store().state();
        (s.entries.clone(), s.nodes.clone(), s.checkpoints.clone())
    };
    drop(ledger);
    let store = MemoryStore::new();
    {
        let mut s = store.state();
        s.entries = snapshot.0;
        s.nodes = snapshot.1;
        s.checkpoints = snapshot.2;
        tamper(&mut s);
    }
    ledger::Ledger::open(
        store,
        common::key(),
        Arc::new(ManualClock::new(0)),
        ledger::LedgerConfig::new(common::NAME),
        Vec::new(),
    )
    .map(drop)
}

#[test]
fn a_store_that_disagrees_with_its_checkpoint_refuses_to_open() {
    let err = reopened_after(|s| {
        s.entries.split_off(&11);
    })
    .unwrap_err();
    assert!(matches!(err, LedgerError::Inconsistent(_)), "{err}");
}

#[test]
fn a_store_rewritten_under_its_last_checkpoint_refuses_to_open() {
    // The checkpoint at 12 entries is dropped, so the latest covers 11 of the 12
    // stored. The node over entries 8 and 9 is part of the tree signed at 11 but not of
    // the current tree's frontier at 12.
    let older_checkpoint = |s: &mut ledger::store::MemoryState| {
        s.checkpoints.pop();
    };
    assert!(reopened_after(older_checkpoint).is_ok());
    let err = reopened_after(|s| {
        older_checkpoint(s);
        s.nodes[0][4] = ledger::merkle::leaf_hash(b"rewritten");
    })
    .unwrap_err();
    assert!(matches!(err, LedgerError::Inconsistent(_)), "{err}");
}

#[test]
fn witness_failures_never_block_appends_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let unreachable = dir.path().join("no-such-dir").join("witness.log");
    let clock = ManualClock::new(0);
    let ledger = common::open(
        MemoryStore::new(),
        &clock,
        vec![Box::new(FileWitness::new(&unreachable))],
    );
    ledger.append(common::entry(0)).unwrap();
    ledger.checkpoint_now().unwrap();
    let errors = ledger.take_witness_errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("no-such-dir"));
    assert!(ledger.take_witness_errors().is_empty());
}

#[test]
fn malformed_witness_files_are_rejected_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.log");
    for (content, line) in [("\n", 1), ("a\n\n\u{2014} sig\n\nb\n", 5), ("a\nb", 2)] {
        std::fs::write(&path, content).unwrap();
        let got = read_witness_file(&path);
        assert!(
            matches!(got, Err(ledger::WitnessError::Malformed { line: l, .. }) if l == line),
            "{content:?}: expected malformed at line {line}, got {got:?}"
        );
    }
}

/// The reading half of a test store that wraps another: forwarded to `self.$inner`.
macro_rules! reads_from {
    ($inner:tt) => {
        fn size(&self) -> Result<u64, StoreError> {
            self.$inner.size()
        }
        fn get_entries(&self, indexes: &[u64]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
            self.$inner.get_entries(indexes)
        }
        fn scan_entries(&self, from: u64, limit: usize, visit: &mut ledger::VisitEntry<'_>) -> Result<(), StoreError> {
            self.$inner.scan_entries(from, limit, visit)
        }
        fn get_nodes(&self, ids: &[ledger::NodeId]) -> Result<Vec<Option<ledger::Hash>>, StoreError> {
            self.$inner.get_nodes(ids)
        }
        fn scan_checkpoints(&self, visit: &mut dyn FnMut(&StoredCheckpoint)) -> Result<(), StoreError> {
            self.$inner.scan_checkpoints(visit)
        }
        fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
            self.$inner.latest_checkpoint()
        }
    };
}

#[test]
fn memory_store_honours_the_store_contract() {
    ledger::check_contract(&MemoryStore::new()).unwrap();
    // and the checker notices a store that accepts batches at the wrong position
    let err = ledger::check_contract(&NoConflictCheck(MemoryStore::new())).unwrap_err();
    assert!(err.contains("Conflict"), "{err}");
}

/// A broken store: silently drops batches that do not start at its end.
struct NoConflictCheck(MemoryStore);

impl LedgerStore for NoConflictCheck {
    fn append_batch(&self, batch: &ledger::AppendBatch) -> Result<(), StoreError> {
        match self.0.append_batch(batch) {
            Err(StoreError::Conflict { .. }) => Ok(()),
            other => other,
        }
    }
    reads_from!(0);
}

#[test]
fn a_wholesale_rewrite_is_reported_with_bounded_findings() {
    let store = common::direct_store(ledger::MAX_FINDINGS as u64 + 50);
    assert!(verify(&store, &vk(), None).is_ok());
    // every leaf hash stored with its entry
    for (_, leaf) in store.state().entries.values_mut() {
        leaf[0] ^= 1;
    }
    let report = verify(&store, &vk(), None);
    assert!(!report.is_ok());
    assert_eq!(report.findings.len(), ledger::MAX_FINDINGS);
    assert_eq!(report.findings_omitted, 50);
    assert_eq!(report.first_bad_entry(), Some(0));
}

/// A store whose write succeeds but whose acknowledgement is lost once
/// (e.g. the connection drops after COMMIT).
struct LostAck {
    inner: MemoryStore,
    lose_next: std::sync::atomic::AtomicBool,
}

impl LedgerStore for LostAck {
    fn append_batch(&self, batch: &ledger::AppendBatch) -> Result<(), StoreError> {
        self.inner.append_batch(batch)?;
        if self.lose_next.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Backend("connection reset".into()));
        }
        Ok(())
    }
    reads_from!(inner);
}

#[test]
fn a_lost_acknowledgement_is_an_error_and_the_ledger_resynchronises() {
    let store = Arc::new(LostAck {
        inner: MemoryStore::new(),
        lose_next: false.into(),
    });
    let ledger = ledger::Ledger::open(
        Arc::clone(&store),
        common::key(),
        Arc::new(ManualClock::new(0)),
        ledger::LedgerConfig::new(common::NAME),
        Vec::new(),
    )
    .unwrap();
    ledger.append(common::entry(0)).unwrap();
    store.lose_next.store(true, std::sync::atomic::Ordering::SeqCst);
    // the caller is told it failed (a deny), although the entry may be stored
    assert!(ledger.append(common::entry(1)).is_err());
    // the ledger reloads the tree from the store and continues after it
    assert_eq!(ledger.append(common::entry(2)).unwrap().index, 2);
    ledger.checkpoint_now().unwrap();
    let report = verify(&store, &vk(), None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, 3);
}

/// Two ledgers (two servers) appending to one store: the stale one is told
/// `Conflict` by the store, reloads the tree and renumbers its entries, so
/// the log stays one total order that verifies, with no index used twice.
#[test]
fn two_writers_on_one_store_keep_one_verifiable_log() {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Arc::new(MemoryStore::new());
    let open = || {
        ledger::Ledger::open(
            Arc::clone(&store),
            common::key(),
            Arc::new(clock.clone()),
            ledger::LedgerConfig::new(common::NAME),
            Vec::new(),
        )
        .unwrap()
    };
    let (a, b) = (Arc::new(open()), Arc::new(open()));
    // strictly interleaved: each writer's view is stale at every append
    let mut indexes = Vec::new();
    for n in 0..20 {
        indexes.push(a.append(common::entry(2 * n)).unwrap().index);
        indexes.push(b.append(common::entry(2 * n + 1)).unwrap().index);
    }
    assert_eq!(
        indexes,
        (0..40).collect::<Vec<_>>(),
        "acknowledged in order, each index once"
    );
    // and concurrently
    let threads: Vec<_> = [Arc::clone(&a), Arc::clone(&b)]
        .into_iter()
        .enumerate()
        .map(|(w, l)| {
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| l.append(common::entry(1000 * (w as u64 + 1) + i)).unwrap().index)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    indexes.extend(threads.into_iter().flat_map(|t| t.join().unwrap()));
    indexes.sort_unstable();
    assert_eq!(indexes, (0..240).collect::<Vec<_>>());
    a.checkpoint_now().unwrap();
    b.checkpoint_now().unwrap();
    let entries = store.get_entries(&[0, 1, 239]).unwrap();
    assert_eq!(
        ledger::Entry::decode(entries[1].as_deref().unwrap()).unwrap(),
        ledger::Entry {
            index: 1,
            ..common::entry(1)
        },
        "the stale writer's entry was renumbered before it was stored"
    );
    let report = verify(&*store, &common::key().verifying_key(), None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, 240);
}

/// A writer that falls behind by a few entries replays them from their
/// bytes; one that falls behind by thousands reloads the tree instead. Both
/// must go on writing nodes that verify.
#[test]
fn a_stale_writer_catches_up_by_replay_or_by_reloading() {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Arc::new(MemoryStore::new());
    let open = || {
        ledger::Ledger::open(
            Arc::clone(&store),
            common::key(),
            Arc::new(clock.clone()),
            ledger::LedgerConfig::new(common::NAME),
            Vec::new(),
        )
        .unwrap()
    };
    let (a, b) = (open(), open());
    let mut next = 0;
    for behind in [3u64, 5_000, 1, 4_096, 4_097] {
        assert_eq!(a.append(common::entry(next)).unwrap().index, next);
        next += 1;
        for _ in 0..behind {
            b.append(common::entry(next)).unwrap();
            next += 1;
        }
    }
    assert_eq!(a.append(common::entry(next)).unwrap().index, next, "after the last gap");
    a.checkpoint_now().unwrap();
    let report = verify(&*store, &common::key().verifying_key(), None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, next + 1);
}

/// A store that writes batches at once but makes them durable only in
/// `sync`, which the test holds until it says so, or fails.
struct DeferredSync {
    inner: MemoryStore,
    /// Written batches not yet synced (what a power cut would lose).
    unsynced: std::sync::Mutex<u64>,
    entered: std::sync::mpsc::SyncSender<()>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<Result<(), StoreError>>>,
}

impl DeferredSync {
    fn new() -> (
        Self,
        std::sync::mpsc::Receiver<()>,
        std::sync::mpsc::Sender<Result<(), StoreError>>,
    ) {
        let (entered, entered_rx) = std::sync::mpsc::sync_channel(64);
        let (release_tx, release) = std::sync::mpsc::channel();
        let store = DeferredSync {
            inner: MemoryStore::new(),
            unsynced: std::sync::Mutex::new(0),
            entered,
            release: std::sync::Mutex::new(release),
        };
        (store, entered_rx, release_tx)
    }
}

impl LedgerStore for DeferredSync {
    fn append_batch(&self, batch: &ledger::AppendBatch) -> Result<(), StoreError> {
        self.write_batch(batch)?;
        self.sync()
    }
    fn write_batch(&self, batch: &ledger::AppendBatch) -> Result<ledger::Written, StoreError> {
        self.inner.append_batch(batch)?;
        *self.unsynced.lock().unwrap() += 1;
        Ok(ledger::Written::AwaitingSync)
    }
    fn sync(&self) -> Result<(), StoreError> {
        let _ = self.entered.try_send(());
        let outcome = self.release.lock().unwrap().recv().unwrap_or(Ok(()));
        if outcome.is_ok() {
            *self.unsynced.lock().unwrap() = 0;
        }
        outcome
    }
    reads_from!(inner);
}

fn poll_once<F: std::future::Future + Unpin>(future: &mut F) -> std::task::Poll<F::Output> {
    std::pin::Pin::new(future).poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

fn open_deferred(store: &Arc<DeferredSync>) -> ledger::Ledger<Arc<DeferredSync>> {
    ledger::Ledger::open(
        Arc::clone(store),
        common::key(),
        Arc::new(ManualClock::new(0)),
        ledger::LedgerConfig::new(common::NAME),
        Vec::new(),
    )
    .unwrap()
}

/// A batch that is written but not yet flushed is not acknowledged: the
/// waiter resolves only once the store's sync has returned.
#[test]
fn an_entry_is_acknowledged_only_after_the_sync_that_covers_it() {
    let (store, entered, release) = DeferredSync::new();
    let store = Arc::new(store);
    let ledger = open_deferred(&store);
    let mut pending = ledger.submit(common::entry(0)).unwrap();
    // The syncer is inside `sync` for the written batch: visible, not durable.
    entered.recv().unwrap();
    assert_eq!(store.size().unwrap(), 1);
    assert_eq!(*store.unsynced.lock().unwrap(), 1);
    assert!(poll_once(&mut pending).is_pending(), "acknowledged before its flush");
    release.send(Ok(())).unwrap();
    assert_eq!(block_on(pending).unwrap().index, 0);
    assert_eq!(*store.unsynced.lock().unwrap(), 0);
    // Later batches keep the order and the tree verifies.
    let more: Vec<_> = (1..5).map(|n| ledger.submit(common::entry(n)).unwrap()).collect();
    for _ in 0..8 {
        release.send(Ok(())).unwrap();
    }
    let indexes: Vec<u64> = more.into_iter().map(|p| p.wait().unwrap().index).collect();
    assert_eq!(indexes, vec![1, 2, 3, 4]);
    drop(ledger);
    assert!(verify(&store, &vk(), None).is_ok());
}

/// A failed flush leaves unknown what reached the disk, so the ledger
/// fails the batch's waiters and refuses every later append, even when the
/// store would sync again; reopening rereads the store.
#[test]
fn a_failed_sync_fails_its_waiters_and_every_later_append() {
    let (store, entered, release) = DeferredSync::new();
    let store = Arc::new(store);
    let ledger = open_deferred(&store);
    let first = ledger.submit(common::entry(0)).unwrap();
    entered.recv().unwrap();
    release
        .send(Err(StoreError::Backend("fsync: input/output error".into())))
        .unwrap();
    let err = first.wait().unwrap_err();
    assert!(err.to_string().contains("input/output error"), "{err}");
    for _ in 0..8 {
        release.send(Ok(())).unwrap();
    }
    for n in 1..4 {
        let err = ledger.append(common::entry(n)).unwrap_err();
        assert!(err.to_string().contains("input/output error"), "{err}");
    }
    drop(ledger);
    // After reopening (the stored entry was written; whether it was durable
    // is what the disk says), appends continue after what is stored.
    let reopened = open_deferred(&store);
    let next = reopened.submit(common::entry(9)).unwrap();
    release.send(Ok(())).unwrap();
    assert_eq!(next.wait().unwrap().index, store.size().unwrap() - 1);
}

/// A store whose batches await a flush that always succeeds at once, so the
/// committer also sleeps while the syncer has its batch.
struct PromptSync(MemoryStore);

impl LedgerStore for PromptSync {
    fn append_batch(&self, batch: &ledger::AppendBatch) -> Result<(), StoreError> {
        self.0.append_batch(batch)
    }
    fn write_batch(&self, batch: &ledger::AppendBatch) -> Result<ledger::Written, StoreError> {
        self.0.append_batch(batch)?;
        Ok(ledger::Written::AwaitingSync)
    }
    reads_from!(0);
}

/// `submit` wakes the committer only when it sleeps waiting for entries. With
/// checkpoints a day apart, its sleep has no timeout to hide a missed wake:
/// an entry whose notice was skipped would wait for a day, so the appends
/// must all finish well within the deadline.
#[test]
fn every_entry_wakes_a_sleeping_committer() {
    fn appends_finish<S: LedgerStore + Send + Sync + 'static>(store: S) {
        let mut config = ledger::LedgerConfig::new(common::NAME);
        config.checkpoint_interval_ms = 86_400_000;
        let ledger = Arc::new(
            ledger::Ledger::open(store, common::key(), Arc::new(ManualClock::new(0)), config, Vec::new()).unwrap(),
        );
        let (done, finished) = std::sync::mpsc::channel();
        for t in 0..4u64 {
            let (ledger, done) = (Arc::clone(&ledger), done.clone());
            std::thread::spawn(move || {
                for i in 0..300 {
                    ledger.append(common::entry(t * 1000 + i)).unwrap();
                }
                done.send(()).unwrap();
            });
        }
        for _ in 0..4 {
            finished
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("appends stalled: the committer slept through a submitted entry");
        }
        assert_eq!(ledger.store().size().unwrap(), 1200);
    }
    appends_finish(MemoryStore::new());
    appends_finish(PromptSync(MemoryStore::new()));
}

/// One memory store appended to by two ledgers, as servers share a database,
/// with a turn lock shared by both (without one, a committer that keeps
/// losing the race fails its entries after its retries, which is why stores
/// shared by several writers order them), counting the batches it refuses
/// as stale.
struct SharedStore(Arc<MemoryStore>, Arc<std::sync::Mutex<()>>, Arc<AtomicUsize>);

impl LedgerStore for SharedStore {
    fn append_batch(&self, batch: &ledger::AppendBatch) -> Result<(), StoreError> {
        let out = self.0.append_batch(batch);
        if matches!(out, Err(StoreError::Conflict { .. })) {
            self.2.fetch_add(1, Ordering::Relaxed);
        }
        out
    }
    fn multi_writer(&self) -> bool {
        true
    }
    fn append_turn(&self, from: u64, limit: usize, append: &mut ledger::TurnAppend<'_>) -> Result<(), StoreError> {
        let _turn = self.1.lock().unwrap();
        // the trait's default: read what was appended since, then append
        self.0.append_turn(from, limit, append)
    }
    reads_from!(0);
}

/// Each ledger replays what the other appended before building its batch
/// (the entries `append_turn` hands it): no batch is built on a stale tree,
/// indexes stay consecutive and the log verifies.
#[test]
fn two_ledgers_on_one_store_catch_up_with_each_other() {
    let clock = ManualClock::new(1_700_000_000_000);
    let memory = Arc::new(MemoryStore::new());
    let turn = Arc::new(std::sync::Mutex::new(()));
    let conflicts = Arc::new(AtomicUsize::new(0));
    let open = || {
        let config = ledger::LedgerConfig::new(common::NAME);
        let store = SharedStore(Arc::clone(&memory), Arc::clone(&turn), Arc::clone(&conflicts));
        Arc::new(ledger::Ledger::open(store, common::key(), Arc::new(clock.clone()), config, Vec::new()).unwrap())
    };
    let (a, b) = (open(), open());
    let mut indexes = Vec::new();
    for n in 0..10 {
        indexes.push(a.append(common::entry(2 * n)).unwrap().index);
        indexes.push(b.append(common::entry(2 * n + 1)).unwrap().index);
    }
    assert_eq!(indexes, (0..20).collect::<Vec<_>>(), "each sees the other's entries");
    let threads: Vec<_> = [&a, &b]
        .into_iter()
        .enumerate()
        .flat_map(|(w, l)| (0..8u64).map(move |t| (w as u64, t, Arc::clone(l))))
        .map(|(w, t, l)| {
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| l.append(common::entry(10_000 * (w + 1) + 100 * t + i)).unwrap().index)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    indexes.extend(threads.into_iter().flat_map(|t| t.join().unwrap()));
    indexes.sort_unstable();
    assert_eq!(
        indexes,
        (0..820).collect::<Vec<_>>(),
        "no index used twice, none skipped"
    );
    let cp = b.checkpoint_now().unwrap();
    let vk = common::key().verifying_key();
    assert_eq!(Checkpoint::open(&cp, &vk).unwrap().size, 820);
    let report = verify(&*memory, &vk, None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, 820);
    assert_eq!(conflicts.load(Ordering::Relaxed), 0, "batches built on a stale tree");
}
