//! Leak styles the corpus generator does not produce (a stand-in for held-out data):
//! vCards, markdown tables, nested JSON, XML records with split names, key/value blocks,
//! log lines; and negatives of the same shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dlp::edm::{EdmConfig, EdmIndex, EdmKey, FieldKind::*};
use dlp::extract::{extract, Limits};

fn index() -> EdmIndex {
    let mut edm = EdmIndex::new(&EdmKey::from_bytes([5; 32]), EdmConfig::default());
    edm.add(
        "c1",
        &[
            (Name, "Lefèvre, Chloé"),
            (Email, "chloe.l@orange.fr"),
            (Phone, "06 12 34 56 78"),
            (Address, "8 rue du Général Leclerc, 69003 Lyon"),
        ],
        Some("FR"),
    );
    edm.add(
        "c2",
        &[
            (Name, "Trần Thị Hương"),
            (Phone, "+84 (0) 983 111 222"),
            (Address, "45 Lê Lợi, Quận 1, Hồ Chí Minh"),
            (CustomerId, "CU-100268"),
        ],
        Some("VN"),
    );
    edm.add(
        "c3",
        &[
            (Name, "Mr. Oluwaseun Okafor"),
            (Email, "seun@okafor.ng"),
            (CustomerId, "A-99812"),
        ],
        None,
    );
    edm.add(
        "c4",
        &[(Name, "Jürgen Schröder"), (Phone, "0171 2345678"), (Email, "js@web.de")],
        Some("DE"),
    );
    edm.add(
        "c5",
        &[
            (Name, "Maria Rossi"),
            (Email, "m.rossi@libero.it"),
            (Address, "Via Roma, 12, Milano, Italia"),
        ],
        Some("IT"),
    );
    edm.add(
        "c6",
        &[
            (Name, "Nguyễn Thu Phương"),
            (Email, "phuong.nt@fpt.vn"),
            (Address, "184 Pasteur, Phường 10, Quận Ba Đình, Hà Nội"),
        ],
        Some("VN"),
    );
    edm.add(
        "c7",
        &[
            (Name, "Bea\u{AD}triz Souza"),
            (Email, "bia@uol.com.br"),
            (Address, "Rua Augusta 200, 01305-000 São Paulo"),
        ],
        Some("BR"),
    );
    edm.add(
        "c8",
        &[
            (Name, "Lê Văn Tám"),
            (Email, "tam.le@vnn.vn"),
            (Address, "12 Hai Bà Trưng, Phường 6, Quận 3, TP. Hồ Chí Minh, Việt Nam"),
        ],
        Some("VN"),
    );
    edm.add(
        "c9",
        &[
            (Name, "Choi Min-jun"),
            (Phone, "02 3156 4010"),
            (Email, "minjun.choi@naver.com"),
        ],
        Some("KR"),
    );
    edm.add(
        "c10",
        &[
            (Name, "Rachel Turnbull"),
            (Email, "rachel.t@btinternet.com"),
            (Address, "189 Aaron Parkway, Port Katherine, TF47 4LN"),
        ],
        Some("GB"),
    );
    edm.add(
        "c11",
        &[
            (Name, "Angela Johann"),
            (Email, "a.johann@gmx.de"),
            (Address, "Guntram-Löwer-Platz 776, 31489 Lübz"),
        ],
        Some("DE"),
    );
    edm.add(
        "c12",
        &[
            (Name, "Đinh Quang Cường"),
            (Email, "cuong.dq@vnpt.vn"),
            (
                Address,
                "168 Nguyễn Thị Minh Khai, Phường Tân Định, Quận Phú Nhuận, TP. Hồ Chí Minh",
            ),
        ],
        Some("VN"),
    );
    edm.add(
        "c13",
        &[
            (Name, "Aarav Patel"),
            (Email, "aarav.p@rediffmail.com"),
            (Address, "Flat 19A, Block C, Green Park Towers, Kolkata 700016"),
        ],
        Some("IN"),
    );
    edm.add(
        "c14",
        &[
            (Name, "John Smith"),
            (Email, "jsmith@aol.com"),
            (Address, "12 Main Street, Suite B, Springfield, IL 62701"),
        ],
        Some("US"),
    );
    edm.add(
        "c15",
        &[
            (Name, "Mary Jones"),
            (Email, "mary.jones@sky.com"),
            (Address, "Flat 3, Victoria House, 12 High Street, Leeds LS1 4AP"),
        ],
        Some("GB"),
    );
    edm.add(
        "c16",
        &[
            (Name, "Søren Kjærgård"),
            (Phone, "+45 98 87 48 12"),
            (Address, "Nørregade 55, 1165 København K"),
        ],
        Some("DK"),
    );
    edm.add("c17", &[(Name, "伊藤 健太"), (Phone, "070-4120-2395")], Some("JP"));
    edm.add(
        "c18",
        &[
            (Name, "Анна Смирнова"),
            (Phone, "+7 912 345-67-89"),
            (Email, "anna.smirnova@mail.ru"),
        ],
        Some("RU"),
    );
    edm.add(
        "c19",
        &[(Name, "Joyce Hayes"), (Email, "joyce.hayes@bt.com")],
        Some("GB"),
    );
    edm
}

