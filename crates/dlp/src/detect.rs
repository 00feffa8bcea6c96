//! Pattern detectors with validators, context words, exclusions and a confidence.
//!
//! All candidate patterns are compiled into one `regex_automata` multi-pattern regex and
//! found in a single pass; context words are found with `aho-corasick` in the windows
//! around candidates, every occurrence counted. Each candidate then goes through its validator (Luhn, mod 97, SSN
//! area/group/serial rules, Vietnamese province codes, Shannon entropy), the exclusion
//! set (known test values), and gets a confidence raised when a context word of its
//! detector is within [`CONTEXT_BEFORE`] bytes before or [`CONTEXT_AFTER`] after it.
//!
//! # Adding a detector
//! 1. Add a variant to [`DetectorKind`].
//! 2. Add its regex to `PATTERNS` (order matters only for overlapping candidates:
//!    the leftmost match wins, then the earlier pattern).
//! 3. Add context words for it to `CONTEXT_WORDS`.
//! 4. Handle its pattern index in `Detectors::classify`: validate and return a confidence
//!    (or `None` to drop the candidate).
//! 5. Add positive and negative rows to the `check()` table in `tests/detect.rs`.

use std::collections::HashSet;
use std::hash::BuildHasher;

use aho_corasick::AhoCorasick;
use regex_automata::meta::Regex;
use serde::{Deserialize, Serialize};

use crate::lines::{self, LineClasses};
use crate::phone;

/// Context words near candidates, found on demand: only the windows around candidates
/// are searched, each once (overlapping the next by at most the longest word), so a text
/// with few candidates costs almost nothing.
/// Every occurrence of a context word counts, also one inside or across another word
/// ("card" in "Mastercard"): that reading does not depend on where a search starts, so
/// the windows find exactly what a search of the whole text finds.
struct ContextWords<'a> {
    automaton: &'a AhoCorasick,
    text: &'a str,
    /// Bytes of the longest context word.
    longest: usize,
    /// Every context word starting before this offset has been found.
    searched_to: usize,
    /// Start and detector of each context word found so far, in text order.
    found: Vec<(usize, DetectorKind)>,
}

impl<'a> ContextWords<'a> {
    fn new(automaton: &'a AhoCorasick, text: &'a str) -> Self {
        Self {
            automaton,
            text,
            longest: CONTEXT_WORDS.iter().map(|(word, _)| word.len()).max().unwrap_or(0),
            searched_to: 0,
            found: Vec::new(),
        }
    }

    /// Detectors with a context word starting in `from..=to`. Calls come in text order
    /// of their candidates, so `from` never decreases.
    fn kinds_near(&mut self, from: usize, to: usize) -> Vec<DetectorKind> {
        let to = to.min(self.text.len());
        let begin = from.max(self.searched_to);
        if begin <= to {
            // Words starting up to `to` end by `to + longest`.
            let end = to.saturating_add(self.longest).min(self.text.len());
            let batch = self.found.len();
            let input = aho_corasick::Input::new(self.text).span(begin..end);
            for m in self.automaton.find_overlapping_iter(input) {
                if m.start() <= to {
                    if let Some((_, kind)) = CONTEXT_WORDS.get(m.pattern().as_usize()) {
                        self.found.push((m.start(), *kind));
                    }
                }
            }
            // Overlapping matches come in order of their ends.
            if let Some(batch) = self.found.get_mut(batch..) {
                batch.sort_unstable_by_key(|(start, _)| *start);
            }
            self.searched_to = to + 1;
        }
        let first = self.found.partition_point(|(pos, _)| *pos < from);
        self.found
            .iter()
            .skip(first)
            .take_while(|(pos, _)| *pos <= to)
            .map(|(_, kind)| *kind)
            .collect()
    }
}

/// Bytes before a candidate searched for context words.
pub const CONTEXT_BEFORE: usize = 100;
/// Bytes after a candidate searched for context words.
pub const CONTEXT_AFTER: usize = 40;

