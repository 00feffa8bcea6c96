//! A compact multimap from 64-bit keyed hashes to 32-bit targets, for the exact data
//! match index at tens of millions of customers.
//!
//! Most entries live in two parallel sorted arrays (12 bytes an entry, no per-key
//! allocation) with a directory over the hashes' top bits, so a lookup is one directory
//! read and a short scan: two cache misses. Entries added since the last merge sit in
//! a small hash map that is merged into the arrays once it holds as many entries as
//! an eighth of the arrays (so adding n entries one at a time costs O(n log n) in
//! all). The merge works in place, from the back of the arrays grown by the new
//! entries: building an index of tens of millions never holds two copies of it.
//! The entries are split by their hashes' top bits into [`PARTS`] parts, each with its
//! own arrays, directory and recent map, merged on its own: growing an array copies it
//! (the allocator has no in-place growth for blocks this large), and a part is a
//! sixty-fourth of the whole, so a merge never holds a second copy of much. One array
//! over all entries made the last merges of a ten-million-customer build copy 700 MB
//! while it was still held, which set the build's peak memory.
//! Removal is by target: the caller marks targets dead, lookups skip them through the
//! caller's `alive` test, and a merge drops them for good.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Lookups of [`Postings::for_each_many`] staged together: enough to overlap many cache
/// misses, few enough that the lines touched in one stage are still cached in the next
/// (staging a whole large file's lookups at once was slower than one at a time).
const LOOKUP_BATCH: usize = 256;

/// The top bits of a hash that choose its part.
const PART_BITS: u32 = 6;
/// Parts of a [`Postings`].
const PARTS: usize = 1 << PART_BITS;

/// Recent entries held in a part's map before a merge, at least.
const MIN_MERGE: usize = 1 << 10;

/// See the module documentation.
pub(crate) struct Postings {
    /// Part `p` holds the hashes whose top [`PART_BITS`] bits are `p`.
    parts: Box<[Part; PARTS]>,
}

impl Default for Postings {
    fn default() -> Self {
        Postings {
            parts: Box::new(std::array::from_fn(|_| Part::default())),
        }
    }
}

/// The part of `hash`: its top [`PART_BITS`] bits, so always below [`PARTS`].
fn part_index(hash: u64) -> usize {
    (hash >> (64 - PART_BITS)) as usize
}

/// The entries of one part of a [`Postings`].
#[derive(Default)]
struct Part {
    /// Sorted by hash; `targets` is parallel.
    hashes: Vec<u64>,
    targets: Vec<u32>,
    /// For the `64 - shift` bits `p` of a hash after its part's bits, its entries are
    /// at `directory[p]..directory[p + 1]`.
    directory: Vec<u32>,
    shift: u32,
    /// Entries added since the last merge: the one target of most hashes, and the
    /// targets of a hash added more than once (then not in `recent`). A vector per
    /// hash cost five times the memory of the arrays' entry.
    recent: FastMap<u64, u32>,
    recent_more: FastMap<u64, Vec<u32>>,
    recent_entries: usize,
}

impl Postings {
    /// Calls `visit(i, target)` for every target stored under `hashes[i]`, for all `i`
    /// (dead ones included), looked up as [`Postings::targets_many`] does.
    pub(crate) fn for_each_many(&self, hashes: &[u64], mut visit: impl FnMut(usize, u32)) {
        self.targets_many(hashes, |index, merged, recent| {
            for target in merged.iter().chain(recent) {
                visit(index, *target);
            }
        });
    }