fn check(name: &str, content: &str, expected: &[&str]) {
    let edm = index();
    let segments = extract(content.as_bytes(), &Limits::default()).segments;
    let found: Vec<String> = edm
        .find(&segments)
        .customers
        .iter()
        .map(|c| c.customer_id.0.clone())
        .collect();
    assert_eq!(found, expected, "{name}: {segments:?}");
}

/// A name or email hidden from the match with characters a reader does not see or does
/// not notice: default-ignorable characters inside it, letters swapped for Cyrillic or
/// Greek look-alikes, small capitals, mathematical letters (found by a blind test). A
/// customer whose name is written in Cyrillic is still found by it, in either case.
#[test]
fn characters_a_reader_does_not_see_or_notice() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "zero-width non-joiner inside a name",
            "Jür\u{200C}gen Schröder, js@web.de",
            &["c4"],
        ),
        (
            "zero-width joiner and bidi controls inside a name",
            "Jürg\u{200D}en Sch\u{202C}rö\u{200E}der\n0171 2345678",
            &["c4"],
        ),
        (
            "mongolian vowel separator and a tag character inside a name",
            "Jü\u{180E}rgen Schr\u{E0020}öder, js@web.de",
            &["c4"],
        ),
        (
            "hangul filler inside a name",
            "Ma\u{3164}ria Rossi, m.rossi@libero.it",
            &["c5"],
        ),
        (
            "combining grapheme joiner inside an email",
            "Jürgen Schröder, j\u{34F}s@web.de",
            &["c4"],
        ),
        (
            "variation selector inside an email",
            "Maria Rossi <m.ros\u{FE0F}si@libero.it>",
            &["c5"],
        ),
        (
            "one cyrillic letter in a name",
            "name,email\nJürgеn Schröder,js@web.de\n",
            &["c4"],
        ),
        ("greek capitals in a name", "JÜRGΕΝ SCΗRÖDΕR, js@web.de", &["c4"]),
        (
            "greek lowercase letters in a name",
            "Maria Rοssi, m.rossi@libero.it",
            &["c5"],
        ),
        ("a name in small capitals", "ᴊᴏʜɴ ꜱᴍɪᴛʜ, jsmith@aol.com", &["c14"]),
        (
            "a name wholly in cyrillic look-alikes",
            "Јоусе Науеѕ <joyce.hayes@bt.com>",
            &["c19"],
        ),
        ("an email in mathematical bold", "Jürgen Schröder, 𝐣𝐬@𝐰𝐞𝐛.𝐝𝐞", &["c4"]),
        ("an email in circled letters", "Maria Rossi ⓜ.ⓡⓞⓢⓢⓘ@ⓛⓘⓑⓔⓡⓞ.ⓘⓣ", &["c5"]),
        ("a russian name", "Анна Смирнова, +7 912 345-67-89", &["c18"]),
        (
            "a russian name in capitals",
            "АННА СМИРНОВА anna.smirnova@mail.ru",
            &["c18"],
        ),
        ("a russian name transliterated", "Anna Smirnova, +7 912 345-67-89", &[]),
    ];
    for (name, content, expected) in cases {
        check(name, content, expected);
    }
}

