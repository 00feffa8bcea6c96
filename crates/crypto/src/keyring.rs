use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::CryptoError;

/// The environment variable that may hold the keyring instead of a file
/// (its value is the key file's content).
pub const KEYRING_ENV: &str = "CUSTODIA_KEYRING";

const FORMAT: &str = "custodia-keyring/1";
/// First byte of every sealed value: the algorithm, so a later one can be
/// introduced without guessing. 1 = AES-256-GCM, 96-bit nonce.
const SEALED_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

type HmacSha256 = Hmac<Sha256>;

fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(out)
}

/// A 256-bit key that wipes itself.
#[derive(Clone, Zeroize)]
#[zeroize(drop)]
struct Key([u8; 32]);

/// Unique 96-bit nonces for one key without a system call per message: a
/// random base drawn once, XORed with a counter. Within one `NonceSequence`
/// nonces never repeat; two sequences on the same key (the key unwrapped
/// again for an update) collide only if two random 96-bit bases land within
/// a few counter steps of each other, which is negligible for the handful of
/// messages a per-record key ever seals. A key unwrapped to be read draws its
/// base only if it ever seals: most never do, and reads skip the system call.
struct NonceSequence {
    base: OnceLock<[u8; NONCE_LEN]>,
    counter: AtomicU64,
}

impl NonceSequence {
    fn new(base: Option<[u8; NONCE_LEN]>) -> NonceSequence {
        NonceSequence {
            base: base.map(OnceLock::from).unwrap_or_default(),
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> Result<[u8; NONCE_LEN], CryptoError> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed).to_le_bytes();
        let mut nonce = match self.base.get() {
            Some(base) => *base,
            None => {
                // Should two threads race here, one base wins and both use it.
                let _ = self.base.set(random()?);
                *self
                    .base
                    .get()
                    .ok_or_else(|| CryptoError::Random("nonce base unset".into()))?
            }
        };
        for (b, c) in nonce.iter_mut().zip(n) {
            *b ^= c;
        }
        Ok(nonce)
    }
}

/// The per-record data key, unwrapped. Seals and opens that record's fields.
pub struct DataKey {
    cipher: Aes256Gcm,
    nonces: NonceSequence,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(redacted)")
    }
}

impl DataKey {
    fn from_key(key: &Key, nonce_base: Option<[u8; NONCE_LEN]>) -> DataKey {
        DataKey {
            cipher: Aes256Gcm::new((&key.0).into()),
            nonces: NonceSequence::new(nonce_base),
        }
    }

    /// Seals `plaintext`, binding it to `aad`.
    /// Output: version byte ‖ nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal_with(&self.cipher, self.nonces.next()?, aad, plaintext)
    }

    /// Opens what [`DataKey::seal`] produced with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open_with(&self.cipher, aad, sealed)
    }
}

fn seal_with(cipher: &Aes256Gcm, nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.push(SEALED_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, &mut out[HEADER_LEN..])
        .map_err(|_| CryptoError::Decrypt)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

fn open_with(cipher: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (header, rest) = sealed.split_at_checked(HEADER_LEN).ok_or(CryptoError::Decrypt)?;
    let (version, nonce) = header.split_first().ok_or(CryptoError::Decrypt)?;
    if *version != SEALED_V1 {
        return Err(CryptoError::Decrypt);
    }
    let (ct, tag) = rest
        .split_at_checked(rest.len().saturating_sub(TAG_LEN))
        .ok_or(CryptoError::Decrypt)?;
    if tag.len() != TAG_LEN {
        return Err(CryptoError::Decrypt);
    }
    let mut plain = Zeroizing::new(ct.to_vec());
    cipher
        .decrypt_in_place_detached(Nonce::from_slice(nonce), aad, &mut plain, Tag::from_slice(tag))
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(plain)
}

fn to_nonce(bytes: &[u8]) -> [u8; NONCE_LEN] {
    let mut nonce = [0; NONCE_LEN];
    for (n, b) in nonce.iter_mut().zip(bytes) {
        *n = *b;
    }
    nonce
}

/// A data key sealed under a KEK version. Safe to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub kek_version: u32,
    pub sealed: Vec<u8>,
}