    /// Calls `visit(i, merged, recent)` with the targets stored under `hashes[i]`, for
    /// all `i`: those of the merged arrays, in ascending order, and those added since the
    /// last merge. Looked up in stages over [`LOOKUP_BATCH`] hashes at a time: all
    /// directory reads, then one load of each range's first hash and target, then the
    /// searches. The loads of a stage do not depend on each other, so their cache misses
    /// overlap; one lookup at a time pays them in sequence.
    pub(crate) fn targets_many(&self, hashes: &[u64], mut visit: impl FnMut(usize, &[u32], &[u32])) {
        let mut ranges: Vec<(&Part, usize, usize)> = Vec::with_capacity(hashes.len().min(LOOKUP_BATCH));
        for (batch, chunk) in hashes.chunks(LOOKUP_BATCH).enumerate() {
            ranges.clear();
            ranges.extend(chunk.iter().map(|hash| {
                let part = &self.parts[part_index(*hash)];
                let (from, to) = part.bucket(*hash);
                (part, from, to)
            }));
            // Touch each range's first entries so the searches below find them in cache;
            // the folded value only keeps the loads from being optimized away.
            let touched = ranges.iter().fold(0u64, |acc, (part, from, _)| {
                acc ^ part.hashes.get(*from).copied().unwrap_or(0)
                    ^ u64::from(part.targets.get(*from).copied().unwrap_or(0))
            });
            std::hint::black_box(touched);
            for (offset, (hash, (part, from, to))) in chunk.iter().zip(&ranges).enumerate() {
                let bucket = part.hashes.get(*from..*to).unwrap_or_default();
                let first = from + bucket.partition_point(|h| h < hash);
                let last = from + bucket.partition_point(|h| h <= hash);
                let merged = part.targets.get(first..last).unwrap_or_default();
                visit(batch * LOOKUP_BATCH + offset, merged, part.recent_targets(hash));
            }
        }
    }

    /// Adds one entry; may merge its part (dropping targets `alive` rejects).
    pub(crate) fn insert(&mut self, hash: u64, target: u32, alive: impl Fn(u32) -> bool) {
        self.parts[part_index(hash)].insert(hash, target, alive);
    }

    /// Moves every part's recent entries into its sorted arrays and drops dead targets.
    pub(crate) fn merge(&mut self, alive: impl Fn(u32) -> bool) {
        for part in self.parts.iter_mut() {
            part.merge(&alive);
        }
    }

    /// Every (hash, target) entry, dead ones included.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.parts.iter().flat_map(Part::entries)
    }

    /// Every hash (for rebuilding a filter); one both merged and added since is
    /// given twice.
    pub(crate) fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.parts.iter().flat_map(Part::keys)
    }

    /// Heap bytes held.
    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<[Part; PARTS]>() + self.parts.iter().map(Part::memory_bytes).sum::<usize>()
    }
}

/// The directory slot of `hash` in a part whose directory drops `shift` bits: the
/// part's own bits are the same for all its hashes, so they are left out.
fn directory_prefix(hash: u64, shift: u32) -> usize {
    (hash << PART_BITS).checked_shr(shift).unwrap_or(0) as usize
}

impl Part {
    fn bucket(&self, hash: u64) -> (usize, usize) {
        let prefix = directory_prefix(hash, self.shift);
        match (self.directory.get(prefix), self.directory.get(prefix.saturating_add(1))) {
            (Some(&from), Some(&to)) => (from as usize, to as usize),
            _ => (0, 0),
        }
    }

    fn recent_targets(&self, hash: &u64) -> &[u32] {
        match self.recent.get(hash) {
            Some(target) => std::slice::from_ref(target),
            None => self.recent_more.get(hash).map_or(&[][..], Vec::as_slice),
        }
    }

    /// Adds one entry; may merge (dropping targets `alive` rejects).
    fn insert(&mut self, hash: u64, target: u32, alive: impl Fn(u32) -> bool) {
        // One probe of the large map for a new hash (most are): a hash in `recent_more`
        // is never in `recent`, and `recent_more` is small enough to stay in cache.
        match self.recent.entry(hash) {
            Entry::Occupied(once) => {
                let first = once.remove();
                self.recent_more.insert(hash, vec![first, target]);
            }
            Entry::Vacant(vacant) => match self.recent_more.get_mut(&hash) {
                Some(targets) => targets.push(target),
                None => {
                    vacant.insert(target);
                }
            },
        }
        self.recent_entries += 1;
        if self.recent_entries >= MIN_MERGE.max(self.hashes.len() / 8) {
            self.merge(alive);
        }
    }

