//! Byte classes of text blocks as bit masks: bit `i` of a block's mask is set when byte
//! `i` of the block is in the class. The scanners find words and runs from the masks'
//! bit transitions instead of testing byte by byte, which costs a branch mispredicted at
//! every word edge.
//!
//! Sixteen bytes are classified at a time with SIMD comparisons (SSE2 on x86-64) through
//! the `wide` crate: the workspace forbids the `unsafe` that `std::arch` calls need. A
//! class is a function of [`Lanes`] built from its comparisons.

use wide::i8x16;

/// Sixteen bytes, as signed lanes: a non-ASCII byte is negative, so a comparison with an
/// ASCII range never holds for it.
#[derive(Clone, Copy)]
pub(crate) struct Lanes(i8x16);

impl Lanes {
    fn of(bytes: [u8; 16]) -> Self {
        Self(i8x16::new(bytes.map(|b| b as i8)))
    }

    /// Bytes within `lo..=hi`, both ASCII or both not: compared as signed lanes, whose
    /// order is the bytes' own on either side of 0x80.
    pub(crate) fn within(self, lo: u8, hi: u8) -> i8x16 {
        debug_assert!(lo.is_ascii() == hi.is_ascii(), "a range on both sides of 0x80");
        !(self.0.simd_lt(i8x16::splat(lo as i8)) | self.0.simd_gt(i8x16::splat(hi as i8)))
    }

    fn is(self, byte: u8) -> i8x16 {
        self.0.simd_eq(i8x16::splat(byte as i8))
    }

    /// ASCII digits.
    pub(crate) fn digit(self) -> i8x16 {
        self.within(b'0', b'9')
    }

    /// ASCII letters.
    pub(crate) fn letter(self) -> i8x16 {
        // ORing 0x20 maps upper to lower case and no other byte into a..=z.
        Self(self.0 | i8x16::splat(0x20)).within(b'a', b'z')
    }

    /// ASCII letters and digits.
    pub(crate) fn alphanumeric(self) -> i8x16 {
        self.digit() | self.letter()
    }

    /// Bytes of non-ASCII characters.
    pub(crate) fn non_ascii(self) -> i8x16 {
        self.0.simd_lt(i8x16::splat(0))
    }

    /// Bytes equal to one of `bytes`.
    pub(crate) fn any_of(self, bytes: &[u8]) -> i8x16 {
        bytes.iter().fold(i8x16::splat(0), |acc, byte| acc | self.is(*byte))
    }
}

/// The masks of `block` (up to 64 bytes) for two classes, from one load of its bytes.
#[inline]
pub(crate) fn block_masks(block: &[u8], first: impl Fn(Lanes) -> i8x16, second: impl Fn(Lanes) -> i8x16) -> (u64, u64) {
    let [a, b] = block_class_masks(block, |lanes| [first(lanes), second(lanes)]);
    (a, b)
}

/// The masks of `block` (up to 64 bytes) for the `N` classes `classes` gives, from one
/// load of its bytes.
#[inline]
pub(crate) fn block_class_masks<const N: usize>(block: &[u8], classes: impl Fn(Lanes) -> [i8x16; N]) -> [u64; N] {
    debug_assert!(block.len() <= 64, "a block of {} bytes", block.len());
    let mut masks = [0u64; N];
    // A whole block, nearly every one of a text, as four arrays of a size the compiler
    // knows: four loads and fixed shifts. Through the general loop below, each chunk was
    // copied by its run-time length and shifted by a variable.
    if let Some((chunks, [])) = block.first_chunk::<64>().map(|whole| whole.as_chunks::<16>()) {
        for (index, chunk) in chunks.iter().enumerate() {
            for (mask, class) in masks.iter_mut().zip(classes(Lanes::of(*chunk))) {
                *mask |= u64::from(class.to_bitmask()) << (16 * index);
            }
        }
        return masks;
    }
    for (index, chunk) in block.chunks(16).enumerate() {
        let mut bytes = [0u8; 16];
        if let Some(target) = bytes.get_mut(..chunk.len()) {
            target.copy_from_slice(chunk);
        }
        for (mask, class) in masks.iter_mut().zip(classes(Lanes::of(bytes))) {
            *mask |= u64::from(class.to_bitmask()) << (16 * index);
        }
    }
    // Padding lanes of a short last chunk are zero bytes, in no class but kept out anyway.
    let valid = match block.len() {
        64.. => u64::MAX,
        len => (1u64 << len) - 1,
    };
    masks.map(|mask| mask & valid)
}

