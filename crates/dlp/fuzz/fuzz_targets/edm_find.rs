//! Any text through exact data match against a small fixed index, as table rows and as
//! prose: must never panic, and every reported position must lie inside the text.
#![no_main]

use std::sync::LazyLock;

use dlp::extract::Segment;
use dlp::{EdmConfig, EdmIndex, EdmKey, FieldKind};
use libfuzzer_sys::fuzz_target;

static INDEX: LazyLock<EdmIndex> = LazyLock::new(|| {
    let mut index = EdmIndex::new(&EdmKey::from_bytes([9; 32]), EdmConfig::default());
    index.add(
        "c-1",
        &[
            (FieldKind::Name, "Ana Maria Rossi"),
            (FieldKind::Email, "ana.rossi@example.com"),
            (FieldKind::Phone, "+39 347 123 4567"),
            (FieldKind::Address, "12 Via Roma, 00100 Roma"),
            (FieldKind::CustomerId, "CU-000123"),
        ],
        Some("IT"),
    );
    index
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let segments: Vec<Segment> = text
        .split('\n')
        .enumerate()
        .map(|(i, line)| Segment {
            rows: if i % 2 == 0 { vec![(0, line.len())] } else { Vec::new() },
            text: line.to_string(),
            source: String::new(),
        })
        .collect();
    let stream_len: usize = segments.iter().map(|s| s.text.len() + 1).sum();
    for customer in INDEX.find(&segments).customers {
        for hit in customer.hits {
            assert!(hit.start <= hit.end && hit.end <= stream_len);
        }
    }
    let _ = INDEX.find_in_text(&text);
});