/// What a detector finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// Email address.
    Email,
    /// Phone number in international (`+CC`) form.
    Phone,
    /// Payment card number (Luhn, issuer prefix).
    PaymentCard,
    /// International bank account number (mod 97).
    Iban,
    /// US social security number.
    UsSsn,
    /// Vietnamese citizen identity number (12 digits, province prefix).
    VnCitizenId,
    /// AWS access key id.
    AwsAccessKey,
    /// GitHub token.
    GithubToken,
    /// Slack token.
    SlackToken,
    /// High-entropy value assigned to a key/secret/token/password name.
    GenericSecret,
    /// PEM private key block.
    PrivateKey,
}

/// One detected value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Detector.
    pub detector: DetectorKind,
    /// Byte offset.
    pub start: usize,
    /// Byte offset after the value.
    pub end: usize,
    /// 0.0..=1.0.
    pub confidence: f32,
    /// The value without separators or case, hashed under a key of its [`Detectors`]
    /// drawn at random: equal for the same card or id written twice, so thresholds count
    /// values rather than mentions, and no reading of the value outside this process.
    pub value: u64,
}

/// Detections of one detector, aggregated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Detector.
    pub detector: DetectorKind,
    /// Number of detections: every mention, a value repeated counted each time.
    pub count: usize,
    /// Distinct values among them, compared without separators or case: one card number
    /// written five times is `count` 5, `distinct` 1.
    #[serde(default)]
    pub distinct: usize,
    /// Highest confidence among them.
    pub confidence: f32,
}

/// Candidate patterns, by index.
const PATTERNS: &[&str] = &[
    // 0 PEM private key
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----",
    // 1 AWS access key id
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
    // 2 GitHub token
    r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,100})\b",
    // 3 Slack token
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,80}",
    // 4 generic secret assignment
    r#"(?i)(?:api[_\-]?key|secret|token|passw(?:or)?d|access[_\-]?key|client[_\-]?secret)["']?[ \t]*[:=][ \t]*["']?[A-Za-z0-9+/_\-=.]{16,200}"#,
    // 5 email
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    // 6 IBAN
    r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
    // 7 international phone
    r"\+[1-9][0-9]{0,2}[ .\-]?(?:\(0\)[ .\-]?)?\(?[0-9]{1,4}\)?(?:[ .\-]?[0-9]{2,4}){2,4}\b",
    // 8 digit run (cards, SSN, citizen ids)
    r"\b[0-9](?:[ \-]?[0-9]){8,18}\b",
];

/// `PATTERNS[..LITERAL_LED]` each start with a literal and need neither a digit nor an
/// `@`; every later pattern needs one of them.
const LITERAL_LED: usize = 5;

/// The detectors' candidate regexes (Rust regex syntax), e.g. to compare with ripgrep.
pub fn detector_patterns() -> &'static [&'static str] {
    PATTERNS
}

const CONTEXT_WORDS: &[(&str, DetectorKind)] = &[
    ("card", DetectorKind::PaymentCard),
    ("credit", DetectorKind::PaymentCard),
    ("visa", DetectorKind::PaymentCard),
    ("mastercard", DetectorKind::PaymentCard),
    ("amex", DetectorKind::PaymentCard),
    ("cvv", DetectorKind::PaymentCard),
    ("expir", DetectorKind::PaymentCard),
    ("payment", DetectorKind::PaymentCard),
    ("ssn", DetectorKind::UsSsn),
    ("social security", DetectorKind::UsSsn),
    ("ss#", DetectorKind::UsSsn),
    ("taxpayer", DetectorKind::UsSsn),
    ("cccd", DetectorKind::VnCitizenId),
    ("cmnd", DetectorKind::VnCitizenId),
    ("căn cước", DetectorKind::VnCitizenId),
    ("can cuoc", DetectorKind::VnCitizenId),
    ("citizen id", DetectorKind::VnCitizenId),
    ("national id", DetectorKind::VnCitizenId),
    ("định danh", DetectorKind::VnCitizenId),
    ("iban", DetectorKind::Iban),
    ("bank", DetectorKind::Iban),
    ("account", DetectorKind::Iban),
    ("phone", DetectorKind::Phone),
    ("tel", DetectorKind::Phone),
    ("mobile", DetectorKind::Phone),
    ("cell", DetectorKind::Phone),
    ("fax", DetectorKind::Phone),
    ("điện thoại", DetectorKind::Phone),
    ("sđt", DetectorKind::Phone),
    ("aws", DetectorKind::AwsAccessKey),
    ("access key", DetectorKind::AwsAccessKey),
];