#[test]
fn leak_styles() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("vcard", "BEGIN:VCARD\nFN:Chloé Lefèvre\nTEL;TYPE=cell:+33 6 12 34 56 78\nEND:VCARD\n", &["c1"]),
        ("markdown", "| who | phone |\n|---|---|\n| Tran Thi Huong | 0983 111 222 |\n| Juergen X | 1 |\n", &["c2"]),
        ("nested json", r#"{"customers":[{"person":{"given":"Oluwaseun","family":"Okafor"},"ids":{"crm":"A-99812"}}]}"#, &["c3"]),
        ("xml split name", "<list><c><last>Schröder</last><first>Jürgen</first><mail>JS@WEB.DE</mail></c></list>", &["c4"]),
        ("key value", "Customer details\nName: Schroder, Jurgen\nMobile: +49 171 2345678\n", &["c4"]),
        ("log line", "2026-11-02T10:00:01Z INFO lookup ok user=seun@okafor.ng name=\"Okafor Oluwaseun\"\n", &["c3"]),
        ("address and phone", "Ship to 45 Le Loi, Quan 1, Ho Chi Minh; call 0983111222", &["c2"]),
        ("all four in prose", "Chloé Lefèvre (chloe.l@orange.fr) and Jürgen Schröder, js@web.de, met Trần Thị Hương (+84983111222) and Okafor Oluwaseun A-99812.", &["c1", "c2", "c3", "c4"]),
        // Found by a blind test: invisible characters inside a name and an email, and a
        // CRM page's label and value in inline elements side by side.
        ("invisible characters", "Chlo\u{200B}é Lef\u{AD}èvre <chloe.l\u{2060}@orange.fr>", &["c1"]),
        ("crm card", "<div><span class=k>Name</span><span class=v>Jürgen Schröder</span></div><div><span class=k>Email</span><span class=v>js@web.de</span></div>", &["c4"]),
        ("crm card of bare spans", "<div><span>Name</span><span>Jürgen Schröder</span></div><div><span>Email</span><span>js@web.de</span></div>", &["c4"]),
        ("address stored with its country", "Lê Văn Tám - 12 Hai Bà Trưng, P.6, Q.3, TP.HCM", &["c8"]),
        ("address stored with its country, city left out", "Lê Văn Tám, 12 Hai Bà Trưng, Phường 6, Quận 3", &["c8"]),
        ("word cut into runs", "<p><span lang=DE>Jürgen Schrö</span><span lang=DE>der</span>, <span>js@web.de</span></p>", &["c4"]),
        ("id prefix apart", "Trần Thị Hương (account CU 100268) called.", &["c2"]),
        // Of six digits or more, a customer number is found without its letters, as
        // accounting exports show it; one of five (`99812` of `A-99812`) is like the
        // postal codes and amounts in any table.
        ("id number of five digits without its prefix", "Okafor Oluwaseun paid invoice 99812 and ordered a 99812 units.", &[]),
        // A value stored with an invisible character is read as the scan reads text.
        ("stored with an invisible character", "Beatriz Souza, Rua Augusta 200, 01305-000 São Paulo", &["c7"]),
        ("french street abbreviated", "Chloe Lefevre: 8 rue du Gén. Leclerc, 69003 Lyon", &["c1"]),
        // Vietnamese addresses as people write them: the ward and district abbreviated or
        // in English, the city abbreviated or left out (found missed by a blind test).
        ("vietnamese address abbreviated", "Trần Thị Hương - 45 Lê Lợi, Q.1, TP.HCM", &["c2"]),
        ("vietnamese address in english", "Tran Thi Huong, 45 Le Loi, District 1, HCMC", &["c2"]),
        ("vietnamese address without its city", "Trần Thị Hương\n45 Lê Lợi, Quận 1\n", &["c2"]),
        // In English, a Vietnamese street takes a street word (found missed by a blind
        // test); in another district it is still another house.
        ("vietnamese address in english with its street word", "Tran Thi Huong, 45 Le Loi St., District 1, HCMC", &["c2"]),
        ("vietnamese named district in english with its street word", "Nguyen Thu Phuong - 184 Pasteur Street, Ward 10, Dist. Ba Dinh, Hanoi", &["c6"]),
        ("street word in another district", "Tran Thi Huong, 45 Le Loi St., District 3, HCMC", &[]),
        ("street line and name", "Trần Thị Hương, 45 Lê Lợi", &[]),
        ("same street in another district", "Trần Thị Hương, 45 Lê Lợi, Quận 3, TP.HCM", &[]),
        ("vietnamese named district abbreviated", "Nguyễn Thu Phương - 184 Pasteur, P.10, Q. Ba Đình, HN", &["c6"]),
        ("vietnamese ward and district run in", "Trần Thị Hương, 45 Lê Lợi, Q1, TP.HCM", &["c2"]),
        ("vietnamese ward run in", "Nguyễn Thu Phương: 184 Pasteur, P10, Q. Ba Đình", &["c6"]),
        // Found in review: neither a street and number apart nor a ward without its
        // district is the address.
        ("same house and ward in another district", "Nguyễn Thu Phương, 184 Pasteur, Phường 10, Quận 3, TP. Hồ Chí Minh", &[]),
        ("street and number in another city", "Maria Rossi / Via Roma 12, Torino", &[]),
        // Found missed by a fourth blind test: a romanized Korean given name written
        // without its hyphen, an address without what follows the place after its street
        // (a postcode, a district and city), and street words abbreviated.
        ("korean given name joined", "Choi Minjun, 02 3156 4010", &["c9"]),
        ("korean given name joined, given name first", "MINJUN CHOI +82 2 3156 4010", &["c9"]),
        ("korean given name with its hyphen", "Choi Min-jun <minjun.choi@naver.com>", &["c9"]),
        ("another korean given name", "Choi Minjae, 02 3156 4010", &[]),
        ("address without its postcode", "Rachel Turnbull,\"189 Aaron Parkway, Port Katherine\"", &["c10"]),
        ("street type abbreviated", "Rachel Turnbull - 189 Aaron Pkwy, Port Katherine, TF47 4LN", &["c10"]),
        ("same street in another place", "Rachel Turnbull, 189 Aaron Parkway, Port Talbot", &[]),
        ("german square abbreviated", "Angela Johann, Guntram-Löwer-Pl. 776, 31489 Lübz", &["c11"]),
        ("vietnamese named ward, city abbreviated", "Đinh Quang Cường, 168 Nguyễn Thị Minh Khai, P. Tân Định, Q. Phú Nhuận, TP.HCM", &["c12"]),
        ("vietnamese named ward alone", "Dinh Quang Cuong - 168 Nguyen Thi Minh Khai, Phuong Tan Dinh", &["c12"]),
        ("vietnamese house in another ward", "Đinh Quang Cường, 168 Nguyễn Thị Minh Khai, Phường Đa Kao, Quận 1", &[]),
        // Found in review: a flat and its building are in many places.
        ("same flat and block elsewhere", "Aarav Patel, Flat 19A, Block C, Sunrise Residency, Mumbai 400001", &[]),
        ("same suite on another main street", "John Smith, 12 Main Street, Suite B, Chicago, IL 60601", &[]),
        ("same flat and house name elsewhere", "Mary Jones, Flat 3, Victoria House, 9 Queen Road, York YO1 7HH", &[]),
        ("names only", "Chloé Lefèvre, Jürgen Schröder and Trần Thị Hương attended.", &[]),
        ("wrong contact data", "Chloé Lefèvre chloe.l@gmail.com +33 6 12 34 56 79", &[]),
        ("public data", "Press: press@orange.fr, +33 1 44 44 22 22, 78 rue Olivier de Serres", &[]),
        ("markdown strangers", "| name | email |\n|---|---|\n| Chloé Martin | chloe.l@orange.com |\n", &[]),
        // Found missed by an eighth blind test: a header given twice, headers other
        // than `To`/`Cc` that name people, and values URL-encoded in logs and forms.
        ("to given twice", "From: a@ourco.example\nTo: \"Chloé Lefèvre\" <chloe.l@orange.fr>\nTo: \"Jürgen Schröder\" <js@web.de>\nSubject: x\n\nhello\n", &["c1", "c4"]),
        ("cc given twice", "From: a@ourco.example\nTo: b@ourco.example\nCc: Jürgen Schröder <js@web.de>\nCc: Chloé Lefèvre <chloe.l@orange.fr>\nSubject: x\n\nhello\n", &["c1", "c4"]),
        ("reply-to", "From: a@ourco.example\nReply-To: \"Jürgen Schröder\" <js@web.de>\nSubject: x\n\nhello\n", &["c4"]),
        ("sender", "From: a@ourco.example\nSender: Jürgen Schröder <js@web.de>\nTo: b@ourco.example\nSubject: x\n\nhello\n", &["c4"]),
        ("resent-to", "From: a@ourco.example\nResent-To: Jürgen Schröder <js@web.de>\nTo: b@ourco.example\nSubject: x\n\nhello\n", &["c4"]),
        ("url-encoded log line", "10.0.0.7 - - [02/Nov/2026:10:00:01] \"GET /api/lookup?email=js%40web.de&phone=0171%202345678 HTTP/1.1\" 200 512\n", &["c4"]),
        ("form bodies one per line", "name=Chlo%C3%A9+Lef%C3%A8vre&email=chloe.l%40orange.fr\nname=J%C3%BCrgen+Schr%C3%B6der&email=js%40web.de\n", &["c1", "c4"]),
        ("url-encoded email in prose", "Jürgen Schröder js%40web.de\n", &["c4"]),
        ("url-encoded email alone", "GET /unsubscribe?email=js%40web.de HTTP/1.1\nGET /unsubscribe?email=chloe.l%40orange.fr HTTP/1.1\n", &[]),
        // Found missed by a ninth blind test: Danish letters spelled out, Japanese and
        // typographic dashes in a phone, an id's one-letter prefix apart, `r.` for `rue`.
        ("danish letters spelled out", "Soeren Kjaergaard +45 98 87 48 12", &["c16"]),
        ("danish address spelled out", "Søren Kjærgård, Noerregade 55, 1165 Koebenhavn K", &["c16"]),
        ("danish letters folded", "Soren Kjaergard, 98874812", &["c16"]),
        ("japanese dash in a phone", "伊藤 健太\n０７０ー４１２０ー２３９５", &["c17"]),
        ("minus signs in a phone", "伊藤 健太 070\u{2212}4120\u{2212}2395", &["c17"]),
        ("figure dashes in a phone", "伊藤 健太, 070\u{2012}4120\u{2012}2395", &["c17"]),
        ("another number with japanese dashes", "伊藤 健太\n０７０ー４１２０ー２３９６", &[]),
        ("id with a capital prefix apart", "Okafor Oluwaseun (A 99812) called.", &["c3"]),
        ("rue abbreviated", "Chloé Lefèvre, 8 r. du Gén. Leclerc, 69003 Lyon", &["c1"]),
        ("url-encoded cells of a table", "name,email\nJ%C3%BCrgen%20Schr%C3%B6der,js%40web.de\n", &["c4"]),
        ("url-encoded name beside a phone", "name=J%C3%BCrgen%20Schr%C3%B6der tel=+49 171 2345678\n", &["c4"]),
        ("url-encoded strangers", "GET /signup?name=J%C3%BCrgen+Schr%C3%B6der&email=js%40gmx.de HTTP/1.1\n", &[]),
    ];
    for (name, content, expected) in cases {
        check(name, content, expected);
    }
}

