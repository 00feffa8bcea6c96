//! Document fingerprints by winnowing (Schleimer, Wilkerson, Aiken 2003).
//!
//! Text is normalized to words ([`crate::normalize::tokens`]); each word is
//! hashed with a secret key (SipHash-1-3, [`FingerprintKey`]), every run of
//! [`SHINGLE_WORDS`] consecutive word hashes is combined into a shingle hash,
//! and in every window of [`WINDOW`] consecutive shingle hashes the minimum
//! (rightmost on ties) is kept. Any shared passage of at least
//! `WINDOW + SHINGLE_WORDS - 1` words is then guaranteed to share a
//! fingerprint. A scanned text matches a registered document when the
//! fingerprints it shares cover at least [`FingerprintConfig::min_containment`]
//! of the document's fingerprints or at least [`FingerprintConfig::min_chars`]
//! normalized characters.

use std::collections::{HashMap, HashSet};
use std::hash::Hasher;

use serde::{Deserialize, Serialize};
use siphasher::sip::SipHasher13;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::normalize;

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 5;
/// Winnowing window, in shingles.
pub const WINDOW: usize = 4;

/// The secret the shingle hashes are keyed with. Without it, nobody holding
/// the index (or a scan's fingerprints) can test whether a known text is a
/// registered document.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FingerprintKey([u8; 32]);

impl FingerprintKey {
    /// Wraps 32 secret bytes (take them from the vault's key hierarchy).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn sip_keys(&self) -> [u64; 2] {
        let mut keys = [0u64; 2];
        for (key, chunk) in keys.iter_mut().zip(self.0.chunks_exact(8)) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(chunk);
            *key = u64::from_le_bytes(bytes);
        }
        keys
    }
}

/// Match thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FingerprintConfig {
    /// Share of a document's fingerprints that must be present (0.0..=1.0).
    pub min_containment: f64,
    /// Normalized characters of the scanned text covered by shared shingles.
    pub min_chars: usize,
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        Self {
            min_containment: 0.10,
            min_chars: 300,
        }
    }
}

/// A registered document found in scanned text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FingerprintHit {
    /// Id given to [`FingerprintIndex::add`].
    pub doc_id: String,
    /// Share of the document's fingerprints present in the scanned text.
    pub containment: f64,
    /// Normalized characters of the scanned text covered by shared shingles.
    pub matched_chars: usize,
}

#[derive(Clone)]
struct Document {
    id: String,
    fingerprints: usize,
}

/// Registered documents' fingerprints (keyed hashes only; no text is kept).
///
/// Documents are added and removed one at a time as the vault changes. A
/// removed document's slot is emptied and its postings left in place (skipped
/// by [`FingerprintIndex::find`]) until dead postings outnumber live ones, when
/// the postings are rebuilt: removal costs O(1) amortized, not a walk of every
/// posting.
#[derive(Clone)]
pub struct FingerprintIndex {
    config: FingerprintConfig,
    sip_keys: Zeroizing<[u64; 2]>,
    documents: Vec<Option<Document>>,
    slots: HashMap<String, u32>,
    postings: HashMap<u64, Vec<u32>>,
    live_postings: usize,
    dead_postings: usize,
}

