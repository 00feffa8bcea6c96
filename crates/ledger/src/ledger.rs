//! The appending side: [`Ledger`] with group commit and periodic signed checkpoints.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use model::{SharedClock, UnixMillis};
use thiserror::Error;

use crate::checkpoint::{Checkpoint, CheckpointError, SigningKey};
use crate::entry::{Entry, EntryError};
use crate::merkle::{frontier_nodes, leaf_hash, root_from_store, Frontier, Hash, ProofError};
use crate::store::{AppendBatch, LedgerStore, StoreError, StoredCheckpoint, Written};
use crate::witness::Witness;

/// Proof that an entry is durably in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The entry's sequence number.
    pub index: u64,
    /// Its RFC 9162 leaf hash.
    pub leaf_hash: Hash,
}

/// Why an append (or opening the ledger) failed. An append error is a deny.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LedgerError {
    /// The entry could not be encoded.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// The store failed; the batch holding the entry was not written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored node table is incomplete.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A checkpoint could not be signed or the stored one is invalid.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The store disagrees with its own latest checkpoint.
    #[error("ledger store does not match its latest checkpoint ({0}): run `verify` before appending")]
    Inconsistent(&'static str),
    /// The ledger is shut down.
    #[error("ledger is closed: no more entries are accepted")]
    Closed,
}

/// Tuning of a [`Ledger`].
#[derive(Clone, Debug)]
pub struct LedgerConfig {
    /// Origin line of the checkpoints (normally the key name).
    pub origin: String,
    /// Longest time between checkpoints while entries arrive, in milliseconds
    /// of the injected clock. A batch carries a checkpoint when it is due; an
    /// idle committer also wakes every interval (a bounded condvar wait, not a
    /// clock read) to sign a tail of entries no checkpoint covers yet.
    pub checkpoint_interval_ms: i64,
    /// Most entries in one group commit.
    pub max_batch: usize,
}

impl LedgerConfig {
    /// Defaults: one checkpoint per second, batches of up to 8192 entries.
    pub fn new(origin: &str) -> Self {
        LedgerConfig {
            origin: origin.to_owned(),
            checkpoint_interval_ms: 1000,
            max_batch: 8192,
        }
    }
}

/// The committer's answer to one waiter: a one-shot channel, so that a
/// thread can block on it and an async task can await it.
type Reply<T> = oneshot::Sender<Result<T, LedgerError>>;

/// An entry queued by [`Ledger::submit`]: it resolves to the entry's
/// [`Receipt`] once its group commit is durable, or to the error that kept it
/// out of the ledger. Wait with [`PendingAppend::wait`] on a thread, or
/// `.await` it on an async task (which then holds no thread while the batch
/// is written and flushed).
#[must_use = "an entry is durable only once its pending append resolves to a receipt"]
#[derive(Debug)]
pub struct PendingAppend {
    reply: oneshot::Receiver<Result<Receipt, LedgerError>>,
}

impl PendingAppend {
    /// Blocks the calling thread until the entry is durable (or refused).
    /// Not for a pending append already polled as a future: await that one.
    pub fn wait(self) -> Result<Receipt, LedgerError> {
        self.reply.recv().unwrap_or(Err(LedgerError::Closed))
    }
}

impl Future for PendingAppend {
    type Output = Result<Receipt, LedgerError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A dropped sender means the committer is gone: the entry is not durable.
        Pin::new(&mut self.reply)
            .poll(cx)
            .map(|answer| answer.unwrap_or(Err(LedgerError::Closed)))
    }
}

#[derive(Default)]
struct Queue {
    entries: Vec<(Entry, Reply<Receipt>)>,
    checkpoint_requests: Vec<Reply<String>>,
    closing: bool,
    /// Whether the committer sleeps until an entry arrives (when it waits for
    /// the syncer instead, the syncer wakes it). Only then does `submit` wake
    /// it: a notice costs a futex syscall, one per entry while it is busy.
    committer_idle: bool,
}