/// URL-encoded values are decoded where they stand: two fields of one customer that
/// the proximity rule keeps apart as written (two requests of a log, hours apart) stay
/// apart decoded (found in review: a first version joined the decoded lines).
#[test]
fn url_decoded_lines_keep_their_distance() {
    let filler: String = (0..12)
        .map(|i| format!("10.0.0.{i} - - [02/Nov/2026:10:{i:02}:00] \"GET /static/app.js HTTP/1.1\" 200 51234\n"))
        .collect();
    let plain = format!(
        "10.0.0.7 - - [02/Nov/2026:10:00:01] \"GET /search?q=Jürgen Schröder HTTP/1.1\" 200 512\n{filler}\
         10.0.0.9 - - [02/Nov/2026:14:00:01] \"GET /unsubscribe?email=js@web.de HTTP/1.1\" 200 512\n"
    );
    // Written out, the name and the email are more than the window apart: no record.
    check("far apart, written out", &plain, &[]);
    let encoded = format!(
        "10.0.0.7 - - [02/Nov/2026:10:00:01] \"GET /search?q=J%C3%BCrgen%20Schr%C3%B6der HTTP/1.1\" 200 512\n{filler}\
         10.0.0.9 - - [02/Nov/2026:14:00:01] \"GET /unsubscribe?email=js%40web.de HTTP/1.1\" 200 512\n"
    );
    check("far apart, URL-encoded", &encoded, &[]);
}

