//! Text written with its letters apart, `D ö r t e   S c h r ö d e r`, read again with
//! them joined (`Dörte Schröder`), for customer records only.
//!
//! Letter-spaced text hides every word from a scan that reads words: each letter is a
//! word of its own (found missed by a blind test, a name and an email written so). A run
//! is at least [`MIN_SPACED_LETTERS`] letters, each a character alone, apart by one
//! space; what parts the writer's words is two spaces or more, or a character that is no
//! letter (`S c h r ö d e r | d o r t e`). Where words are apart by one space too (`A n a
//! R o s s i`), nothing marks their ends; a capital after a small letter is read as one,
//! as names are written, besides the run joined whole (`AnaRossi` and `Ana Rossi`). Words
//! in one case written so stay one (`anarossi`): an email address has no space anyway.
//!
//! The joined text is a reading of its own (`Extraction::rereadings`), beside the text as
//! written, with up to [`CONTEXT_BYTES`] of the text around each run, so a name spaced
//! out is read with an email written plainly next to it, as close as they stand.

use std::ops::Range;

use crate::masks;

/// Fewest letters in a row a run holds: `a b c` is a list of variables, `J R R`
/// initials, `x = a + b - c * d` a formula.
const MIN_SPACED_LETTERS: usize = 4;

/// Bytes of text read again before and after each run: about the window in which two
/// fields of a customer count together (`EdmConfig::window_chars`, 300 by default).
pub(crate) const CONTEXT_BYTES: usize = 300;

/// The readings of `text` with its letter-spaced runs joined: none when it holds none,
/// else one per stretch of runs and the text around them, and another where a run holds
/// a small letter followed by a capital, with a space put between them.
pub(crate) fn joined_readings(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut from = 0;
    while let Some(at) = first_maybe_spaced(bytes, from) {
        let line_start = memchr::memrchr(b'\n', bytes.get(..at).unwrap_or_default()).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', bytes.get(at..).unwrap_or_default()).map_or(bytes.len(), |i| at + i);
        spaced_runs(text, line_start..line_end, &mut runs);
        from = line_end + 1;
    }
    let mut readings = Vec::new();
    let mut next = 0;
    while let Some(first) = runs.get(next) {
        // Runs whose contexts touch are read in one stretch.
        let (mut last, mut end) = (next, first.end);
        while let Some(run) = runs.get(last + 1).filter(|run| run.start <= end + 2 * CONTEXT_BYTES) {
            last += 1;
            end = run.end;
        }
        let stretch = context_start(text, first.start)..context_end(text, end);
        let group = runs.get(next..=last).unwrap_or_default();
        let (joined, split) = join_runs(text, stretch, group);
        readings.push(padded(&joined));
        readings.extend(split.as_deref().map(padded));
        next = last + 1;
    }
    readings
}

/// `reading` between two lines of [`CONTEXT_BYTES`] spaces: readings go after the text
/// of the file, and a reading next to its end is no nearer to it than the window (by
/// default) in which two fields count together, as the text around the run in the
/// reading already is; without the spaces, a name spaced out far before an email at the
/// end of the file was read beside it.
fn padded(reading: &str) -> String {
    let padding = " ".repeat(CONTEXT_BYTES);
    format!("{padding}\n{reading}\n{padding}")
}

/// Where a reading of the text before a run at `start` begins: [`CONTEXT_BYTES`] back, at
/// the start of a word or a line.
fn context_start(text: &str, start: usize) -> usize {
    let mut at = start.saturating_sub(CONTEXT_BYTES);
    while !text.is_char_boundary(at) {
        at += 1;
    }
    if at == 0 {
        return 0;
    }
    let tail = text.get(at..start).unwrap_or_default();
    tail.char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(start, |(i, c)| at + i + c.len_utf8())
}

/// Where a reading of the text after a run ending at `end` stops: [`CONTEXT_BYTES`] on,
/// at the end of a word or a line.
fn context_end(text: &str, end: usize) -> usize {
    let mut at = (end + CONTEXT_BYTES).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    if at == text.len() {
        return at;
    }
    let head = text.get(end..at).unwrap_or_default();
    head.rfind(char::is_whitespace).map_or(end, |i| end + i)
}