    /// Moves the recent entries into the sorted arrays and drops dead targets: only the
    /// recent entries are sorted, then merged into the arrays from their back, in place,
    /// and one forward pass drops dead and repeated entries.
    fn merge(&mut self, alive: impl Fn(u32) -> bool) {
        let mut recent: Vec<(u64, u32)> = Vec::with_capacity(self.recent_entries);
        recent.extend(self.recent.drain().filter(|(_, target)| alive(*target)));
        for (hash, targets) in self.recent_more.drain() {
            recent.extend(targets.into_iter().filter(|t| alive(*t)).map(|t| (hash, t)));
        }
        self.recent = FastMap::default();
        self.recent_more = FastMap::default();
        self.recent_entries = 0;
        recent.sort_unstable();
        let (hashes, targets) = (&mut self.hashes, &mut self.targets);
        let old = hashes.len();
        // Exactly: a doubling growth would leave up to a copy of the arrays unused.
        hashes.reserve_exact(recent.len());
        targets.reserve_exact(recent.len());
        hashes.resize(old + recent.len(), 0);
        targets.resize(old + recent.len(), 0);
        // Both runs are sorted: the larger of their last entries goes last. `base`
        // entries of the arrays and `pending` recent ones are still to place, always in
        // the first `base + pending.len()` slots, so nothing unplaced is overwritten.
        let mut base = old;
        let mut pending = recent.as_slice();
        while let Some((&newest, rest)) = pending.split_last() {
            let write = base + rest.len();
            let last_base = base
                .checked_sub(1)
                .and_then(|at| Some((*hashes.get(at)?, *targets.get(at)?)));
            let entry = match last_base {
                Some(entry) if entry > newest => {
                    base -= 1;
                    entry
                }
                _ => {
                    pending = rest;
                    newest
                }
            };
            if let (Some(hash), Some(target)) = (hashes.get_mut(write), targets.get_mut(write)) {
                (*hash, *target) = entry;
            }
        }
        drop(recent);
        let mut kept = 0usize;
        for read in 0..hashes.len() {
            let (Some(&hash), Some(&target)) = (hashes.get(read), targets.get(read)) else {
                break;
            };
            let repeated = kept > 0 && hashes.get(kept - 1) == Some(&hash) && targets.get(kept - 1) == Some(&target);
            if !alive(target) || repeated {
                continue;
            }
            if kept != read {
                if let (Some(h), Some(t)) = (hashes.get_mut(kept), targets.get_mut(kept)) {
                    (*h, *t) = (hash, target);
                }
            }
            kept += 1;
        }
        hashes.truncate(kept);
        targets.truncate(kept);
        let hashes = &self.hashes;
        // Two to four entries per directory slot, 1 to 2 bytes of directory per entry: a
        // slot's few entries share a cache line or two, and rounding the slots up rather
        // than down took a tenth of a ten-million-customer index more.
        let bits = (hashes.len() / 2).max(2).ilog2();
        self.shift = 64 - bits;
        let slots = 1usize << bits;
        let mut directory = Vec::with_capacity(slots + 1);
        let mut next = 0usize;
        for prefix in 0..=slots {
            while hashes
                .get(next)
                .is_some_and(|hash: &u64| directory_prefix(*hash, self.shift) < prefix)
            {
                next += 1;
            }
            directory.push(next as u32);
        }
        self.directory = directory;
    }

    /// Every (hash, target) entry, dead ones included.
    fn entries(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.hashes
            .iter()
            .copied()
            .zip(self.targets.iter().copied())
            .chain(self.recent.iter().map(|(h, t)| (*h, *t)))
            .chain(
                self.recent_more
                    .iter()
                    .flat_map(|(h, ts)| ts.iter().map(move |t| (*h, *t))),
            )
    }

