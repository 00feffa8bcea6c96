//! Full verification of a stored ledger: recompute every hash in one
//! streaming pass and compare with the leaf hashes stored with the entries,
//! the node table, the stored checkpoints and checkpoints published elsewhere.

use std::fmt;

use crate::checkpoint::{Checkpoint, VerifyingKey};
use crate::entry::{Entry, EntryError};
use crate::merkle::{empty_root, leaf_hash, Frontier, Hash, NodeId};
use crate::store::LedgerStore;

/// Entries read per `scan_entries` call.
const CHUNK: usize = 16 * 1024;
/// Findings kept in a report; further ones are only counted.
pub const MAX_FINDINGS: usize = 10_000;

/// Where a checkpoint under verification came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointSource {
    /// The n-th checkpoint in the store (0-based, in the order written).
    Stored(usize),
    /// The n-th externally published checkpoint given in `against` (0-based).
    Published(usize),
}

impl fmt::Display for CheckpointSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointSource::Stored(n) => write!(f, "stored checkpoint #{n}"),
            CheckpointSource::Published(n) => write!(f, "published checkpoint #{n}"),
        }
    }
}

/// One problem found by [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The store failed while being read; verification is incomplete.
    StoreFailed {
        /// The store's error.
        message: String,
    },
    /// The store's row numbering jumps: an entry row was deleted or inserted.
    RowGap {
        /// Position in the sequence where the gap starts.
        position: u64,
        /// Row index found there.
        row: u64,
    },
    /// An entry's own index differs from its position: entries were deleted,
    /// inserted or reordered.
    IndexMismatch {
        /// Position in the sequence.
        position: u64,
        /// Index written inside the entry.
        found: u64,
    },
    /// An entry's bytes are not a valid canonical encoding.
    Undecodable {
        /// Position in the sequence.
        position: u64,
        /// Why.
        error: EntryError,
    },
    /// A stored subtree hash differs from the recomputed one: the entries it
    /// covers were changed after being written (or the stored hash was; at
    /// level 0 it is the leaf hash stored with the entry).
    NodeMismatch {
        /// The subtree.
        node: NodeId,
        /// First entry it covers.
        first_entry: u64,
    },
    /// A subtree hash that must exist is absent from the store (at level 0:
    /// the entry's row lacks its leaf hash).
    MissingNode {
        /// The subtree.
        node: NodeId,
    },
    /// A checkpoint's signature is missing, wrong, or its text is malformed:
    /// it was forged or altered.
    BadCheckpoint {
        /// Which checkpoint.
        source: CheckpointSource,
        /// Why.
        error: String,
    },
    /// A correctly signed checkpoint's root differs from the recomputed tree:
    /// an entry at or after `first_possible_entry` and before `size` changed.
    RootMismatch {
        /// Which checkpoint.
        source: CheckpointSource,
        /// Its tree size.
        size: u64,
        /// Size of the last checkpoint that still matched (entries before it are intact).
        first_possible_entry: u64,
    },
    /// A checkpoint covers more entries than the store holds: the tail was truncated.
    BeyondEnd {
        /// Which checkpoint.
        source: CheckpointSource,
        /// Its tree size.
        size: u64,
        /// Entries in the store.
        entries: u64,
    },
    /// Stored checkpoints go backwards in size: one was replaced or reordered.
    CheckpointOrder {
        /// The out-of-order checkpoint (0-based store position).
        position: usize,
        /// Its size.
        size: u64,
        /// Size of the checkpoint before it.
        previous: u64,
    },
}