/// `text[stretch]` with each of `runs` (within it, in order) joined, and the space
/// alone between two runs kept as one: the reading, and when a run holds a small letter
/// followed by a capital, the reading with a space between them too.
fn join_runs(text: &str, stretch: Range<usize>, runs: &[Range<usize>]) -> (String, Option<String>) {
    let mut joined = String::with_capacity(stretch.len());
    let mut split = String::with_capacity(stretch.len());
    let mut has_split = false;
    let mut at = stretch.start;
    for (index, run) in runs.iter().enumerate() {
        let gap = text.get(at..run.start).unwrap_or_default();
        let between_runs = index > 0 && !gap.is_empty() && gap.bytes().all(|b| b == b' ');
        let gap = if between_runs { " " } else { gap };
        joined.push_str(gap);
        split.push_str(gap);
        let mut previous_small = false;
        for c in text.get(run.clone()).unwrap_or_default().chars().filter(|c| *c != ' ') {
            if previous_small && c.is_uppercase() {
                split.push(' ');
                has_split = true;
            }
            previous_small = c.is_lowercase();
            joined.push(c);
            split.push(c);
        }
        at = run.end;
    }
    let tail = text.get(at..stretch.end).unwrap_or_default();
    joined.push_str(tail);
    split.push_str(tail);
    (joined, has_split.then_some(split))
}

/// Appends to `runs` the letter-spaced runs of `text[line]`, in order: maximal runs of
/// characters each alone (no letter or digit beside it) and apart by one space, holding
/// at least [`MIN_SPACED_LETTERS`] letters in a row. A mark beside a letter does not keep it from
/// being alone (`P e t r o v,`), and is left out of the run.
fn spaced_runs(text: &str, line: Range<usize>, runs: &mut Vec<Range<usize>>) {
    let Some(part) = text.get(line.clone()) else {
        return;
    };
    // The run being read: its start, end (after its last character), and its longest
    // streak of letters with no mark between (`x = a + b - c` has none of two) and the
    // streak at its end.
    let mut open: Option<(usize, usize, usize, usize)> = None;
    let mut close = |open: &mut Option<(usize, usize, usize, usize)>| {
        if let Some((start, end, longest, _)) = open.take() {
            if longest >= MIN_SPACED_LETTERS {
                runs.push(line.start + start..line.start + end);
            }
        }
    };
    let mut previous: Option<char> = None;
    let mut chars = part.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let before = previous.replace(c);
        if c.is_whitespace() {
            continue;
        }
        let alone = !before.is_some_and(char::is_alphanumeric)
            && !chars.peek().is_some_and(|(_, next)| next.is_alphanumeric())
            && (c.is_alphanumeric() || before.is_none_or(char::is_whitespace));
        if !alone {
            close(&mut open);
            continue;
        }
        let end = at + c.len_utf8();
        let letter = c.is_alphabetic();
        open = match open {
            // One space since the run's last character: it goes on.
            Some((start, last_end, longest, streak))
                if at == last_end + 1 && part.as_bytes().get(last_end) == Some(&b' ') =>
            {
                let streak = if letter { streak + 1 } else { 0 };
                Some((start, end, longest.max(streak), streak))
            }
            _ => {
                close(&mut open);
                let streak = usize::from(letter);
                Some((at, end, streak, streak))
            }
        };
    }
    close(&mut open);
}

