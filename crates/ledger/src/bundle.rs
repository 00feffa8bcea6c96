//! Evidence bundles: a self-contained, signed zip of selected entries with
//! inclusion proofs, verifiable without the data directory or any secret.
//!
//! Members, in this order (stored, fixed timestamps, so the zip is a pure
//! function of its members and any changed byte is detected):
//!
//! 1. `VERSION`: `custodia-ledger-bundle 1`
//! 2. `public-key.vkey`: the ledger key in vkey form
//! 3. `checkpoint.note`: the signed checkpoint the proofs lead to
//! 4. per entry `N`: `entries/N.json`, `entries/N.bin` (canonical bytes),
//!    `proofs/N.proof` (`index N`, `size S`, then one base64 hash per line)
//! 5. `summary.txt`: human-readable description
//! 6. `manifest.note`: signed note listing `sha256-hex name` of members 1–5

use std::io::{Cursor, Read, Write};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use model::UnixMillis;
use sha2::{Digest, Sha256};
use thiserror::Error;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::checkpoint::{Checkpoint, CheckpointError, NoteError, SigningKey, VerifyingKey};
use crate::entry::{Entry, EntryError};
use crate::merkle::{inclusion_proof, leaf_hash, verify_inclusion, Hash, ProofError};
use crate::store::{LedgerStore, StoreError};

/// Format version written and understood.
pub const BUNDLE_VERSION: u32 = 1;
const VERSION_PREFIX: &str = "custodia-ledger-bundle ";
const MANIFEST_HEADER: &str = "custodia-ledger-bundle manifest v1";

/// Errors of exporting or verifying a bundle.
#[derive(Debug, Error)]
pub enum BundleError {
    /// The bytes are not a readable zip.
    #[error("bundle is not a readable zip archive: {0}")]
    Zip(String),
    /// The version member is missing or unknown.
    #[error("bundle format version {found:?} is not supported (expected {BUNDLE_VERSION}): use a custodia release that reads it")]
    UnsupportedVersion {
        /// What the bundle says.
        found: String,
    },
    /// The zip is not byte-identical to its canonical form.
    #[error("bundle bytes differ from the canonical zip of its members: the file was altered")]
    NotCanonical,
    /// A member is missing, extra, out of order or malformed.
    #[error("bundle member {name}: {problem}")]
    Member {
        /// Member name.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// Signed by another key than expected.
    #[error("bundle is signed by key {found}, expected {expected}: it comes from another installation")]
    WrongKey {
        /// Expected vkey.
        expected: String,
        /// Found vkey.
        found: String,
    },
    /// A signature does not verify.
    #[error("bundle signature invalid in {name}: {error}")]
    Signature {
        /// Member name.
        name: String,
        /// Why.
        error: NoteError,
    },
    /// An inclusion proof fails.
    #[error("entry {index}: inclusion proof does not lead to the checkpoint root: {error}")]
    Proof {
        /// Entry index.
        index: u64,
        /// Why.
        error: ProofError,
    },
    /// The store failed during export.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored entry is corrupt.
    #[error("entry {index} is corrupt: {error}")]
    Entry {
        /// Entry index.
        index: u64,
        /// Why.
        error: EntryError,
    },
    /// The checkpoint is missing or invalid.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// An entry asked for is not in the ledger or not yet signed.
    #[error("entry {index} is not covered by the latest checkpoint (size {size}): select existing entries or write a checkpoint first")]
    NotCovered {
        /// Entry index.
        index: u64,
        /// Latest checkpoint size.
        size: u64,
    },
}

/// Metadata shown in `summary.txt`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleSummary {
    /// What the bundle is about (e.g. a case name).
    pub title: String,
    /// Who exported it.
    pub exported_by: String,
    /// When it was exported.
    pub exported_at: UnixMillis,
    /// Free-form notes.
    pub notes: String,
}