impl std::fmt::Debug for FingerprintIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FingerprintIndex")
            .field("documents", &self.slots.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Per document: distinct shared hashes and (first word, characters) of each shingle.
type SharedPrints = (HashSet<u64>, Vec<(usize, usize)>);

struct Print {
    hash: u64,
    /// Normalized characters of the shingle.
    chars: usize,
    /// Index of the shingle's first word.
    word: usize,
}

fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    x = (x ^ (x >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn winnow(sip_keys: &[u64; 2], text: &str) -> Vec<Print> {
    let words = normalize::normalized_words(text);
    let hashes: Vec<u64> = words
        .iter()
        .map(|w| {
            let mut hasher = SipHasher13::new_with_keys(sip_keys[0], sip_keys[1]);
            hasher.write(w.as_bytes());
            hasher.finish()
        })
        .collect();
    let shingles: Vec<(u64, usize)> = hashes
        .windows(SHINGLE_WORDS)
        .zip(words.windows(SHINGLE_WORDS))
        .map(|(hs, ws)| {
            let hash = hs.iter().fold(0u64, |acc, h| mix(acc ^ h));
            let chars = ws.iter().map(|w| w.len() + 1).sum();
            (hash, chars)
        })
        .collect();
    let mut prints: Vec<Print> = Vec::new();
    if shingles.len() < WINDOW {
        // Short texts keep every shingle so they can still be registered and found.
        return shingles
            .iter()
            .enumerate()
            .map(|(word, (hash, chars))| Print {
                hash: *hash,
                chars: *chars,
                word,
            })
            .collect();
    }
    let mut last: Option<usize> = None;
    for start in 0..=shingles.len() - WINDOW {
        let window = shingles.get(start..start + WINDOW).unwrap_or_default();
        let Some(offset) = (0..window.len())
            .rev()
            .min_by_key(|i| window.get(*i).map_or(u64::MAX, |s| s.0))
        else {
            continue;
        };
        let position = start + offset;
        if last != Some(position) {
            if let Some((hash, chars)) = shingles.get(position) {
                prints.push(Print {
                    hash: *hash,
                    chars: *chars,
                    word: position,
                });
            }
            last = Some(position);
        }
    }
    prints
}

impl FingerprintIndex {
    /// An empty index whose shingle hashes are keyed with `key`.
    pub fn new(key: &FingerprintKey, config: FingerprintConfig) -> Self {
        Self {
            config,
            sip_keys: Zeroizing::new(key.sip_keys()),
            documents: Vec::new(),
            slots: HashMap::new(),
            postings: HashMap::new(),
            live_postings: 0,
            dead_postings: 0,
        }
    }

    /// Registered documents.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when no document is registered.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether `doc_id` is registered.
    pub fn contains(&self, doc_id: &str) -> bool {
        self.slots.contains_key(doc_id)
    }

    /// Registers (or replaces) a document; returns its fingerprint count.
    pub fn add(&mut self, doc_id: &str, text: &str) -> usize {
        self.remove(doc_id);
        let slot = self.documents.len() as u32;
        let unique: HashSet<u64> = winnow(&self.sip_keys, text).iter().map(|p| p.hash).collect();
        for hash in &unique {
            self.postings.entry(*hash).or_default().push(slot);
        }
        self.documents.push(Some(Document {
            id: doc_id.to_string(),
            fingerprints: unique.len(),
        }));
        self.slots.insert(doc_id.to_string(), slot);
        self.live_postings += unique.len();
        unique.len()
    }

    /// Removes a document; returns whether it was registered.
    pub fn remove(&mut self, doc_id: &str) -> bool {
        let Some(slot) = self.slots.remove(doc_id) else {
            return false;
        };
        if let Some(document) = self.documents.get_mut(slot as usize).and_then(Option::take) {
            self.live_postings -= document.fingerprints;
            self.dead_postings += document.fingerprints;
        }
        if self.dead_postings > self.live_postings {
            self.compact();
        }
        true
    }

    /// Drops emptied slots and their postings, renumbering the live documents.
    fn compact(&mut self) {
        let mut renumbered: Vec<Option<u32>> = Vec::with_capacity(self.documents.len());
        let mut documents = Vec::with_capacity(self.slots.len());
        for document in std::mem::take(&mut self.documents) {
            match document {
                Some(document) => {
                    let slot = documents.len() as u32;
                    renumbered.push(Some(slot));
                    self.slots.insert(document.id.clone(), slot);
                    documents.push(Some(document));
                }
                None => renumbered.push(None),
            }
        }
        self.documents = documents;
        self.postings.retain(|_, slots| {
            slots.retain_mut(|slot| match renumbered.get(*slot as usize).copied().flatten() {
                Some(new) => {
                    *slot = new;
                    true
                }
                None => false,
            });
            !slots.is_empty()
        });
        self.dead_postings = 0;
    }

    /// Registered documents present in `text`, best first.
    pub fn find(&self, text: &str) -> Vec<FingerprintHit> {
        if self.postings.is_empty() {
            return Vec::new();
        }
        let prints = winnow(&self.sip_keys, text);
        // Per document: shared distinct hashes, and covered word spans of the text.
        let mut shared: HashMap<u32, SharedPrints> = HashMap::new();
        for print in &prints {
            if let Some(docs) = self.postings.get(&print.hash) {
                for doc in docs {
                    let entry = shared.entry(*doc).or_default();
                    entry.0.insert(print.hash);
                    entry.1.push((print.word, print.chars));
                }
            }
        }
        let mut hits = Vec::new();
        for (slot, (hashes, spans)) in shared {
            let Some(Some(document)) = self.documents.get(slot as usize) else {
                continue;
            };
            let containment = hashes.len() as f64 / document.fingerprints.max(1) as f64;
            let matched_chars = covered_chars(&spans);
            if containment >= self.config.min_containment || matched_chars >= self.config.min_chars {
                hits.push(FingerprintHit {
                    doc_id: document.id.clone(),
                    containment: containment.min(1.0),
                    matched_chars,
                });
            }
        }
        hits.sort_by(|a, b| b.containment.total_cmp(&a.containment));
        hits
    }
}

/// Characters covered by shingles that start at the given words, counting overlaps once
/// (each shingle's characters spread evenly over its words).
fn covered_chars(spans: &[(usize, usize)]) -> usize {
    let mut words: HashMap<usize, usize> = HashMap::new();
    for (first, chars) in spans {
        let per_word = chars / SHINGLE_WORDS;
        for word in *first..first + SHINGLE_WORDS {
            let entry = words.entry(word).or_default();
            *entry = (*entry).max(per_word.max(1));
        }
    }
    words.values().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(key: u8, text: &str) -> Vec<u64> {
        winnow(&FingerprintKey::from_bytes([key; 32]).sip_keys(), text)
            .iter()
            .map(|p| p.hash)
            .collect()
    }

    #[test]
    fn shingle_hashes_depend_on_the_key() {
        let text = "the supplier price list for the northern region stays confidential until the tender closes";
        assert_eq!(hashes(1, text), hashes(1, text), "the same key gives the same prints");
        let other: HashSet<u64> = hashes(2, text).into_iter().collect();
        assert!(!other.is_empty());
        assert!(
            hashes(1, text).iter().all(|h| !other.contains(h)),
            "another key shares a print"
        );
    }
}
