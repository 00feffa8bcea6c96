//! Ed25519 keys, C2SP `signed-note` signatures and C2SP `tlog-checkpoint` bodies.
//!
//! A checkpoint note looks like this (the last body line is custodia's
//! extension line carrying the checkpoint time in Unix milliseconds):
//!
//! ```text
//! custodia.example/ledger
//! 42
//! qINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=
//! custodia-time 1700000000000
//!
//! — custodia.example/ledger Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
//! ```
//!
//! The signature covers the body including its final newline; the signature
//! line is `— <key name> base64(key id ‖ Ed25519 signature)` with key id =
//! SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4].

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, Verifier};
use model::UnixMillis;
use sha2::{Digest, Sha256};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::merkle::Hash;

/// Signature type byte of Ed25519 in C2SP signed-note.
const ALG_ED25519: u8 = 0x01;
/// The em dash and space that open a signature line.
const SIG_PREFIX: &str = "\u{2014} ";
/// Name of custodia's checkpoint extension line.
const TIME_EXTENSION: &str = "custodia-time ";
/// First line of a key file.
const KEY_FILE_HEADER: &str = "custodia-ledger-signing-key v1";
/// Largest note accepted, against resource exhaustion.
const MAX_NOTE_BYTES: usize = 1 << 20;

/// Errors about keys, key files and signed notes.
#[derive(Debug, Error)]
pub enum KeyError {
    /// Key name unusable in a note.
    #[error("key name {0:?} is invalid: it must be non-empty, without spaces or '+'")]
    BadName(String),
    /// The OS random source failed.
    #[error("cannot read the operating system random source: {0}")]
    Random(String),
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file content is malformed (its content is never echoed).
    #[error("key file {path} is malformed: expected a custodia ledger signing key written by `generate`")]
    BadKeyFile {
        /// The file.
        path: String,
    },
    /// The vkey text is malformed.
    #[error("verifier key is malformed: expected name+hexkeyid+base64(0x01 ‖ 32-byte key), {0}")]
    BadVkey(&'static str),
}

/// Errors of opening a signed note.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum NoteError {
    /// Not a signed note at all.
    #[error("signed note is malformed: {0}")]
    Malformed(&'static str),
    /// No signature line of the expected key.
    #[error("signed note has no signature by key {name} ({key_id}): it was signed by another key or not at all")]
    NoSignature {
        /// Expected key name.
        name: String,
        /// Expected key id, hex.
        key_id: String,
    },
    /// The expected key's signature does not verify.
    #[error("signature by key {name} does not verify: the note was altered or forged")]
    BadSignature {
        /// Key name.
        name: String,
    },
}

/// Errors of parsing a checkpoint body.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CheckpointError {
    /// The signature is missing or wrong.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The body is not a custodia tlog-checkpoint.
    #[error("checkpoint body is malformed: {0}")]
    Malformed(&'static str),
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ledger's Ed25519 signing key and its note key name. Zeroized on drop
/// (ed25519-dalek's `zeroize` feature); Debug never shows the secret.
pub struct SigningKey {
    name: String,
    key: ed25519_dalek::SigningKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl SigningKey {
    /// A fresh key from the OS random source.
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
        Self::from_seed(name, &seed)
    }

    /// A key from a 32-byte Ed25519 seed (deterministic; for tests and import).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        if !valid_name(name) {
            return Err(KeyError::BadName(name.to_owned()));
        }
        Ok(SigningKey {
            name: name.to_owned(),
            key: ed25519_dalek::SigningKey::from_bytes(seed),
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        let key = self.key.verifying_key();
        VerifyingKey {
            id: key_id(&self.name, key.as_bytes()),
            name: self.name.clone(),
            key,
        }
    }

    /// Signs `body` (which must end with a newline and hold no blank line)
    /// as a C2SP signed note, returning the full note text.
    pub fn sign_note(&self, body: &str) -> Result<String, NoteError> {
        if !body.ends_with('\n') || body.contains("\n\n") || body.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Malformed(
                "body must end with a newline and contain no blank line",
            ));
        }
        let sig = self.key.sign(body.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&key_id(&self.name, self.key.verifying_key().as_bytes()));
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!("{body}\n{SIG_PREFIX}{} {}\n", self.name, B64.encode(blob)))
    }

    /// Writes the key to a new file (mode 0600 on unix); refuses to overwrite.
    pub fn write_file(&self, path: &Path) -> Result<(), KeyError> {
        use std::io::Write;
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(path).map_err(io)?;
        file.write_all(self.key_file_text().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// The text of the key file. Every copy of the secret is wiped: the seed is
    /// encoded from the key itself (`to_bytes` would copy it), the encoding is wiped,
    /// and the text is sized up front, as a `String` that grows frees each earlier
    /// buffer, with the part of the key it held, unwiped (found in review: `format!`
    /// did).
    fn key_file_text(&self) -> Zeroizing<String> {
        let seed_b64 = Zeroizing::new(B64.encode(self.key.as_bytes()));
        let lines = [KEY_FILE_HEADER, self.name.as_str(), seed_b64.as_str()];
        let mut text = Zeroizing::new(String::with_capacity(lines.iter().map(|l| l.len() + 1).sum()));
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Loads a key written by [`SigningKey::write_file`].
    pub fn load_file(path: &Path) -> Result<Self, KeyError> {
        // Read as bytes, so that a file that is not text is wiped too.
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?);
        let bad = || KeyError::BadKeyFile {
            path: path.display().to_string(),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let mut lines = text.lines();
        if lines.next() != Some(KEY_FILE_HEADER) {
            return Err(bad());
        }
        let name = lines.next().ok_or_else(bad)?;
        let seed_b64 = lines.next().ok_or_else(bad)?;
        if lines.next().is_some() {
            return Err(bad());
        }
        // Decoded into a buffer that is wiped whatever happens (`decode` frees its own
        // unwiped when the text is not base64, with the part it decoded). 33 bytes: the
        // most the 44 characters of a 32-byte seed in base64 can decode to.
        let mut raw = Zeroizing::new([0u8; 33]);
        let len = B64.decode_slice(seed_b64, raw.as_mut()).map_err(|_| bad())?;
        let seed = raw.first_chunk::<32>().filter(|_| len == 32).ok_or_else(bad)?;
        Self::from_seed(name, seed)
    }
}

/// A ledger public key with its note name and key id.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    name: String,
    id: [u8; 4],
    key: ed25519_dalek::VerifyingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({self})")
    }
}

