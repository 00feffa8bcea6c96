//! Two parts of one inspection at once, for a large file.
//!
//! An ICAP request is one upload that the user waits on, often the only one in flight,
//! so its latency is that of one file on one core unless the file's own work is
//! shared. Called from outside a rayon pool (the ICAP server's blocking threads), the
//! parts run on the global pool, one thread per core. `custodia scan` already keeps every
//! core busy with files, in a pool of its own (`scan.rs`): there a join runs both parts
//! on the thread that asked unless another thread is idle.

/// Below this many bytes of text, handing work to another thread costs more than it
/// saves (the scan of 64 KiB takes about a millisecond; a hand-over, microseconds).
pub(crate) const MIN_BYTES: usize = 64 << 10;

/// `(a(), b())`, on two threads of the current rayon pool when `parallel` and one is
/// free.
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