/// A keyed hash of a normalized identifier, for exact lookups without
/// decrypting (blind index).
pub type BlindIndex = [u8; 16];

struct Kek {
    version: u32,
    cipher: Aes256Gcm,
    key: Key,
}

/// The installation's keys: KEK versions and the blind-index key.
pub struct Keyring {
    installation: String,
    keks: Vec<Kek>,
    blind: Key,
    /// HMAC keyed with `blind`, cloned per use so the key schedule is not
    /// recomputed for every blind index.
    blind_mac: HmacSha256,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("installation", &self.installation)
            .field("kek_versions", &self.versions())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct KeyringFile {
    format: String,
    installation: String,
    keks: Vec<KekFile>,
    blind_index_key: KeyText,
}

#[derive(Serialize, Deserialize)]
struct KekFile {
    version: u32,
    key: KeyText,
}

/// A key in base64, wiped when dropped: each key wipes itself, so a key file that
/// fails to parse halfway wipes the keys it had read too (found in review: only a
/// whole `KeyringFile` wiped its keys).
#[derive(Serialize, Deserialize, Zeroize)]
#[serde(transparent)]
#[zeroize(drop)]
struct KeyText(String);

/// Counts the bytes written to it, to size a buffer before a secret is written there.
struct ByteCount(usize);

impl Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(bytes.len());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Keyring {
    /// A fresh keyring with KEK version 1.
    pub fn generate(installation: &str) -> Result<Keyring, CryptoError> {
        let mut ring = Keyring::with_blind_key(installation.to_owned(), Key(random()?))?;
        ring.add_kek(1, Key(random()?));
        Ok(ring)
    }

    fn with_blind_key(installation: String, blind: Key) -> Result<Keyring, CryptoError> {
        // HMAC takes keys of any length; this cannot fail for 32 bytes.
        let blind_mac = <HmacSha256 as Mac>::new_from_slice(&blind.0).map_err(|_| CryptoError::KeyringFormat {
            origin: installation.clone(),
            problem: "the blind-index key is not usable as an HMAC key".into(),
        })?;
        Ok(Keyring {
            installation,
            keks: Vec::new(),
            blind,
            blind_mac,
        })
    }

    fn add_kek(&mut self, version: u32, key: Key) {
        let cipher = Aes256Gcm::new((&key.0).into());
        self.keks.push(Kek { version, cipher, key });
        self.keks.sort_by_key(|k| k.version);
    }

    /// The installation this keyring belongs to.
    pub fn installation(&self) -> &str {
        &self.installation
    }

    /// KEK versions held, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.keks.iter().map(|k| k.version).collect()
    }

    /// The KEK version new data keys are wrapped under.
    pub fn current_version(&self) -> u32 {
        self.keks.last().map_or(0, |k| k.version)
    }

    fn kek(&self, version: u32) -> Result<&Kek, CryptoError> {
        self.keks
            .iter()
            .find(|k| k.version == version)
            .ok_or(CryptoError::UnknownKeyVersion(version))
    }

    /// Adds a new KEK version that becomes current; returns its number.
    pub fn add_version(&mut self) -> Result<u32, CryptoError> {
        let version = self.current_version() + 1;
        self.add_kek(version, Key(random()?));
        Ok(version)
    }

    /// Forgets every KEK version older than the current one.
    pub fn retire_old_versions(&mut self) {
        let current = self.current_version();
        self.keks.retain(|k| k.version == current);
    }

    fn wrap_aad(version: u32, record: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(record.len() + 16);
        aad.extend_from_slice(b"custodia/dek/v");
        aad.extend_from_slice(version.to_string().as_bytes());
        aad.push(b'/');
        aad.extend_from_slice(record);
        aad
    }