/// The `vkey` text form: `name+hex(key id)+base64(0x01 ‖ public key)`.
impl fmt::Display for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut blob = vec![ALG_ED25519];
        blob.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{}+{}", self.name, hex(&self.id), B64.encode(blob))
    }
}

impl VerifyingKey {
    /// Parses the `vkey` text form.
    pub fn from_vkey(text: &str) -> Result<Self, KeyError> {
        let text = text.trim_end_matches('\n');
        // The name may not contain '+', but the base64 key may: split from the left.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(KeyError::BadVkey("found fewer than three '+'-separated parts"));
        };
        if !valid_name(name) {
            return Err(KeyError::BadVkey("the name is empty or has spaces or '+'"));
        }
        let blob = B64
            .decode(b64)
            .map_err(|_| KeyError::BadVkey("the key part is not base64"))?;
        let Some((&ALG_ED25519, public)) = blob.split_first() else {
            return Err(KeyError::BadVkey("the key is not an Ed25519 (0x01) key"));
        };
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| KeyError::BadVkey("the key is not 32 bytes"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&public)
            .map_err(|_| KeyError::BadVkey("the key is not a valid Ed25519 point"))?;
        let id = key_id(name, &public);
        if hex(&id) != id_hex {
            return Err(KeyError::BadVkey("the key id does not match name and key"));
        }
        Ok(VerifyingKey {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// Checks the signature of this key on a signed note and returns the body.
    /// Signatures by other keys (e.g. witness cosignatures) are ignored.
    pub fn open_note<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Malformed("note is larger than 1 MiB"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (body, sigs) = note.split_at(split + 1);
        let sigs = sigs
            .strip_prefix('\n')
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        if !sigs.ends_with('\n') || sigs.len() < 2 {
            return Err(NoteError::Malformed("signature block must end with a newline"));
        }
        for line in sigs.trim_end_matches('\n').split('\n') {
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or(NoteError::Malformed("signature line does not start with '— '"))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(NoteError::Malformed("signature line lacks a space"))?;
            let blob = B64
                .decode(b64)
                .map_err(|_| NoteError::Malformed("signature is not base64"))?;
            let Some((id, sig)) = blob.split_first_chunk::<4>() else {
                return Err(NoteError::Malformed("signature shorter than its key id"));
            };
            if name != self.name || *id != self.id {
                continue;
            }
            let bad = || NoteError::BadSignature {
                name: self.name.clone(),
            };
            let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| bad())?;
            self.key.verify(body.as_bytes(), &sig).map_err(|_| bad())?;
            return Ok(body);
        }
        Err(NoteError::NoSignature {
            name: self.name.clone(),
            key_id: hex(&self.id),
        })
    }
}

/// A tree head: what a signed checkpoint commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Log identity (first line).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// RFC 9162 root hash of those entries.
    pub root: Hash,
    /// When it was signed.
    pub time: UnixMillis,
}