/// What a valid bundle contains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleReport {
    /// The key that signed it.
    pub key: VerifyingKey,
    /// The checkpoint all proofs lead to.
    pub checkpoint: Checkpoint,
    /// The proven entries.
    pub entries: Vec<Entry>,
    /// The summary text.
    pub summary: String,
}

fn member_err(name: &str, problem: impl Into<String>) -> BundleError {
    BundleError::Member {
        name: name.to_owned(),
        problem: problem.into(),
    }
}

/// Writes members as a deterministic zip.
fn write_zip(members: &[(String, Vec<u8>)]) -> Result<Vec<u8>, BundleError> {
    let zip_err = |e: zip::result::ZipError| BundleError::Zip(e.to_string());
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        w.start_file(name.as_str(), options).map_err(zip_err)?;
        w.write_all(bytes).map_err(|e| BundleError::Zip(e.to_string()))?;
    }
    Ok(w.finish().map_err(zip_err)?.into_inner())
}

fn read_zip(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, BundleError> {
    let zip_err = |e: zip::result::ZipError| BundleError::Zip(e.to_string());
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(zip_err)?;
    let mut members = Vec::with_capacity(archive.len());
    // Stored members together hold fewer bytes than the archive itself. More
    // means compressed members or central directory entries sharing one
    // member's data: refused as soon as the budget is exceeded, before a
    // small file expands into many times its size in memory.
    let mut budget = bytes.len() as u64;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(zip_err)?;
        let name = file.name().to_owned();
        let mut content = Vec::new();
        (&mut file)
            .take(budget + 1)
            .read_to_end(&mut content)
            .map_err(|e| BundleError::Zip(e.to_string()))?;
        budget = budget.checked_sub(content.len() as u64).ok_or_else(|| {
            BundleError::Zip("its members hold more bytes than the archive: entries are compressed or overlap".into())
        })?;
        members.push((name, content));
    }
    Ok(members)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn manifest_body(members: &[(String, Vec<u8>)]) -> String {
    let mut body = format!("{MANIFEST_HEADER}\n");
    for (name, bytes) in members {
        body.push_str(&format!("{} {name}\n", sha256_hex(bytes)));
    }
    body
}

fn entry_json(entry: &Entry) -> Result<Vec<u8>, BundleError> {
    serde_json::to_vec_pretty(entry).map_err(|e| member_err("entries", e.to_string()))
}

fn proof_text(index: u64, size: u64, proof: &[Hash]) -> String {
    let mut text = format!("index {index}\nsize {size}\n");
    for h in proof {
        text.push_str(&B64.encode(h));
        text.push('\n');
    }
    text
}

fn parse_proof(name: &str, bytes: &[u8]) -> Result<(u64, u64, Vec<Hash>), BundleError> {
    let text = std::str::from_utf8(bytes).map_err(|_| member_err(name, "not UTF-8"))?;
    let mut lines = text
        .strip_suffix('\n')
        .ok_or_else(|| member_err(name, "must end with a newline"))?
        .split('\n');
    let mut number = |prefix: &str| -> Result<u64, BundleError> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(prefix))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| member_err(name, format!("expected a line `{prefix}<number>`")))
    };
    let index = number("index ")?;
    let size = number("size ")?;
    let mut hashes = Vec::new();
    for line in lines {
        let h: Hash = B64
            .decode(line)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| member_err(name, "proof line is not base64 of 32 bytes"))?;
        hashes.push(h);
    }
    let canonical = proof_text(index, size, &hashes);
    if canonical.as_bytes() != bytes {
        return Err(member_err(name, "proof is not in canonical form"));
    }
    Ok((index, size, hashes))
}

