//! Text normalization shared by exact data match and fingerprints: NFKD, diacritics
//! dropped, case folded, a few letters without decomposition mapped by hand
//! (đ, ø, ł, ß, æ, œ, þ), address words abbreviated, tokens split on non-alphanumerics.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// One normalized word and where it was found (byte offsets into the source text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Normalized form.
    pub text: String,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset after the last character.
    pub end: usize,
}

/// Folds one string: compatibility decomposition, marks dropped, lowercase.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'þ' | 'Þ' => out.push_str("th"),
            other => out.extend(other.to_lowercase()),
        }
    }
    out
}

/// Common address words reduced to their postal abbreviation, so "Street" and "St."
/// hash the same.
fn canonical_word(word: &str) -> &str {
    match word {
        "street" => "st",
        "avenue" => "ave",
        "road" => "rd",
        "boulevard" => "blvd",
        "drive" => "dr",
        "lane" => "ln",
        "court" => "ct",
        "place" => "pl",
        "square" => "sq",
        "apartment" => "apt",
        "suite" => "ste",
        "floor" => "fl",
        "north" => "n",
        "south" => "s",
        "east" => "e",
        "west" => "w",
        other => other,
    }
}

/// Splits `text` into normalized alphanumeric tokens with their byte positions.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (index, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let word_char = c.is_alphanumeric() || is_combining_mark(c);
        match (word_char, start) {
            (true, None) => start = Some(index),
            (false, Some(begin)) => {
                let raw = text.get(begin..index).unwrap_or_default();
                let folded = fold(raw);
                let canonical = canonical_word(&folded);
                // Folding may split a token (e.g. a ligature with a space); keep alphanumerics.
                let text: String = canonical.chars().filter(|c| c.is_alphanumeric()).collect();
                if !text.is_empty() {
                    out.push(Token {
                        text,
                        start: begin,
                        end: index,
                    });
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Collapses a whole value to its normalized tokens joined by single spaces.
pub fn normalized_words(text: &str) -> Vec<String> {
    tokens(text).into_iter().map(|t| t.text).collect()
}
