//! Inspector and policy boundary: verdict table and the serialized result.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dlp::policy::Evidence;
use dlp::{
    Channel, Detection, DetectorKind, EdmConfig, EdmIndex, EdmKey, Employment, FieldKind, FingerprintConfig,
    FingerprintHit, FingerprintIndex, FingerprintKey, Inspector, Limits, Policy, ScanContext, Verdict,
};

mod support;
use support::{tar_of, zip_of};

fn ctx(channel: Channel, employment: Employment) -> ScanContext {
    ScanContext { channel, employment }
}

fn check(
    name: &str,
    context: ScanContext,
    (customers, contacts): (usize, usize),
    detections: &[Detection],
    doc: bool,
    uninspectable: bool,
    expected: Verdict,
) {
    let hits = if doc {
        vec![FingerprintHit {
            doc_id: "d".into(),
            containment: 0.5,
            matched_chars: 900,
        }]
    } else {
        Vec::new()
    };
    let evidence = Evidence {
        customers,
        contacts,
        detections,
        fingerprint_hits: &hits,
        uninspectable,
    };
    let (verdict, rules) = Policy::default().decide(&context, &evidence);
    assert_eq!(verdict, expected, "{name}: rules {rules:?}");
    assert_eq!(
        rules.is_empty(),
        verdict == Verdict::Allow,
        "{name}: rules explain the verdict"
    );
}

#[test]
fn verdict_table() {
    use Channel::*;
    use Employment::*;
    // Detections of `detector`, one per value key, all of one confidence.
    let found = |detector, values: &[u64], confidence| -> Vec<Detection> {
        values
            .iter()
            .map(|&value| Detection {
                detector,
                start: 0,
                end: 1,
                confidence,
                value,
            })
            .collect()
    };
    let key = found(DetectorKind::PrivateKey, &[1], 0.99);
    let cards = found(DetectorKind::PaymentCard, &[1, 2, 3, 4, 5, 6], 0.95);
    let one_card_repeated = found(DetectorKind::PaymentCard, &[7; 6], 0.95);
    let weak = found(DetectorKind::VnCitizenId, &[1, 2, 3, 4, 5, 6, 7, 8, 9], 0.5);
    let weak_beside_strong: Vec<Detection> = found(DetectorKind::VnCitizenId, &[10], 0.95)
        .into_iter()
        .chain(weak.iter().cloned())
        .collect();
    check("nothing", ctx(Email, Active), (0, 0), &[], false, false, Verdict::Allow);
    // Customers by an email or phone alone: a list, not records.
    let contact_cases = [
        ("nine contacts", ctx(Usb, Active), 9, Verdict::Allow),
        ("ten contacts", ctx(File, Active), 10, Verdict::Alert),
        ("forty-nine contacts by email", ctx(Email, Active), 49, Verdict::Alert),
        (
            "fifty contacts by email",
            ctx(Email, Active),
            50,
            Verdict::RequireJustification,
        ),
        ("fifty contacts kept inside", ctx(File, Active), 50, Verdict::Alert),
        ("departing with ten contacts", ctx(Usb, Departing), 10, Verdict::Block),
        ("departing with nine contacts", ctx(Usb, Departing), 9, Verdict::Allow),
    ];
    for (name, context, contacts, verdict) in contact_cases {
        check(name, context, (0, contacts), &[], false, false, verdict);
    }
    check(
        "one customer internally",
        ctx(File, Active),
        (1, 0),
        &[],
        false,
        false,
        Verdict::Alert,
    );
    check(
        "one customer by email",
        ctx(Email, Active),
        (1, 0),
        &[],
        false,
        false,
        Verdict::RequireJustification,
    );
    check(
        "five customers",
        ctx(File, Active),
        (5, 0),
        &[],
        false,
        false,
        Verdict::Block,
    );
    check(
        "departing one customer",
        ctx(File, Departing),
        (1, 0),
        &[],
        false,
        false,
        Verdict::Block,
    );
    check(
        "document upload",
        ctx(Upload, Active),
        (0, 0),
        &[],
        true,
        false,
        Verdict::RequireJustification,
    );
    check(
        "document usb",
        ctx(Usb, Contractor),
        (0, 0),
        &[],
        true,
        false,
        Verdict::Block,
    );
    check(
        "key internally",
        ctx(File, Active),
        (0, 0),
        &key,
        false,
        false,
        Verdict::Alert,
    );
    check(
        "key by email",
        ctx(Email, Active),
        (0, 0),
        &key,
        false,
        false,
        Verdict::Block,
    );
    // Chat (Slack, Teams) is a way out of the company, as an upload is.
    check(
        "key in chat",
        ctx(Chat, Active),
        (0, 0),
        &key,
        false,
        false,
        Verdict::Block,
    );
    check(
        "one customer in chat",
        ctx(Chat, Active),
        (1, 0),
        &[],
        false,
        false,
        Verdict::RequireJustification,
    );
    check(
        "uninspectable in chat",
        ctx(Chat, Active),
        (0, 0),
        &[],
        false,
        true,
        Verdict::RequireJustification,
    );
    check(
        "bulk cards",
        ctx(File, Active),
        (0, 0),
        &cards,
        false,
        false,
        Verdict::Block,
    );
    // Bulk is distinct values, each at the confidence floor: a receipt repeats its one
    // card, and weak detections do not count because another value was strong.
    check(
        "one card repeated",
        ctx(File, Active),
        (0, 0),
        &one_card_repeated,
        false,
        false,
        Verdict::Alert,
    );
    check(
        "weak ids beside a strong one",
        ctx(File, Active),
        (0, 0),
        &weak_beside_strong,
        false,
        false,
        Verdict::Alert,
    );
    check(
        "weak ids ignored",
        ctx(Email, Active),
        (0, 0),
        &weak,
        false,
        false,
        Verdict::Allow,
    );
    check(
        "uninspectable upload",
        ctx(Upload, Active),
        (0, 0),
        &[],
        false,
        true,
        Verdict::RequireJustification,
    );
    check(
        "uninspectable departing",
        ctx(File, Departing),
        (0, 0),
        &[],
        false,
        true,
        Verdict::Block,
    );
}