/// Calls `visit` with every maximal run of bytes in `class` (a class holding the ASCII
/// digits) within `span` of `bytes` that holds an ASCII digit, in order. Runs are found
/// from their digits and the class's mask, a block of 64 bytes at a time: runs without a
/// digit, most of any text, are never walked, and no run is walked byte by byte.
pub(crate) fn for_each_run_with_digit(
    bytes: &[u8],
    span: std::ops::Range<usize>,
    class: impl Fn(Lanes) -> i8x16,
    mut visit: impl FnMut(std::ops::Range<usize>),
) {
    let end = span.end.min(bytes.len());
    let mut base = span.start;
    // Where the run holding the next block's first byte starts: just after the last byte
    // outside the class so far. While `pending`, the start of a run with a digit that
    // reached the end of the blocks read so far.
    let mut run_start = span.start;
    let mut pending = false;
    while let Some(block) = bytes.get(base..end.min(base + 64)).filter(|b| !b.is_empty()) {
        let (mut digits, in_class) = block_masks(block, Lanes::digit, &class);
        // Bits past a short last block are clear in the mask, so they count as outside
        // the class: runs stop at the span's end.
        let outside = !in_class;
        if pending {
            if outside == 0 {
                base += 64;
                continue;
            }
            let stop = outside.trailing_zeros();
            visit(run_start..base + stop as usize);
            pending = false;
            digits &= u64::MAX << stop;
        }
        while digits != 0 {
            let at = digits.trailing_zeros();
            let below = outside & ((1u64 << at) - 1);
            let start = match below {
                0 => run_start,
                _ => base + 64 - below.leading_zeros() as usize,
            };
            // Bits above `at`; none when it is the block's last.
            let above = outside & !(2u64 << at).wrapping_sub(1);
            if above == 0 {
                run_start = start;
                pending = true;
                break;
            }
            let stop = above.trailing_zeros();
            visit(start..base + stop as usize);
            digits &= u64::MAX << stop;
        }
        if !pending && outside != 0 {
            run_start = base + 64 - outside.leading_zeros() as usize;
        }
        base += block.len();
    }
    if pending {
        visit(run_start..end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(class: impl Fn(Lanes) -> i8x16, reference: impl Fn(u8) -> bool) {
        let all: Vec<u8> = (0..=255u8).collect();
        let mixed: Vec<u8> = all.iter().rev().chain(&all).copied().step_by(3).collect();
        for bytes in [&all, &mixed] {
            for block in bytes.chunks(64).chain([&bytes[3..50], &bytes[..0], &bytes[40..47]]) {
                let expected = block
                    .iter()
                    .enumerate()
                    .fold(0u64, |mask, (bit, byte)| mask | (u64::from(reference(*byte)) << bit));
                assert_eq!(block_masks(block, &class, Lanes::digit).0, expected, "{block:?}");
            }
        }
    }

    type Class<'a> = &'a dyn Fn(Lanes) -> i8x16;
    type Reference<'a> = &'a dyn Fn(u8) -> bool;

    /// The byte-by-byte reading of [`for_each_run_with_digit`].
    fn reference_runs(bytes: &[u8], class: impl Fn(u8) -> bool) -> Vec<std::ops::Range<usize>> {
        let mut runs = Vec::new();
        let mut start = None;
        for index in 0..=bytes.len() {
            match (bytes.get(index).is_some_and(|b| class(*b)), start) {
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
            text in "([a-z0-9 ._é-]{1,70}|\\PC|[0-9]{60,80}|[a-z]{60,80}|[0-9 ]{60,140}|[é ]{60,80}){0,12}",
            skip in 0..70usize,
            trim in 0..70usize,
        ) {
            let bytes = text.as_bytes();
            let end = bytes.len().saturating_sub(trim);
            let start = skip.min(end);
            let classes: [(Class, Reference); 3] = [
                (&|l: Lanes| l.alphanumeric() | l.any_of(b"."), &|b: u8| b.is_ascii_alphanumeric() || b == b'.'),
                (&|l: Lanes| l.digit() | l.any_of(b" -"), &|b: u8| b.is_ascii_digit() || b" -".contains(&b)),
                (&|l: Lanes| l.digit() | l.any_of(b" ") | l.non_ascii(), &|b: u8| b.is_ascii_digit() || b == b' ' || b >= 0x80),
            ];
            for (class, reference) in classes {
                let mut got = Vec::new();
                for_each_run_with_digit(bytes, start..end, class, |run| got.push(run));
                let reference: Vec<_> = reference_runs(&bytes[start..end], reference)
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
        check(Lanes::non_ascii, |b| !b.is_ascii());
        check(|l| l.any_of(b"-_ \t("), |b| b"-_ \t(".contains(&b));
        check(|l| l.within(0xC2, 0xFF), |b| b >= 0xC2);
        check(|l| l.within(0x80, 0xBF), |b| (0x80..=0xBF).contains(&b));
        check(|l| l.within(0, 0x7F), |b| b.is_ascii());
        check(
            |l| l.alphanumeric() | l.any_of(b"#."),
            |b| b.is_ascii_alphanumeric() || b"#.".contains(&b),
        );
    }
}