/// A batch the store wrote but has not flushed yet
/// ([`Written::AwaitingSync`]): its waiters are answered after the sync.
struct Unsynced {
    receipts: Vec<(Reply<Receipt>, Receipt)>,
    /// The checkpoint the batch carried: published, and sent to the
    /// `checkpoint_now` callers in `requests`, once durable.
    checkpoint: Option<String>,
    requests: Vec<Reply<String>>,
}

#[derive(Default)]
struct SyncQueue {
    batches: Vec<Unsynced>,
    closing: bool,
    /// Set when a sync failed. The flushed state of what was written is then
    /// unknown (a failed fsync may have dropped pages that later batches sit
    /// on), so no later batch may be acknowledged: the ledger refuses every
    /// append from then on and must be reopened, which rereads the store.
    failed: Option<LedgerError>,
}

struct Shared<S> {
    store: S,
    key: SigningKey,
    clock: SharedClock,
    config: LedgerConfig,
    witnesses: Vec<Box<dyn Witness>>,
    queue: Mutex<Queue>,
    wake: Condvar,
    syncs: Mutex<SyncQueue>,
    sync_wake: Condvar,
    witness_errors: Mutex<Vec<String>>,
}

impl<S> Shared<S> {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn syncs(&self) -> MutexGuard<'_, SyncQueue> {
        self.syncs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the committer knows about the stored tree.
struct TreeState {
    frontier: Frontier,
    checkpoint_size: u64,
    checkpoint_time: Option<UnixMillis>,
}

/// An append-only audit ledger over a [`LedgerStore`].
///
/// Many threads call [`Ledger::append`]; one committer thread writes whatever
/// is pending as one [`AppendBatch`] and acknowledges each caller only after
/// the store reports the batch durable. With a store that flushes apart from
/// writing ([`Written::AwaitingSync`]), a second thread flushes and answers
/// while the committer writes the next batch, so a batch's flush overlaps
/// the next one's building and writing.
pub struct Ledger<S: LedgerStore> {
    shared: Arc<Shared<S>>,
    committer: Option<JoinHandle<()>>,
}

impl<S: LedgerStore> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("origin", &self.shared.config.origin)
            .finish_non_exhaustive()
    }
}

fn load_state<S: LedgerStore>(shared: &Shared<S>) -> Result<TreeState, LedgerError> {
    let store = &shared.store;
    let size = store.size()?;
    let ids = frontier_nodes(size);
    let mut hashes = Vec::with_capacity(ids.len());
    for (id, h) in ids.iter().zip(store.get_nodes(&ids)?) {
        hashes.push(h.ok_or(ProofError::MissingNode {
            level: id.level,
            index: id.index,
        })?);
    }
    let frontier = Frontier::from_nodes(size, hashes)?;
    let (checkpoint_size, checkpoint_time) = match store.latest_checkpoint()? {
        None => (0, None),
        Some(stored) => {
            let cp = Checkpoint::open(&stored.text, &shared.key.verifying_key())?;
            if cp.size > size {
                return Err(LedgerError::Inconsistent(
                    "the checkpoint covers more entries than are stored",
                ));
            }
            if cp.size == size && cp.root != frontier.root() {
                return Err(LedgerError::Inconsistent("the root hash differs from the checkpoint's"));
            }
            // Entries appended since the checkpoint leave the tree it signed as it was:
            // a store rewritten under it must not be extended and signed again (found in
            // review). The frontier's few nodes are read, not the whole tree.
            if cp.size < size && root_from_store(store, cp.size)? != cp.root {
                return Err(LedgerError::Inconsistent(
                    "the stored tree at the checkpoint's size differs from the checkpoint's root",
                ));
            }
            (cp.size, Some(cp.time))
        }
    };
    Ok(TreeState {
        frontier,
        checkpoint_size,
        checkpoint_time,
    })
}