/// An index of `count` customers `rec-i`, named `Customeri Lastname`, with the email
/// `ci@mail.example`.
fn numbered_customers(count: usize) -> EdmIndex {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    for i in 0..count {
        edm.add(
            format!("rec-{i}"),
            &[
                (FieldKind::Name, &format!("Customer{i} Lastname")),
                (FieldKind::Email, &format!("c{i}@mail.example")),
            ],
            None,
        );
    }
    edm
}

#[test]
fn inspect_end_to_end_serializes_without_plaintext() {
    let edm = numbered_customers(6);
    let mut fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let plan = (0..400)
        .map(|i| format!("confidential{} roadmap", i % 37))
        .collect::<Vec<_>>()
        .join(" ");
    fingerprints.add("plan-2027", &plan);
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let csv: String = std::iter::once("name,email\n".to_string())
        .chain((0..6).map(|i| format!("Customer{i} Lastname,c{i}@mail.example\n")))
        .collect();
    let result = inspector.inspect(csv.as_bytes(), &ctx(Channel::Email, Employment::Active));
    assert_eq!(result.customer_records, 6);
    assert_eq!(result.verdict, Verdict::Block);
    assert!(result
        .findings
        .iter()
        .any(|f| f.detector == DetectorKind::Email && f.count == 6));
    let json = serde_json::to_string(&result).unwrap();
    assert!(!json.contains("Lastname") && !json.contains("mail.example"), "{json}");
    let back: dlp::ScanResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back, result);

    let doc = inspector.inspect(
        format!("fwd: {plan}").as_bytes(),
        &ctx(Channel::Upload, Employment::Active),
    );
    assert_eq!(
        doc.fingerprint_hits.first().map(|h| h.doc_id.as_str()),
        Some("plan-2027")
    );
    assert_eq!(doc.verdict, Verdict::RequireJustification);

    let bomb = inspector.inspect(
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        &ctx(Channel::Usb, Employment::Departing),
    );
    assert!(bomb.uninspectable.is_some());
    assert_eq!(bomb.verdict, Verdict::Block);

    // The recipients of a message being mailed are no content; a saved message's are.
    let mail = "From: rep@corp.example\r\nTo: Customer1 Lastname <c1@mail.example>\r\nSubject: hello\r\n\r\nSee you Monday.\r\n";
    let sent = inspector.inspect(mail.as_bytes(), &ctx(Channel::Email, Employment::Active));
    assert_eq!(sent.customer_records, 0);
    let saved = inspector.inspect(mail.as_bytes(), &ctx(Channel::Usb, Employment::Active));
    assert_eq!(saved.customer_records, 1);
}