impl Checkpoint {
    /// The tlog-checkpoint body text.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{TIME_EXTENSION}{}\n",
            self.origin,
            self.size,
            B64.encode(self.root),
            self.time
        )
    }

    /// Signs the checkpoint, returning the note text.
    pub fn sign(&self, key: &SigningKey) -> Result<String, CheckpointError> {
        if self.origin.is_empty() || self.origin.contains('\n') {
            return Err(CheckpointError::Malformed("origin must be one non-empty line"));
        }
        Ok(key.sign_note(&self.body())?)
    }

    /// Verifies the note signature with `key` and parses the body.
    pub fn open(note: &str, key: &VerifyingKey) -> Result<Checkpoint, CheckpointError> {
        Self::parse_body(key.open_note(note)?)
    }

    /// Parses a checkpoint body (without checking any signature).
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let mut lines = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("body must end with a newline"))?
            .split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::Malformed("missing origin line"))?;
        let size_line = lines
            .next()
            .ok_or(CheckpointError::Malformed("missing tree size line"))?;
        let canonical = size_line == "0" || !size_line.starts_with('0');
        let size = size_line
            .parse::<u64>()
            .ok()
            .filter(|_| canonical && size_line.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(CheckpointError::Malformed("tree size is not a canonical decimal"))?;
        let root_line = lines
            .next()
            .ok_or(CheckpointError::Malformed("missing root hash line"))?;
        let root: Hash = B64
            .decode(root_line)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(CheckpointError::Malformed("root hash is not base64 of 32 bytes"))?;
        let time = lines
            .find_map(|l| l.strip_prefix(TIME_EXTENSION))
            .ok_or(CheckpointError::Malformed("missing custodia-time extension line"))?
            .parse::<i64>()
            .map_err(|_| CheckpointError::Malformed("custodia-time is not an integer"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            time,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The key file's text is made in one buffer of its exact size, not grown (a grown
    /// buffer frees the earlier ones, with part of the key, unwiped): a proxy, as wiping
    /// itself cannot be observed without unsafe code.
    #[test]
    fn the_key_file_text_is_made_in_one_buffer_of_its_size() {
        let key = SigningKey::from_seed("custodia/inst-1", &[7; 32]).unwrap();
        let text = key.key_file_text();
        assert_eq!(text.capacity(), text.len());
        assert_eq!(text.lines().count(), 3);
    }
}