impl Finding {
    /// The first entry this finding implicates, if it names one.
    pub fn entry(&self) -> Option<u64> {
        match self {
            Finding::RowGap { position, .. }
            | Finding::IndexMismatch { position, .. }
            | Finding::Undecodable { position, .. } => Some(*position),
            Finding::NodeMismatch { first_entry, .. } => Some(*first_entry),
            Finding::RootMismatch {
                first_possible_entry, ..
            } => Some(*first_possible_entry),
            Finding::BeyondEnd { entries, .. } => Some(*entries),
            Finding::MissingNode { node } => Some(node.index << node.level),
            Finding::StoreFailed { .. } | Finding::BadCheckpoint { .. } | Finding::CheckpointOrder { .. } => None,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::StoreFailed { message } => {
                write!(f, "store failed during verification: {message}")
            }
            Finding::RowGap { position, row } => write!(
                f,
                "entry {position}: store row {row} found where row {position} was expected (entry deleted or inserted)"
            ),
            Finding::IndexMismatch { position, found } => write!(
                f,
                "entry {position}: carries index {found} (entries deleted, inserted or reordered)"
            ),
            Finding::Undecodable { position, error } => write!(f, "entry {position}: {error}"),
            Finding::NodeMismatch { node, first_entry } => write!(
                f,
                "entry {first_entry}: hash of level {} subtree {} does not match its entries (entry modified)",
                node.level, node.index
            ),
            Finding::MissingNode { node } => write!(
                f,
                "store lacks the hash of level {} subtree {}",
                node.level, node.index
            ),
            Finding::BadCheckpoint { source, error } => write!(f, "{source}: {error}"),
            Finding::RootMismatch {
                source,
                size,
                first_possible_entry,
            } => write!(
                f,
                "{source}: root for size {size} does not match the entries (an entry in {first_possible_entry}..{size} was changed)"
            ),
            Finding::BeyondEnd {
                source,
                size,
                entries,
            } => write!(
                f,
                "{source}: covers {size} entries but the store holds {entries} (tail truncated)"
            ),
            Finding::CheckpointOrder {
                position,
                size,
                previous,
            } => write!(
                f,
                "stored checkpoint #{position}: size {size} is below the previous {previous} (checkpoint replaced or reordered)"
            ),
        }
    }
}

/// Result of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Problems, in the order found.
    pub findings: Vec<Finding>,
    /// Findings beyond [`MAX_FINDINGS`], counted but not listed.
    pub findings_omitted: u64,
    /// Entries read and hashed.
    pub entries_checked: u64,
    /// Stored checkpoints whose signature verified.
    pub checkpoints_checked: u64,
    /// Published checkpoints whose signature verified.
    pub published_checked: u64,
    /// Root of the recomputed tree over all stored entries.
    pub root: Hash,
    /// Entries after the largest valid checkpoint (not yet signed; normal
    /// for a ledger that is still running, but not covered by any signature).
    pub unsigned_tail: u64,
}

impl Report {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.findings.is_empty() && self.findings_omitted == 0
    }

    /// The first bad entry: the lowest entry named exactly by a finding, or,
    /// when only checkpoint roots disagree (entries and node table rewritten
    /// consistently), the start of the lowest range a root mismatch allows.
    pub fn first_bad_entry(&self) -> Option<u64> {
        let exact = self
            .findings
            .iter()
            .filter(|f| !matches!(f, Finding::RootMismatch { .. }))
            .filter_map(Finding::entry)
            .min();
        exact.or_else(|| self.findings.iter().filter_map(Finding::entry).min())
    }
}

struct Target {
    size: u64,
    root: Hash,
    source: CheckpointSource,
}

/// Streaming state of the verification pass.
struct Pass<'a, S: ?Sized> {
    store: &'a S,
    frontier: Frontier,
    pending_nodes: Vec<(NodeId, Hash)>,
    findings: Vec<Finding>,
    /// Positions of the entries named by a finding (ascending): the subtrees
    /// above them differ as a consequence and are not reported.
    named: Vec<u64>,
    /// `last_bad[level]`: index of the last subtree of that level (1 and up)
    /// whose stored hash differed or was absent.
    last_bad: Vec<Option<u64>>,
    row_offset: u64,
    index_offset: u64,
    findings_omitted: u64,
}

