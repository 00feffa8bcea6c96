#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Evidence bundles: round trip, every-byte tamper detection, foreign keys, versions.

mod common;

use std::io::{Cursor, Read, Write};

use ledger::{export_bundle, verify_bundle, BundleError, BundleSummary};

fn summary() -> BundleSummary {
    BundleSummary {
        title: "case 17".into(),
        exported_by: "auditor-1".into(),
        exported_at: 1_700_000_000_000,
        notes: "departing employee review".into(),
    }
}

fn small_bundle() -> Vec<u8> {
    let ledger = common::filled(13);
    export_bundle(ledger.store(), &common::key(), &[4, 11, 4], &summary()).unwrap()
}

#[test]
fn bundle_round_trips_and_is_deterministic() {
    let ledger = common::filled(13);
    let a = export_bundle(ledger.store(), &common::key(), &[11, 4], &summary()).unwrap();
    let b = export_bundle(ledger.store(), &common::key(), &[4, 11, 4], &summary()).unwrap();
    assert_eq!(a, b, "same selection, same bytes");
    let report = verify_bundle(&a, Some(&common::key().verifying_key())).unwrap();
    assert_eq!(report.entries.iter().map(|e| e.index).collect::<Vec<_>>(), vec![4, 11]);
    assert_eq!(report.checkpoint.size, 13);
    assert!(report.summary.contains("case 17"));
    let mut zip = zip::ZipArchive::new(Cursor::new(&a)).unwrap();
    let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    for name in [
        "VERSION",
        "public-key.vkey",
        "checkpoint.note",
        "entries/4.bin",
        "entries/4.json",
        "proofs/4.proof",
        "summary.txt",
        "manifest.note",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    let mut json = String::new();
    zip.by_name("entries/4.json")
        .unwrap()
        .read_to_string(&mut json)
        .unwrap();
    assert!(json.contains("\"customer\"") && json.contains("cust-4"), "{json}");
}

#[test]
fn changing_any_byte_fails_verification() {
    let bytes = small_bundle();
    verify_bundle(&bytes, None).unwrap();
    // every position, two different changes each
    for pos in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = bytes.clone();
            bad[pos] ^= mask;
            assert!(
                verify_bundle(&bad, None).is_err(),
                "flip {mask:#x} at byte {pos} of {} went unnoticed",
                bytes.len()
            );
        }
    }
    assert!(verify_bundle(&bytes[..bytes.len() - 1], None).is_err());
    assert!(verify_bundle(&[bytes.as_slice(), b"x"].concat(), None).is_err());
}

#[test]
fn a_bundle_from_another_installation_is_named_as_such() {
    let ledger = common::filled(5);
    let bytes = export_bundle(ledger.store(), &common::key(), &[1], &summary()).unwrap();
    let err = verify_bundle(&bytes, Some(&common::other_key().verifying_key())).unwrap_err();
    assert!(matches!(err, BundleError::WrongKey { .. }), "{err}");
    assert!(err.to_string().contains("another installation"));
}

/// Rebuilds a bundle's zip with one member replaced (same deterministic options).
fn rewrite(bytes: &[u8], name: &str, content: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let n = f.name().to_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.start_file(n.as_str(), options).unwrap();
        out.write_all(if n == name { content } else { &data }).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn unknown_versions_and_rebuilt_archives_get_clear_errors() {
    let bytes = small_bundle();
    // a well-formed zip that differs only in the member content
    let v2 = rewrite(&bytes, "VERSION", b"custodia-ledger-bundle 2\n");
    let err = verify_bundle(&v2, None).unwrap_err();
    assert!(
        matches!(&err, BundleError::UnsupportedVersion { found } if found == "custodia-ledger-bundle 2"),
        "{err}"
    );
    let same = rewrite(&bytes, "none", b"");
    assert_eq!(same, bytes, "the test rewriter reproduces the canonical form");
    let json = rewrite(&bytes, "entries/4.json", b"{}");
    assert!(matches!(verify_bundle(&json, None), Err(BundleError::Member { .. })));
    assert!(matches!(verify_bundle(b"not a zip", None), Err(BundleError::Zip(_))));
}

#[test]
fn export_refuses_entries_not_yet_signed() {
    let ledger = common::filled(5);
    let err = export_bundle(ledger.store(), &common::key(), &[5], &summary()).unwrap_err();
    assert!(matches!(err, BundleError::NotCovered { index: 5, size: 5 }), "{err}");
}

/// A zip whose central directory lists `copies` entries that all point at
/// the one stored `VERSION` member: reading it expands `copies` times.
fn overlapping_zip(content: &[u8], copies: u16) -> Vec<u8> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("VERSION", options).unwrap();
    w.write_all(content).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    // end of central directory record: 22 bytes, no comment
    let eocd = bytes.len() - 22;
    assert_eq!(bytes[eocd..eocd + 4], [0x50, 0x4b, 0x05, 0x06]);
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let (cd_size, cd_offset) = (u32_at(eocd + 12), u32_at(eocd + 16));
    let entry = &bytes[cd_offset..cd_offset + cd_size];
    let name_len = usize::from(u16::from_le_bytes([entry[28], entry[29]]));
    let mut out = bytes[..cd_offset].to_vec();
    for i in 0..copies {
        let name = if i == 0 {
            "VERSION".to_owned()
        } else {
            format!("copy{i}")
        };
        let mut fixed = entry[..46].to_vec();
        fixed[28..30].copy_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&fixed);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&entry[46 + name_len..]);
    }
    let new_cd_size = u32::try_from(out.len() - cd_offset).unwrap();
    let mut end = bytes[eocd..].to_vec();
    end[8..10].copy_from_slice(&copies.to_le_bytes());
    end[10..12].copy_from_slice(&copies.to_le_bytes());
    end[12..16].copy_from_slice(&new_cd_size.to_le_bytes());
    out.extend_from_slice(&end);
    out
}

#[test]
fn members_holding_more_bytes_than_the_archive_are_refused_while_reading() {
    // a valid version line padded with whitespace, listed 64 times: before
    // this was refused, verification read (and re-zipped) 64 times the file
    let mut version = b"custodia-ledger-bundle 1\n".to_vec();
    version.resize(64 * 1024, b'\n');
    let bomb = overlapping_zip(&version, 64);
    let mut archive = zip::ZipArchive::new(Cursor::new(&bomb)).unwrap();
    assert_eq!(archive.len(), 64, "the zip reader accepts the overlapping entries");
    let mut last = Vec::new();
    archive.by_index(63).unwrap().read_to_end(&mut last).unwrap();
    assert_eq!(last, version, "and each one reads the shared member");
    let err = verify_bundle(&bomb, None).unwrap_err();
    assert!(
        matches!(&err, BundleError::Zip(m) if m.contains("more bytes than the archive")),
        "{err}"
    );
}

#[test]
fn the_summary_names_the_command_that_verifies_it_with_the_installation_key() {
    let report = verify_bundle(&small_bundle(), None).unwrap();
    assert!(
        report
            .summary
            .contains("`custodia evidence verify <file> --key ledger.pub`"),
        "{}",
        report.summary
    );
}