fn summary_text(summary: &BundleSummary, key: &VerifyingKey, cp: &Checkpoint, entries: &[Entry]) -> String {
    let mut s = format!(
        "custodia audit ledger evidence bundle (format {BUNDLE_VERSION})\n\n\
         Title:        {}\nExported by:  {}\nExported at:  {} (Unix ms)\nNotes:        {}\n\n\
         Ledger key:   {key}\nCheckpoint:   {} entries, root {}, signed at {} (Unix ms)\n\n\
         Entries ({}):\n",
        summary.title,
        summary.exported_by,
        summary.exported_at,
        summary.notes,
        cp.size,
        B64.encode(cp.root),
        cp.time,
        entries.len()
    );
    for e in entries {
        s.push_str(&format!(
            "  #{} at {} actor {} action {} decision {:?} records {} withheld {}\n",
            e.index, e.time, e.actor, e.action, e.decision, e.record_count, e.withheld_count
        ));
    }
    s.push_str(
        "\nEach entry is proven to be in the signed checkpoint by an RFC 9162 inclusion proof.\n\
         Verify with `custodia evidence verify <file> --key ledger.pub`, with the installation's\n\
         ledger.pub obtained from it rather than from this bundle; change any byte and verification fails.\n",
    );
    s
}

/// Exports the entries at `indexes` with proofs against the latest checkpoint.
pub fn export_bundle<S: LedgerStore + ?Sized>(
    store: &S,
    key: &SigningKey,
    indexes: &[u64],
    summary: &BundleSummary,
) -> Result<Vec<u8>, BundleError> {
    let vkey = key.verifying_key();
    let stored = store
        .latest_checkpoint()?
        .ok_or_else(|| BundleError::Checkpoint("the ledger has no checkpoint yet".into()))?;
    let cp =
        Checkpoint::open(&stored.text, &vkey).map_err(|e: CheckpointError| BundleError::Checkpoint(e.to_string()))?;
    let mut indexes = indexes.to_vec();
    indexes.sort_unstable();
    indexes.dedup();
    if let Some(&index) = indexes.iter().find(|&&i| i >= cp.size) {
        return Err(BundleError::NotCovered { index, size: cp.size });
    }
    let mut members: Vec<(String, Vec<u8>)> = vec![
        (
            "VERSION".into(),
            format!("{VERSION_PREFIX}{BUNDLE_VERSION}\n").into_bytes(),
        ),
        ("public-key.vkey".into(), format!("{vkey}\n").into_bytes()),
        ("checkpoint.note".into(), stored.text.into_bytes()),
    ];
    let mut entries = Vec::with_capacity(indexes.len());
    for (index, bytes) in indexes.iter().zip(store.get_entries(&indexes)?) {
        let index = *index;
        let bytes = bytes.ok_or(BundleError::NotCovered { index, size: cp.size })?;
        let entry = Entry::decode(&bytes).map_err(|error| BundleError::Entry { index, error })?;
        let proof = inclusion_proof(store, index, cp.size).map_err(|error| BundleError::Proof { index, error })?;
        verify_inclusion(index, cp.size, &leaf_hash(&bytes), &proof, &cp.root)
            .map_err(|error| BundleError::Proof { index, error })?;
        members.push((format!("entries/{index}.json"), entry_json(&entry)?));
        members.push((format!("entries/{index}.bin"), bytes));
        members.push((
            format!("proofs/{index}.proof"),
            proof_text(index, cp.size, &proof).into_bytes(),
        ));
        entries.push(entry);
    }
    members.push((
        "summary.txt".into(),
        summary_text(summary, &vkey, &cp, &entries).into_bytes(),
    ));
    let manifest = key
        .sign_note(&manifest_body(&members))
        .map_err(|error| BundleError::Signature {
            name: "manifest.note".into(),
            error,
        })?;
    members.push(("manifest.note".into(), manifest.into_bytes()));
    write_zip(&members)
}

fn utf8<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, BundleError> {
    std::str::from_utf8(bytes).map_err(|_| member_err(name, "not UTF-8"))
}