impl<S: LedgerStore + ?Sized> Pass<'_, S> {
    /// Records a finding; past [`MAX_FINDINGS`] only counts it, so a store
    /// rewritten wholesale cannot exhaust memory.
    fn add(&mut self, finding: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(finding);
        } else {
            self.findings_omitted += 1;
        }
    }

    /// Records a finding that names the entry at `position`.
    fn add_at(&mut self, position: u64, finding: Finding) {
        self.add(finding);
        if self.named.last() != Some(&position) {
            self.named.push(position);
        }
    }

    /// Whether the mismatch of subtree `id` (level 1 or up) follows from one
    /// already reported: an entry it covers was named, or one of its
    /// children differed too. Since a leaf hash moves with its entry's row,
    /// a subtree over a deleted or inserted row can differ while every leaf
    /// under it matches; its first entry is then only a lower bound, and
    /// reporting it would name an intact entry before the named one.
    fn explained(&self, id: NodeId) -> bool {
        let first = id.index << id.level;
        let start = self.named.partition_point(|&p| p < first);
        if self.named.get(start).is_some_and(|&p| p - first < 1u64 << id.level) {
            return true;
        }
        // Nodes are checked in completion order, so both children were
        // checked just before their parent, and the last bad node of the
        // level below is one of them if either is.
        usize::from(id.level)
            .checked_sub(1)
            .and_then(|below| self.last_bad.get(below).copied().flatten())
            .is_some_and(|b| b >> 1 == id.index)
    }

    fn mark_bad(&mut self, id: NodeId) {
        let level = usize::from(id.level);
        if self.last_bad.len() <= level {
            self.last_bad.resize(level + 1, None);
        }
        if let Some(slot) = self.last_bad.get_mut(level) {
            *slot = Some(id.index);
        }
    }

    fn check_nodes(&mut self) {
        if self.pending_nodes.is_empty() {
            return;
        }
        let ids: Vec<NodeId> = self.pending_nodes.iter().map(|(id, _)| *id).collect();
        let stored = match self.store.get_nodes(&ids) {
            Ok(s) => s,
            Err(e) => {
                self.add(Finding::StoreFailed { message: e.to_string() });
                self.pending_nodes.clear();
                return;
            }
        };
        let mut pending = std::mem::take(&mut self.pending_nodes);
        for ((id, computed), stored) in pending.iter().zip(stored) {
            match stored {
                None => {
                    self.add(Finding::MissingNode { node: *id });
                    self.mark_bad(*id);
                }
                Some(h) if h != *computed => {
                    if !self.explained(*id) {
                        self.add(Finding::NodeMismatch {
                            node: *id,
                            first_entry: id.index << id.level,
                        });
                    }
                    self.mark_bad(*id);
                }
                Some(_) => {}
            }
        }
        pending.clear();
        self.pending_nodes = pending; // keep the allocation for the next chunk
    }

    fn visit(&mut self, row: u64, bytes: &[u8], stored_leaf: Option<&Hash>) {
        let position = self.frontier.size();
        let row_offset = row.wrapping_sub(position);
        if row_offset != self.row_offset {
            if row_offset != 0 {
                self.add_at(position, Finding::RowGap { position, row });
            }
            self.row_offset = row_offset;
        }
        match Entry::validate(bytes) {
            Ok(index) => {
                let offset = index.wrapping_sub(position);
                if offset != self.index_offset {
                    if offset != 0 {
                        self.add_at(position, Finding::IndexMismatch { position, found: index });
                    }
                    self.index_offset = offset;
                }
            }
            Err(error) => self.add_at(position, Finding::Undecodable { position, error }),
        }
        // The leaf hash comes with the entry's row, so level 0 is checked
        // here; higher levels wait for one `get_nodes` per chunk.
        let leaf = leaf_hash(bytes);
        let node = NodeId {
            level: 0,
            index: position,
        };
        match stored_leaf {
            None => self.add_at(position, Finding::MissingNode { node }),
            Some(h) if *h != leaf => self.add_at(
                position,
                Finding::NodeMismatch {
                    node,
                    first_entry: position,
                },
            ),
            Some(_) => {}
        }
        let pending = &mut self.pending_nodes;
        self.frontier.push(leaf, |id, h| {
            if id.level > 0 {
                pending.push((id, *h));
            }
        });
    }
}

