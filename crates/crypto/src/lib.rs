//! Envelope encryption for the vault.
//!
//! * A [`Keyring`] holds the key-encryption keys (KEKs, versioned so they can
//!   be rotated) and the separate blind-index key. It lives in a key file
//!   (mode 0600, never inside the database) or in an environment variable.
//! * Every customer and document has its own [`DataKey`], stored only wrapped
//!   by a KEK ([`WrappedKey`]); destroying the wrapped key crypto-shreds the
//!   record.
//! * Fields are sealed with AES-256-GCM (hardware AES where the CPU has it):
//!   a per-record key seals only that record's few fields, each with a unique
//!   96-bit nonce (random base per key use, plus a counter, so no system call
//!   per field), and the associated data binds each ciphertext to its record,
//!   field and key version. Every sealed value starts with an algorithm byte.
//!
//! Only the gateway crate depends on this one (a tidy test checks it), so
//! nothing else can turn ciphertext into plaintext. Keys are zeroized on
//! drop and have no Debug output beyond their version.

mod keyring;

pub use keyring::{BlindIndex, DataKey, Keyring, WrappedKey, KEYRING_ENV};

/// What can go wrong with keys and sealed data. Messages never contain key
/// material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("cannot read key file {path}: {source}; pass --key-file PATH or set {env}", env = KEYRING_ENV)]
    KeyFileRead { path: String, source: std::io::Error },
    #[error("cannot write key file {path}: {source}")]
    KeyFileWrite { path: String, source: std::io::Error },
    #[error("key file {path} already exists; refusing to overwrite a key (move it away first if you really mean to start over)")]
    KeyFileExists { path: String },
    #[error("{origin} is not a custodia keyring: {problem}")]
    KeyringFormat { origin: String, problem: String },
    #[error("data key was sealed under key version {0}, which this keyring does not hold; use the key file from before the last rotation")]
    UnknownKeyVersion(u32),
    #[error("decryption failed: the key does not match this data (wrong key file or {env}), or the record was tampered with", env = KEYRING_ENV)]
    Decrypt,
    #[error("the system random number generator failed: {0}")]
    Random(String),
}
