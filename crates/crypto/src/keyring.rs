use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::CryptoError;

/// The environment variable that may hold the keyring instead of a file
/// (its value is the key file's content).
pub const KEYRING_ENV: &str = "CUSTODIA_KEYRING";

const FORMAT: &str = "custodia-keyring/1";
const NONCE_LEN: usize = 24;

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

/// The per-record data key, unwrapped. Seals and opens that record's fields.
pub struct DataKey {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(redacted)")
    }
}

impl DataKey {
    fn from_key(key: &Key) -> DataKey {
        DataKey {
            cipher: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    /// Seals `plaintext`, binding it to `aad`. Output: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal_with(&self.cipher, aad, plaintext)
    }

    /// Opens what [`DataKey::seal`] produced with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open_with(&self.cipher, aad, sealed)
    }
}

fn seal_with(cipher: &XChaCha20Poly1305, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce: [u8; NONCE_LEN] = random()?;
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| CryptoError::Decrypt)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open_with(cipher: &XChaCha20Poly1305, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < NONCE_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt)
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
    cipher: XChaCha20Poly1305,
    key: Key,
}

/// The installation's keys: KEK versions and the blind-index key.
pub struct Keyring {
    installation: String,
    keks: Vec<Kek>,
    blind: Key,
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
    blind_index_key: String,
}

#[derive(Serialize, Deserialize)]
struct KekFile {
    version: u32,
    key: String,
}

impl Drop for KeyringFile {
    fn drop(&mut self) {
        self.blind_index_key.zeroize();
        for k in &mut self.keks {
            k.key.zeroize();
        }
    }
}

impl Keyring {
    /// A fresh keyring with KEK version 1.
    pub fn generate(installation: &str) -> Result<Keyring, CryptoError> {
        let mut ring = Keyring {
            installation: installation.to_owned(),
            keks: Vec::new(),
            blind: Key(random()?),
        };
        ring.add_kek(1, Key(random()?));
        Ok(ring)
    }

    fn add_kek(&mut self, version: u32, key: Key) {
        let cipher = XChaCha20Poly1305::new((&key.0).into());
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
        let key = Key(random()?);
        let kek = self.kek(self.current_version())?;
        let sealed = seal_with(&kek.cipher, &Self::wrap_aad(kek.version, record), &key.0)?;
        Ok((
            DataKey::from_key(&key),
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
        Ok(DataKey::from_key(&key))
    }

    /// Re-wraps a data key under the current KEK without exposing it.
    pub fn rewrap(&self, record: &[u8], wrapped: &WrappedKey) -> Result<WrappedKey, CryptoError> {
        let old = self.kek(wrapped.kek_version)?;
        let raw = open_with(&old.cipher, &Self::wrap_aad(old.version, record), &wrapped.sealed)?;
        let kek = self.kek(self.current_version())?;
        let sealed = seal_with(&kek.cipher, &Self::wrap_aad(kek.version, record), &raw)?;
        Ok(WrappedKey {
            kek_version: kek.version,
            sealed,
        })
    }

    /// The blind index of a normalized value of some kind (`email`, `phone`).
    pub fn blind_index(&self, kind: &str, normalized: &str) -> BlindIndex {
        let mut out = [0u8; 16];
        if let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(&self.blind.0) {
            mac.update(kind.as_bytes());
            mac.update(&[0]);
            mac.update(normalized.as_bytes());
            let full = mac.finalize().into_bytes();
            out.copy_from_slice(&full[..16]);
        }
        out
    }

    /// A 256-bit key for another purpose (e.g. the DLP index's keyed hashes),
    /// derived from the blind-index key so it needs no storage of its own.
    pub fn derive_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        if let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(&self.blind.0) {
            mac.update(b"custodia derived key\0");
            mac.update(purpose.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    /// A value that identifies the keyring without revealing it, stored in the
    /// data directory so that a wrong key is reported as such.
    pub fn check_value(&self) -> String {
        let mut mac = match <HmacSha256 as Mac>::new_from_slice(&self.blind.0) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
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
        let decode = |s: &str| -> Result<Key, CryptoError> {
            let raw = Zeroizing::new(B64.decode(s).map_err(|_| format_err("a key is not valid base64"))?);
            let arr: [u8; 32] = raw
                .as_slice()
                .try_into()
                .map_err(|_| format_err("a key is not 32 bytes"))?;
            Ok(Key(arr))
        };
        let mut ring = Keyring {
            installation: file.installation.clone(),
            keks: Vec::new(),
            blind: decode(&file.blind_index_key)?,
        };
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
                    key: B64.encode(k.key.0),
                })
                .collect(),
            blind_index_key: B64.encode(self.blind.0),
        };
        Zeroizing::new(serde_json::to_string_pretty(&file).unwrap_or_default())
    }

    /// Loads a key file.
    pub fn load(path: &Path) -> Result<Keyring, CryptoError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| CryptoError::KeyFileRead {
                path: path.display().to_string(),
                source,
            })?,
        );
        Keyring::from_text(&text, &format!("key file {}", path.display()))
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
        let text = std::fs::read_to_string(&path).unwrap();
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
        let secretish = "c2VjcmV0LWtleS1tYXRlcmlhbC1zZWNyZXQta2V5LW1h";
        let err = Keyring::from_text(&format!("{{\"format\": {secretish}"), "test")
            .unwrap_err()
            .to_string();
        assert!(!err.contains(secretish));
    }
}