/// Recomputes the whole ledger and reports every inconsistency as a
/// [`Finding`]; `against` are checkpoint notes published elsewhere (witnesses).
pub fn verify<S: LedgerStore + ?Sized>(store: &S, key: &VerifyingKey, against: Option<&[String]>) -> Report {
    let mut findings = Vec::new();
    let mut targets = Vec::new();
    let mut checkpoints_checked = 0;
    let mut published_checked = 0;

    let mut stored = Vec::new();
    if let Err(e) = store.scan_checkpoints(&mut |cp| stored.push(cp.text.clone())) {
        findings.push(Finding::StoreFailed { message: e.to_string() });
    }
    let mut previous: Option<u64> = None;
    for (n, text) in stored.iter().enumerate() {
        match Checkpoint::open(text, key) {
            Ok(cp) => {
                checkpoints_checked += 1;
                if let Some(prev) = previous.filter(|&p| cp.size < p) {
                    findings.push(Finding::CheckpointOrder {
                        position: n,
                        size: cp.size,
                        previous: prev,
                    });
                }
                previous = Some(cp.size);
                targets.push(Target {
                    size: cp.size,
                    root: cp.root,
                    source: CheckpointSource::Stored(n),
                });
            }
            Err(e) => findings.push(Finding::BadCheckpoint {
                source: CheckpointSource::Stored(n),
                error: e.to_string(),
            }),
        }
    }
    // A checkpoint published twice (a witness file appended to by two servers, or
    // concatenated) is one checkpoint: counted once, not as two that agree.
    let mut published = std::collections::HashSet::new();
    for (n, text) in against.unwrap_or_default().iter().enumerate() {
        match Checkpoint::open(text, key) {
            Ok(cp) if !published.insert((cp.size, cp.root)) => {}
            Ok(cp) => {
                published_checked += 1;
                targets.push(Target {
                    size: cp.size,
                    root: cp.root,
                    source: CheckpointSource::Published(n),
                });
            }
            Err(e) => findings.push(Finding::BadCheckpoint {
                source: CheckpointSource::Published(n),
                error: e.to_string(),
            }),
        }
    }
    targets.sort_by_key(|t| t.size);

    let mut pass = Pass {
        store,
        frontier: Frontier::new(),
        pending_nodes: Vec::with_capacity(CHUNK + 64),
        findings,
        named: Vec::new(),
        last_bad: Vec::new(),
        row_offset: 0,
        index_offset: 0,
        findings_omitted: 0,
    };
    let mut next_target = 0;
    let mut last_good = 0u64;
    let mut check_targets = |pass: &mut Pass<'_, S>, next_target: &mut usize| {
        while let Some(t) = targets.get(*next_target) {
            if t.size != pass.frontier.size() {
                break;
            }
            let root = if t.size == 0 {
                empty_root()
            } else {
                pass.frontier.root()
            };
            if root == t.root {
                last_good = t.size;
            } else {
                pass.add(Finding::RootMismatch {
                    source: t.source,
                    size: t.size,
                    first_possible_entry: last_good,
                });
            }
            *next_target += 1;
        }
    };
    check_targets(&mut pass, &mut next_target);
    let mut from = 0u64;
    loop {
        let mut rows = 0usize;
        let mut last_row = None;
        let result = store.scan_entries(from, CHUNK, &mut |row, bytes, leaf| {
            rows += 1;
            last_row = Some(row);
            pass.visit(row, bytes, leaf);
            check_targets(&mut pass, &mut next_target);
        });
        pass.check_nodes();
        if let Err(e) = result {
            pass.add(Finding::StoreFailed { message: e.to_string() });
            break;
        }
        match last_row {
            Some(r) if rows == CHUNK && r < u64::MAX => from = r + 1,
            _ => break,
        }
    }
    let entries = pass.frontier.size();
    for t in targets.get(next_target..).unwrap_or_default() {
        pass.add(Finding::BeyondEnd {
            source: t.source,
            size: t.size,
            entries,
        });
    }
    let signed = targets
        .iter()
        .map(|t| t.size)
        .filter(|&s| s <= entries)
        .max()
        .unwrap_or(0);
    Report {
        root: pass.frontier.root(),
        findings: pass.findings,
        findings_omitted: pass.findings_omitted,
        entries_checked: entries,
        checkpoints_checked,
        published_checked,
        unsigned_tail: entries - signed,
    }
}
