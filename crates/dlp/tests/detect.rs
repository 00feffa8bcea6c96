//! Detector boundary: validators, context words, exclusions, confidence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dlp::detect::{entropy, iban_valid, luhn_valid, ssn_valid, vn_id_valid, DetectorKind, Detectors};
use DetectorKind::*;

/// `expected`: Some(minimum confidence) when `detector` must fire, None when it must not.
fn check(detectors: &Detectors, text: &str, detector: DetectorKind, expected: Option<f32>) {
    let found: Vec<_> = detectors
        .scan(text)
        .into_iter()
        .filter(|d| d.detector == detector)
        .collect();
    match expected {
        Some(min) => {
            assert!(!found.is_empty(), "{detector:?} not found in {text:?}");
            let best = found.iter().map(|d| d.confidence).fold(0.0, f32::max);
            assert!(best >= min, "{detector:?} in {text:?}: confidence {best} < {min}");
            let d = &found[0];
            assert!(text.get(d.start..d.end).is_some(), "span on char boundary");
        }
        None => assert!(found.is_empty(), "{detector:?} wrongly found in {text:?}: {found:?}"),
    }
}

#[test]
fn detectors_table() {
    let detectors = Detectors::new(&["+1 800 555 0199"]).unwrap();
    let ghp = format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5");
    let cases: Vec<(String, DetectorKind, Option<f32>)> = vec![
        ("pay with 4539 1488 0343 6467 please".into(), PaymentCard, Some(0.8)),
        ("visa card 4539148803436467".into(), PaymentCard, Some(0.95)),
        ("amex 378282246310005 test card".into(), PaymentCard, None),
        ("4539 1488 0343 6401 fails luhn".into(), PaymentCard, None),
        ("order 5123456789012346".into(), PaymentCard, Some(0.8)),
        // The fraction of a decimal number is no card; a card's column in a table is.
        ("margin 0.5175999999999999".into(), PaymentCard, None),
        ("4539148803436467.5 units".into(), PaymentCard, None),
        ("4539148803436467,12/27,123".into(), PaymentCard, Some(0.8)),
        ("card 4539148803436467.0 ok".into(), PaymentCard, Some(0.8)),
        // The value of a log's or configuration's identifier field is no card, unless
        // its key or a context word says it is.
        ("trace=371234567890120 status=200".into(), PaymentCard, None),
        ("request_id:4539148803436467".into(), PaymentCard, None),
        ("cc=371234567890120".into(), PaymentCard, Some(0.8)),
        ("card_number=371234567890120".into(), PaymentCard, Some(0.95)),
        ("paid with 371234567890120".into(), PaymentCard, Some(0.8)),
        ("SSN: 123456789.00".into(), UsSsn, Some(0.95)),
        ("IBAN GB82 WEST 1234 5698 7654 32".into(), Iban, Some(0.95)),
        ("DE89370400440532013000".into(), Iban, Some(0.85)),
        ("GB83 WEST 1234 5698 7654 32 bad check".into(), Iban, None),
        ("id 123-45-6789 here".into(), UsSsn, Some(0.6)),
        ("SSN: 123456789".into(), UsSsn, Some(0.95)),
        ("ref 123456789 only".into(), UsSsn, None),
        ("SSN 666-12-3456".into(), UsSsn, None),
        ("SSN 123-00-6789".into(), UsSsn, None),
        ("ssn 912-34-5678".into(), UsSsn, None),
        ("Số CCCD: 001203004567".into(), VnCitizenId, Some(0.9)),
        ("citizen id 079095001234".into(), VnCitizenId, Some(0.9)),
        ("CCCD 999203004567".into(), VnCitizenId, None),
        ("CCCD 001903004567 bad century digit".into(), VnCitizenId, None),
        ("aws key AKIAZ3MSJV6KQ4PFX7NA".into(), AwsAccessKey, Some(0.95)),
        ("AKIAIOSFODNN7EXAMPLE".into(), AwsAccessKey, None),
        (format!("token {ghp}"), GithubToken, Some(0.95)),
        ("xoxb-123456789012-abcdefghijkl".into(), SlackToken, Some(0.9)),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE".into(), PrivateKey, Some(0.99)),
        ("-----BEGIN PRIVATE KEY-----".into(), PrivateKey, Some(0.99)),
        ("-----BEGIN PUBLIC KEY-----".into(), PrivateKey, None),
        ("api_key = 'q8Z3v9LkP2mX7tR4wN6yB1cD'".into(), GenericSecret, Some(0.7)),
        ("password=aaaaaaaaaaaaaaaaaaaa".into(), GenericSecret, None),
        ("write to ana.rossi@example.org".into(), Email, Some(0.9)),
        ("not an email: ana@localhost".into(), Email, None),
        ("mobile phone +84 912 345 678".into(), Phone, Some(0.85)),
        ("dial +44 (0)20 7946 0958 now".into(), Phone, Some(0.6)),
        ("sales +1 800 555 0199".into(), Phone, None),
        ("version 1.2.3 build 4".into(), Phone, None),
        ("Nguyễn Văn An, CCCD 001203004567".into(), VnCitizenId, Some(0.9)),
    ];
    for (text, detector, expected) in &cases {
        check(&detectors, text, *detector, *expected);
    }
}

#[test]
fn validators() {
    assert!(luhn_valid(&[4, 5, 3, 9, 1, 4, 8, 8, 0, 3, 4, 3, 6, 4, 6, 7]));
    assert!(!luhn_valid(&[4, 5, 3, 9, 1, 4, 8, 8, 0, 3, 4, 3, 6, 4, 6, 8]));
    assert!(!luhn_valid(&[]));
    assert!(iban_valid("GB82WEST12345698765432"));
    assert!(!iban_valid("GB82WEST12345698765433"));
    assert!(!iban_valid("G"));
    assert!(ssn_valid(&[1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert!(!ssn_valid(&[0, 0, 0, 4, 5, 6, 7, 8, 9]));
    assert!(!ssn_valid(&[1, 2, 3, 4, 5, 0, 0, 0, 0]));
    assert!(vn_id_valid(&[0, 7, 9, 2, 0, 3, 0, 0, 4, 5, 6, 7]));
    assert!(!vn_id_valid(&[0, 0, 3, 2, 0, 3, 0, 0, 4, 5, 6, 7]));
    assert!(entropy("aaaa") < 0.01);
    assert!(entropy("q8Z3v9LkP2mX7tR4") > 3.5);
}

#[test]
fn scanning_non_ascii_and_huge_text_is_safe() {
    let detectors = Detectors::new(&[]).unwrap();
    let text = "Đặng Thị Hương ☎ +84 912 345 678 — ".repeat(2000);
    let found = detectors.scan(&text);
    assert_eq!(found.iter().filter(|d| d.detector == Phone).count(), 2000);
    for d in &found {
        assert!(text.get(d.start..d.end).is_some());
    }
}