impl<S: LedgerStore> Ledger<S> {
    /// Opens the ledger over `store` and starts the committer thread.
    pub fn open(
        store: S,
        key: SigningKey,
        clock: SharedClock,
        config: LedgerConfig,
        witnesses: Vec<Box<dyn Witness>>,
    ) -> Result<Self, LedgerError> {
        let shared = Arc::new(Shared {
            store,
            key,
            clock,
            config,
            witnesses,
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            syncs: Mutex::new(SyncQueue::default()),
            sync_wake: Condvar::new(),
            witness_errors: Mutex::new(Vec::new()),
        });
        let state = load_state(&shared)?;
        let worker = Arc::clone(&shared);
        let committer = std::thread::Builder::new()
            .name("ledger-committer".into())
            .spawn(move || commit_loop(&worker, state))
            .map_err(|e| StoreError::Backend(format!("cannot start the committer thread: {e}")))?;
        Ok(Ledger {
            shared,
            committer: Some(committer),
        })
    }

    /// Appends an entry (its `index` is assigned here) and returns once it is
    /// durable. An error means the entry is not in the ledger: treat it as a deny.
    pub fn append(&self, entry: Entry) -> Result<Receipt, LedgerError> {
        self.submit(entry)?.wait()
    }

    /// Queues an entry for the next group commit without waiting for it: the
    /// returned [`PendingAppend`] resolves once it is durable. Until then the
    /// entry is not in the ledger, so nothing it records may be released.
    pub fn submit(&self, entry: Entry) -> Result<PendingAppend, LedgerError> {
        let (tx, rx) = oneshot::channel();
        let idle = {
            let mut q = self.shared.queue();
            if q.closing {
                return Err(LedgerError::Closed);
            }
            q.entries.push((entry, tx));
            std::mem::take(&mut q.committer_idle)
        };
        if idle {
            self.shared.wake.notify_one();
        }
        Ok(PendingAppend { reply: rx })
    }

    /// Writes a signed checkpoint of the current tree now and returns its text.
    pub fn checkpoint_now(&self) -> Result<String, LedgerError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut q = self.shared.queue();
            if q.closing {
                return Err(LedgerError::Closed);
            }
            q.checkpoint_requests.push(tx);
        }
        self.shared.wake.notify_one();
        rx.recv().unwrap_or(Err(LedgerError::Closed))
    }

    /// The public key checkpoints are signed with.
    pub fn verifying_key(&self) -> crate::checkpoint::VerifyingKey {
        self.shared.key.verifying_key()
    }

    /// The underlying store (for proofs, verification and bundles).
    pub fn store(&self) -> &S {
        &self.shared.store
    }

    /// Failures of witnesses since the last call (witnessing never blocks appends).
    pub fn take_witness_errors(&self) -> Vec<String> {
        std::mem::take(&mut *self.shared.witness_errors.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Drains pending appends, writes a final checkpoint and stops the committer.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.queue().closing = true;
        self.shared.wake.notify_one();
        if let Some(handle) = self.committer.take() {
            // a panicking committer has already failed its waiters
            let _ = handle.join();
        }
    }
}

impl<S: LedgerStore> Drop for Ledger<S> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn commit_loop<S: LedgerStore>(shared: &Shared<S>, state: TreeState) {
    std::thread::scope(|scope| {
        let syncer = std::thread::Builder::new()
            .name("ledger-sync".into())
            .spawn_scoped(scope, || sync_loop(shared));
        // Without a sync thread, the committer flushes each batch itself.
        let inline_sync = syncer.is_err();
        let _close = CloseSyncs(shared);
        take_and_commit(shared, state, inline_sync);
    });
}

/// Tells the syncer to finish once its queue is empty, also when the
/// committer unwinds from a panic (the scope would otherwise wait for the
/// syncer forever, and so would `Ledger::close`).
struct CloseSyncs<'a, S>(&'a Shared<S>);

impl<S> Drop for CloseSyncs<'_, S> {
    fn drop(&mut self) {
        self.0.syncs().closing = true;
        self.0.sync_wake.notify_one();
    }
}

