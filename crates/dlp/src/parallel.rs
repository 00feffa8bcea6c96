//! Two parts of one inspection at once, for a large file.
//!
//! An ICAP request is one upload that the user waits on, often the only one in flight,
//! so its latency is that of one file on one core unless the file's own work is
//! shared. `custodia scan` already keeps every core busy with files; rayon's pool has
//! one thread per core either way, so sharing one file's work does not put more threads
//! on the cores than there are.

/// Below this many bytes of text, handing work to another thread costs more than it
/// saves (the scan of 64 KiB takes about a millisecond; a hand-over, microseconds).
pub(crate) const MIN_BYTES: usize = 64 << 10;

/// `(a(), b())`, on two threads of rayon's pool when `parallel`.
pub(crate) fn join<A, B, RA, RB>(parallel: bool, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if parallel {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}