/// Verifies a bundle on its own; with `expected`, also that it was signed by that key.
pub fn verify_bundle(bytes: &[u8], expected: Option<&VerifyingKey>) -> Result<BundleReport, BundleError> {
    let members = read_zip(bytes)?;
    let mut iter = members.iter();
    let version = match iter.next() {
        Some((name, content)) if name == "VERSION" => String::from_utf8_lossy(content).trim_end().to_owned(),
        _ => String::from("(no VERSION member first)"),
    };
    if version != format!("{VERSION_PREFIX}{BUNDLE_VERSION}") {
        return Err(BundleError::UnsupportedVersion { found: version });
    }
    if write_zip(&members)? != bytes {
        return Err(BundleError::NotCanonical);
    }
    let mut next = |expected_name: &str| -> Result<&[u8], BundleError> {
        match iter.next() {
            Some((name, content)) if name == expected_name => Ok(content),
            Some((name, _)) => Err(member_err(name, format!("expected {expected_name} here"))),
            None => Err(member_err(expected_name, "missing")),
        }
    };
    let vkey_text = utf8("public-key.vkey", next("public-key.vkey")?)?;
    let key = VerifyingKey::from_vkey(vkey_text).map_err(|e| member_err("public-key.vkey", e.to_string()))?;
    if let Some(expected) = expected {
        if expected != &key {
            return Err(BundleError::WrongKey {
                expected: expected.to_string(),
                found: key.to_string(),
            });
        }
    }
    // the manifest signature covers every other member: check it before reading them
    let Some(((manifest_name, manifest), covered)) = members.split_last() else {
        return Err(member_err("manifest.note", "missing"));
    };
    if manifest_name != "manifest.note" {
        return Err(member_err(manifest_name, "expected manifest.note last"));
    }
    let body = key
        .open_note(utf8("manifest.note", manifest)?)
        .map_err(|error| BundleError::Signature {
            name: "manifest.note".into(),
            error,
        })?;
    if body != manifest_body(covered) {
        return Err(member_err("manifest.note", "does not list the members as they are"));
    }
    let cp_text = utf8("checkpoint.note", next("checkpoint.note")?)?;
    let checkpoint = Checkpoint::open(cp_text, &key).map_err(|e| match e {
        CheckpointError::Note(error) => BundleError::Signature {
            name: "checkpoint.note".into(),
            error,
        },
        other => member_err("checkpoint.note", other.to_string()),
    })?;
    let mut entries = Vec::new();
    let summary = loop {
        let Some((name, content)) = iter.next() else {
            return Err(member_err("summary.txt", "missing"));
        };
        if name == "summary.txt" {
            break utf8(name, content)?.to_owned();
        }
        let index: u64 = name
            .strip_prefix("entries/")
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| member_err(name, "expected entries/<index>.json or summary.txt"))?;
        let json = content;
        let bin_name = format!("entries/{index}.bin");
        let proof_name = format!("proofs/{index}.proof");
        let bin = match iter.next() {
            Some((n, c)) if *n == bin_name => c,
            _ => return Err(member_err(&bin_name, "missing after its JSON")),
        };
        let proof = match iter.next() {
            Some((n, c)) if *n == proof_name => c,
            _ => return Err(member_err(&proof_name, "missing after its entry")),
        };
        let entry = Entry::decode(bin).map_err(|error| BundleError::Entry { index, error })?;
        if entry.index != index {
            return Err(member_err(&bin_name, format!("holds entry {}", entry.index)));
        }
        if entry_json(&entry)? != *json {
            return Err(member_err(name, "JSON does not render the canonical entry"));
        }
        let (proof_index, size, hashes) = parse_proof(&proof_name, proof)?;
        if proof_index != index || size != checkpoint.size {
            return Err(member_err(&proof_name, "is for another entry or tree size"));
        }
        verify_inclusion(index, size, &leaf_hash(bin), &hashes, &checkpoint.root)
            .map_err(|error| BundleError::Proof { index, error })?;
        entries.push(entry);
    };
    if let Some((name, _)) = iter.next().filter(|(n, _)| n != "manifest.note") {
        return Err(member_err(name, "unexpected member"));
    }
    Ok(BundleReport {
        key,
        checkpoint,
        entries,
        summary,
    })
}