/// A table drawn column by column in a PDF (every name, then every email, then every
/// phone; `tests/fixtures/columns.pdf`, written with reportlab's canvas) is read by its
/// rows as they sit on the page: its 30 customers are found, and its emails and phones
/// are counted once, not again for the second reading.
#[test]
fn a_pdf_table_drawn_by_column_is_read_by_row() {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    edm.add(
        "ana",
        &[
            (FieldKind::Name, "Ana Rossi"),
            (FieldKind::Email, "ana.rossi@example.com"),
        ],
        Some("IT"),
    );
    for i in 0..29u32 {
        let name = format!(
            "Person {}{}son",
            char::from(b'A' + (i / 26) as u8),
            char::from(b'a' + (i % 26) as u8)
        );
        edm.add(
            format!("p{i}"),
            &[
                (FieldKind::Name, name.as_str()),
                (FieldKind::Phone, &format!("+39 347 555 {}", 1000 + i)),
            ],
            Some("IT"),
        );
    }
    let fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let pdf =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/columns.pdf")).unwrap();
    let result = inspector.inspect(&pdf, &ctx(Channel::Upload, Employment::Active));
    assert_eq!(result.customer_records, 30, "{result:?}");
    let count = |detector| result.findings.iter().find(|f| f.detector == detector).map(|f| f.count);
    assert_eq!(count(DetectorKind::Email), Some(30), "{:?}", result.findings);
    assert_eq!(count(DetectorKind::Phone), Some(30), "{:?}", result.findings);
}

/// A Word 97 document (`tests/fixtures/libreoffice-customers.doc`, LibreOffice's) with
/// customers in its prose and in a table, one row with an empty cell: each is found,
/// by the fields of its own row.
#[test]
fn a_word_97_document_is_read() {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    edm.add(
        "ana",
        &[(FieldKind::Name, "Ana Rossi"), (FieldKind::Phone, "+39 347 123 4567")],
        Some("IT"),
    );
    edm.add(
        "juergen",
        &[(FieldKind::Name, "Jürgen Müller"), (FieldKind::Phone, "0170 1234567")],
        Some("DE"),
    );
    edm.add(
        "bo",
        &[(FieldKind::Name, "Bo Lee"), (FieldKind::Email, "bo.lee@example.org")],
        Some("AU"),
    );
    edm.add(
        "an",
        &[
            (FieldKind::Name, "Nguyễn Văn An"),
            (FieldKind::Email, "an.nguyen@mail.vn"),
        ],
        Some("VN"),
    );
    // Another customer's phone in the table is not theirs.
    edm.add(
        "carla",
        &[(FieldKind::Name, "Carla Neri"), (FieldKind::Phone, "+49 170 1234567")],
        Some("IT"),
    );
    let fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let doc = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/libreoffice-customers.doc"),
    )
    .unwrap();
    let result = inspector.inspect(&doc, &ctx(Channel::Upload, Employment::Active));
    assert!(result.uninspectable.is_none(), "{result:?}");
    assert_eq!(result.customer_records, 4, "{result:?}");
}

/// A receipt repeats the one card it was paid with: five mentions are one card, not a
/// bulk of cards, while five cards are (found in review). The findings say both.
#[test]
fn bulk_cards_are_counted_by_value() {
    let edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    let fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let receipt = [
        "Visa card 4539 1488 0343 6467 charged",
        "card 4539-1488-0343-6467 authorised",
        "card 4539148803436467 captured",
        "card 4539 1488 0343 6467 settled",
        "card 4539 1488 0343 6467 receipt sent",
    ]
    .join("\n");
    let one = inspector.inspect(receipt.as_bytes(), &ctx(Channel::File, Employment::Active));
    let cards = |result: &dlp::ScanResult| {
        result
            .findings
            .iter()
            .find(|f| f.detector == DetectorKind::PaymentCard)
            .map(|f| (f.count, f.distinct))
    };
    assert_eq!(cards(&one), Some((5, 1)), "{:?}", one.findings);
    assert_eq!(one.verdict, Verdict::Alert, "{:?}", one.rules);
    let five = [
        "4539148803436467",
        "4556737586899855",
        "4916338506082832",
        "5500005555555559",
        "4716108999716531",
    ]
    .map(|card| format!("card {card}"))
    .join("\n");
    let many = inspector.inspect(five.as_bytes(), &ctx(Channel::File, Employment::Active));
    assert_eq!(cards(&many), Some((5, 5)), "{:?}", many.findings);
    assert_eq!(many.verdict, Verdict::Block, "{:?}", many.rules);
}

