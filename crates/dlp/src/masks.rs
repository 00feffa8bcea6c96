//! Byte classes of text blocks as bit masks: bit `i` of a block's mask is set when byte
//! `i` of the block is in the class. The scanners find words and runs from the masks'
//! bit transitions instead of testing byte by byte, which costs a branch mispredicted at
//! every word edge.
//!
//! Eight bytes are classified at a time in one 64-bit word (SWAR): with every byte's
//! high bit cleared first, adding `0x80 - lo` to a byte sets its high bit exactly when
//! the byte is at least `lo`, and never carries into the next byte. Bytes of non-ASCII
//! characters are in no class. Written by hand because the standard library's portable
//! SIMD is not stable and the workspace forbids the `unsafe` that `std::arch` loads need.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Eight bytes in SWAR form: their low seven bits, and which of them are ASCII.
#[derive(Clone, Copy)]
pub(crate) struct Lanes {
    low: u64,
    ascii: u64,
}

impl Lanes {
    fn of(bytes: [u8; 8]) -> Self {
        let x = u64::from_le_bytes(bytes);
        Self {
            low: x & !HIGH,
            ascii: !x & HIGH,
        }
    }

    /// The lanes of a chunk of at most eight bytes, zero-padded.
    fn of_short(chunk: &[u8]) -> Self {
        let mut bytes = [0u8; 8];
        if let Some(target) = bytes.get_mut(..chunk.len()) {
            target.copy_from_slice(chunk);
        }
        Self::of(bytes)
    }

    /// High bit of each byte set when the byte is at least `lo` (`lo` ASCII).
    fn at_least(self, lo: u8) -> u64 {
        self.low.wrapping_add(ONES * u64::from(0x80 - (lo & 0x7f)))
    }

    fn within(self, lo: u8, hi: u8) -> u64 {
        self.at_least(lo) & !self.at_least(hi.saturating_add(1)) & self.ascii
    }

    /// ASCII digits.
    pub(crate) fn digit(self) -> u64 {
        self.within(b'0', b'9')
    }

    /// ASCII letters and digits.
    pub(crate) fn alphanumeric(self) -> u64 {
        // ORing 0x20 maps upper to lower case and no other byte into a..=z.
        let folded = Self {
            low: self.low | (ONES * 0x20),
            ascii: self.ascii,
        };
        self.digit() | folded.within(b'a', b'z')
    }
}

/// The mask of `block` (up to 64 bytes) for `class`, which maps eight bytes to their
/// high bits (set for bytes in the class).
pub(crate) fn mask(block: &[u8], class: impl Fn(Lanes) -> u64) -> u64 {
    // Gathers the eight flag bits (at bits 0, 8, ...) into one byte, in order.
    let flags = |lanes: Lanes| ((class(lanes) & HIGH) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    let mut mask = 0u64;
    // Whole chunks as fixed-size loads; only a block's short tail is copied.
    let mut chunks = block.chunks_exact(8);
    let mut shift = 0;
    for chunk in chunks.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        mask |= flags(Lanes::of(bytes)) << shift;
        shift += 8;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        mask |= flags(Lanes::of_short(tail)) << shift;
    }
    // Padding lanes of a short last chunk are zero bytes, in no class but kept out anyway.
    match block.len() {
        64.. => mask,
        len => mask & ((1u64 << len) - 1),
    }
}

/// A set of bytes, as a table: tested once per byte of a run.
pub(crate) type ByteSet = [bool; 256];

