//! Which lines of a text can hold a candidate, found in one pass before any pattern runs.
//!
//! No candidate pattern of a scan (emails, phone-like and id-like runs, the detectors'
//! digit and email patterns) matches across a line break, and each needs a byte of a known
//! class: an ASCII digit or an `@`. Searching only the lines that hold such a byte finds
//! exactly the matches a search of the whole text finds, while most lines of ordinary
//! prose are skipped without running a pattern. Words are read by paragraphs instead,
//! since a name or address may run on over a line break ("Dear Ananya\nBanerjee") but
//! not over a line without a word: an address with a house number lies in a paragraph
//! with a numeral, so exact data match reads the words of other paragraphs only near
//! hits found elsewhere.

use std::ops::Range;

use crate::{masks, normalize};

/// An ASCII digit.
pub(crate) const DIGIT: u8 = 1;
/// An `@`.
pub(crate) const AT: u8 = 2;
/// A character that normalizes to an ASCII digit: an ASCII digit or, say, a fullwidth
/// or superscript one (see [`normalize::may_fold_to_ascii_digit`]).
pub(crate) const NUMERAL: u8 = 4;
/// A byte of a word: an ASCII letter or digit, or a byte of a non-ASCII character.
pub(crate) const WORD: u8 = 8;

/// The classes of bytes each line of one text holds.
#[derive(Debug, Default)]
pub(crate) struct LineClasses {
    /// Line spans (without their `\n`) and the classes of bytes each holds, in order.
    lines: Vec<(Range<usize>, u8)>,
}

impl LineClasses {
    /// Reads the classes of every line of `text`.
    ///
    /// Read 64 bytes at a time from masks of line breaks and of each class: this reads
    /// every byte of every scanned text. Only a line with no ASCII digit and a byte that
    /// may start a character normalizing to one ([`may_start_numeral`]) is read again,
    /// character by character.
    pub(crate) fn of(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut lines = Vec::with_capacity(bytes.len() / 64 + 1);
        // The line being read: its start, and the classes of its bytes so far, with
        // SUSPECT for a byte that may start a numeral.
        const SUSPECT: u8 = 128;
        let (mut start, mut held) = (0, 0u8);
        let mut close = |start: usize, end: usize, held: u8| {
            let line = text.get(start..end).unwrap_or_default();
            let numeral =
                held & DIGIT != 0 || (held & SUSPECT != 0 && line.chars().any(normalize::may_fold_to_ascii_digit));
            lines.push((
                start..end,
                (held & (DIGIT | AT | WORD)) | if numeral { NUMERAL } else { 0 },
            ));
        };
        for (base, block) in (0..).step_by(64).zip(bytes.chunks(64)) {
            let [mut breaks, digit, at, word, suspect] = masks::block_class_masks(block, |lanes| {
                [
                    lanes.any_of(b"\n"),
                    lanes.digit(),
                    lanes.any_of(b"@"),
                    lanes.alphanumeric() | lanes.non_ascii(),
                    may_start_numeral(lanes),
                ]
            });
            let mut from = 0;
            loop {
                let end = if breaks == 0 { 64 } else { breaks.trailing_zeros() };
                // Bits `from..end` of the block: the part of the line in it.
                let part = u64::MAX.checked_shl(from).unwrap_or(0) & u64::MAX.checked_shr(64 - end).unwrap_or(0);
                for (mask, class) in [(digit, DIGIT), (at, AT), (word, WORD), (suspect, SUSPECT)] {
                    if mask & part != 0 {
                        held |= class;
                    }
                }
                if breaks == 0 {
                    break;
                }
                let line_end = base + end as usize;
                close(start, line_end, held);
                (start, held, from) = (line_end + 1, 0, end + 1);
                breaks &= breaks - 1;
            }
        }
        close(start, bytes.len(), held);
        Self { lines }
    }

