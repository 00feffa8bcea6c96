//! Any bytes through the bounded extractor and the whole inspector: must never panic,
//! and must stay within small limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = dlp::Limits {
        max_depth: 3,
        max_expanded_bytes: 4 << 20,
        max_ratio: 100,
        max_members: 64,
        max_work_bytes: 8 << 20,
    };
    let extraction = dlp::extract::extract(data, &limits);
    for segment in &extraction.segments {
        // Segments are text: re-tokenizing them must not panic either.
        let _ = dlp::normalize::tokens(&segment.text);
    }
});
