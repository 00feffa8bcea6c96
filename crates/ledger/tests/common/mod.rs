//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use ledger::{ClientContext, Decision, Entry, Ledger, LedgerConfig, MemoryStore, ResourceId, SigningKey, Witness};
use model::ManualClock;

pub const NAME: &str = "custodia.test/ledger";

pub fn key() -> SigningKey {
    SigningKey::from_seed(NAME, &[7u8; 32]).unwrap()
}

pub fn other_key() -> SigningKey {
    SigningKey::from_seed(NAME, &[9u8; 32]).unwrap()
}

pub fn entry(n: u64) -> Entry {
    Entry {
        index: 0,
        time: 1_700_000_000_000 + n as i64,
        actor: format!("user-{}", n % 7),
        action: "customer.read".into(),
        resources: vec![
            ResourceId::Customer(format!("cust-{n}")),
            ResourceId::Policy("pol-1".into()),
        ],
        decision: if n.is_multiple_of(5) {
            Decision::Deny
        } else {
            Decision::Allow
        },
        policies: vec!["pol-1".into()],
        record_count: n % 13,
        withheld_count: n % 3,
        fields: vec!["email".into(), "phone".into()],
        client: ClientContext {
            address: "10.0.0.1".into(),
            user_agent: "cli/1".into(),
            device: "laptop-3".into(),
        },
        justification: if n.is_multiple_of(2) {
            String::new()
        } else {
            "ticket 42".into()
        },
    }
}

pub fn open(store: MemoryStore, clock: &ManualClock, witnesses: Vec<Box<dyn Witness>>) -> Ledger<MemoryStore> {
    Ledger::open(
        store,
        key(),
        Arc::new(clock.clone()),
        LedgerConfig::new(NAME),
        witnesses,
    )
    .unwrap()
}

/// A ledger of `n` entries with checkpoints at sizes 1, 11, 21, … and one at the end.
pub fn filled(n: u64) -> Ledger<MemoryStore> {
    let clock = ManualClock::new(1_700_000_000_000);
    // Checkpoints come only where this loop asks for them (and with the
    // first batch): with the default one-second interval an idle committer
    // could sign the tail between a clock step and the next append, and the
    // sizes the tamper tests expect would depend on thread timing.
    let config = LedgerConfig {
        checkpoint_interval_ms: 86_400_000,
        ..LedgerConfig::new(NAME)
    };
    let ledger = Ledger::open(MemoryStore::new(), key(), Arc::new(clock.clone()), config, Vec::new()).unwrap();
    for i in 0..n {
        ledger.append(entry(i)).unwrap();
        if i > 0 && i % 10 == 0 {
            ledger.checkpoint_now().unwrap();
            clock.advance_ms(1000);
        }
    }
    ledger.checkpoint_now().unwrap();
    ledger
}

/// A store of `n` entries written directly in one batch with one checkpoint
/// (fast in debug builds; the committer is tested elsewhere).
pub fn direct_store(n: u64) -> MemoryStore {
    use ledger::merkle::Frontier;
    use ledger::{AppendBatch, Checkpoint, LedgerStore, StoredCheckpoint};
    let mut frontier = Frontier::new();
    let mut batch = AppendBatch::default();
    for i in 0..n {
        let mut e = entry(i);
        e.index = i;
        batch.push_entry(&mut frontier, e.encode().unwrap());
    }
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
    let store = MemoryStore::new();
    store.append_batch(&batch).unwrap();
    store
}