/// A line with a URL-encoded value is read once: its detections are not counted twice
/// (found in review: a first version added a decoded copy of the line).
#[test]
fn a_url_encoded_line_is_counted_once() {
    let edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    let fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let log =
        "10.0.0.7 - ana.silva@example.org [02/Nov/2026:10:00:01] \"GET /files/Q3%20Report.pdf HTTP/1.1\" 200 512\n";
    let result = inspector.inspect(log.as_bytes(), &ctx(Channel::Upload, Employment::Active));
    let count = |detector| result.findings.iter().find(|f| f.detector == detector).map(|f| f.count);
    assert_eq!(count(DetectorKind::Email), Some(1), "{:?}", result.findings);
}

/// Customers' emails and phones without their names are no records, but a list of
/// them is the company's customers: counted as contacts, and decided on by their
/// own thresholds. A name alone, an unknown address and a matched record are not
/// contacts.
#[test]
fn a_list_of_customers_emails_and_phones_alone_counts_as_contacts() {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    for i in 0..30 {
        edm.add(
            format!("rec-{i}"),
            &[
                (FieldKind::Name, &format!("Customer{i} Lastname")),
                (FieldKind::Email, &format!("c{i}@mail.example")),
                (FieldKind::Phone, &format!("+44 20 7946 {:04}", 1000 + i)),
            ],
            None,
        );
    }
    let inspector = Inspector::new(
        edm,
        FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default()),
        Policy::default(),
        Limits::default(),
    )
    .unwrap();
    let departing = ctx(Channel::Usb, Employment::Departing);
    // (text, records, contacts)
    let check = |name: &str, text: &str, records: usize, contacts: usize| {
        let result = inspector.inspect(text.as_bytes(), &departing);
        assert_eq!(
            (result.customer_records, result.customer_contacts),
            (records, contacts),
            "{name}: {result:?}"
        );
        let blocked = records > 0 || contacts >= 10;
        assert_eq!(result.verdict == Verdict::Block, blocked, "{name}: {result:?}");
    };
    let emails: String = (0..12).map(|i| format!("c{i}@mail.example; ")).collect();
    check("twelve emails", &emails, 0, 12);
    let phones: String = (0..12).map(|i| format!("+44 20 7946 {:04}\n", 1000 + i)).collect();
    check("twelve phones", &phones, 0, 12);
    let mixed: String = (0..5)
        .map(|i| format!("c{i}@mail.example\n"))
        .chain((5..10).map(|i| format!("020 7946 {:04}\n", 1000 + i)))
        .collect();
    check("five emails and five phones", &mixed, 0, 10);
    check(
        "nine emails",
        &emails[..emails.match_indices(';').nth(8).unwrap().0],
        0,
        9,
    );
    let names: String = (0..12).map(|i| format!("Customer{i} Lastname\n")).collect();
    check("names alone", &names, 0, 0);
    let strangers: String = (0..12).map(|i| format!("s{i}@mail.example; ")).collect();
    check("emails of no customer", &strangers, 0, 0);
    check(
        "a record beside nine contacts",
        &format!(
            "Customer20 Lastname c20@mail.example\n\n{}",
            &emails[..emails.match_indices(';').nth(8).unwrap().0]
        ),
        1,
        9,
    );
}