    /// A new random data key for `record`, and its wrapped form.
    pub fn new_data_key(&self, record: &[u8]) -> Result<(DataKey, WrappedKey), CryptoError> {
        // One system call for the key, its wrapping nonce and its nonce base.
        let mut fresh = Zeroizing::new(random::<{ 32 + 2 * NONCE_LEN }>()?);
        let (key_bytes, nonces) = fresh.split_at_mut(32);
        let (wrap_nonce, field_nonces) = nonces.split_at(NONCE_LEN);
        let mut key = Key([0; 32]);
        key.0.copy_from_slice(key_bytes);
        let kek = self.kek(self.current_version())?;
        let sealed = seal_with(
            &kek.cipher,
            to_nonce(wrap_nonce),
            &Self::wrap_aad(kek.version, record),
            &key.0,
        )?;
        Ok((
            DataKey::from_key(&key, Some(to_nonce(field_nonces))),
            WrappedKey {
                kek_version: kek.version,
                sealed,
            },
        ))
    }

    /// Unwraps the data key of `record`.
    pub fn unwrap_data_key(&self, record: &[u8], wrapped: &WrappedKey) -> Result<DataKey, CryptoError> {
        let kek = self.kek(wrapped.kek_version)?;
        let raw = open_with(&kek.cipher, &Self::wrap_aad(kek.version, record), &wrapped.sealed)?;
        let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| CryptoError::Decrypt)?;
        let key = Key(bytes);
        Ok(DataKey::from_key(&key, None))
    }

    /// Re-wraps a data key under the current KEK without exposing it.
    pub fn rewrap(&self, record: &[u8], wrapped: &WrappedKey) -> Result<WrappedKey, CryptoError> {
        let old = self.kek(wrapped.kek_version)?;
        let raw = open_with(&old.cipher, &Self::wrap_aad(old.version, record), &wrapped.sealed)?;
        let kek = self.kek(self.current_version())?;
        let sealed = seal_with(&kek.cipher, random()?, &Self::wrap_aad(kek.version, record), &raw)?;
        Ok(WrappedKey {
            kek_version: kek.version,
            sealed,
        })
    }

    /// The blind index of a normalized value of some kind (`email`, `phone`).
    pub fn blind_index(&self, kind: &str, normalized: &str) -> BlindIndex {
        let mut mac = self.blind_mac.clone();
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        for (o, f) in out.iter_mut().zip(full) {
            *o = f;
        }
        out
    }

    /// A 256-bit key for another purpose (e.g. the DLP index's keyed hashes),
    /// derived from the blind-index key so it needs no storage of its own.
    pub fn derive_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = self.blind_mac.clone();
        mac.update(b"custodia derived key\0");
        mac.update(purpose.as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
    }

    /// HMAC-SHA256 of `data` under the key derived for `purpose`
    /// ([`Keyring::derive_key`]): a keyed hash that names a value without
    /// revealing it to whoever reads the store but not the keyring.
    pub fn keyed_hash(&self, purpose: &str, data: &[u8]) -> Result<[u8; 32], CryptoError> {
        let key = self.derive_key(purpose);
        // HMAC takes keys of any length; this cannot fail for 32 bytes.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key.as_slice()).map_err(|_| CryptoError::KeyringFormat {
            origin: self.installation.clone(),
            problem: "a derived key is not usable as an HMAC key".into(),
        })?;
        mac.update(data);
        Ok(mac.finalize().into_bytes().into())
    }

    /// A value that identifies the keyring without revealing it, stored in the
    /// data directory so that a wrong key is reported as such.
    pub fn check_value(&self) -> String {
        let mut mac = self.blind_mac.clone();
        mac.update(b"custodia key check");
        mac.update(self.installation.as_bytes());
        let full = mac.finalize().into_bytes();
        full.iter().take(12).map(|b| format!("{b:02x}")).collect()
    }

    /// Parses a keyring from the text of a key file; `origin` names where it
    /// came from in errors.
    pub fn from_text(text: &str, origin: &str) -> Result<Keyring, CryptoError> {
        let format_err = |problem: &str| CryptoError::KeyringFormat {
            origin: origin.to_owned(),
            problem: problem.to_owned(),
        };
        // The serde error is not echoed: it could quote key material.
        let file: KeyringFile =
            serde_json::from_str(text.trim()).map_err(|_| format_err("not the JSON a custodia key file holds"))?;
        if file.format != FORMAT {
            return Err(format_err(&format!(
                "unknown format {:?}, expected {FORMAT:?}",
                file.format
            )));
        }
        // Decoded into a buffer that is wiped whatever happens (`decode` frees its own
        // unwiped when the text is not base64, with the part it decoded). 33 bytes: the
        // most the 44 characters of a 32-byte key in base64 can decode to.
        let decode = |s: &KeyText| -> Result<Key, CryptoError> {
            let mut raw = Zeroizing::new([0u8; 33]);
            let len = B64.decode_slice(&s.0, raw.as_mut()).map_err(|e| match e {
                base64::DecodeSliceError::OutputSliceTooSmall => format_err("a key is not 32 bytes"),
                base64::DecodeSliceError::DecodeError(_) => format_err("a key is not valid base64"),
            })?;
            let mut key = Key([0; 32]);
            match raw.first_chunk::<32>() {
                Some(first) if len == 32 => key.0.copy_from_slice(first),
                _ => return Err(format_err("a key is not 32 bytes")),
            }
            Ok(key)
        };
        let mut ring = Keyring::with_blind_key(file.installation.clone(), decode(&file.blind_index_key)?)?;
        for k in &file.keks {
            ring.add_kek(k.version, decode(&k.key)?);
        }
        if ring.keks.is_empty() {
            return Err(format_err("it holds no key-encryption key"));
        }
        Ok(ring)
    }

    /// The key file's text.
    pub fn to_text(&self) -> Zeroizing<String> {
        let file = KeyringFile {
            format: FORMAT.to_owned(),
            installation: self.installation.clone(),
            keks: self
                .keks
                .iter()
                .map(|k| KekFile {
                    version: k.version,
                    key: KeyText(B64.encode(k.key.0)),
                })
                .collect(),
            blind_index_key: KeyText(B64.encode(self.blind.0)),
        };
        // Written into a buffer of the size counted first: a buffer that grows frees
        // each earlier one, with the keys it held, unwiped (found in review:
        // `to_string_pretty` grew from 128 bytes). Neither writer can fail.
        let mut size = ByteCount(0);
        let _ = serde_json::to_writer_pretty(&mut size, &file);
        let mut text = Zeroizing::new(Vec::with_capacity(size.0));
        if serde_json::to_writer_pretty(&mut *text, &file).is_err() {
            return Zeroizing::new(String::new());
        }
        match String::from_utf8(std::mem::take(&mut *text)) {
            Ok(text) => Zeroizing::new(text),
            Err(not_text) => {
                not_text.into_bytes().zeroize();
                Zeroizing::new(String::new())
            }
        }
    }

    /// Loads a key file.
    pub fn load(path: &Path) -> Result<Keyring, CryptoError> {
        // Read as bytes, so that a file that is not text is wiped too.
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| CryptoError::KeyFileRead {
            path: path.display().to_string(),
            source,
        })?);
        let origin = format!("key file {}", path.display());
        let text = std::str::from_utf8(&bytes).map_err(|_| CryptoError::KeyringFormat {
            origin: origin.clone(),
            problem: "it is not text".into(),
        })?;
        Keyring::from_text(text, &origin)
    }

    /// Writes a new key file with mode 0600; refuses to overwrite one.
    pub fn save_new(&self, path: &Path) -> Result<(), CryptoError> {
        if path.exists() {
            return Err(CryptoError::KeyFileExists {
                path: path.display().to_string(),
            });
        }
        self.write(path, true)
    }

    /// Replaces a key file atomically (write a temporary file, fsync, rename).
    pub fn save_replace(&self, path: &Path) -> Result<(), CryptoError> {
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        self.write(&tmp, true)?;
        std::fs::rename(&tmp, path).map_err(|source| CryptoError::KeyFileWrite {
            path: path.display().to_string(),
            source,
        })
    }

    fn write(&self, path: &Path, create_new: bool) -> Result<(), CryptoError> {
        let err = |source| CryptoError::KeyFileWrite {
            path: path.display().to_string(),
            source,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(create_new);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(err)?;
        f.write_all(self.to_text().as_bytes()).map_err(err)?;
        f.sync_all().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seal_open_round_trip_and_aad_binding() {
        let ring = Keyring::generate("test").unwrap();
        let (dk, wrapped) = ring.new_data_key(b"customer/C-1").unwrap();
        let sealed = dk.seal(b"C-1/name", b"Nguyen Van An").unwrap();
        assert_eq!(dk.open(b"C-1/name", &sealed).unwrap().as_slice(), b"Nguyen Van An");
        // Another field's or record's associated data does not open it.
        assert!(dk.open(b"C-1/notes", &sealed).is_err());
        // The wrapped key only unwraps for its own record.
        assert!(ring.unwrap_data_key(b"customer/C-2", &wrapped).is_err());
        let dk2 = ring.unwrap_data_key(b"customer/C-1", &wrapped).unwrap();
        assert_eq!(dk2.open(b"C-1/name", &sealed).unwrap().as_slice(), b"Nguyen Van An");
        // Two seals of the same plaintext differ (fresh nonces).
        assert_ne!(sealed, dk.seal(b"C-1/name", b"Nguyen Van An").unwrap());
    }

    #[test]
    fn truncated_or_altered_ciphertext_is_refused_without_panic() {
        let ring = Keyring::generate("test").unwrap();
        let (dk, _) = ring.new_data_key(b"r").unwrap();
        let sealed = dk.seal(b"aad", b"0901234567").unwrap();
        assert_eq!(sealed.first(), Some(&SEALED_V1));
        for len in 0..sealed.len() {
            assert!(
                matches!(dk.open(b"aad", &sealed[..len]), Err(CryptoError::Decrypt)),
                "length {len}"
            );
        }
        for i in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[i] ^= 0x01;
            assert!(
                matches!(dk.open(b"aad", &altered), Err(CryptoError::Decrypt)),
                "byte {i}"
            );
        }
    }

    #[test]
    fn nonces_never_repeat_within_or_across_key_uses() {
        let ring = Keyring::generate("test").unwrap();
        let (dk, wrapped) = ring.new_data_key(b"r").unwrap();
        let again = ring.unwrap_data_key(b"r", &wrapped).unwrap();
        let mut seen = std::collections::HashSet::new();
        for key in [&dk, &again] {
            for _ in 0..1000 {
                let sealed = key.seal(b"a", b"same").unwrap();
                assert!(seen.insert(sealed[1..1 + NONCE_LEN].to_vec()));
            }
        }
    }

    /// An unwrapped key draws its nonce base at its first seal; threads
    /// racing to that first seal still get distinct nonces.
    #[test]
    fn threads_racing_to_a_keys_first_seal_get_distinct_nonces() {
        let ring = Keyring::generate("test").unwrap();
        let (_, wrapped) = ring.new_data_key(b"r").unwrap();
        for _ in 0..20 {
            let key = ring.unwrap_data_key(b"r", &wrapped).unwrap();
            let nonces: Vec<Vec<u8>> = std::thread::scope(|s| {
                let workers: Vec<_> = (0..4)
                    .map(|_| s.spawn(|| key.seal(b"a", b"x").unwrap()[1..1 + NONCE_LEN].to_vec()))
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap()).collect()
            });
            let distinct: std::collections::HashSet<_> = nonces.iter().collect();
            assert_eq!(distinct.len(), nonces.len());
        }
    }

    #[test]
    fn rotation_rewraps_and_retires() {
        let mut ring = Keyring::generate("test").unwrap();
        let (dk, wrapped) = ring.new_data_key(b"r").unwrap();
        let sealed = dk.seal(b"a", b"x").unwrap();
        assert_eq!(ring.add_version().unwrap(), 2);
        let rewrapped = ring.rewrap(b"r", &wrapped).unwrap();
        assert_eq!(rewrapped.kek_version, 2);
        ring.retire_old_versions();
        assert!(matches!(
            ring.unwrap_data_key(b"r", &wrapped),
            Err(CryptoError::UnknownKeyVersion(1))
        ));
        let dk = ring.unwrap_data_key(b"r", &rewrapped).unwrap();
        assert_eq!(dk.open(b"a", &sealed).unwrap().as_slice(), b"x");
    }

    #[test]
    fn key_file_round_trip_mode_and_no_leaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custodia.key");
        let ring = Keyring::generate("inst-1").unwrap();
        ring.save_new(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(matches!(ring.save_new(&path), Err(CryptoError::KeyFileExists { .. })));
        let loaded = Keyring::load(&path).unwrap();
        assert_eq!(loaded.check_value(), ring.check_value());
        assert_eq!(loaded.blind_index("email", "a@b.c"), ring.blind_index("email", "a@b.c"));
        assert_ne!(ring.blind_index("email", "a@b.c"), ring.blind_index("phone", "a@b.c"));
        // The text written is exactly what is read back, and parses to the same keys.
        assert_eq!(loaded.to_text().as_str(), ring.to_text().as_str());
        // Made in one buffer of its exact size, not grown (a grown buffer frees the
        // earlier ones, with part of the keys, unwiped): a proxy, as wiping itself
        // cannot be observed without unsafe code.
        let made = ring.to_text();
        assert_eq!(made.capacity(), made.len());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, ring.to_text().as_str());
        let debug = format!("{ring:?}");
        // Debug shows no key material from the file.
        for line in text
            .lines()
            .filter(|l| l.contains("\"key\"") || l.contains("blind_index_key"))
        {
            let value = line.split('"').nth(3).unwrap();
            assert!(!debug.contains(value));
        }
    }

    #[test]
    fn bad_key_files_are_clear_errors() {
        let check = |text: &str, want: &str| {
            let err = Keyring::from_text(text, "test").unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        };
        check("", "not the JSON");
        check(
            r#"{"format":"other","installation":"x","keks":[],"blind_index_key":""}"#,
            "unknown format",
        );
        check(
            r#"{"format":"custodia-keyring/1","installation":"x","keks":[],"blind_index_key":"AAAA"}"#,
            "not 32 bytes",
        );
        let long = B64.encode([7u8; 48]);
        check(
            &format!(r#"{{"format":"custodia-keyring/1","installation":"x","keks":[],"blind_index_key":"{long}"}}"#),
            "not 32 bytes",
        );
        check(
            r#"{"format":"custodia-keyring/1","installation":"x","keks":[],"blind_index_key":"not base64!"}"#,
            "not valid base64",
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custodia.key");
        std::fs::write(&path, b"{\"format\": \xff\xfe}").unwrap();
        let err = Keyring::load(&path).unwrap_err().to_string();
        assert!(err.contains("not text"), "{err}");
        let secretish = "c2VjcmV0LWtleS1tYXRlcmlhbC1zZWNyZXQta2V5LW1h";
        let err = Keyring::from_text(&format!("{{\"format\": {secretish}"), "test")
            .unwrap_err()
            .to_string();
        assert!(!err.contains(secretish));
    }
}