/// Known test values never reported (payment processors' published test cards).
const DEFAULT_EXCLUSIONS: &[&str] = &[
    "4111111111111111",
    "4242424242424242",
    "5555555555554444",
    "5105105105105100",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "4012888888881881",
    "AKIAIOSFODNN7EXAMPLE",
];

/// Vietnamese province/city codes (Circular 07/2016/TT-BCA), first three digits of a CCCD.
const VN_PROVINCES: &[u16] = &[
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44, 45,
    46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92,
    93, 94, 95, 96,
];

/// Errors building detectors.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// A pattern or the context automaton did not compile.
    #[error("detector patterns did not compile: {0}; this is a bug in the dlp crate")]
    Build(String),
}

/// The compiled detector set.
pub struct Detectors {
    regex: Regex,
    /// The patterns led by a literal (0..LITERAL_LED), for lines without digit or `@`.
    literal_led: Regex,
    context: AhoCorasick,
    exclusions: HashSet<String>,
    /// Keys [`Detection::value`]: a fast hash, as every candidate of a customer table is
    /// a detection, and a seed drawn at random.
    values: foldhash::fast::RandomState,
}

impl std::fmt::Debug for Detectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detectors")
            .field("patterns", &PATTERNS.len())
            .field("exclusions", &self.exclusions.len())
            .finish()
    }
}

impl Detectors {
    /// All detectors, with the default exclusions plus `extra_exclusions` (exact values;
    /// separators are ignored, e.g. the company's own public phone or bank account).
    pub fn new(extra_exclusions: &[&str]) -> Result<Self, DetectorError> {
        let regex = Regex::builder()
            .syntax(regex_automata::util::syntax::Config::new().unicode(false).utf8(false))
            .build_many(PATTERNS)
            .map_err(|e| DetectorError::Build(e.to_string()))?;
        let literal_led = Regex::builder()
            .syntax(regex_automata::util::syntax::Config::new().unicode(false).utf8(false))
            .build_many(PATTERNS.get(..LITERAL_LED).unwrap_or_default())
            .map_err(|e| DetectorError::Build(e.to_string()))?;
        let context = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(CONTEXT_WORDS.iter().map(|(word, _)| word))
            .map_err(|e| DetectorError::Build(e.to_string()))?;
        let exclusions = DEFAULT_EXCLUSIONS
            .iter()
            .chain(extra_exclusions)
            .map(|value| compact(value))
            .collect();
        Ok(Self {
            regex,
            literal_led,
            context,
            exclusions,
            values: foldhash::fast::RandomState::default(),
        })
    }

    /// Every validated detection in `text`, in order.
    pub fn scan(&self, text: &str) -> Vec<Detection> {
        self.scan_lines(text, &LineClasses::of(text))
    }