    /// Every hash, once in the merged arrays and once among the recent ones.
    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        let mut previous = None;
        self.hashes
            .iter()
            .copied()
            .filter(move |h| {
                let new = previous != Some(*h);
                previous = Some(*h);
                new
            })
            .chain(self.recent.keys().copied())
            .chain(self.recent_more.keys().copied())
    }

    /// Heap bytes held.
    fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        self.hashes.capacity() * size_of::<u64>()
            + self.targets.capacity() * size_of::<u32>()
            + self.directory.capacity() * size_of::<u32>()
            + self.recent.capacity() * (size_of::<(u64, u32)>() + 1)
            + self.recent_more.capacity() * (size_of::<u64>() + size_of::<Vec<u32>>() + 1)
            + self
                .recent_more
                .values()
                .map(|v| v.capacity() * size_of::<u32>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Enough entries that every part merges by itself several times, some hashes
    /// added more than once and some targets dead: every lookup still equals a plain
    /// multimap, and each part's arrays stay sorted and hold only their own part.
    #[test]
    fn parts_merge_by_themselves_and_keep_every_entry() {
        let mut postings = Postings::default();
        let mut want: std::collections::HashMap<u64, Vec<u32>> = std::collections::HashMap::new();
        let dead = |t: u32| t.is_multiple_of(97);
        let hash_of = |n: u64| n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (n << 7);
        for n in 0..300_000u64 {
            // every fifth entry repeats an earlier hash with another target
            let (hash, target) = if (n + 1).is_multiple_of(5) {
                (hash_of(n / 3), n as u32)
            } else {
                (hash_of(n), n as u32)
            };
            postings.insert(hash, target, |t| !dead(t));
            want.entry(hash).or_default().push(target);
        }
        let merged: Vec<usize> = postings.parts.iter().map(|part| part.hashes.len()).collect();
        assert!(merged.iter().all(|len| *len > MIN_MERGE), "parts merged: {merged:?}");
        for (index, part) in postings.parts.iter().enumerate() {
            assert!(part.hashes.windows(2).all(|pair| pair[0] <= pair[1]));
            assert!(part.hashes.iter().all(|h| part_index(*h) == index));
        }
        let hashes: Vec<u64> = want.keys().copied().chain([1, 2, u64::MAX]).collect();
        postings.for_each_many(&hashes, |i, t| {
            assert!(
                want.get(&hashes[i]).is_some_and(|ts| ts.contains(&t)),
                "found only what was added"
            );
        });
        let mut found: Vec<Vec<u32>> = vec![Vec::new(); hashes.len()];
        postings.for_each_many(&hashes, |i, t| {
            if !dead(t) {
                found[i].push(t)
            }
        });
        for (hash, mut got) in hashes.iter().zip(found) {
            got.sort_unstable();
            let mut expected: Vec<u32> = want
                .get(hash)
                .into_iter()
                .flatten()
                .copied()
                .filter(|t| !dead(*t))
                .collect();
            expected.sort_unstable();
            assert_eq!(got, expected);
        }
        // every hash with a live target, and no hash never added
        let keys: std::collections::HashSet<u64> = postings.keys().collect();
        assert!(keys.iter().all(|key| want.contains_key(key)));
        assert!(want
            .iter()
            .filter(|(_, ts)| ts.iter().any(|t| !dead(*t)))
            .all(|(hash, _)| keys.contains(hash)));
    }

    proptest::proptest! {
        /// Lookups after any mix of inserts, removals and merges equal a plain multimap.
        #[test]
        fn postings_equal_a_plain_multimap(
            ops in proptest::collection::vec((0u64..40, 0u32..30, 0u8..10), 0..400)
        ) {
            let mut postings = Postings::default();
            let mut dead = std::collections::HashSet::new();
            let mut want: Vec<(u64, u32)> = Vec::new();
            for (key, target, op) in ops {
                // Spread the small keys over the whole hash range.
                let hash = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                match op {
                    0 => { dead.insert(target); }
                    1 => postings.merge(|t| !dead.contains(&t)),
                    _ if !dead.contains(&target) => {
                        postings.insert(hash, target, |t| !dead.contains(&t));
                        want.push((hash, target));
                    }
                    _ => {}
                }
            }
            // Looked up as one batch (in an order unlike the arrays', repeats included).
            // More than one stage of lookups.
            let keys: Vec<u64> = (0u64..40).rev().chain(0..40).cycle().take(300).collect();
            let hashes: Vec<u64> = keys.iter().map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
            let mut found: Vec<Vec<u32>> = vec![Vec::new(); hashes.len()];
            postings.for_each_many(&hashes, |i, t| if !dead.contains(&t) { found[i].push(t) });
            let mut staged: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
            postings.targets_many(&hashes, |i, merged, recent| {
                assert_eq!(i, staged.len(), "in order");
                staged.push((merged.to_vec(), recent.to_vec()));
            });
            proptest::prop_assert_eq!(staged.len(), hashes.len());
            for ((hash, mut got), (merged, recent)) in hashes.iter().copied().zip(found).zip(staged) {
                got.sort_unstable();
                got.dedup();
                let mut expected: Vec<u32> =
                    want.iter().filter(|(h, t)| *h == hash && !dead.contains(t)).map(|(_, t)| *t).collect();
                expected.sort_unstable();
                expected.dedup();
                proptest::prop_assert_eq!(&got, &expected);
                // The same through `targets_many`, whose merged part is sorted, without
                // repeats.
                proptest::prop_assert!(merged.windows(2).all(|pair| pair[0] < pair[1]));
                let mut single: Vec<u32> =
                    merged.iter().chain(&recent).copied().filter(|t| !dead.contains(t)).collect();
                single.sort_unstable();
                single.dedup();
                proptest::prop_assert_eq!(single, expected);
            }
        }
    }
}
