//! RFC 9162 Merkle tree hashing, proofs and their offline verifiers.
//!
//! The store keeps the hash of every complete (perfect) subtree, addressed by
//! [`NodeId`] `(level, index)`: the node covers leaves
//! `[index * 2^level, (index + 1) * 2^level)`; level 0 holds the leaf hashes.
//! Any RFC 9162 subtree `D[a:b]` is then the fold of at most `log2(n)` stored
//! nodes, so a proof needs one batched lookup of O(log n) nodes.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::store::{LedgerStore, StoreError};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Address of a complete subtree: leaves `[index << level, (index + 1) << level)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height of the subtree (0 = a single leaf).
    pub level: u8,
    /// Position among the subtrees of that height, counted from the left.
    pub index: u64,
}

/// Hash of a leaf: SHA-256(0x00 ‖ entry bytes).
pub fn leaf_hash(entry_bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry_bytes);
    h.finalize().into()
}

/// Hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Errors of proof computation and verification.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// Asked for a proof outside the tree.
    #[error("leaf index {index} is not below tree size {size}: ask for a leaf that exists")]
    IndexOutOfRange {
        /// Requested leaf.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// Asked for a consistency proof from a larger to a smaller tree.
    #[error("first tree size {first} is larger than second tree size {second}: the older tree must come first")]
    SizesReversed {
        /// Older tree size.
        first: u64,
        /// Newer tree size.
        second: u64,
    },
    /// The store lacks a node that must exist for a tree of this size.
    #[error(
        "node table has no hash for level {level} index {index}: the ledger store is incomplete, run verification"
    )]
    MissingNode {
        /// Level of the missing node.
        level: u8,
        /// Index of the missing node.
        index: u64,
    },
    /// The proof does not lead to the expected root.
    #[error("proof does not match the root hash: the entry or the tree was changed")]
    RootMismatch,
    /// The proof has the wrong number of hashes for the sizes.
    #[error("proof has the wrong length for these tree sizes: it is malformed or for other sizes")]
    BadLength,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Decomposes `D[start:end]` (as it appears in the RFC recursion, so `start`
/// is aligned) into complete subtrees, left to right.
fn range_nodes(start: u64, end: u64, out: &mut Vec<NodeId>) {
    let mut start = start;
    while start < end {
        let len = end - start;
        // largest power of two <= len that keeps `start` aligned
        let mut level = 63 - len.leading_zeros();
        if start != 0 {
            level = level.min(start.trailing_zeros());
        }
        out.push(NodeId {
            level: level as u8,
            index: start >> level,
        });
        start += 1u64 << level;
    }
}

/// The complete subtrees whose hashes make up a tree of `size` leaves, left to right.
pub fn frontier_nodes(size: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    range_nodes(0, size, &mut out);
    out
}

/// Provides subtree hashes to the proof recursion.
trait Subtrees {
    fn range(&mut self, start: u64, end: u64) -> Result<Hash, ProofError>;
}

/// First pass: records which stored nodes the proof needs.
struct Collect(Vec<NodeId>);

impl Subtrees for Collect {
    fn range(&mut self, start: u64, end: u64) -> Result<Hash, ProofError> {
        range_nodes(start, end, &mut self.0);
        Ok([0; 32])
    }
}

/// Second pass: folds fetched nodes into subtree hashes.
struct Resolve(HashMap<NodeId, Hash>);

impl Subtrees for Resolve {
    fn range(&mut self, start: u64, end: u64) -> Result<Hash, ProofError> {
        let mut ids = Vec::new();
        range_nodes(start, end, &mut ids);
        let mut acc: Option<Hash> = None;
        for id in ids.iter().rev() {
            let h = *self.0.get(id).ok_or(ProofError::MissingNode {
                level: id.level,
                index: id.index,
            })?;
            acc = Some(match acc {
                None => h,
                Some(right) => node_hash(&h, &right),
            });
        }
        acc.ok_or(ProofError::BadLength)
    }
}

/// RFC 9162 §2.1.3.1 PATH(m, D[start:end]).
fn path(src: &mut dyn Subtrees, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<(), ProofError> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(src, m, start, start + k, out)?;
        out.push(src.range(start + k, end)?);
    } else {
        path(src, m - k, start + k, end, out)?;
        out.push(src.range(start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b).
fn subproof(
    src: &mut dyn Subtrees,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    let n = end - start;
    if m == n {
        if !complete {
            out.push(src.range(start, end)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, start, start + k, complete, out)?;
        out.push(src.range(start + k, end)?);
    } else {
        subproof(src, m - k, start + k, end, false, out)?;
        out.push(src.range(start, start + k)?);
    }
    Ok(())
}

/// Runs a proof recursion twice: once to learn the nodes, once (after one
/// batched `get_nodes`) to compute the hashes.
fn with_nodes<S: LedgerStore + ?Sized>(
    store: &S,
    run: impl Fn(&mut dyn Subtrees, &mut Vec<Hash>) -> Result<(), ProofError>,
) -> Result<Vec<Hash>, ProofError> {
    let mut collect = Collect(Vec::new());
    run(&mut collect, &mut Vec::new())?;
    let mut ids = collect.0;
    ids.sort_unstable();
    ids.dedup();
    let hashes = store.get_nodes(&ids)?;
    let mut map = HashMap::with_capacity(ids.len());
    for (id, h) in ids.iter().zip(hashes) {
        let h = h.ok_or(ProofError::MissingNode {
            level: id.level,
            index: id.index,
        })?;
        map.insert(*id, h);
    }
    let mut out = Vec::new();
    run(&mut Resolve(map), &mut out)?;
    Ok(out)
}

/// Inclusion proof (audit path) of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<S: LedgerStore + ?Sized>(store: &S, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    with_nodes(store, |src, out| path(src, index, 0, size, out))
}

/// Consistency proof between the trees of `first` and `second` leaves.
pub fn consistency_proof<S: LedgerStore + ?Sized>(store: &S, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
    if first > second {
        return Err(ProofError::SizesReversed { first, second });
    }
    if first == 0 || first == second {
        return Ok(Vec::new());
    }
    with_nodes(store, |src, out| subproof(src, first, 0, second, true, out))
}

/// Root hash of the tree of `size` leaves from the stored node table.
pub fn root_from_store<S: LedgerStore + ?Sized>(store: &S, size: u64) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(empty_root());
    }
    let ids = frontier_nodes(size);
    let hashes = store.get_nodes(&ids)?;
    let mut map = HashMap::with_capacity(ids.len());
    for (id, h) in ids.iter().zip(hashes) {
        let h = h.ok_or(ProofError::MissingNode {
            level: id.level,
            index: id.index,
        })?;
        map.insert(*id, h);
    }
    Resolve(map).range(0, size)
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::BadLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::BadLength);
    }
    if &r != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesReversed { first, second });
    }
    if first == second {
        if !proof.is_empty() {
            return Err(ProofError::BadLength);
        }
        return if first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if first == 0 {
        // every tree extends the empty tree
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::BadLength)
        };
    }
    let mut hashes: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        hashes.push(*first_root);
    }
    hashes.extend_from_slice(proof);
    let Some((head, rest)) = hashes.split_first() else {
        return Err(ProofError::BadLength);
    };
    let mut f = first - 1;
    let mut s = second - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = *head;
    let mut sr = *head;
    for c in rest {
        if s == 0 {
            return Err(ProofError::BadLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::BadLength);
    }
    if &fr != first_root || &sr != second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The right edge of a growing tree: the hashes of its maximal complete
/// subtrees, enough to append leaves and compute roots in O(log n).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    stack: Vec<Hash>,
}

impl Frontier {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the frontier of a tree of `size` leaves from its complete
    /// subtree hashes, as listed by [`frontier_nodes`].
    pub fn from_nodes(size: u64, hashes: Vec<Hash>) -> Result<Self, ProofError> {
        if hashes.len() != size.count_ones() as usize {
            return Err(ProofError::BadLength);
        }
        Ok(Frontier { size, stack: hashes })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; `completed` receives every subtree this completes
    /// (the leaf itself at level 0 first, then higher levels).
    pub fn push(&mut self, leaf: Hash, mut completed: impl FnMut(NodeId, &Hash)) {
        let mut index = self.size;
        let mut level = 0u8;
        let mut h = leaf;
        completed(NodeId { level, index }, &h);
        while index & 1 == 1 {
            let Some(left) = self.stack.pop() else {
                break; // unreachable: the stack holds one hash per set bit of size
            };
            h = node_hash(&left, &h);
            index >>= 1;
            level += 1;
            completed(NodeId { level, index }, &h);
        }
        self.stack.push(h);
        self.size += 1;
    }

    /// Root hash of the current tree (RFC 9162 MTH).
    pub fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |right, left| node_hash(left, &right))
    }
}