/// Content reported uninspectable in part is judged by the customers read in it too,
/// and the stricter verdict wins: six customers behind a zip's signature, or beside a
/// member past the compression ratio, are blocked as the plain list is, where they were
/// only asked a justification with no customer counted (found by a blind test).
#[test]
fn customers_read_beside_an_uninspectable_part_set_the_verdict() {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    let people = [
        ("Inés Sánchez", "ines.sanchez@example.es"),
        ("María Peña", "maria.pena@example.es"),
        ("Íñigo Núñez", "inigo.nunez@example.es"),
        ("Martín Núñez", "martin.nunez@example.es"),
        ("Ainhoa Muñoz", "ainhoa.munoz@example.es"),
        ("Martín Muñoz", "martin.munoz@example.es"),
    ];
    for (i, (name, email)) in people.iter().enumerate() {
        edm.add(
            format!("c{i}"),
            &[(FieldKind::Name, name), (FieldKind::Email, email)],
            Some("ES"),
        );
    }
    let fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let csv: String = std::iter::once("Name,Email\n".to_string())
        .chain(people.iter().map(|(name, email)| format!("{name},{email}\n")))
        .collect();
    let behind_signature = [&b"PK\x03\x04"[..], csv.as_bytes()].concat();
    let beside_a_bomb = zip_of(&[("customers.csv", csv.as_bytes()), ("z.bin", &vec![0; 5 << 20])]);
    for (name, bytes) in [
        ("behind a signature", behind_signature),
        ("beside a bomb", beside_a_bomb),
    ] {
        for employment in [Employment::Active, Employment::Departing] {
            let result = inspector.inspect(&bytes, &ctx(Channel::Usb, employment));
            assert_eq!(result.customer_records, 6, "{name}: {result:?}");
            assert!(result.uninspectable.is_some(), "{name}: {result:?}");
            assert_eq!(result.verdict, Verdict::Block, "{name}: {result:?}");
        }
    }
}

/// Letter-spaced text (`T o r i l l   L u n d`) is read with its letters joined, for
/// customer records only: a name and an email spaced out, and a name spaced out beside
/// an email written plainly, are the customer's record; an address written out with
/// words (`at`, `dot`) is too, and none of them is an email finding. Ordinary text with
/// single letters apart, and the same words in English, are not.
#[test]
fn letter_spaced_and_written_out_records_are_read_for_customers_only() {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([3; 32]), EdmConfig::default());
    edm.add(
        "torill",
        &[
            (FieldKind::Name, "Torill Lund"),
            (FieldKind::Email, "torill.lund@fjordfisk.example"),
        ],
        Some("NO"),
    );
    edm.add(
        "olga",
        &[
            (FieldKind::Name, "Ольга Белова"),
            (FieldKind::Phone, "+7 912 345 67 89"),
        ],
        Some("RU"),
    );
    let fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let filler = "The quarterly review covered staffing and travel. ".repeat(20);
    for (text, records) in [
        (
            "T o r i l l   L u n d | t o r i l l . l u n d @ f j o r d f i s k . e x a m p l e".to_string(),
            1,
        ),
        (
            format!("{filler}\nT o r i l l  L u n d\ntorill.lund@fjordfisk.example\n{filler}"),
            1,
        ),
        // Words apart by one space: a capital after a small letter starts one.
        (
            "Kontakt: T o r i l l L u n d, torill.lund@fjordfisk.example".to_string(),
            1,
        ),
        ("О л ь г а   Б е л о в а, +7 912 345 67 89".to_string(), 1),
        ("Torill Lund, torill.lund at fjordfisk dot example".to_string(), 1),
        // The same name far from the address: no record.
        (
            format!("T o r i l l   L u n d\n{filler}{filler}\ntorill.lund@fjordfisk.example"),
            0,
        ),
        ("x = a + b - c * d; T o r i l l; J R R Tolkien; a b c".to_string(), 0),
        ("meet Torill Lund at the office, look at the dot".to_string(), 0),
    ] {
        let result = inspector.inspect(text.as_bytes(), &ctx(Channel::Upload, Employment::Active));
        assert_eq!(result.customer_records, records, "{text:?}: {result:?}");
        let emails = result
            .findings
            .iter()
            .find(|f| f.detector == DetectorKind::Email)
            .map_or(0, |f| f.count);
        let plain_emails = text.matches("lund@").count();
        assert_eq!(emails, plain_emails, "{text:?}: {:?}", result.findings);
    }
}

