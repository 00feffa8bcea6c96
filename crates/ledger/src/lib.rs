//! custodia's tamper-evident audit ledger, built as in RFC 9162 (Certificate
//! Transparency) with C2SP signed checkpoints.
//!
//! # Public API
//!
//! - [`Entry`] and its canonical encoding ([`Entry::encode`], [`Entry::decode`]).
//! - [`LedgerStore`]: storage trait (SQL-friendly blobs and integers, one
//!   transaction per [`AppendBatch`]); [`MemoryStore`] for tests.
//! - [`Ledger`]: group-commit appender (`append(entry) -> Receipt`, or
//!   `submit(entry) -> PendingAppend` to wait or `.await` later) writing a
//!   signed checkpoint at least every `checkpoint_interval_ms` of the injected clock.
//! - [`merkle`]: [`inclusion_proof`], [`consistency_proof`], [`verify_inclusion`],
//!   [`verify_consistency`], [`root_from_store`].
//! - [`SigningKey`] / [`VerifyingKey`] (vkey text form) and [`Checkpoint`]
//!   (C2SP tlog-checkpoint in a C2SP signed note).
//! - [`verify()`]: full recomputation returning a [`Report`] of [`Finding`]s.
//! - [`Witness`] / [`FileWitness`] / [`read_witness_file`]: publishing checkpoints.
//! - [`export_bundle`] / [`verify_bundle`]: signed evidence zip files.

pub mod bundle;
pub mod checkpoint;
pub mod entry;
pub mod ledger;
pub mod merkle;
pub mod store;
pub mod verify;
pub mod witness;

pub use bundle::{export_bundle, verify_bundle, BundleError, BundleReport, BundleSummary};
pub use checkpoint::{Checkpoint, CheckpointError, KeyError, NoteError, SigningKey, VerifyingKey};
pub use entry::{ClientContext, Decision, Entry, EntryError, ResourceId};
pub use ledger::{Ledger, LedgerConfig, LedgerError, PendingAppend, Receipt};
pub use merkle::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, root_from_store, verify_consistency, verify_inclusion,
    Hash, NodeId, ProofError,
};
pub use store::{
    check_contract, AppendBatch, LedgerStore, MemoryStore, StoreError, StoredCheckpoint, TurnAppend, VisitEntry,
    Written,
};
pub use verify::{verify, CheckpointSource, Finding, Report, MAX_FINDINGS};
pub use witness::{read_witness_file, FileWitness, Witness, WitnessError};