/// The [`ByteSet`] of the ASCII alphanumerics and `extra`.
pub(crate) const fn alphanumeric_and(extra: &[u8]) -> ByteSet {
    let mut set = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        set[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    with_bytes(extra, set)
}

/// The [`ByteSet`] of the ASCII digits and `extra`.
pub(crate) const fn digits_and(extra: &[u8]) -> ByteSet {
    let mut set = [false; 256];
    let mut byte = b'0';
    while byte <= b'9' {
        set[byte as usize] = true;
        byte += 1;
    }
    with_bytes(extra, set)
}

/// `set` and every non-ASCII byte: a run of such a set holds whole characters.
pub(crate) const fn and_non_ascii(mut set: ByteSet) -> ByteSet {
    let mut byte = 0x80;
    while byte < 256 {
        set[byte] = true;
        byte += 1;
    }
    set
}

const fn with_bytes(extra: &[u8], mut set: ByteSet) -> ByteSet {
    let mut index = 0;
    while index < extra.len() {
        set[extra[index] as usize] = true;
        index += 1;
    }
    set
}

/// Calls `visit` with every maximal run of bytes in `class` (a set holding the ASCII
/// digits) within `span` of `bytes` that holds an ASCII digit, in order. Runs are found
/// from their digits, which the digit masks locate a block at a time: runs without one,
/// most of any text, are never walked.
pub(crate) fn for_each_run_with_digit(
    bytes: &[u8],
    span: std::ops::Range<usize>,
    class: &ByteSet,
    mut visit: impl FnMut(std::ops::Range<usize>),
) {
    let end = span.end.min(bytes.len());
    let in_class = |index: usize| bytes.get(index).is_some_and(|b| class[usize::from(*b)]);
    // Bytes before this are in a run already visited.
    let mut covered = span.start;
    let mut base = span.start;
    while let Some(block) = bytes.get(base..end.min(base + 64)).filter(|b| !b.is_empty()) {
        let mut digits = mask(block, Lanes::digit);
        while digits != 0 {
            let at = base + digits.trailing_zeros() as usize;
            digits &= digits - 1;
            if at < covered {
                continue;
            }
            let mut start = at;
            while start > span.start && in_class(start - 1) {
                start -= 1;
            }
            let mut stop = at + 1;
            while stop < end && in_class(stop) {
                stop += 1;
            }
            covered = stop;
            visit(start..stop);
        }
        base += block.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(class: impl Fn(Lanes) -> u64, reference: impl Fn(u8) -> bool) {
        let all: Vec<u8> = (0..=255u8).collect();
        let mixed: Vec<u8> = all.iter().rev().chain(&all).copied().step_by(3).collect();
        for bytes in [&all, &mixed] {
            for block in bytes.chunks(64).chain([&bytes[3..50], &bytes[..0], &bytes[40..47]]) {
                let expected = block
                    .iter()
                    .enumerate()
                    .fold(0u64, |mask, (bit, byte)| mask | (u64::from(reference(*byte)) << bit));
                assert_eq!(mask(block, &class), expected, "{block:?}");
            }
        }
    }

    /// The byte-by-byte reading of [`for_each_run_with_digit`].
    fn reference_runs(bytes: &[u8], class: &ByteSet) -> Vec<std::ops::Range<usize>> {
        let mut runs = Vec::new();
        let mut start = None;
        for index in 0..=bytes.len() {
            match (bytes.get(index).is_some_and(|b| class[usize::from(*b)]), start) {
                (true, None) => start = Some(index),
                (false, Some(begin)) => {
                    if bytes[begin..index].iter().any(u8::is_ascii_digit) {
                        runs.push(begin..index);
                    }
                    start = None;
                }
                _ => {}
            }
        }
        runs
    }

    proptest::proptest! {
        #[test]
        fn runs_equal_the_byte_by_byte_reading(
            text in "([a-z0-9 ._é-]{1,70}|\\PC|[0-9]{60,80}|[a-z]{60,80}){0,12}",
            skip in 0..5usize,
            trim in 0..5usize,
        ) {
            let bytes = text.as_bytes();
            let end = bytes.len().saturating_sub(trim);
            let start = skip.min(end);
            for class in [alphanumeric_and(b"."), digits_and(b" -")] {
                let mut got = Vec::new();
                for_each_run_with_digit(bytes, start..end, &class, |run| got.push(run));
                let reference: Vec<_> = reference_runs(&bytes[start..end], &class)
                    .into_iter()
                    .map(|run| run.start + start..run.end + start)
                    .collect();
                proptest::prop_assert_eq!(got, reference);
            }
        }
    }

    #[test]
    fn masks_flag_exactly_the_bytes_of_their_class() {
        check(Lanes::digit, |b| b.is_ascii_digit());
        check(Lanes::alphanumeric, |b| b.is_ascii_alphanumeric());
    }
}