    /// [`Detectors::scan`] with the text's line classes already read. Lines without a
    /// digit or `@` cannot hold an email, IBAN, phone or digit-run candidate, so there
    /// only the literal-led patterns run (their prefilter skips most bytes); the
    /// matches found are the ones a search of the whole text finds, since no pattern
    /// matches across a line break.
    pub(crate) fn scan_lines(&self, text: &str, lines: &LineClasses) -> Vec<Detection> {
        let context = std::cell::RefCell::new(ContextWords::new(&self.context, text));
        let mut out = Vec::new();
        let mut compacted = String::new();
        for (span, holds) in lines.partition(lines::DIGIT | lines::AT) {
            let regex = if holds { &self.regex } else { &self.literal_led };
            let input = regex_automata::Input::new(text.as_bytes()).span(span);
            for m in regex.find_iter(input) {
                let Some(value) = text.get(m.start()..m.end()) else {
                    continue;
                };
                if m.pattern().as_usize() == DIGIT_RUN && in_decimal_number(text.as_bytes(), m.start(), m.end()) {
                    continue;
                }
                // One reused buffer: a scan checks every candidate against the exclusions.
                compact_into(value, &mut compacted);
                if self.exclusions.contains(&compacted) {
                    continue;
                }
                let from = m.start().saturating_sub(CONTEXT_BEFORE);
                let to = m.end() + CONTEXT_AFTER;
                // Searched only when the candidate's validator asks: emails, keys and
                // tokens, most candidates of a customer table, never do.
                let near = std::cell::OnceCell::new();
                let has_context = |kind: DetectorKind| {
                    near.get_or_init(|| context.borrow_mut().kinds_near(from, to))
                        .contains(&kind)
                };
                if let Some((detector, confidence)) = self.classify(m.pattern().as_usize(), value, &has_context) {
                    if detector == DetectorKind::PaymentCard
                        && !has_context(DetectorKind::PaymentCard)
                        && is_keyed_identifier(text.as_bytes(), m.start())
                    {
                        continue;
                    }
                    out.push(Detection {
                        detector,
                        start: m.start(),
                        end: m.end(),
                        confidence,
                        value: self.values.hash_one(&compacted),
                    });
                }
            }
        }
        out
    }

    fn classify(
        &self,
        pattern: usize,
        value: &str,
        has_context: &dyn Fn(DetectorKind) -> bool,
    ) -> Option<(DetectorKind, f32)> {
        let boost =
            |kind: DetectorKind, base: f32, with: f32| Some((kind, if has_context(kind) { with } else { base }));
        match pattern {
            0 => Some((DetectorKind::PrivateKey, 0.99)),
            1 => boost(DetectorKind::AwsAccessKey, 0.85, 0.95),
            2 => Some((DetectorKind::GithubToken, 0.95)),
            3 => Some((DetectorKind::SlackToken, 0.9)),
            4 => {
                let secret = value
                    .rsplit(['=', ':'])
                    .next()
                    .unwrap_or_default()
                    .trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
                let classes = [
                    secret.bytes().any(|b| b.is_ascii_lowercase()),
                    secret.bytes().any(|b| b.is_ascii_uppercase()),
                    secret.bytes().any(|b| b.is_ascii_digit()),
                ]
                .iter()
                .filter(|x| **x)
                .count();
                (secret.len() >= 16 && entropy(secret) >= 3.5 && classes >= 2)
                    .then_some((DetectorKind::GenericSecret, 0.7))
            }
            5 => Some((DetectorKind::Email, 0.9)),
            6 => {
                let iban = compact(value);
                (iban.len() >= 15 && iban.len() <= 34 && iban_valid(&iban))
                    .then_some(())
                    .and_then(|()| boost(DetectorKind::Iban, 0.85, 0.95))
            }
            7 => {
                phone::is_international(value).then_some(())?;
                boost(DetectorKind::Phone, 0.6, 0.85)
            }
            DIGIT_RUN => self.classify_digits(value, has_context),
            _ => None,
        }
    }

    fn classify_digits(&self, value: &str, has_context: &dyn Fn(DetectorKind) -> bool) -> Option<(DetectorKind, f32)> {
        let digits: Vec<u8> = value.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
        if (13..=19).contains(&digits.len()) && luhn_valid(&digits) && card_prefix(&digits) {
            let grouped_well = !value.contains(' ') && !value.contains('-')
                || value.split([' ', '-']).all(|g| (3..=6).contains(&g.len()));
            if grouped_well {
                let confidence = if has_context(DetectorKind::PaymentCard) {
                    0.95
                } else {
                    0.8
                };
                return Some((DetectorKind::PaymentCard, confidence));
            }
        }
        if digits.len() == 9 && ssn_valid(&digits) {
            let dashed =
                value.len() == 11 && value.as_bytes().get(3) == Some(&b'-') && value.as_bytes().get(6) == Some(&b'-');
            return match (dashed, has_context(DetectorKind::UsSsn)) {
                (_, true) => Some((DetectorKind::UsSsn, 0.95)),
                (true, false) => Some((DetectorKind::UsSsn, 0.6)),
                (false, false) => None,
            };
        }
        if digits.len() == 12 && value.len() == 12 && vn_id_valid(&digits) {
            let confidence = if has_context(DetectorKind::VnCitizenId) {
                0.9
            } else {
                0.4
            };
            return Some((DetectorKind::VnCitizenId, confidence));
        }
        None
    }
}