/// A file's name, and an archive member's or a mail attachment's, is read as a text of
/// its own: a record in the name is counted whatever the content, and a name pairs with
/// a field at the content's start as a title does; an ordinary file name is nothing.
#[test]
fn file_names_are_read() {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([1; 32]), EdmConfig::default());
    edm.add(
        "lotte",
        &[
            (FieldKind::Name, "Lotte Brenner"),
            (FieldKind::Email, "lotte.brenner@brenner-bau.de"),
            (FieldKind::Phone, "+49 171 2233445"),
        ],
        Some("DE"),
    );
    let fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let context = ctx(Channel::Usb, Employment::Active);
    let records = |bytes: &[u8], name: &str| inspector.inspect_named(bytes, name, &context).customer_records;
    let named = "Lotte Brenner lotte.brenner@brenner-bau.de.txt";
    assert_eq!(records(b"call back", named), 1);
    assert_eq!(records(b"call back", "Lotte Brenner +49 171 2233445"), 1);
    assert_eq!(records(b"call back", &format!("/home/u/exports/{named}")), 1);
    // Without the name the content holds nothing; the name alone of one field is no record.
    assert_eq!(inspector.inspect(b"call back", &context).customer_records, 0);
    assert_eq!(records(b"call back", "Lotte Brenner.txt"), 0);
    // A title's field with a field at the start of the content.
    assert_eq!(records(b"Mobil: +49 171 2233445\n", "Lotte Brenner.txt"), 1);
    assert_eq!(records(&zip_of(&[(named, b"call back")]), "notes.zip"), 1);
    assert_eq!(
        records(&zip_of(&[(&format!("2026/{named}"), b"call back")]), "notes.zip"),
        1
    );
    assert_eq!(records(&tar_of(named, b"call back"), "notes.tar"), 1);
    let mail = format!(
        "From: a@x.example\r\nTo: b@y.example\r\nSubject: notes\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
         --b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"{named}\"\r\n\r\ncall back\r\n--b--\r\n"
    );
    assert_eq!(records(mail.as_bytes(), "notes.eml"), 1);
    // Ordinary names.
    for name in [
        "report-2024-Q3.xlsx",
        "Lotte Brenner 2024-Q3.xlsx",
        "IMG_20240117_171223.jpg",
        " ",
    ] {
        assert_eq!(records(b"call back", name), 0, "{name}");
    }
}

/// A large file is read on two cores (the detectors beside the customer index, the
/// index's digit runs beside its emails and words): what it is judged to hold is what
/// its pieces hold, each read alone on one core, added up.
#[test]
fn a_large_file_holds_what_its_pieces_hold_added_up() {
    let edm = numbered_customers(5);
    let fingerprints = FingerprintIndex::new(&FingerprintKey::from_bytes([2; 32]), FingerprintConfig::default());
    let inspector = Inspector::new(edm, fingerprints, Policy::default(), Limits::default()).unwrap();
    let context = ctx(Channel::Upload, Employment::Active);
    let filler = "The quarterly review went well and everyone agreed on the plan.\n\
                  Invoice 2024 covered 14 pallets, 3 returns and 12.5% off.\n\n";
    assert!(inspector.inspect(filler.as_bytes(), &context).findings.is_empty());
    let cards = [
        "4539148803436467",
        "4556737586899855",
        "4916338506082832",
        "5500005555555559",
        "4716108999716531",
    ];
    let pieces: Vec<String> = cards
        .iter()
        .enumerate()
        .map(|(i, card)| {
            let mut piece = filler.repeat(400);
            piece.push_str(&format!(
                "Customer{i} Lastname, c{i}@mail.example, paid by card {card}\n\n"
            ));
            piece.push_str(&filler.repeat(100));
            piece
        })
        .collect();
    let whole = pieces.concat();
    assert!(whole.len() > 256 << 10, "past the 64 KiB from which a scan is shared");
    let mut findings: Vec<dlp::detect::Finding> = Vec::new();
    let mut customers = 0;
    for piece in &pieces {
        assert!(piece.len() < 64 << 10, "a piece alone is read on one core");
        let alone = inspector.inspect(piece.as_bytes(), &context);
        customers += alone.customer_records;
        for finding in alone.findings {
            match findings.iter_mut().find(|f| f.detector == finding.detector) {
                Some(sum) => {
                    sum.count += finding.count;
                    sum.distinct += finding.distinct;
                    sum.confidence = sum.confidence.max(finding.confidence);
                }
                None => findings.push(finding),
            }
        }
    }
    let found = inspector.inspect(whole.as_bytes(), &context);
    assert_eq!(customers, 5);
    assert_eq!(found.customer_records, customers);
    let detectors: Vec<_> = findings.iter().map(|f| f.detector).collect();
    assert!(detectors.contains(&DetectorKind::PaymentCard) && detectors.contains(&DetectorKind::Email));
    assert_eq!(found.findings, findings);
}