    /// Every line marked as holding every class: searching by it searches everything
    /// (the reference the gated searches are tested against).
    #[cfg(test)]
    pub(crate) fn every_line(text: &str) -> Self {
        let mut start = 0;
        let mut lines = Vec::new();
        for line in text.split('\n') {
            lines.push((start..start + line.len(), DIGIT | AT | NUMERAL | WORD));
            start += line.len() + 1;
        }
        Self { lines }
    }

    /// Spans of consecutive lines that each hold a byte of a class in `wanted`, merged,
    /// in text order.
    pub(crate) fn spans(&self, wanted: u8) -> impl Iterator<Item = Range<usize>> + '_ {
        self.partition(wanted).filter(|(_, holds)| *holds).map(|(span, _)| span)
    }

    /// The paragraphs of the text, in order, each with whether one of its lines holds a
    /// byte of a class in `wanted`. A paragraph is a maximal run of lines with a [`WORD`]
    /// byte: words two line breaks apart are never read as one name or address, so no
    /// candidate runs over a line without a word. Lines without one are left out: they
    /// hold nothing to read.
    pub(crate) fn paragraphs(&self, wanted: u8) -> impl Iterator<Item = (Range<usize>, bool)> + '_ {
        let mut lines = self.lines.iter().filter(|(_, classes)| classes & WORD != 0).peekable();
        std::iter::from_fn(move || {
            let (first, classes) = lines.next()?;
            let mut holds = classes & wanted != 0;
            let mut span = first.clone();
            // The next line with a word continues the paragraph when it follows at once.
            while let Some((next, classes)) = lines.next_if(|(next, _)| next.start == span.end + 1) {
                holds |= classes & wanted != 0;
                span.end = next.end;
            }
            Some((span, holds))
        })
    }

    /// The whole text cut into maximal spans of consecutive lines that do or do not hold
    /// a byte of a class in `wanted`, each with that answer, in text order.
    pub(crate) fn partition(&self, wanted: u8) -> impl Iterator<Item = (Range<usize>, bool)> + '_ {
        let mut lines = self.lines.iter().peekable();
        std::iter::from_fn(move || {
            let (first, classes) = lines.next()?;
            let holds = classes & wanted != 0;
            let mut span = first.clone();
            while let Some((next, _)) = lines.next_if(|(_, classes)| (classes & wanted != 0) == holds) {
                span.end = next.end;
            }
            Some((span, holds))
        })
    }
}