/// The first position at or after `from` where `bytes` may hold a letter-spaced run: two
/// letters alone between three spaces, `␣x␣y␣`, each an ASCII letter or a character of
/// two bytes (Latin, Greek, Cyrillic, Hebrew, Arabic letters). A run has such a pair in
/// its streak of letters. A run of which no two neighbours are so (of three-byte
/// letters: Vietnamese `ễ`, Thai, CJK, which is read by its characters anyway) is passed
/// over. Read 64 bytes at a time from masks of spaces, ASCII letters and non-ASCII
/// bytes (see docs/dlp-performance.md); a line where it holds is read again character
/// by character ([`spaced_runs`]). Letters, not any character: a table's rows are
/// joined with ` | ` and many of its cells are one digit (`2 | 4`), so every row of a
/// table of orders was read character by character (found by `custodia bench icap`: a
/// 1 MiB mail took 40% longer). Blocks overlap by 8 bytes so a pattern across two is
/// seen whole.
fn first_maybe_spaced(bytes: &[u8], from: usize) -> Option<usize> {
    const STEP: usize = 56;
    let mut base = from;
    while let Some(block) = bytes.get(base..bytes.len().min(base + 64)) {
        if block.len() < 5 {
            return None;
        }
        let (space, wide) = masks::block_masks(block, |l| l.any_of(b" "), masks::Lanes::non_ascii);
        let (ascii, _) = masks::block_masks(block, masks::Lanes::letter, masks::Lanes::digit);
        // Bit p: a space at p and the character after it alone before a space, an
        // ASCII letter (`␣a␣`) or a character of two bytes (`␣ж␣`).
        let one = space & (ascii >> 1) & (space >> 2);
        let two = space & (wide >> 1) & (wide >> 2) & (space >> 3);
        // Two such characters in a row: `␣a␣b␣`, `␣ж␣и␣`, `␣a␣ж␣`, `␣ж␣a␣`.
        let found = (one & (one >> 2)) | (two & (two >> 3)) | (one & (two >> 2)) | (two & (one >> 3));
        if found != 0 {
            return Some(base + found.trailing_zeros() as usize);
        }
        if block.len() < 64 {
            return None;
        }
        base += STEP;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The reading without the block detector: every line read character by character.
    fn every_line_reading(text: &str) -> Vec<Range<usize>> {
        let mut runs = Vec::new();
        let mut start = 0;
        for line in text.split('\n') {
            spaced_runs(text, start..start + line.len(), &mut runs);
            start += line.len() + 1;
        }
        runs
    }

    fn detected_runs(text: &str) -> Vec<Range<usize>> {
        let bytes = text.as_bytes();
        let mut runs = Vec::new();
        let mut from = 0;
        while let Some(at) = first_maybe_spaced(bytes, from) {
            let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
            let line_end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
            spaced_runs(text, line_start..line_end, &mut runs);
            from = line_end + 1;
        }
        runs
    }

    /// The readings without their padding.
    fn readings(text: &str) -> Vec<String> {
        joined_readings(text)
            .iter()
            .map(|reading| {
                let padding = " ".repeat(CONTEXT_BYTES);
                let inner = reading.strip_prefix(&format!("{padding}\n")).unwrap();
                inner.strip_suffix(&format!("\n{padding}")).unwrap().to_string()
            })
            .collect()
    }

    #[test]
    fn runs_are_joined_and_words_kept_apart() {
        let text = "To: D ö r t e   S c h r ö d e r | d o r t e . s c h r o d e r @ s c h r ö d e r . d e\nnext";
        assert_eq!(readings(text), ["To: Dörte Schröder|dorte.schroder@schröder.de\nnext"]);
        // Words apart by one space: read whole and at each capital after a small letter.
        assert_eq!(
            readings("Name: I v a n P e t r o v, tel"),
            ["Name: IvanPetrov, tel", "Name: Ivan Petrov, tel"]
        );
        assert_eq!(readings("Кому: И в а н   П е т р о в"), ["Кому: Иван Петров"]);
        // Tabs and line breaks part runs; a run goes on at most one space.
        assert_eq!(readings("a b c\td e f g\nh i j k"), ["a b c\tdefg\nhijk"]);
    }

    #[test]
    fn ordinary_text_holds_no_run() {
        for text in [
            "I am at a b c and x = a + b - c * d;",
            "J R R Tolkien, A B C grades, 1 2 3 4 5 6 7 8 9",
            "Y N Y",
            "на по и в с не у",
            "a  b  c  d  e",
            "",
            "a",
        ] {
            assert!(joined_readings(text).is_empty(), "{text:?}");
        }
    }

    /// A table's rows, joined with ` | `, with cells of one digit or mark, are not read
    /// character by character: the detector passes them over.
    #[test]
    fn rows_of_short_cells_are_passed_over() {
        let rows = "17 | 2024-05-18 | widget type 17 | 9 | 17.17 | x | - | orders@supplier.example\n".repeat(50);
        assert_eq!(first_maybe_spaced(rows.as_bytes(), 0), None);
        assert_eq!(first_maybe_spaced(b"1 | 2 | 3 | 4 | a | b", 0), None);
        assert_eq!(first_maybe_spaced(b"1 | 2 | a b c d", 0), Some(7));
    }

    /// The context read around a run starts and ends at whole words.
    #[test]
    fn context_is_whole_words() {
        let before = "word ".repeat(100);
        let text = format!("{before}A n a R o s s i {before}");
        let readings = readings(&text);
        assert_eq!(readings.len(), 2);
        assert!(
            readings[0].starts_with("word ") && readings[0].ends_with(" word"),
            "{readings:?}"
        );
        assert!(readings[0].len() <= 2 * CONTEXT_BYTES + "AnaRossi".len());
    }

    proptest::proptest! {
        /// The block detector passes over no line with a run.
        #[test]
        fn detector_misses_no_run(
            text in "([a-z é жиІ|.@,]{0,12}|[a-zж,] |  |\n){0,60}",
        ) {
            proptest::prop_assert_eq!(detected_runs(&text), every_line_reading(&text));
        }
    }
}
