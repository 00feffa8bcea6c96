//! Storage behind the ledger: the [`LedgerStore`] trait and an in-memory implementation.
//!
//! The trait speaks plain byte blobs and integers so that SQL backends map it
//! to three tables: `entries(idx INTEGER PRIMARY KEY, bytes BLOB, leaf BLOB)`
//! (each entry with its leaf hash, so verification reads both in one row),
//! `nodes(level INTEGER, idx INTEGER, hash BLOB, PRIMARY KEY(level, idx))` for
//! the subtrees of level 1 and up, and
//! `checkpoints(size INTEGER, time INTEGER, text TEXT)`; one [`AppendBatch`]
//! is one transaction.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use model::UnixMillis;
use thiserror::Error;

use crate::merkle::{leaf_hash, Frontier, Hash, NodeId};

/// A failure of the storage backend.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The batch does not start at the current end of the ledger (another
    /// writer appended, or a previous batch was committed after all).
    #[error("append batch starts at index {batch_first}, but the store holds {store_size} entries: reopen the ledger")]
    Conflict {
        /// First index of the batch.
        batch_first: u64,
        /// Entries in the store.
        store_size: u64,
    },
    /// The backend failed (I/O, database error); the batch was not written.
    #[error("ledger store failed: {0}")]
    Backend(String),
}

/// A signed checkpoint as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size the checkpoint commits to.
    pub size: u64,
    /// Time in the checkpoint.
    pub time: UnixMillis,
    /// The full signed-note text.
    pub text: String,
}

/// Everything one group commit writes, atomically.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppendBatch {
    /// Index of `entries[0]`; must equal the store's current size.
    pub first_index: u64,
    /// Canonical entry bytes and their leaf hash; entry `first_index + i` is
    /// `entries[i]`.
    pub entries: Vec<(Vec<u8>, Hash)>,
    /// Subtrees of level 1 and up made complete by these entries (a leaf hash
    /// is stored with its entry, never here).
    pub nodes: Vec<(NodeId, Hash)>,
    /// A checkpoint of the tree after this batch, if one is due.
    pub checkpoint: Option<StoredCheckpoint>,
}

impl AppendBatch {
    /// Adds the next entry: its bytes, its leaf hash, and the subtrees of
    /// level 1 and up it completes in `frontier` (the tree before it, which
    /// this advances). Returns the leaf hash.
    pub fn push_entry(&mut self, frontier: &mut Frontier, bytes: Vec<u8>) -> Hash {
        let leaf = leaf_hash(&bytes);
        let nodes = &mut self.nodes;
        frontier.push(leaf, |id, h| {
            if id.level > 0 {
                nodes.push((id, *h));
            }
        });
        self.entries.push((bytes, leaf));
        leaf
    }
}

/// Whether a batch [`LedgerStore::write_batch`] wrote is durable yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Durable already (the store flushed it as part of the write).
    Durable,
    /// Visible to readers but durable only once a later [`LedgerStore::sync`]
    /// returns `Ok`.
    AwaitingSync,
}

/// What [`LedgerStore::scan_entries`] calls for each row: row index, entry
/// bytes, and the leaf hash stored with them (`None` where absent or not a hash).
pub type VisitEntry<'a> = dyn FnMut(u64, &[u8], Option<&Hash>) + 'a;

/// What [`LedgerStore::append_turn`] runs while holding the turn: given the
/// entries (index, bytes) other writers stored since this writer's last
/// batch.
pub type TurnAppend<'a> = dyn FnMut(Vec<(u64, Vec<u8>)>) -> Result<(), StoreError> + 'a;