/// The index in [`PATTERNS`] of bare digit runs (cards, SSNs, citizen ids).
const DIGIT_RUN: usize = 8;

/// Whether the digits at `start..end` are the fraction or the integer part of a
/// decimal number (`0.5175999999999999`, a float as spreadsheets store it, or
/// `4111111111111111.5`): no card or id number is written so (found by a blind test),
/// though one may carry a zero fraction.
/// Only a point counts: a comma also separates the columns of a card table
/// (`4111111111111111,12/27,123`).
fn in_decimal_number(text: &[u8], start: usize, end: usize) -> bool {
    let is_digit = |b: Option<&u8>| b.is_some_and(u8::is_ascii_digit);
    let before = start.checked_sub(1).and_then(|i| text.get(i));
    let two_before = start.checked_sub(2).and_then(|i| text.get(i));
    let fraction = text.get(end + 1..).unwrap_or_default();
    let fraction = fraction
        .get(..fraction.iter().take_while(|b| b.is_ascii_digit()).count())
        .unwrap_or_default();
    // `4539148803436467.0`, `536221234.00`: a card or SSN column that a tool wrote as
    // numbers (pandas, SQL DECIMAL) keeps a zero fraction (found in review).
    (before == Some(&b'.') && is_digit(two_before))
        || (text.get(end) == Some(&b'.') && fraction.iter().any(|b| *b != b'0'))
}

/// Whether the digits at `start` are the value of a `key=` or `key:` field whose key
/// names no card (`trace=459020438144633`, `session:…`): an identifier of a log or
/// configuration line. One random 15- or 16-digit id in thirty passes a card's issuer
/// prefix and Luhn check, so a large log held "bulk cards" (found by a blind test). A
/// card number keyed so is still read when a card context word is near or the key is
/// one (`cc=`, `pan=`).
fn is_keyed_identifier(text: &[u8], start: usize) -> bool {
    let Some(before) = text.get(..start) else {
        return false;
    };
    let Some((b'=' | b':', head)) = before.split_last() else {
        return false;
    };
    let key_len = head
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    let key = head
        .get(head.len() - key_len..)
        .unwrap_or_default()
        .to_ascii_lowercase();
    key_len > 0 && !key.windows(2).any(|pair| pair == b"cc") && !key.windows(3).any(|part| part == b"pan")
}

/// Uppercase alphanumerics only, so exclusions ignore separators and case.
fn compact(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    compact_into(value, &mut out);
    out
}

/// [`compact`] into a reused buffer.
fn compact_into(value: &str, out: &mut String) {
    out.clear();
    out.extend(
        value
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase()),
    );
}

/// Luhn checksum over digit values.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

fn card_prefix(digits: &[u8]) -> bool {
    let prefix = |n: usize| digits.iter().take(n).fold(0u32, |acc, d| acc * 10 + u32::from(*d));
    let len = digits.len();
    match digits.first() {
        Some(4) => matches!(len, 13 | 16 | 19),
        Some(5) => (51..=55).contains(&prefix(2)) && len == 16,
        Some(2) => (2221..=2720).contains(&prefix(4)) && len == 16,
        Some(3) => {
            (matches!(prefix(2), 34 | 37) && len == 15)
                || ((3528..=3589).contains(&prefix(4)) && len >= 16)
                || (matches!(prefix(2), 36 | 38 | 30) && len == 14)
        }
        Some(6) => (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3))) && len >= 16,
        _ => false,
    }
}

