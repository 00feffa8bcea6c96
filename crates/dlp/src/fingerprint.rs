//! Document fingerprints by winnowing (Schleimer, Wilkerson, Aiken 2003).
//!
//! Text is normalized to words ([`crate::normalize::tokens`]); every run of
//! [`SHINGLE_WORDS`] consecutive words is hashed, and in every window of [`WINDOW`]
//! consecutive shingle hashes the minimum (rightmost on ties) is kept. Any shared passage
//! of at least `WINDOW + SHINGLE_WORDS - 1` words is then guaranteed to share a
//! fingerprint. A scanned text matches a registered document when the fingerprints it
//! shares cover at least [`FingerprintConfig::min_containment`] of the document's
//! fingerprints or at least [`FingerprintConfig::min_chars`] normalized characters.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::normalize;

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 5;
/// Winnowing window, in shingles.
pub const WINDOW: usize = 4;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Document {
    id: String,
    fingerprints: usize,
}

/// Registered documents' fingerprints (hashes only; no text is kept).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FingerprintIndex {
    config: FingerprintConfig,
    documents: Vec<Option<Document>>,
    postings: HashMap<u64, Vec<u32>>,
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

fn word_hash(word: &str) -> u64 {
    // FNV-1a: stable across releases and platforms, unlike std's DefaultHasher.
    word.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    x = (x ^ (x >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn winnow(text: &str) -> Vec<Print> {
    let words = normalize::normalized_words(text);
    let hashes: Vec<u64> = words.iter().map(|w| word_hash(w)).collect();
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
    /// An empty index.
    pub fn new(config: FingerprintConfig) -> Self {
        Self {
            config,
            documents: Vec::new(),
            postings: HashMap::new(),
        }
    }

    /// Registers (or replaces) a document; returns its fingerprint count.
    pub fn add(&mut self, doc_id: &str, text: &str) -> usize {
        self.remove(doc_id);
        let slot = self.documents.len() as u32;
        let unique: HashSet<u64> = winnow(text).iter().map(|p| p.hash).collect();
        for hash in &unique {
            self.postings.entry(*hash).or_default().push(slot);
        }
        self.documents.push(Some(Document {
            id: doc_id.to_string(),
            fingerprints: unique.len(),
        }));
        unique.len()
    }

    /// Removes a document; returns whether it was registered.
    pub fn remove(&mut self, doc_id: &str) -> bool {
        let Some(slot) = self
            .documents
            .iter()
            .position(|d| d.as_ref().is_some_and(|d| d.id == doc_id))
        else {
            return false;
        };
        if let Some(entry) = self.documents.get_mut(slot) {
            *entry = None;
        }
        let slot = slot as u32;
        self.postings.retain(|_, docs| {
            docs.retain(|d| *d != slot);
            !docs.is_empty()
        });
        true
    }

    /// Registered documents present in `text`, best first.
    pub fn find(&self, text: &str) -> Vec<FingerprintHit> {
        if self.postings.is_empty() {
            return Vec::new();
        }
        let prints = winnow(text);
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