/// Flushes what the committer wrote and answers its waiters, until the
/// committer closes the queue and it is empty.
fn sync_loop<S: LedgerStore>(shared: &Shared<S>) {
    loop {
        let batches = {
            let mut q = shared.syncs();
            while q.batches.is_empty() && !q.closing {
                q = shared.sync_wake.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            if q.batches.is_empty() {
                return;
            }
            std::mem::take(&mut q.batches)
        };
        // The committer may wait for this take (see `take_and_commit`);
        // passing through its queue's lock first means it is either already
        // waiting, so the notice wakes it, or has yet to look.
        drop(shared.queue());
        shared.wake.notify_one();
        sync_and_answer(shared, batches);
    }
}

/// One flush covers every batch written before it began.
fn sync_and_answer<S: LedgerStore>(shared: &Shared<S>, batches: Vec<Unsynced>) {
    let failed = shared.syncs().failed.clone();
    let result = match failed {
        Some(e) => Err(e),
        None => shared.store.sync().map_err(LedgerError::from),
    };
    if let Err(e) = &result {
        shared.syncs().failed.get_or_insert_with(|| e.clone());
    }
    for batch in batches {
        match &result {
            Ok(()) => answer_durable(shared, batch.receipts, batch.checkpoint.as_deref(), batch.requests),
            Err(e) => {
                fail(batch.receipts.into_iter().map(|(reply, _)| reply), e);
                fail(batch.requests, e);
            }
        }
    }
}

/// Acknowledges a durable batch: receipts to its waiters, and its
/// checkpoint to the witnesses and to whoever asked for one.
fn answer_durable<S>(
    shared: &Shared<S>,
    receipts: Vec<(Reply<Receipt>, Receipt)>,
    checkpoint: Option<&str>,
    requests: Vec<Reply<String>>,
) {
    for (reply, receipt) in receipts {
        let _ = reply.send(Ok(receipt));
    }
    if let Some(text) = checkpoint {
        publish(shared, text);
        for reply in requests {
            let _ = reply.send(Ok(text.to_owned()));
        }
    }
}

fn take_and_commit<S: LedgerStore>(shared: &Shared<S>, state: TreeState, inline_sync: bool) {
    let mut state = Some(state);
    let interval = shared.config.checkpoint_interval_ms;
    let wait = Duration::from_millis(u64::try_from(interval.max(1)).unwrap_or(1000));
    loop {
        let (entries, requests, closing) = {
            let mut q = shared.queue();
            loop {
                // While a written batch waits for the syncer, later entries
                // would share its flush anyway: they wait to be written as
                // one batch (one transaction) instead of several small ones.
                let flush_waiting = !shared.syncs().batches.is_empty();
                let work = !q.entries.is_empty() || !q.checkpoint_requests.is_empty() || q.closing;
                if work && !flush_waiting {
                    break;
                }
                if let Some(s) = state.as_ref().filter(|_| !flush_waiting) {
                    let uncovered = s.frontier.size() > s.checkpoint_size;
                    if uncovered && checkpoint_due(s, shared.clock.now_ms(), interval) {
                        break;
                    }
                }
                // a bounded wait (not a clock read) so a quiet ledger still
                // signs its last entries once the injected clock says so
                q.committer_idle = !flush_waiting;
                q = shared
                    .wake
                    .wait_timeout(q, wait)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
                q.committer_idle = false;
            }
            let take = q.entries.len().min(shared.config.max_batch.max(1));
            let entries: Vec<_> = q.entries.drain(..take).collect();
            let requests = std::mem::take(&mut q.checkpoint_requests);
            let closing = q.closing && q.entries.is_empty();
            (entries, requests, closing)
        };
        let current = match state.take() {
            Some(s) => Ok(s),
            None => load_state(shared),
        };
        state = match current {
            Ok(s) => commit(shared, s, entries, requests, closing, inline_sync),
            Err(e) => {
                fail_all(entries, requests, &e);
                None
            }
        };
        if closing {
            return;
        }
    }
}

fn checkpoint_due(state: &TreeState, now: UnixMillis, interval: i64) -> bool {
    state.checkpoint_time.is_none_or(|t| now.saturating_sub(t) >= interval)
}

/// How often one group commit is rebuilt after [`StoreError::Conflict`]
/// before its entries fail. A conflict means another writer (another server
/// on the same database) appended first; each retry reloads the tree.
const CONFLICT_RETRIES: u32 = 1_000;

/// The pause after a writer's `n`th conflict in a row: 50 µs more each time, at
/// most 5 ms. A writer that has just appended builds its next batch on a fresh
/// tree while the loser is still reloading its own, so without a pause the same
/// writer could win every race: 32 immediate retries were all lost once under
/// load (`two_writers_on_one_store_keep_one_verifiable_log`, 7 December 2026).
fn conflict_pause(n: u32) -> Duration {
    Duration::from_micros(50 * u64::from(n.min(100)))
}

fn fail_all<T>(waiters: Vec<(Entry, Reply<Receipt>)>, requests: Vec<Reply<T>>, e: &LedgerError) {
    fail(waiters.into_iter().map(|(_, reply)| reply), e);
    fail(requests, e);
}

fn fail<T>(replies: impl IntoIterator<Item = Reply<T>>, e: &LedgerError) {
    for reply in replies {
        let _ = reply.send(Err(e.clone()));
    }
}

/// Writes one batch; returns the new state, or `None` when it must be
/// reloaded from the store (after a failure whose effect is unknown).
///
/// With several writers on one store (servers sharing a database), a batch
/// built on a stale tree is refused with [`StoreError::Conflict`] and
/// nothing is written; the tree is then reloaded from the store and the
/// same entries are renumbered and appended again, so the log stays one
/// total order and no index is used twice.
fn commit<S: LedgerStore>(
    shared: &Shared<S>,
    state: TreeState,
    entries: Vec<(Entry, Reply<Receipt>)>,
    requests: Vec<Reply<String>>,
    closing: bool,
    inline_sync: bool,
) -> Option<TreeState> {
    if !shared.store.multi_writer() {
        return commit_attempts(shared, state, entries, requests, closing, inline_sync);
    }
    // Several ledgers append to this store: take the store's append turn
    // (writers queue instead of racing, so none starves), and catch up with
    // what the others appended before building the batch.
    let from = state.frontier.size();
    let mut args = Some((state, entries, requests));
    let mut out = None;
    let turn = shared.store.append_turn(from, REPLAY_LIMIT + 1, &mut |stored| {
        if let Some((state, entries, requests)) = args.take() {
            let mut replay = Replay::new(&state);
            for (index, bytes) in &stored {
                replay.visit(*index, bytes);
            }
            out = Some(match replay.finish(shared, state) {
                Ok(state) => commit_attempts(shared, state, entries, requests, closing, inline_sync),
                Err(e) => {
                    fail_all(entries, requests, &e);
                    None
                }
            });
        }
        Ok(())
    });
    match (out, args, turn) {
        (Some(next), _, _) => next,
        (None, Some((_, entries, requests)), Err(e)) => {
            fail_all(entries, requests, &LedgerError::from(e));
            None
        }
        _ => None,
    }
}

/// Most entries another writer may have appended since our last batch that
/// are replayed from their bytes; past this the tree is reloaded instead.
const REPLAY_LIMIT: usize = 4096;

/// The tree as stored now: `state` when no other writer appended since, else
/// `state` with the others' entries replayed (one read, no signature check:
/// the usual case of servers taking turns), or reloaded when they appended
/// more than [`REPLAY_LIMIT`] entries.
fn catch_up<S: LedgerStore>(shared: &Shared<S>, state: TreeState) -> Result<TreeState, LedgerError> {
    let mut replay = Replay::new(&state);
    shared
        .store
        .scan_entries(state.frontier.size(), REPLAY_LIMIT + 1, &mut |index, bytes, _| {
            replay.visit(index, bytes)
        })?;
    replay.finish(shared, state)
}

/// Other writers' entries, stored after a ledger's last batch, folded into
/// a copy of its frontier as they are read (see [`catch_up`]).
struct Replay {
    frontier: Frontier,
    replayed: usize,
    contiguous: bool,
}

impl Replay {
    fn new(state: &TreeState) -> Replay {
        Replay {
            frontier: state.frontier.clone(),
            replayed: 0,
            contiguous: true,
        }
    }

    fn visit(&mut self, index: u64, bytes: &[u8]) {
        self.contiguous &= index == self.frontier.size();
        if self.contiguous {
            self.frontier.push(leaf_hash(bytes), |_, _| {});
            self.replayed += 1;
        }
    }

    fn finish<S: LedgerStore>(self, shared: &Shared<S>, mut state: TreeState) -> Result<TreeState, LedgerError> {
        if !self.contiguous || self.replayed > REPLAY_LIMIT {
            return load_state(shared);
        }
        state.frontier = self.frontier;
        Ok(state)
    }
}

fn commit_attempts<S: LedgerStore>(
    shared: &Shared<S>,
    mut state: TreeState,
    mut entries: Vec<(Entry, Reply<Receipt>)>,
    requests: Vec<Reply<String>>,
    closing: bool,
    inline_sync: bool,
) -> Option<TreeState> {
    if let Some(e) = shared.syncs().failed.clone() {
        fail_all(entries, requests, &e);
        return Some(state);
    }
    let mut conflicts = 0;
    loop {
        let now = shared.clock.now_ms();
        let mut frontier = state.frontier.clone();
        let mut batch = AppendBatch {
            first_index: frontier.size(),
            ..AppendBatch::default()
        };
        let mut receipts = Vec::with_capacity(entries.len());
        let mut encoded = Vec::with_capacity(entries.len());
        for (mut entry, reply) in entries {
            entry.index = frontier.size();
            match entry.encode() {
                Ok(bytes) => {
                    let leaf = batch.push_entry(&mut frontier, bytes);
                    receipts.push(Receipt {
                        index: entry.index,
                        leaf_hash: leaf,
                    });
                    encoded.push((entry, reply));
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            }
        }
        entries = encoded;
        let uncovered = frontier.size() > state.checkpoint_size;
        let want_checkpoint = !requests.is_empty()
            || (uncovered && (closing || checkpoint_due(&state, now, shared.config.checkpoint_interval_ms)));
        if want_checkpoint {
            let cp = Checkpoint {
                origin: shared.config.origin.clone(),
                size: frontier.size(),
                root: frontier.root(),
                time: now,
            };
            match cp.sign(&shared.key) {
                Ok(text) => {
                    batch.checkpoint = Some(StoredCheckpoint {
                        size: cp.size,
                        time: now,
                        text,
                    })
                }
                Err(e) => {
                    fail_all(entries, requests, &LedgerError::from(e));
                    return Some(state);
                }
            }
        }
        if batch.entries.is_empty() && batch.checkpoint.is_none() {
            return Some(state);
        }
        match shared.store.write_batch(&batch) {
            Ok(written) => {
                let mut next = TreeState { frontier, ..state };
                if let Some(cp) = &batch.checkpoint {
                    next.checkpoint_size = cp.size;
                    next.checkpoint_time = Some(cp.time);
                }
                let receipts = entries.into_iter().map(|(_, reply)| reply).zip(receipts).collect();
                let checkpoint = batch.checkpoint.map(|cp| cp.text);
                match written {
                    Written::Durable => answer_durable(shared, receipts, checkpoint.as_deref(), requests),
                    Written::AwaitingSync => {
                        let batch = Unsynced {
                            receipts,
                            checkpoint,
                            requests,
                        };
                        if inline_sync {
                            sync_and_answer(shared, vec![batch]);
                        } else {
                            shared.syncs().batches.push(batch);
                            shared.sync_wake.notify_one();
                        }
                    }
                }
                return Some(next);
            }
            Err(StoreError::Conflict { .. }) if conflicts < CONFLICT_RETRIES => {
                conflicts += 1;
                // A pause of the machine's own time, not the ledger's clock: it only
                // lets the other writer's batch go by, and decides nothing.
                #[allow(clippy::disallowed_methods)]
                std::thread::sleep(conflict_pause(conflicts));
                match catch_up(shared, state) {
                    Ok(fresh) => state = fresh,
                    Err(e) => {
                        fail_all(entries, requests, &e);
                        return None;
                    }
                }
            }
            Err(e) => {
                fail_all(entries, requests, &LedgerError::from(e));
                return None;
            }
        }
    }
}

fn publish<S>(shared: &Shared<S>, text: &str) {
    for w in &shared.witnesses {
        if let Err(e) = w.publish(text) {
            shared
                .witness_errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{}: {e}", w.describe()));
        }
    }
}