/// IBAN check: move the first four characters to the end, letters to numbers, mod 97 == 1.
pub fn iban_valid(iban: &str) -> bool {
    let (head, tail) = (iban.get(..4), iban.get(4..));
    let (Some(head), Some(tail)) = (head, tail) else {
        return false;
    };
    if !head.bytes().take(2).all(|b| b.is_ascii_uppercase()) {
        return false;
    }
    let mut remainder: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// US SSN rules: area not 000, 666 or 900-999; group not 00; serial not 0000.
pub fn ssn_valid(digits: &[u8]) -> bool {
    let number = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .map(|ds| ds.iter().fold(0u32, |acc, d| acc * 10 + u32::from(*d)))
    };
    match (number(0..3), number(3..5), number(5..9)) {
        (Some(area), Some(group), Some(serial)) => area != 0 && area != 666 && area < 900 && group != 0 && serial != 0,
        _ => false,
    }
}

/// Vietnamese CCCD: province code, then a century/sex digit 0-3.
pub fn vn_id_valid(digits: &[u8]) -> bool {
    let province = digits.iter().take(3).fold(0u16, |acc, d| acc * 10 + u16::from(*d));
    digits.len() == 12 && VN_PROVINCES.contains(&province) && digits.get(3).is_some_and(|d| *d <= 3)
}