/// Durable storage of entries, subtree hashes and checkpoints.
///
/// Implementations must make [`LedgerStore::append_batch`] atomic and durable
/// (one transaction, one fsync) before returning `Ok`, and must reject a batch
/// whose `first_index` is not the current size with [`StoreError::Conflict`].
pub trait LedgerStore: Send + Sync + 'static {
    /// Number of entries (one more than the highest index).
    fn size(&self) -> Result<u64, StoreError>;

    /// Writes a batch atomically and durably; returns only after durability.
    fn append_batch(&self, batch: &AppendBatch) -> Result<(), StoreError>;

    /// Writes a batch atomically, like [`LedgerStore::append_batch`], but may
    /// return before it is durable ([`Written::AwaitingSync`]): the committer
    /// then writes the next batch while this one is flushed by
    /// [`LedgerStore::sync`], and answers its waiters only after that. The
    /// default is `append_batch`, durable at once.
    fn write_batch(&self, batch: &AppendBatch) -> Result<Written, StoreError> {
        self.append_batch(batch).map(|()| Written::Durable)
    }

    /// Makes every batch that [`LedgerStore::write_batch`] returned before
    /// this call durable. May run on another thread while a batch is written.
    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Entries by index (`None` where absent), in the order asked.
    fn get_entries(&self, indexes: &[u64]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;

    /// Calls `visit(row index, bytes, leaf)` for the stored entries with row
    /// index `>= from`, in index order, at most `limit` of them (one chunk of
    /// a streaming read; the caller asks for the next chunk after the last row
    /// seen). `leaf` is the leaf hash stored with the entry, `None` where it
    /// is absent or not a hash.
    fn scan_entries(&self, from: u64, limit: usize, visit: &mut VisitEntry<'_>) -> Result<(), StoreError>;

    /// Subtree hashes (`None` where absent), in the order asked; a node of
    /// level 0 is the leaf hash stored with its entry.
    fn get_nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, StoreError>;

    /// Calls `visit` for every checkpoint in the order written.
    fn scan_checkpoints(&self, visit: &mut dyn FnMut(&StoredCheckpoint)) -> Result<(), StoreError>;

    /// The checkpoint written last, if any.
    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// Whether other processes (other servers on one database) may append
    /// to this store too. Then [`Ledger`](crate::Ledger) builds each batch
    /// inside [`LedgerStore::append_turn`], after the entries the others
    /// appended since its last batch.
    fn multi_writer(&self) -> bool {
        false
    }

    /// Runs `append` while holding a lock that orders the store's writers
    /// (e.g. a PostgreSQL advisory lock), so a writer whose view was stale
    /// waits its turn instead of racing again. `append` gets the entries
    /// stored from index `from` on, at most `limit`, read once the turn is
    /// held (what other writers appended since this one's last batch); a
    /// store may read them with the lock, in one round trip. The default
    /// takes no lock and reads them with [`LedgerStore::scan_entries`].
    fn append_turn(&self, from: u64, limit: usize, append: &mut TurnAppend<'_>) -> Result<(), StoreError> {
        let mut stored = Vec::new();
        self.scan_entries(from, limit, &mut |index, bytes, _| stored.push((index, bytes.to_vec())))?;
        append(stored)
    }
}

/// Contents of a [`MemoryStore`], open for tests that play an attacker with
/// write access to the storage.
#[derive(Debug, Default)]
pub struct MemoryState {
    /// Entry bytes and stored leaf hash by index.
    pub entries: BTreeMap<u64, (Vec<u8>, Hash)>,
    /// `nodes[level - 1][index]` for the subtrees of level 1 and up.
    pub nodes: Vec<Vec<Hash>>,
    /// Checkpoints in the order written.
    pub checkpoints: Vec<StoredCheckpoint>,
    /// When set, the next `append_batch` calls fail with this message (the
    /// counter says how many batches still succeed first).
    pub fail_after: Option<(u64, String)>,
}

/// In-memory [`LedgerStore`] for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Direct access to the contents (to simulate tampering or failures).
    pub fn state(&self) -> MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl MemoryState {
    fn size(&self) -> u64 {
        self.entries.last_key_value().map_or(0, |(k, _)| k + 1)
    }

    /// Stores the hash of one subtree of level 1 or up (nodes of a level
    /// arrive in index order; leaf hashes belong in `entries`).
    pub fn put_node(&mut self, id: NodeId, hash: Hash) -> Result<(), StoreError> {
        let Some(level) = usize::from(id.level).checked_sub(1) else {
            return Err(StoreError::Backend(format!(
                "node level 0 index {}: leaf hashes are stored with their entries",
                id.index
            )));
        };
        while self.nodes.len() <= level {
            self.nodes.push(Vec::new());
        }
        let Some(row) = self.nodes.get_mut(level) else {
            return Err(StoreError::Backend("node level out of range".into()));
        };
        let index = usize::try_from(id.index).map_err(|_| StoreError::Backend("node index too large".into()))?;
        match index.cmp(&row.len()) {
            std::cmp::Ordering::Equal => row.push(hash),
            std::cmp::Ordering::Less => {
                return Err(StoreError::Backend(format!(
                    "node level {} index {} already exists: nodes are write-once",
                    id.level, id.index
                )))
            }
            std::cmp::Ordering::Greater => {
                return Err(StoreError::Backend(format!(
                    "node level {} index {} leaves a gap after {}: nodes must arrive in order",
                    id.level,
                    id.index,
                    row.len()
                )))
            }
        }
        Ok(())
    }
}

impl LedgerStore for MemoryStore {
    fn size(&self) -> Result<u64, StoreError> {
        Ok(self.state().size())
    }

    fn append_batch(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        let mut s = self.state();
        if let Some((remaining, message)) = &mut s.fail_after {
            if *remaining == 0 {
                return Err(StoreError::Backend(message.clone()));
            }
            *remaining -= 1;
        }
        let size = s.size();
        if batch.first_index != size {
            return Err(StoreError::Conflict {
                batch_first: batch.first_index,
                store_size: size,
            });
        }
        // validate before writing so a failed batch leaves no trace
        let mut lens: Vec<usize> = s.nodes.iter().map(Vec::len).collect();
        for (id, _) in &batch.nodes {
            let Some(level) = usize::from(id.level).checked_sub(1) else {
                return Err(StoreError::Backend(format!(
                    "node level 0 index {}: leaf hashes are stored with their entries",
                    id.index
                )));
            };
            while lens.len() <= level {
                lens.push(0);
            }
            let expected = lens.get(level).copied().unwrap_or(0);
            if usize::try_from(id.index).ok() != Some(expected) {
                return Err(StoreError::Backend(format!(
                    "node level {} index {} is out of order (expected index {expected})",
                    id.level, id.index
                )));
            }
            if let Some(l) = lens.get_mut(level) {
                *l += 1;
            }
        }
        for (i, entry) in (batch.first_index..).zip(&batch.entries) {
            s.entries.insert(i, entry.clone());
        }
        for (id, h) in &batch.nodes {
            s.put_node(*id, *h)?;
        }
        if let Some(cp) = &batch.checkpoint {
            s.checkpoints.push(cp.clone());
        }
        Ok(())
    }

    fn get_entries(&self, indexes: &[u64]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let s = self.state();
        Ok(indexes
            .iter()
            .map(|i| s.entries.get(i).map(|(bytes, _)| bytes.clone()))
            .collect())
    }

    fn scan_entries(&self, from: u64, limit: usize, visit: &mut VisitEntry<'_>) -> Result<(), StoreError> {
        let s = self.state();
        for (i, (bytes, leaf)) in s.entries.range(from..).take(limit) {
            visit(*i, bytes, Some(leaf));
        }
        Ok(())
    }

    fn get_nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, StoreError> {
        let s = self.state();
        Ok(ids
            .iter()
            .map(|id| match usize::from(id.level).checked_sub(1) {
                None => s.entries.get(&id.index).map(|(_, leaf)| *leaf),
                Some(level) => s.nodes.get(level)?.get(usize::try_from(id.index).ok()?).copied(),
            })
            .collect())
    }

    fn scan_checkpoints(&self, visit: &mut dyn FnMut(&StoredCheckpoint)) -> Result<(), StoreError> {
        let s = self.state();
        for cp in &s.checkpoints {
            visit(cp);
        }
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        Ok(self.state().checkpoints.last().cloned())
    }
}

/// A shared store (e.g. one `Arc<SqliteStore>` used by the ledger and by readers).
impl<T: LedgerStore + ?Sized> LedgerStore for std::sync::Arc<T> {
    fn size(&self) -> Result<u64, StoreError> {
        (**self).size()
    }
    fn append_batch(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        (**self).append_batch(batch)
    }
    fn write_batch(&self, batch: &AppendBatch) -> Result<Written, StoreError> {
        (**self).write_batch(batch)
    }
    fn sync(&self) -> Result<(), StoreError> {
        (**self).sync()
    }
    fn get_entries(&self, indexes: &[u64]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        (**self).get_entries(indexes)
    }
    fn scan_entries(&self, from: u64, limit: usize, visit: &mut VisitEntry<'_>) -> Result<(), StoreError> {
        (**self).scan_entries(from, limit, visit)
    }
    fn get_nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, StoreError> {
        (**self).get_nodes(ids)
    }
    fn scan_checkpoints(&self, visit: &mut dyn FnMut(&StoredCheckpoint)) -> Result<(), StoreError> {
        (**self).scan_checkpoints(visit)
    }
    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        (**self).latest_checkpoint()
    }
    fn multi_writer(&self) -> bool {
        (**self).multi_writer()
    }
    fn append_turn(&self, from: u64, limit: usize, append: &mut TurnAppend<'_>) -> Result<(), StoreError> {
        (**self).append_turn(from, limit, append)
    }
}