/// Where a byte may start the UTF-8 encoding of a character that normalizes to an ASCII
/// digit: the leads of U+00C0..U+037F (Latin letters, combining marks, Greek) and of
/// U+1000..U+1FFF (Vietnamese and other Latin letters among them) start none, so lines
/// of European and Vietnamese text are not decoded.
fn may_start_numeral(lanes: masks::Lanes) -> wide::i8x16 {
    lanes.within(0xC2, 0xFF) & !lanes.within(0xC3, 0xCD) & !lanes.any_of(&[0xE1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, wanted: u8, expected: &[&str]) {
        let lines = LineClasses::of(text);
        let spans: Vec<&str> = lines.spans(wanted).map(|s| &text[s]).collect();
        assert_eq!(spans, expected, "spans of {text:?}");
        let parts: Vec<(&str, bool)> = lines.partition(wanted).map(|(s, holds)| (&text[s], holds)).collect();
        let rebuilt: Vec<&str> = parts.iter().map(|(s, _)| *s).collect();
        assert_eq!(rebuilt.join("\n"), text, "the partition covers the text");
        let holding: Vec<&str> = parts.iter().filter(|(_, holds)| *holds).map(|(s, _)| *s).collect();
        assert_eq!(holding, expected, "the partition's holding spans are the spans");
    }

    fn starts_numeral(byte: u8) -> bool {
        masks::block_class_masks(&[byte], |lanes| [may_start_numeral(lanes)])[0] != 0
    }

    /// No character whose encoding starts with a lead byte passed over folds to a digit.
    #[test]
    fn lead_bytes_passed_over_start_no_numeral() {
        let mut passed = 0;
        for c in (0x80..=0x10FFFF).filter_map(char::from_u32) {
            let mut encoded = [0u8; 4];
            let lead = c.encode_utf8(&mut encoded).as_bytes()[0];
            if !starts_numeral(lead) {
                passed += 1;
                assert!(!normalize::may_fold_to_ascii_digit(c), "{c:?} (U+{:04X})", u32::from(c));
            }
        }
        assert!(passed > 4000, "{passed}");
        assert!(!(0..0x80).any(starts_numeral), "ASCII digits are found as such");
    }

    proptest::proptest! {
        /// The classes read from masks are those of a reading of each line's characters,
        /// for lines shorter and longer than a block and breaks at any place in one.
        #[test]
        fn classes_are_those_of_each_lines_characters(
            text in r"([a-z ]{0,70}|[0-9]|@|\n|\n\n|é|²|１|٣|Số|ễ|\PC){0,40}",
        ) {
            let expected: Vec<(usize, u8)> = text
                .split('\n')
                .map(|line| {
                    let digit = line.bytes().any(|b| b.is_ascii_digit());
                    let classes = [
                        (digit, DIGIT),
                        (line.contains('@'), AT),
                        (line.chars().any(normalize::may_fold_to_ascii_digit), NUMERAL),
                        (line.bytes().any(|b| b.is_ascii_alphanumeric() || !b.is_ascii()), WORD),
                    ];
                    let held = classes.iter().filter(|(held, _)| *held);
                    (line.len(), held.fold(0, |all, (_, class)| all | class))
                })
                .collect();
            let got: Vec<(usize, u8)> = LineClasses::of(&text)
                .lines
                .iter()
                .map(|(span, classes)| (span.len(), *classes))
                .collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }

    /// Paragraphs: runs of lines with a word, apart at lines without one.
    #[test]
    fn paragraphs_end_at_lines_without_a_word() {
        let text = "Dear Ananya\nBanerjee, see\n\nlist 7\n -- \nNguyễn\nend\n\n";
        let lines = LineClasses::of(text);
        let paragraphs: Vec<(&str, bool)> = lines.paragraphs(NUMERAL).map(|(s, holds)| (&text[s], holds)).collect();
        assert_eq!(
            paragraphs,
            [
                ("Dear Ananya\nBanerjee, see", false),
                ("list 7", true),
                ("Nguyễn\nend", false)
            ]
        );
        assert_eq!(LineClasses::of("").paragraphs(NUMERAL).count(), 0);
    }

    #[test]
    fn spans_are_the_lines_holding_a_wanted_byte_merged() {
        check("", DIGIT, &[]);
        check("no numbers here", DIGIT, &[]);
        check(
            "call 555\nthen\n2 more\n3 lines\nend",
            DIGIT,
            &["call 555", "2 more\n3 lines"],
        );
        check("a@b\nplain\n", AT, &["a@b"]);
        check("Nguyễn\nplain\n9", DIGIT, &["9"]);
        check("a@b\nplain\n9", AT | DIGIT, &["a@b", "9"]);
        // Numerals: ASCII digits and characters that normalize to digits, not other
        // scripts' digits (they stay as they are) nor Vietnamese letters.
        check(
            "Số １２ Lê Lợi\nNguyễn Văn An\nx²\n٣\n7",
            NUMERAL,
            &["Số １２ Lê Lợi", "x²", "7"],
        );
        check("Nguyễn Văn An\n7", NUMERAL, &["7"]);
        check("\n\n1\n\n", DIGIT, &["1"]);
        check("a b\n - \n7", WORD, &["a b", "7"]);
        // A wanted byte past the first 64-byte chunk of a long line.
        let long = format!("{}7", "x".repeat(200));
        check(&long, DIGIT, &[long.as_str()]);
    }
}