/// Shannon entropy in bits per character.
pub fn entropy(value: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in value.bytes() {
        counts[usize::from(b)] += 1;
    }
    let len = value.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Aggregates detections by detector.
pub fn summarize(detections: &[Detection]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for d in detections {
        match findings.iter_mut().find(|f| f.detector == d.detector) {
            Some(f) => {
                f.count += 1;
                f.confidence = f.confidence.max(d.confidence);
            }
            None => findings.push(Finding {
                detector: d.detector,
                count: 1,
                distinct: 0,
                confidence: d.confidence,
            }),
        }
    }
    for finding in &mut findings {
        finding.distinct = distinct_values(
            detections
                .iter()
                .filter(|d| d.detector == finding.detector)
                .map(|d| d.value),
        );
    }
    findings.sort_by_key(|f| f.detector);
    findings
}

/// How many distinct [`Detection::value`]s `values` holds.
pub fn distinct_values(values: impl Iterator<Item = u64>) -> usize {
    let mut values: Vec<u64> = values.collect();
    values.sort_unstable();
    values.dedup();
    values.len()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::strategy::Strategy;

    /// The whole-text reading the gated scan must equal: every pattern over the whole
    /// text, context words found in one pass over the whole text.
    fn reference_scan(detectors: &Detectors, text: &str) -> Vec<Detection> {
        let context: Vec<(usize, DetectorKind)> = detectors
            .context
            .find_overlapping_iter(text)
            .filter_map(|m| {
                CONTEXT_WORDS
                    .get(m.pattern().as_usize())
                    .map(|(_, kind)| (m.start(), *kind))
            })
            .collect();
        let mut out = Vec::new();
        for m in detectors.regex.find_iter(text.as_bytes()) {
            let value = &text[m.start()..m.end()];
            if detectors.exclusions.contains(&compact(value)) {
                continue;
            }
            let (from, to) = (m.start().saturating_sub(CONTEXT_BEFORE), m.end() + CONTEXT_AFTER);
            let has_context =
                |kind: DetectorKind| context.iter().any(|(pos, k)| *k == kind && (from..=to).contains(pos));
            if let Some((detector, confidence)) = detectors.classify(m.pattern().as_usize(), value, &has_context) {
                out.push(Detection {
                    detector,
                    start: m.start(),
                    end: m.end(),
                    confidence,
                    value: detectors.values.hash_one(compact(value)),
                });
            }
        }
        out
    }

    const FRAGMENTS: &[&str] = &[
        "4539 1488 0343 6467",
        "4539148803436467",
        "GB82 WEST 1234 5698 7654 32",
        "123-45-6789",
        "079123456789",
        "+84 912 345 678",
        "+1 (415) 555-0123",
        "ana.rossi@example.org",
        "AKIAQ3EGRS7XYZ4BTJ2K",
        "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5",
        "xoxb-1234567890-abcdefghij",
        "api_key = \"Zx9Qm2Lr8Tv4Wp6Ks1Jd\"",
        "-----BEGIN RSA PRIVATE KEY-----",
        "visa card",
        "social security",
        "căn cước",
        "điện thoại",
        "phone",
        "tel",
        "bank account",
        "the quick brown fox",
        // Context words inside or overlapping others ("card" in "mastercard", "tel"
        // after "account").
        "Mastercard",
        "visaccountel",
        "ssnational idx",
    ];

    proptest::proptest! {
        /// Candidates with context words run together, overlapping or spread over
        /// several words, at distances that put the start of the candidate's window
        /// inside or next to them: the confidences are those of the whole-text reading.
        #[test]
        fn context_words_next_to_candidates_read_as_in_the_whole_text(
            parts in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        proptest::prop_oneof![
                            proptest::sample::select(CONTEXT_WORDS).prop_map(|(word, _)| word),
                            // Words with other words inside or across them.
                            proptest::sample::select(&["Mastercard", "visaccountel", "cardcvv", "ssnational id"][..]),
                        ],
                        1..4,
                    ),
                    proptest::sample::select(&["", " ", ", ", "\n"][..]),
                    90..106usize,
                    proptest::sample::select(&["z", " ", "a b"][..]),
                    proptest::sample::select(&["123456789", "4539 1488 0343 6467", "+39 347 123 4567", "079123456789", "DE89370400440532013000"][..]),
                ),
                1..6,
            ),
        ) {
            let detectors = Detectors::new(&[]).unwrap();
            let mut text = String::new();
            for (words, joint, distance, filler, candidate) in parts {
                text.push_str(&words.join(joint));
                // The candidate's window starts `CONTEXT_BEFORE` bytes before it: about
                // where the words end.
                let candidate_start = text.len() + distance;
                while text.len() + 1 < candidate_start {
                    text.push_str(filler);
                }
                text.push(' ');
                text.push_str(candidate);
                text.push('\n');
            }
            proptest::prop_assert_eq!(detectors.scan(&text), reference_scan(&detectors, &text));
        }
    }

    /// Context words are those of a search of the whole text, also where a candidate's
    /// window starts inside a word: every occurrence counts, so "card" inside
    /// "Mastercard" and "tel" across the end of "account" are read wherever a search
    /// starts (a review found the two cases read differently by a search started
    /// mid-word and one started at the text's start).
    #[test]
    fn context_words_are_read_as_in_the_whole_text() {
        let detectors = Detectors::new(&[]).unwrap();
        for text in [
            format!("Mastercard {} 4539 1488 0343 6467", "z".repeat(92)),
            format!("visaccountel {} +39 347 123 4567", "z".repeat(89)),
        ] {
            let found = detectors.scan(&text);
            assert!(!found.is_empty(), "{text:?}");
            assert_eq!(found, reference_scan(&detectors, &text), "{text:?}");
        }
    }

    proptest::proptest! {
        /// Searching only the lines that can hold a candidate, and context words only
        /// near candidates, finds what a search of the whole text finds.
        #[test]
        fn gated_scan_equals_the_whole_text_reading(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
                    "[0-9]{1,12}",
                    "[a-z ]{1,150}",
                ],
                0..30,
            ),
            separators in proptest::collection::vec(proptest::sample::select(&[" ", "\n", ", ", "\t", "\n\n"][..]), 30),
        ) {
            let detectors = Detectors::new(&[]).unwrap();
            let mut text = String::new();
            for (part, separator) in parts.iter().zip(separators) {
                text.push_str(part);
                text.push_str(separator);
            }
            proptest::prop_assert_eq!(detectors.scan(&text), reference_scan(&detectors, &text));
        }
    }
}