/// Checks that an empty `store` honours the [`LedgerStore`] contract (for
/// backend test suites: run it on a fresh SQLite or PostgreSQL store).
/// Returns a description of the first violation.
pub fn check_contract<S: LedgerStore + ?Sized>(store: &S) -> Result<(), String> {
    let fail = |what: &str| Err(format!("store contract violated: {what}"));
    let err = |e: StoreError| format!("store contract: unexpected error {e}");
    if store.size().map_err(err)? != 0 || store.latest_checkpoint().map_err(err)?.is_some() {
        return fail("a fresh store must be empty");
    }
    let mut frontier = Frontier::new();
    let mut batch = |first: u64, n: u64, checkpoint: Option<StoredCheckpoint>| {
        let mut b = AppendBatch {
            first_index: first,
            checkpoint,
            ..AppendBatch::default()
        };
        for i in first..first + n {
            b.push_entry(&mut frontier, format!("entry {i}").into_bytes());
        }
        b
    };
    // Every stored hash of a batch, leaves first: level 0 reads the leaf
    // stored with the entry.
    let hashes_of = |b: &AppendBatch| -> Vec<(NodeId, Hash)> {
        let leaves = (b.first_index..)
            .zip(&b.entries)
            .map(|(index, (_, leaf))| (NodeId { level: 0, index }, *leaf));
        leaves.chain(b.nodes.iter().copied()).collect()
    };
    let cp = |size: u64| StoredCheckpoint {
        size,
        time: 1000 + size as i64,
        text: format!("checkpoint {size}\n"),
    };
    let first = batch(0, 5, Some(cp(5)));
    store.append_batch(&first).map_err(err)?;
    // The second batch is written as the committer writes: maybe durable
    // only after a sync, but visible to readers at once.
    let second = batch(5, 3, None);
    store.write_batch(&second).map_err(err)?;
    if store.size().map_err(err)? != 8 {
        return fail("a written batch must be visible before it is synced");
    }
    store.sync().map_err(err)?;
    store
        .append_batch(&AppendBatch {
            first_index: 8,
            checkpoint: Some(cp(8)),
            ..AppendBatch::default()
        })
        .map_err(err)?;
    if store.size().map_err(err)? != 8 {
        return fail("size must count the appended entries");
    }
    for wrong in [0u64, 9] {
        let conflict = AppendBatch {
            first_index: wrong,
            entries: vec![(b"x".to_vec(), leaf_hash(b"x"))],
            ..AppendBatch::default()
        };
        if !matches!(store.append_batch(&conflict), Err(StoreError::Conflict { .. })) {
            return fail("a batch not starting at the current size must fail with Conflict");
        }
    }
    let leaf_as_node = AppendBatch {
        first_index: 8,
        entries: vec![(b"x".to_vec(), leaf_hash(b"x"))],
        nodes: vec![(NodeId { level: 0, index: 8 }, leaf_hash(b"x"))],
        ..AppendBatch::default()
    };
    if store.append_batch(&leaf_as_node).is_ok() {
        return fail("a batch with a level-0 node must be refused (leaf hashes are stored with their entries)");
    }
    if store.size().map_err(err)? != 8 {
        return fail("a rejected batch must leave no trace");
    }
    let got = store.get_entries(&[7, 2, 8]).map_err(err)?;
    if got != vec![Some(b"entry 7".to_vec()), Some(b"entry 2".to_vec()), None] {
        return fail("get_entries must return entries in the order asked, None when absent");
    }
    let mut seen = Vec::new();
    store
        .scan_entries(3, 4, &mut |i, b, leaf| seen.push((i, b.to_vec(), leaf.copied())))
        .map_err(err)?;
    let want: Vec<(u64, Vec<u8>, Option<Hash>)> = (3..7)
        .map(|i| {
            let bytes = format!("entry {i}").into_bytes();
            let leaf = leaf_hash(&bytes);
            (i, bytes, Some(leaf))
        })
        .collect();
    if seen != want {
        return fail("scan_entries(from, limit) must visit rows from..from+limit in order, each with its leaf hash");
    }
    let all_nodes: Vec<(NodeId, Hash)> = hashes_of(&first).into_iter().chain(hashes_of(&second)).collect();
    let mut ids: Vec<NodeId> = all_nodes.iter().map(|(id, _)| *id).collect();
    ids.reverse();
    ids.push(NodeId { level: 3, index: 1 });
    ids.push(NodeId { level: 0, index: 8 });
    let hashes = store.get_nodes(&ids).map_err(err)?;
    let mut want: Vec<Option<Hash>> = all_nodes.iter().rev().map(|(_, h)| Some(*h)).collect();
    want.extend([None, None]);
    if hashes != want {
        return fail("get_nodes must return hashes (leaves too) in the order asked, None when absent");
    }
    let mut cps = Vec::new();
    store.scan_checkpoints(&mut |c| cps.push(c.clone())).map_err(err)?;
    if cps != vec![cp(5), cp(8)] || store.latest_checkpoint().map_err(err)? != Some(cp(8)) {
        return fail("checkpoints must be kept in the order written, the last one latest");
    }
    // A batch the size the committer writes under load (stores may write it in
    // several statements): every entry and node must land, in place.
    let big = batch(8, 300, None);
    store.append_batch(&big).map_err(err)?;
    let indexes: Vec<u64> = (8..308).collect();
    let want: Vec<Option<Vec<u8>>> = big.entries.iter().map(|(bytes, _)| Some(bytes.clone())).collect();
    if store.size().map_err(err)? != 308 || store.get_entries(&indexes).map_err(err)? != want {
        return fail("a large batch must store every entry at its index");
    }
    let big_nodes = hashes_of(&big);
    let ids: Vec<NodeId> = big_nodes.iter().map(|(id, _)| *id).collect();
    let want: Vec<Option<Hash>> = big_nodes.iter().map(|(_, h)| Some(*h)).collect();
    if store.get_nodes(&ids).map_err(err)? != want {
        return fail("a large batch must store every leaf and node");
    }
    // Scattered nodes across the tree, as proofs ask (more than one
    // statement's worth in the SQL stores), newest first, with absent ones.
    let mut scattered: Vec<(NodeId, Option<Hash>)> = big_nodes
        .iter()
        .filter(|(id, _)| id.level > 0)
        .step_by(7)
        .map(|(id, h)| (*id, Some(*h)))
        .collect();
    scattered.reverse();
    scattered.insert(3, (NodeId { level: 9, index: 5 }, None));
    scattered.push((NodeId { level: 0, index: 400 }, None));
    let ids: Vec<NodeId> = scattered.iter().map(|(id, _)| *id).collect();
    let want: Vec<Option<Hash>> = scattered.iter().map(|(_, h)| *h).collect();
    if ids.len() <= 40 || store.get_nodes(&ids).map_err(err)? != want {
        return fail("get_nodes must return scattered nodes in the order asked, None when absent");
    }
    Ok(())
}