/// A header in raw 8-bit Latin-1 (old clients, many archives) still names its people
/// (found in review: a first version read headers as UTF-8 text only).
#[test]
fn a_latin1_header_still_names_its_people() {
    let mut message = b"From: a@ourco.example\nTo: J".to_vec();
    message.push(0xFC); // ü in ISO-8859-1
    message.extend_from_slice(b"rgen Schr");
    message.push(0xF6); // ö
    message.extend_from_slice(b"der <js@web.de>\nSubject: x\n\nhello\n");
    let segments = extract(&message, &Limits::default()).segments;
    let text: String = segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n");
    assert!(
        text.contains("js@web.de"),
        "the To header's address is not read: {text:?}"
    );
}

/// What a URL-encoded word decodes to a line break, a cell delimiter or a quote is a
/// space; the word's own delimiters stay. (Found in review: a first version asked the
/// word for each decoded delimiter, which made a long word of `%2C` cost its length
/// squared; the delimiters are now found once.)
#[test]
fn url_encoded_delimiters_become_spaces_and_the_words_own_stay() {
    let text = "see below\nmail%40example.org%2Cnext%0Aline%7Cend,kept\n";
    let segments = extract(text.as_bytes(), &Limits::default()).segments;
    let read: String = segments.iter().map(|s| s.text.as_str()).collect();
    assert!(read.contains("mail@example.org,next line end,kept"), "{read:?}");
    let text = "see below\nmail%40example.org%2Cnext%0Aline%7Cend\n";
    let segments = extract(text.as_bytes(), &Limits::default()).segments;
    let read: String = segments.iter().map(|s| s.text.as_str()).collect();
    assert!(read.contains("mail@example.org next line end"), "{read:?}");
}
