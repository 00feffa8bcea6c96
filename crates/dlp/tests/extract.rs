//! Extraction boundary: every format, every encoding, every bound, hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Write};

use dlp::corpus::{pdf_of_content, pdf_of_objects, pdf_stream};
use dlp::extract::{extract, extract_parts, Extraction, Limits, UninspectableReason};
use proptest::prelude::*;

mod support;
use support::{tar_of, zip_after, zip_of};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A file of `tests/fixtures`.
fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// An Outlook message laid out as Outlook saves one ([MS-OXMSG]): its subject and body,
/// a recipient's name and address in a storage of their own, and `attachment` as a
/// file attached.
fn outlook_message(attachment: &[u8]) -> Vec<u8> {
    fn utf16(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }
    compound_of(&[
        ("/__properties_version1.0", &[0; 32]),
        ("/__substg1.0_0037001F", &utf16("the list")),
        ("/__substg1.0_1000001F", &utf16("Here it is.")),
        ("/__recip_version1.0_#00000000/__substg1.0_3001001F", &utf16("Bo Lee")),
        (
            "/__recip_version1.0_#00000000/__substg1.0_3003001F",
            &utf16("bo.lee@example.org"),
        ),
        (
            "/__attach_version1.0_#00000000/__substg1.0_3707001F",
            &utf16("customers.csv"),
        ),
        ("/__attach_version1.0_#00000000/__substg1.0_37010102", attachment),
    ])
}

/// A PowerPoint 97 presentation: the document stream LibreOffice wrote for a title
/// slide, a slide with a table and notes (`tests/fixtures/libreoffice-accounts.ppt-stream`),
/// in a compound file without the 600 KB thumbnail LibreOffice put beside it.
fn powerpoint() -> Vec<u8> {
    compound_of(&[
        ("/PowerPoint Document", &fixture("libreoffice-accounts.ppt-stream")),
        ("/Current User", &[0; 20]),
    ])
}

/// A compound file holding `streams` (path, bytes), as Office and Outlook write them.
fn compound_of(streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    for (path, bytes) in streams {
        if let Some((storage, _)) = path.rsplit_once('/').filter(|(storage, _)| !storage.is_empty()) {
            if !file.exists(storage) {
                file.create_storage_all(storage).unwrap();
            }
        }
        file.create_stream(path).unwrap().write_all(bytes).unwrap();
    }
    file.flush().unwrap();
    file.into_inner().into_inner()
}

/// A BIFF8 record: its type, length and data.
fn biff(kind: u16, data: &[u8]) -> Vec<u8> {
    [&kind.to_le_bytes()[..], &(data.len() as u16).to_le_bytes(), data].concat()
}

fn bzip2_of(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn xz_of(bytes: &[u8]) -> Vec<u8> {
    let mut writer = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    writer.write_all(bytes).unwrap();
    writer.finish().unwrap()
}

/// A zip of `entries` central directory entries that all name one member, stored at
/// the start with compression `method` and `data` (the zip crate writes no such zip).
fn zip_of_entries_naming_one_member(method: u16, data: &[u8], entries: u16) -> Vec<u8> {
    let size = u32::try_from(data.len()).unwrap();
    let mut zip = Vec::new();
    zip.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00");
    zip.extend_from_slice(&method.to_le_bytes());
    zip.extend_from_slice(&[0; 8]); // time, date, crc
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&5u16.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(b"m.txt");
    zip.extend_from_slice(data);
    let directory = zip.len();
    for entry in 0..entries {
        let name = format!("m{entry:05}.txt");
        zip.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00");
        zip.extend_from_slice(&method.to_le_bytes());
        zip.extend_from_slice(&[0; 8]);
        zip.extend_from_slice(&size.to_le_bytes());
        zip.extend_from_slice(&size.to_le_bytes());
        zip.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
        zip.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
        zip.extend_from_slice(&0u32.to_le_bytes()); // the one local header
        zip.extend_from_slice(name.as_bytes());
    }
    let directory_len = u32::try_from(zip.len() - directory).unwrap();
    zip.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    zip.extend_from_slice(&entries.to_le_bytes());
    zip.extend_from_slice(&entries.to_le_bytes());
    zip.extend_from_slice(&directory_len.to_le_bytes());
    zip.extend_from_slice(&u32::try_from(directory).unwrap().to_le_bytes());
    zip.extend_from_slice(&[0, 0]);
    zip
}

fn zstd_of(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// The py7zr fixture with its compressed header's unpack size (97, the last number of
/// the header) written as `size`, in 7z's variable-length form, and the start header's
/// size and checksum of the header made to match.
fn py7zr_archive_with_header_unpacking_to(size: &[u8]) -> Vec<u8> {
    let whole = fixture("7z-py7zr.7z");
    let offset = 32 + u64::from_le_bytes(whole[12..20].try_into().unwrap()) as usize;
    let header = &whole[offset..];
    assert_eq!(header[header.len() - 4..], [0x0C, 97, 0x00, 0x00]);
    let header = [&header[..header.len() - 3], size, &[0x00, 0x00]].concat();
    let mut crc = flate2::Crc::new();
    crc.update(&header);
    let mut archive = whole[..offset].to_vec();
    archive[20..28].copy_from_slice(&(header.len() as u64).to_le_bytes());
    archive[28..32].copy_from_slice(&crc.sum().to_le_bytes());
    let mut start = flate2::Crc::new();
    start.update(&archive[12..32]);
    archive[8..12].copy_from_slice(&start.sum().to_le_bytes());
    archive.extend_from_slice(&header);
    archive
}

fn utf16(text: &str, little: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend(if little { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
    }
    for unit in text.encode_utf16() {
        out.extend(if little { unit.to_le_bytes() } else { unit.to_be_bytes() });
    }
    out
}

const DOCX_XML: &str = r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Quarterly &amp; plan</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>Ana Rossi</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>ana@x.io</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>"#;
const SHEET_XML: &str = r#"<worksheet><sheetData><row r="1"><c t="s"><v>0</v></c><c><v>84912345678</v></c></row><row r="2"><c t="inlineStr"><is><t>inline cell</t></is></c><c t="inlineStr"><is><r><t>Mustaf</t></r><r><rPr><b/></rPr><t xml:space="preserve">a Özdemir</t></r></is></c></row></sheetData></worksheet>"#;
const SHARED_XML: &str = r#"<sst><si><t>Trần Lan</t></si></sst>"#;
const SLIDE_XML: &str = r#"<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:r><a:t>Roadmap secret</a:t></a:r></a:p></p:sld>"#;
const EMAIL: &str = "From: A <a@corp.example>\r\nTo: b@else.example\r\nSubject: Hello there\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nbody words here\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>html words</p><table><tr><td>c1</td><td>c2</td></tr></table>\r\n--x\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=\"a.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";

fn email_with_zip() -> Vec<u8> {
    use base64::Engine;
    let zip = zip_of(&[("inner.txt", b"attached secret words")]);
    let mut mail = EMAIL.to_string();
    mail.push_str(&base64::engine::general_purpose::STANDARD.encode(zip));
    mail.push_str("\r\n--x--\r\n");
    mail.into_bytes()
}

fn base64_of(bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes).into_bytes()
}

fn wrapped_base64(bytes: &[u8], width: usize) -> Vec<u8> {
    base64_of(bytes).chunks(width).collect::<Vec<_>>().join(&b"\r\n"[..])
}

fn url_safe_base64(bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(bytes)
        .into_bytes()
}

fn xlsx_of_sheet() -> Vec<u8> {
    zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/sharedStrings.xml", SHARED_XML.as_bytes()),
        ("xl/worksheets/sheet1.xml", SHEET_XML.as_bytes()),
    ])
}

/// `text` in a legacy encoding, as a Windows program would save it.
fn legacy(text: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{text:?} is not all in {}", encoding.name());
    bytes.into_owned()
}

/// A mail whose one attachment is `body`, of `content_type` (with a charset only
/// where it says one), in `transfer_encoding`.
fn email_with_text_part(content_type: &str, transfer_encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut mail = format!(
        "From: a@corp.example\r\nTo: b@else.example\r\nSubject: export\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n--B\r\nContent-Type: {content_type}; name=\"export\"\r\nContent-Disposition: attachment; filename=\"export\"\r\nContent-Transfer-Encoding: {transfer_encoding}\r\n\r\n"
    )
    .into_bytes();
    mail.extend_from_slice(body);
    mail.extend_from_slice(b"\r\n--B--\r\n");
    mail
}

struct Expect {
    contains: &'static [&'static str],
    rows: usize,
    reason: Option<fn(&UninspectableReason) -> bool>,
}

/// LibreOffice's Word 97 document with one byte of its header (the WordDocument
/// stream's first bytes, at a sector of their own) set to `value`.
fn word_header_patched(at: usize, value: u8) -> Vec<u8> {
    let mut doc = fixture("libreoffice.doc");
    let header = (512..doc.len())
        .step_by(512)
        .find(|start| doc.get(*start..*start + 2) == Some(&[0xEC, 0xA5][..]))
        .expect("the fixture has a Word header");
    doc[header + at] = value;
    doc
}

/// A one-page PDF whose page draws form `/X` (object 6), and `forms` as objects 6 on,
/// each given as its dictionary's entries and its content. Forms name each other
/// `/X`, `/Y`, `/Z` by their own resources, and themselves `/Me`.
fn pdf_with_forms(forms: &[(&str, &str)]) -> Vec<u8> {
    pdf_drawing_forms("/X Do", forms)
}

/// [`pdf_with_forms`] whose page's content is `page`.
fn pdf_drawing_forms(page: &str, forms: &[(&str, &str)]) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> /XObject << /X 6 0 R >> >> >>".to_string(),
        pdf_stream("", page),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
    ];
    for (i, (entries, content)) in forms.iter().enumerate() {
        let me = format!("/Me {} 0 R", 6 + i);
        let entries = if entries.contains("/XObject <<") {
            entries.replacen("/XObject <<", &format!("/XObject << {me}"), 1)
        } else {
            entries.to_string()
        };
        objects.push(pdf_stream(&format!("/Type /XObject {entries}"), content));
    }
    pdf_of_objects(&objects)
}

fn ok(contains: &'static [&'static str], rows: usize) -> Expect {
    Expect {
        contains,
        rows,
        reason: None,
    }
}

fn fails(reason: fn(&UninspectableReason) -> bool) -> Expect {
    Expect {
        contains: &[],
        rows: 0,
        reason: Some(reason),
    }
}

fn check(name: &str, bytes: &[u8], limits: &Limits, expect: &Expect) -> Extraction {
    let out = extract(bytes, limits);
    let all: String = out
        .segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in expect.contains {
        assert!(all.contains(needle), "{name}: {needle:?} not in {all:?}");
    }
    let rows = out.segments.iter().map(|s| s.rows.len()).sum::<usize>();
    assert_eq!(rows, expect.rows, "{name}: row count in {:?}", out.segments);
    match expect.reason {
        Some(matches) => assert!(
            out.uninspectable.iter().any(matches),
            "{name}: expected reason, got {:?}",
            out.uninspectable
        ),
        None => assert!(
            out.uninspectable.is_empty(),
            "{name}: unexpected {:?}",
            out.uninspectable
        ),
    }
    out
}

#[test]
fn formats_and_encodings() {
    let d = Limits::default();
    let csv = b"name,email\nAna Rossi,ana@x.io\n\"Lee, Bo\",bo@y.io\n";
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("plain utf8", b"hello world".to_vec(), ok(&["hello world"], 0)),
        ("utf8 bom", b"\xEF\xBB\xBFhi \xC3\xA9t\xC3\xA9".to_vec(), ok(&["hi été"], 0)),
        ("utf16le bom", utf16("Nguyễn Văn", true, true), ok(&["Nguyễn Văn"], 0)),
        ("utf16be bom", utf16("Nguyễn Văn", false, true), ok(&["Nguyễn Văn"], 0)),
        ("utf16le no bom", utf16("plain ascii text", true, false), ok(&["plain ascii text"], 0)),
        ("latin1", b"M\xFCller Stra\xDFe".to_vec(), ok(&["Müller Straße"], 0)),
        // Text not in UTF-8 is read in the encoding it looks like: Windows' own Latin-1
        // (its quotes and euro), and the Cyrillic and East Asian encodings that Excel
        // on a Russian, Japanese, Chinese or Korean Windows saves CSV in.
        // Short Latin-1 text, a few accented letters in it, is not taken for another
        // Western code page.
        ("latin-1 french", legacy("Lefèvre, Amélie; 01 42 68 53 00", encoding_rs::WINDOWS_1252), ok(&["Lefèvre, Amélie"], 0)),
        ("latin-1 german", legacy("Müller, Jürgen", encoding_rs::WINDOWS_1252), ok(&["Müller, Jürgen"], 0)),
        ("latin-1 spanish", legacy("Núñez García, José", encoding_rs::WINDOWS_1252), ok(&["Núñez García, José"], 0)),
        ("latin-1 portuguese", legacy("Conceição, São João", encoding_rs::WINDOWS_1252), ok(&["Conceição, São João"], 0)),
        ("latin-1 nordic", legacy("Ødegård Ærø, Åsa", encoding_rs::WINDOWS_1252), ok(&["Ødegård Ærø, Åsa"], 0)),
        ("latin-1 one letter", legacy("Name: Zoë", encoding_rs::WINDOWS_1252), ok(&["Zoë"], 0)),
        ("windows-1252", b"\x93J\xFCrgen Wei\xDF\x94 \x80 5".to_vec(), ok(&["\u{201C}Jürgen Weiß\u{201D} € 5"], 0)),
        ("windows-1251 csv", legacy("Фамилия;Телефон\r\nИванов Пётр Сергеевич;+7 912 345-67-89\r\nСмирнова Анна;8 (812) 123-45-67\r\n", encoding_rs::WINDOWS_1251), ok(&["Иванов Пётр Сергеевич | +7 912 345-67-89", "Смирнова Анна"], 3)),
        ("shift_jis csv", legacy("氏名,電話番号,住所\r\n山田太郎,090-1234-5678,東京都港区六本木1-2-3\r\n佐藤花子,080-2345-6789,大阪府大阪市北区梅田2-4-9\r\n", encoding_rs::SHIFT_JIS), ok(&["山田太郎 | 090-1234-5678 | 東京都港区六本木1-2-3", "佐藤花子"], 3)),
        ("gbk text", legacy("客户王伟的手机号码是13812345678，地址是北京市朝阳区建国路88号。请联系李娜。", encoding_rs::GBK), ok(&["客户王伟的手机号码是13812345678", "请联系李娜"], 0)),
        ("euc-kr text", legacy("고객 김민준님의 연락처는 010-1234-5678 이고 주소는 서울특별시 강남구 테헤란로 123 입니다.", encoding_rs::EUC_KR), ok(&["김민준님의 연락처는 010-1234-5678"], 0)),
        ("arabic utf-16be without bom", utf16("آمنة سليمان، هاتف ٠٥٠ ١٢٣ ٤٥٦٧", false, false), ok(&["آمنة سليمان، هاتف 050 123 4567"], 0)),
        ("arabic utf-16le without bom", utf16("محمد حسن\r\n", true, false), ok(&["محمد حسن"], 0)),
        ("csv", csv.to_vec(), ok(&["Lee, Bo | bo@y.io"], 3)),
        // A title above the header row: still a table, its title a row of its own.
        (
            "csv under a title",
            "Accounts Q4\n顧客番号,備考,氏名\nCU-580178,renewal due,Takuya Yoshida\n".into(),
            ok(&["CU-580178 | renewal due | Takuya Yoshida"], 3),
        ),
        // Cells quoted over line breaks (a CRM's notes): every line of such a row is
        // in it, though no two lines hold as many commas (found missed by a blind test).
        (
            "csv whose cells hold line breaks",
            "Name,History,Email\nKaren Johnson,\"call, asked about the warranty\nand, the price\nof spare parts\",karen@x.io\nBo Lee,\"one \"\"quoted\"\" line\nand, another\",bo@y.io\n".into(),
            ok(&["Karen Johnson | call, asked", "spare parts | karen@x.io", "Bo Lee | one \"quoted\" line\nand, another | bo@y.io"], 3),
        ),
        (
            "tsv under two title lines",
            "Key accounts\nexported 2026-11-30\nname\temail\tphone\nAna Rossi\tana@x.io\t+39 347 123 4567\n".into(),
            ok(&["Ana Rossi | ana@x.io | +39 347 123 4567"], 4),
        ),
        // Rich text: paragraphs apart, escapes in the document's or the font's code
        // page, Unicode escapes without their fallback, document properties and
        // skippable destinations not text, table rows by cell, binary data skipped.
        (
            "rtf",
            br"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Helvetica;}{\f1\fnil\fcharset204 Arial;}{\f2\fnil\fcharset128 MS Mincho;}}{\info{\author Hidden Author}}{\*\generator Riched20;}\f0\pard Kunde: Jos\'e9 M\'fcller\par Telefon +49 151 2345678\par {\f1 \'c8\'e2\'e0\'ed\'ee\'e2 \'cf\'b8\'f2\'f0}\par\uc1 \u27700?\u37326?\u-26617?\par {\f2 \'8eR\'93c\'91\'be\'98Y}\par {\pict\bin4 \'41}}\par \ldblquote quoted\rdblquote\~end\par}".to_vec(),
            ok(&["Kunde: José Müller\nTelefon +49 151 2345678\nИванов Пётр\n水野\u{9807}\n山田太郎\n", "\u{201C}quoted\u{201D}\u{A0}end"], 0),
        ),
        (
            "rtf table",
            br"{\rtf1\ansi\ansicpg1251 Clients\par\trowd\cellx1000\cellx2000\intbl \'c0\'ed\'ed\'e0 \'d0\'ee\'f1\'f1\'e8\cell ana@x.io\cell\row\trowd\intbl Bo Lee\cell bo@y.io\cell\row\pard After the table\par}".to_vec(),
            ok(&["Clients", "Анна Росси | ana@x.io", "Bo Lee | bo@y.io", "After the table"], 2),
        ),
        // A list item's bullet in a cell keeps its row; a nested table's rows are rows of
        // their own; bytes and symbols keep their order; `\plain` returns to the default
        // font's code page; a text box is read once and a comment read; a link's address
        // is read before its text.
        ("rtf list in a cell", br"{\rtf1\ansi\trowd\cellx1\cellx2\pard\intbl{\listtext\pard\plain \'b7\tab}Ana Rossi\cell ana@x.io\cell\row\pard}".to_vec(), ok(&["\u{B7}\tAna Rossi | ana@x.io"], 1)),
        (
            "rtf nested table",
            br"{\rtf1\ansi\trowd\cellx1\pard\intbl Outer\cell\pard\intbl\itap2 Ana Rossi\nestcell ana@x.io\nestcell{\*\nesttableprops\trowd\nestrow}\pard\intbl\itap2 Bo Lee\nestcell bo@y.io\nestcell{\*\nesttableprops\trowd\nestrow}{\nonesttables\par}\pard\intbl done\cell\row\pard}".to_vec(),
            ok(&["Ana Rossi | ana@x.io", "Bo Lee | bo@y.io", "Outer | done"], 3),
        ),
        ("rtf bytes and symbols in order", br"{\rtf1\ansi\deff1{\fonttbl{\f1\fcharset204 Arial;}{\f2\fcharset0 Times;}}Jos\'e9\~Garc\'eda \f2 x\plain \'c8\'e2 a\'+fb}".to_vec(), ok(&["Jos\u{e9}\u{A0}Garc\u{ed}a x\u{418}\u{432} a+fb"], 0)),
        (
            "rtf text box, comment and link",
            br#"{\rtf1\ansi{\shp{\*\shpinst{\sp{\sn shapeType}{\sv 202}}{\shptxt \pard Ana Rossi +39 347 123 4567\par}}{\shprslt{\*\do\dptxbx{\pard Ana Rossi +39 347 123 4567\par}}}}{\*\annotation \pard Call Bo Lee}{\field{\*\fldinst {HYPERLINK "mailto:ana%40x.io?subject=Hi"}}{\fldrslt {Write}}}}"#.to_vec(),
            ok(&["Ana Rossi +39 347 123 4567", "Call Bo Lee", "ana@x.io Write"], 0),
        ),
        // A word hyphenated over a line break is one word again; a hyphen before a
        // capital or a number stays.
        ("hyphenated over a break", "Bitte Loïc Bouc-\nher unter 06 19 55 21 28, Schn-\r\neider, Jean-\nPierre, Nr.-\n5, A-\n7".as_bytes().to_vec(), ok(&["Bitte Loïc Boucher unter 06 19 55 21 28, Schneider, Jean-\nPierre, Nr.-\n5, A-\n7"], 0)),
        ("rtf truncated", br"{\rtf1\ansi \pard Ana Rossi +39 347 123 4567 {\b bold \'e".to_vec(), ok(&["Ana Rossi +39 347 123 4567 bold"], 0)),
        ("rtf unbalanced", br"{\rtf1 text}}} more \u-3 \'zz \bin99999999 x".to_vec(), ok(&["text more"], 0)),
        ("tsv", b"a\tb\n1\t2\n3\t4\n".to_vec(), ok(&["3 | 4"], 3)),
        ("json", br#"[{"n":"Ana","e":"ana@x.io"},{"n":"Bo","e":"b@y"}]"#.to_vec(), ok(&["Ana | ana@x.io"], 2)),
        ("ndjson", b"{\"n\":\"Ana\"}\n{\"n\":\"Bo\"}\n".to_vec(), ok(&["Bo"], 2)),
        // A table a column at a time, as pandas writes a data frame by default, or as
        // lists: read by its rows. Columns under other keys stay columns.
        ("json columns", br#"{"name":{"0":"Ana Rossi","1":"Bo Lee","2":"Cy Ng"},"phone":{"0":"+39 347 123 4567","1":"555 0101","2":null}}"#.to_vec(), ok(&["Ana Rossi | +39 347 123 4567", "Bo Lee | 555 0101"], 3)),
        ("json lists", br#"{"name":["Ana Rossi","Bo Lee"],"email":["ana@x.io","bo@y.io"],"n":[1,2]}"#.to_vec(), ok(&["Ana Rossi | ana@x.io | 1", "Bo Lee | bo@y.io | 2"], 2)),
        ("json columns of other rows", br#"{"a":{"0":"x","1":"y"},"b":{"1":"z","2":"w"}}"#.to_vec(), ok(&["x | y | z | w"], 1)),
        ("json record", br#"{"name":"Ana","contact":{"email":"a@x.io"}}"#.to_vec(), ok(&["Ana | a@x.io"], 1)),
        ("json big object", format!("{{\"title\":\"x\",\"list\":[{}]}}", (0..40).map(|i| format!("\"v{i}\"")).collect::<Vec<_>>().join(",")).into_bytes(), ok(&["title: x", "v39"], 0)),
        ("xml inline names", b"<c><first>Ana</first><last>Rossi</last></c>".to_vec(), ok(&["Ana Rossi"], 0)),
        // XML keeps data in attributes; HTML only in mailto: and tel: links.
        (
            "xml attributes",
            b"<?xml version=\"1.0\"?><customers><customer id=\"C-1\" name=\"Ana Rossi\" phone='+39 347 123 4567'/></customers>".to_vec(),
            ok(&["C-1 | Ana Rossi | +39 347 123 4567"], 1),
        ),
        (
            "html links",
            b"<p><a href=\"mailto:ana@x.io?subject=Hi\">Write</a> <a href='tel:+393471234567' class=c>Call</a> <a href=\"mailto:bo%40y.io\">Bo</a> <a href=\"tel:+39%20347\">Tel</a></p>".to_vec(),
            ok(&["ana@x.io Write", "+393471234567 Call", "bo@y.io Bo", "+39 347 Tel"], 0),
        ),
        // Formatting inside a word does not split it; cells outside a row stay apart.
        ("fullwidth forms", "ｌｏｒｅｎｚｏ．ｅ＠ｗａｎａｄｏｏ．ｆｒ　０９１２　３４５　６７８ 山田 ＡＢｃ".as_bytes().to_vec(), ok(&["lorenzo.e@wanadoo.fr 0912 345 678 山田 ABc"], 0)),
        // Dashes as phones are written in Japanese and typeset text; the prolonged sound
        // mark between letters is part of the word, and an en or em dash parts numbers.
        ("dashes in numbers", "０７０ー４１２０ー２３９５ 070\u{2212}1\u{2012}2\u{2011}3 4\u{2013}5\u{2014}6 コーヒー ー1 1ー".as_bytes().to_vec(), ok(&["070-4120-2395 070-1-2-3 4\u{2013}5\u{2014}6 コーヒー ー1 1ー"], 0)),
        // Digits of other scripts are digits; Thai titles joined to a name are apart.
        ("native digits", "هاتف ٠٥٠١٢٣٤٥٦٧، تلفن ۰۹۱۲ ۳۴۵ ۶۷۸۹، मोबाइल ९८७६५ ४३२१०, โทร ๐๘๑".as_bytes().to_vec(), ok(&["هاتف 0501234567، تلفن 0912 345 6789، मोबाइल 98765 43210, โทร 081"], 0)),
        ("thai titles", "ติดต่อคุณธนากร พรหมมา และนางสาวกัญญา ใจดี คุณภาพ นาย".as_bytes().to_vec(), ok(&["ติดต่อ คุณ ธนากร พรหมมา และ นางสาว กัญญา ใจดี คุณ ภาพ นาย"], 0)),
        ("html named entities", b"<p>J&eacute;r&ocirc;me M&eacute;nard &amp; G&uuml;nther &#x4E;&#97;&nbsp;&bogus; &amp</p>".to_vec(), ok(&["Jérôme Ménard & Günther Na &bogus; &amp"], 0)),
        ("html footnote marks", b"<p>Smith<sup>2</sup> Kavya &CounterClockwiseContourIntegral;</p>".to_vec(), ok(&["Smith 2 Kavya \u{2233}"], 0)),
        ("html inline formatting", "<p>Ngu<span>yễn</span> <b>V</b>ăn An</p>".as_bytes().to_vec(), ok(&["Nguyễn Văn An"], 0)),
        // A comment renders as nothing, so it parts no word (found missed by a blind test:
        // inside an address and a name); nor does an empty inline element, or a comment
        // between two runs of a word processor.
        (
            "html comments inside words",
            "<p>Tor<!-- x -->ill Lund &lt;torill.lu<!--\n-->nd@fjord.example&gt; Ma<span class=\"c\"></span>ja <span lang=NO>Ek</span><!----><span lang=NO>berg</span></p><?php x ?><p>Ny<!DOCTYPE x>hus</p>".as_bytes().to_vec(),
            ok(&["Torill Lund <torill.lund@fjord.example> Maja Ekberg", "Nyhus"], 0),
        ),
        // Invisible characters are dropped; a zero-width space in Thai, where it parts
        // words, becomes a space; Persian's zero-width non-joiner stays within its word.
        (
            "invisible characters",
            "Bea\u{200B}triz Sil\u{AD}va, bea\u{2060}@x.io, +55\u{FEFF}11; สวัสดี\u{200B}ครับ; می\u{200C}خواهم".as_bytes().to_vec(),
            ok(&["Beatriz Silva, bea@x.io, +5511; สวัสดี ครับ; می\u{200C}خواهم"], 0),
        ),
        // So are the other default-ignorable characters (zero-width joiners between Latin
        // letters, bidirectional controls, the Mongolian vowel separator, tag characters,
        // the combining grapheme joiner, variation selectors); a zero-width joiner that
        // shapes an Indic conjunct stays. Mathematical, letterlike and circled letters are
        // the ASCII letters they decompose to (found by a blind test).
        (
            "default-ignorable characters and mathematical letters",
            "Dö\u{200C}rte Sch\u{202C}rö\u{200E}d\u{180E}er\u{E0020}, dor\u{34F}te\u{FE0F}@x.de; क्\u{200D}ष; 𝐣𝐬@𝐰𝐞𝐛.𝐝𝐞, 𝓪𝓷𝓪, ⓐⓝⓐ, ℎ℡"
                .as_bytes()
                .to_vec(),
            ok(&["Dörte Schröder, dorte@x.de; क्\u{200D}ष; js@web.de, ana, ana, h℡"], 0),
        ),
        // Cyrillic and Greek letters drawn as Latin ones are read as those in a word or an
        // address that also holds a Latin letter, in text and in a table's cells (found by
        // a blind test); words of Russian and Greek stay as they are written.
        (
            "look-alike letters of other scripts",
            "Маrсо Воdоnі, zsсаrfоglіо66@роstе.іt; Сергей Иванов, Καtherιnα, Ελένη Παππά".as_bytes().to_vec(),
            ok(&["Marco Bodoni, zscarfoglio66@poste.it; Сергей Иванов, Katherina, Ελένη Παππά"], 0),
        ),
        (
            "look-alike letters in a table",
            "name,email,city\nМаrсо Воdоnі,zsсаrfоglіо66@роstе.іt,Москва\n".as_bytes().to_vec(),
            ok(&["Marco Bodoni | zscarfoglio66@poste.it | Москва"], 2),
        ),
        // Inline elements of other attributes side by side each hold their own text (a
        // CRM card's label and value); one starting inside a word, runs of one format
        // (as Word cuts a word), or a word-break hint, do not split it.
        (
            "html label and value spans",
            "<div class=\"row\"><span class=\"label\">Name</span><span class=\"value\">Tobias Weber</span></div><div><span>Email</span><span>tobias_weber@web.de</span></div><p><b>Ngu</b>yễn <i>V</i>ăn An, ana<wbr>@x.io, <span lang=EN-US>Hen</span><span lang=EN-US>ri</span></p>".as_bytes().to_vec(),
            ok(&["Name Tobias Weber", "Email tobias_weber@web.de", "Nguyễn Văn An, ana@x.io, Henri"], 0),
        ),
        ("html cells without a row", b"<td>Ana</td><td>Rossi</td><td>ana@x.io</td>".to_vec(), ok(&["Ana Rossi ana@x.io"], 0)),
        (
            "html",
            b"<html><script>var hidden=1;</script><p>Hi &amp; bye&#33;</p><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table></html>".to_vec(),
            ok(&["Hi & bye!", "a | b"], 2),
        ),
        ("xml", b"<?xml version=\"1.0\"?><c><name>Ana</name><mail>ana@x.io</mail></c>".to_vec(), ok(&["Ana", "ana@x.io"], 0)),
        (
            "docx",
            zip_of(&[("[Content_Types].xml", b"<Types/>"), ("word/document.xml", DOCX_XML.as_bytes())]),
            ok(&["Quarterly & plan", "Ana Rossi | ana@x.io"], 1),
        ),
        (
            // Text deleted with changes tracked is still in the file (found missed by a
            // blind test).
            "docx tracked deletion",
            zip_of(&[(
                "word/document.xml",
                br#"<w:document><w:body><w:p><w:del w:id="1"><w:r><w:delText>Ana Rossi, ana@x.io</w:delText></w:r></w:del></w:p></w:body></w:document>"#,
            )]),
            ok(&["Ana Rossi, ana@x.io"], 0),
        ),
        (
            // The rest of an Office file is read too (found in review: a list beside
            // `word/document.xml` was not); its styles are not text of the user's.
            "docx with more in it",
            zip_of(&[
                ("word/document.xml", DOCX_XML.as_bytes()),
                ("word/styles.xml", b"<w:styles><w:t>StyleWord</w:t></w:styles>"),
                ("word/embeddings/list.csv", b"name,email\nBo Lee,bo@x.io\n"),
                ("customers.csv", b"name,email\nCy Ng,cy@x.io\n"),
            ]),
            ok(&["Ana Rossi | ana@x.io", "Bo Lee | bo@x.io", "Cy Ng | cy@x.io"], 5),
        ),
        (
            // Found missed by a blind test: a cell's comment (legacy and threaded), and
            // a slide's. Each comment is a text of its own.
            "xlsx and pptx comments",
            zip_of(&[
                ("in.xlsx", &zip_of(&[
                    ("xl/workbook.xml", b"<workbook/>"),
                    ("xl/worksheets/sheet1.xml", br#"<worksheet><sheetData><row><c t="inlineStr"><is><t>Account</t></is></c></row></sheetData></worksheet>"#),
                    ("xl/comments1.xml", br#"<comments><authors><author>Rep</author></authors><commentList><comment ref="A1" authorId="0"><text><r><t>Rep:</t></r><r><t xml:space="preserve">
contact Juan Bautista Acosta +34 688 31 07 70</t></r></text></comment><comment ref="A2" authorId="0"><text><t>second note</t></text></comment></commentList></comments>"#),
                    ("xl/threadedComments/threadedComment1.xml", br#"<ThreadedComments><threadedComment ref="A3"><text>ask Ana Rossi</text></threadedComment></ThreadedComments>"#),
                ])[..]),
                ("in.pptx", &zip_of(&[
                    ("ppt/presentation.xml", b"<p:presentation/>"),
                    ("ppt/comments/comment1.xml", br#"<p:cmLst><p:cm authorId="0"><p:text>call Bo Lee on 0412 345 678</p:text></p:cm></p:cmLst>"#),
                ])[..]),
            ]),
            ok(&["Rep:\ncontact Juan Bautista Acosta +34 688 31 07 70\n", "\nsecond note\n", "ask Ana Rossi", "call Bo Lee on 0412 345 678"], 1),
        ),
        (
            // Found missed by a blind test: an invitation's lines folded inside a name
            // and an email (RFC 5545), and its escaped commas.
            "icalendar folded",
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nATTENDEE;CN=Alexander Hud\r\n son:mailto:alexander.hudson871@prot\r\n on.me\r\nATTENDEE;CN=\"Rossi\\, Ana\":mailto:ana@x.io\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".to_vec(),
            ok(&["ATTENDEE;CN=Alexander Hudson:mailto:alexander.hudson871@proton.me\n", "CN=\"Rossi, Ana\""], 0),
        ),
        (
            // As openpyxl writes a formula: no value computed. Its strings are read (a
            // quote in one written twice); a cell with a value is read by its value.
            "xlsx formulas without values",
            zip_of(&[
                ("xl/workbook.xml", b"<workbook/>"),
                (
                    "xl/worksheets/sheet1.xml",
                    br#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Ann O'Hara</t></is></c><c r="B1"><f>HYPERLINK("mailto:ann@x.io","Mail ""Ann""")</f></c><c r="C1" t="str"><f>HYPERLINK("tel:+3934","call")</f><v>shown value</v></c><c r="D1"><f>SUM(A2:A9)</f></c></row></sheetData></worksheet>"#,
                ),
            ]),
            ok(&["Ann O'Hara | mailto:ann@x.io Mail \"Ann\" | shown value"], 1),
        ),
        (
            "xlsx",
            zip_of(&[
                ("xl/workbook.xml", b"<workbook/>"),
                ("xl/sharedStrings.xml", SHARED_XML.as_bytes()),
                ("xl/worksheets/sheet1.xml", SHEET_XML.as_bytes()),
            ]),
            ok(&["Trần Lan | 84912345678", "inline cell | Mustafa Özdemir"], 2),
        ),
        (
            "pptx",
            zip_of(&[("ppt/presentation.xml", b"<p/>"), ("ppt/slides/slide1.xml", SLIDE_XML.as_bytes())]),
            ok(&["Roadmap secret"], 0),
        ),
        ("pdf", dlp::corpus::pdf(&["first line".into(), "second line".into()]), ok(&["first line", "second line"], 0)),
        // Moves of the text position separate lines and words; letters set one by one
        // and narrow kerning do not.
        ("pdf lines", pdf_of_content("BT /F1 10 Tf 14 TL 50 780 Td (Customer list) Tj T* (Kavya Reddy) Tj T* ET"), ok(&["Customer list\nKavya Reddy\n"], 0)),
        ("pdf words placed", pdf_of_content("BT /F1 10 Tf 1 0 0 1 50 780 Tm (Kavya) Tj ET BT /F1 10 Tf 1 0 0 1 83.6 780 Tm (Reddy) Tj ET BT 1 0 0 1 50 760 Tm (next) Tj ET"), ok(&["Kavya Reddy\nnext"], 0)),
        ("pdf letters placed", pdf_of_content("BT /F1 10 Tf 50 700 Td (K) Tj 6 0 Td (a) Tj 5 0 Td (v) Tj 5 0 Td (ya) Tj 0 -12 Td (x) Tj ET"), ok(&["Kavya\nx"], 0)),
        ("pdf a cell of one character", pdf_of_content("BT /F1 9 Tf ET BT 31 780 Td (1) Tj ET BT 210 780 Td (KH-094790) Tj ET BT 1 0 0 1 31 760 Tm (2) Tj 1 0 0 1 210 760 Tm (KH-031631) Tj ET"), ok(&["1 KH-094790\n2 KH-031631"], 0)),
        ("pdf quote operators", pdf_of_content("BT /F1 10 Tf 12 TL 50 700 Td (one) Tj (two) ' 1 2 (three) \" ET"), ok(&["one\ntwo\nthree"], 0)),
        ("pdf blocks moved by cm", pdf_of_content("q 1 0 0 1 72 700 cm BT /F1 12 Tf 0 0 Td (Ravi Reddy) Tj ET Q q 1 0 0 1 72 686 cm BT /F1 12 Tf 0 0 Td (7) Tj ET Q q 1 0 0 1 72 672 cm BT /F1 12 Tf 0 0 Td (Kavya) Tj ET Q"), ok(&["Ravi Reddy\n7\nKavya\n"], 0)),
        // Forms drawn by the page, and by forms, with their own fonts or, without
        // resources of their own, their caller's; an image is no form, and a form drawing
        // itself is drawn once.
        (
            "pdf forms",
            pdf_with_forms(&[
                ("/Subtype /Form /Resources << /Font << /F2 5 0 R >> /XObject << /Y 7 0 R /Z 8 0 R >> >>", "BT /F2 10 Tf 50 800 Td (Karen Johnson) Tj ET /Y Do /Z Do /Me Do"),
                ("/Subtype /Form /Matrix [1 0 0 1 0 -12]", "BT /F2 10 Tf 50 800 Td (512-364-7562) Tj ET /Y Do"),
                ("/Subtype /Image /Width 1 /Height 1", "BT (not text) Tj ET"),
            ]),
            ok(&["Karen Johnson\n512-364-7562\n"], 0),
        ),
        // What annotations say: a comment's note, a field's value, or its parent field's.
        (
            "pdf annotations",
            pdf_of_objects(&[
                "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] >> >>".into(),
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R 8 0 R 9 0 R] >>".into(),
                pdf_stream("", "BT /F1 12 Tf 50 800 Td (Name:) Tj ET"),
                "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
                "<< /Type /Annot /Subtype /Text /Rect [0 0 9 9] /Contents (call Karen Johnson) >>".into(),
                "<< /FT /Tx /T (phone) /V <FEFF0035003100320020003300360034> /Kids [8 0 R] >>".into(),
                "<< /Type /Annot /Subtype /Widget /Parent 7 0 R /Rect [0 0 9 9] >>".into(),
                "<< /Type /Annot /Subtype /Widget /FT /Ch /T (city) /V [(Austin) (TX)] /Rect [0 0 9 9] >>".into(),
            ]),
            ok(&["Name:\ncall Karen Johnson\n512 364\nAustin\nTX\n"], 0),
        ),
        // Rows appended to a zip archive or an Office file, which unzip and Office skip,
        // are read after its members; also more of them than the zip reader's search
        // for the archive's end passes over (64 KiB).
        (
            "zip with rows appended",
            [zip_of(&[("note.txt", b"hello there")]), b"name,email\nAna Rossi,ana@x.io\n".to_vec()].concat(),
            ok(&["hello there", "Ana Rossi | ana@x.io"], 2),
        ),
        (
            "zip with many rows appended",
            [zip_of(&[("note.txt", b"hello there")]), format!("name,email\n{}", "Ana Rossi,ana@x.io\n".repeat(5000)).into_bytes()].concat(),
            ok(&["hello there", "Ana Rossi | ana@x.io"], 5001),
        ),
        // Rows appended to a PDF (`cat report.pdf customers.csv`), which a PDF reader
        // never shows, are read after its pages.
        (
            "pdf with rows appended",
            [pdf_of_content("BT /F1 10 Tf 50 700 Td (Quarterly report) Tj ET"), b"name,email\nAna Rossi,ana@x.io\n".to_vec()].concat(),
            ok(&["Quarterly report", "Ana Rossi | ana@x.io"], 2),
        ),
        ("pdf kerning", pdf_of_content("BT /F1 10 Tf 50 700 Td [(Ana) -250 (Ro) -20 (ssi)] TJ ET"), ok(&["Ana Rossi"], 0)),
        ("email", email_with_zip(), ok(&["Hello there", "body words here", "html words", "attached secret words"], 1)),
        // A text attachment without a charset is sniffed as a file is, not read as UTF-8.
        ("email utf-16 csv without charset", email_with_text_part("text/csv", "base64", &base64_of(&utf16("Name;Telefon\r\nBenoît Rousseau;07 62 81 27 00\r\n", true, true))), ok(&["Benoît Rousseau | 07 62 81 27 00"], 2)),
        // A stray bad byte in UTF-8 does not turn the part into Latin-1; a transfer
        // encoding that only a lenient reader takes keeps that reading.
        ("email utf-8 with a stray byte", email_with_text_part("text/plain", "8bit", b"Kunde: Jos\xC3\xA9 M\xC3\xBCller, +49 151 2345678\r\n\xff"), ok(&["José Müller, +49 151 2345678"], 0)),
        ("email lenient quoted-printable", email_with_text_part("text/plain", "quoted-printable", b"Jos=E9 M=FCller, +49 151 2345678, see ?id=zz"), ok(&["+49 151 2345678, see ?id=zz"], 0)),
        ("email latin-1 with letter pairs valid as utf-8", email_with_text_part("text/plain", "8bit", b"\xBBJ\xFCrgen Wei\xDF\xAB, 0152 92931609"), ok(&["»Jürgen Weiß«, 0152 92931609"], 0)),
        ("email in shift_jis", email_with_text_part("text/plain; charset=shift_jis", "base64", &base64_of(&legacy("山田太郎様 090-1234-5678", encoding_rs::SHIFT_JIS))), ok(&["山田太郎様 090-1234-5678"], 0)),
        ("email in iso-2022-jp", email_with_text_part("text/plain; charset=iso-2022-jp", "7bit", &legacy("佐藤花子様 080-2345-6789", encoding_rs::ISO_2022_JP)), ok(&["佐藤花子様 080-2345-6789"], 0)),
        ("email cp1251 csv without charset", email_with_text_part("text/csv", "base64", &base64_of(&legacy("Имя;Телефон\r\nИванов Пётр;+7 912 345-67-89\r\n", encoding_rs::WINDOWS_1251))), ok(&["Иванов Пётр | +7 912 345-67-89"], 2)),
        ("email latin-1 text without charset", email_with_text_part("text/plain", "quoted-printable", b"Beno=EEt Rousseau, T=E9l 07 62 81 27 00"), ok(&["Benoît Rousseau, Tél 07 62 81 27 00"], 0)),
        // A mailbox, or one message saved with its separator line: each message is a
        // mail, its parts decoded; a line of the body that began with "From " comes back.
        (
            "mbox",
            [
                &b"From ana@x.io Mon Mar  2 09:00:00 2026\n"[..],
                &email_with_text_part("text/plain", "base64", &base64_of(b"Ana Rossi, ana@x.io")),
                b"\nFrom bo@y.io Mon Mar  2 09:05:00 2026\n",
                &email_with_text_part("text/plain", "quoted-printable", b"Bo Lee, bo=40y.io\n>From the desk of Bo"),
            ]
            .concat(),
            ok(&["Ana Rossi, ana@x.io", "Bo Lee, bo@y.io\nFrom the desk of Bo"], 0),
        ),
        // Apple Mail's .emlx: the message's length on a line before it, its flags after.
        (
            "apple mail emlx",
            [
                &b"197       \n"[..],
                &email_with_text_part("text/plain; charset=utf-8", "quoted-printable", b"Lukas M=C3=BCller, +49 711 7154133"),
                b"\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict/></plist>\n",
            ]
            .concat(),
            ok(&["Lukas Müller, +49 711 7154133"], 0),
        ),
        // Folded as Python's email package folds a long Cc: the comma between two
        // addresses inside an encoded word. Every address and name is still read.
        (
            "cc folded with an encoded comma",
            b"From: a@corp.example\r\nTo: b@corp.example\r\nCc: \"Beatriz Lima\" <beatriz81@hotmail.com>\r\n =?utf-8?q?=2C?= =?utf-8?b?RMawxqFuZyBC4bqjbyBIxrDGoW5n?= <hduong@gmail.com>,\r\n =?utf-8?b?VHLhuqduIFRo4buLIEjDoA==?= <ha.tran52@yahoo.com.vn>\r\nSubject: prices\r\n\r\nbody\r\n".to_vec(),
            ok(&["<beatriz81@hotmail.com>", "Dương Bảo Hương <hduong@gmail.com>", "Trần Thị Hà <ha.tran52@yahoo.com.vn>"], 0),
        ),
        ("plain text beginning with From", b"From the desk of Ana Rossi: call me.".to_vec(), ok(&["From the desk of Ana Rossi: call me."], 0)),
        ("zip nested", zip_of(&[("in.zip", &zip_of(&[("deep.csv", csv)]))]), ok(&["Ana Rossi | ana@x.io"], 3)),
        // Contact cards: each a row; vCard 2.1's quoted-printable values decoded over soft
        // line breaks, vCard 3.0's folded lines unfolded, structured values split.
        (
            "vcard",
            b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Wei=C3=9F;J=C3=BC=\r\nrgen;;;\r\nTEL;CELL:0152 92931609\r\nPHOTO;ENCODING=BASE64:iVBORw0KGgo=\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana\r\n  Rossi\r\nEMAIL;TYPE=INTERNET:ana@x.io\r\nEND:VCARD\r\n".to_vec(),
            ok(&["Weiß Jürgen | 0152 92931609", "Ana Rossi | ana@x.io"], 2),
        ),
        // Text after the cards, and a line of a card that is no property, is read.
        (
            "vcard then other text",
            b"BEGIN:VCARD\nVERSION:3.0\nFN:Nobody Here\ncall with Jos\xC3\xA9 M\xC3\xBCller: he asked\nEND:VCARD\nname,email\nAna Rossi,ana@x.io\nBo Li,bo@y.io\n".to_vec(),
            ok(&["Nobody Here", "call with José Müller: he asked", "Ana Rossi,ana@x.io"], 1),
        ),
        ("vcard then indented rows", b"BEGIN:VCARD\nFN:X\nEND:VCARD\nname,email\n Bo Li,bo@y.io\n Ana Rossi,ana@x.io\n".to_vec(), ok(&["Bo Li | bo@y.io", "Ana Rossi | ana@x.io"], 4)),
        ("vcard then a table", b"BEGIN:VCARD\nFN:Nobody Here\nEND:VCARD\nname,email\nAna Rossi,ana@x.io\nBo Li,bo@y.io\n".to_vec(), ok(&["Nobody Here", "Ana Rossi | ana@x.io"], 4)),
        ("gzip", gzip(b"gzipped words"), ok(&["gzipped words"], 0)),
        // Members one after another, then bytes that begin none (`cat a.gz b.gz
        // list.csv`), which gunzip stops at: read as a part of their own.
        (
            "gzip with rows appended",
            [gzip(b"first member\n"), gzip(b"second member\n"), b"name,email\nAna Rossi,ana@x.io\n".to_vec()].concat(),
            ok(&["first member\nsecond member", "Ana Rossi | ana@x.io"], 2),
        ),
        ("tar", tar_of("dir/file.txt", b"tarred words"), ok(&["tarred words"], 0)),
        ("tar.gz of csv", gzip(&tar_of("c.csv", csv)), ok(&["Lee, Bo"], 3)),
        // The other compressors of `tar` and of single files: bzip2, xz and zstd. A
        // stream of several (files concatenated, `pbzip2`, `pzstd`) is read whole, and
        // zstd's skippable frames, which hold no content, are passed over.
        ("bzip2", bzip2_of(csv), ok(&["Lee, Bo"], 3)),
        ("bzip2 streams concatenated", [bzip2_of(b"first stream words\n"), bzip2_of(b"second stream words\n")].concat(), ok(&["first stream words", "second stream words"], 0)),
        ("tar.xz of csv", xz_of(&tar_of("c.csv", csv)), ok(&["Lee, Bo"], 3)),
        // Streams written by the real tools (xz 5.4, bzip2 1.0.8, zstd 1.5.4), one file each,
        // the zstd one two files concatenated: `cat customers.csv.zst b.txt.zst`.
        ("xz tool", fixture("customers.csv.xz"), ok(&["Ana Rossi | ana.rossi@example.com | +39 347 123 4567"], 3)),
        ("tar -cJf", fixture("customers.tar.xz"), ok(&["Rossi, Ana | ana.rossi@example.com | CU-000123"], 3)),
        ("bzip2 tool", fixture("customers.csv.bz2"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("zstd tool", fixture("customers.csv.zst"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("zstd tool, two files", fixture("two-frames.zst"), ok(&["Ana Rossi,ana.rossi@example.com", "\nmore words"], 0)),
        // lz4 1.9.4: `lz4 customers.csv`, and two files concatenated (found missed by a
        // blind test: read as the bytes they are).
        ("lz4 tool", fixture("customers.csv.lz4"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("lz4 tool, two files", fixture("two-frames.lz4"), ok(&["Ana Rossi,ana.rossi@example.com", "Bo Lee,bo.lee@example.org"], 0)),
        // A skippable frame between frames (lz4 -d passes over it): the frames after it
        // are read, and what it holds as a part of its own (found in review).
        (
            "lz4 skippable frame between frames",
            [
                fixture("customers.csv.lz4"),
                [&[0x50, 0x2A, 0x4D, 0x18], &24u32.to_le_bytes()[..], b"Cy Ng, cy.ng@example.org"].concat(),
                fixture("two-frames.lz4"),
            ]
            .concat(),
            ok(&["Cy Ng, cy.ng@example.org", "Bo Lee | bo.lee@example.org"], 7),
        ),
        // More of what the real tools write: `pzstd` (a skippable frame first), a
        // bzip2 file whose first stream is empty, two xz streams one after the other,
        // xz stream padding, an SHA-256 check, and the x86 and delta filters.
        ("pzstd tool", fixture("customers.csv.pzst"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("bzip2, empty first stream", fixture("empty-first.bz2"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("xz, two streams", fixture("two-streams.xz"), ok(&["header line", "Ana Rossi | ana.rossi@example.com"], 4)),
        ("xz, stream padding", fixture("padded.xz"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("xz, sha-256 check", fixture("sha256.xz"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("xz, x86 filter", fixture("x86-filter.xz"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("xz, delta filter", fixture("delta-filter.xz"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        // Zip members compressed with the other methods of APPNOTE: bzip2 and LZMA as
        // Python's zipfile writes them, xz, zstd and Deflate64 as stored members of
        // the tools' output with the method set (`zip` writes none of them, and a
        // Deflate64 stream that uses neither its longer lengths nor its larger window
        // is a Deflate stream). A 4 GiB dictionary declared is held only to the cap.
        ("zip member, bzip2", fixture("zip-bzip2.zip"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("zip member, lzma", fixture("zip-lzma.zip"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("zip member, xz", fixture("zip-xz.zip"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("zip member, zstd", fixture("zip-zstd.zip"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("zip member, deflate64", fixture("zip-deflate64.zip"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("zip member, lzma, 4 GiB dictionary", fixture("zip-lzma-dict-4GiB.zip"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        // Excel 97–2003, as LibreOffice writes it: shared strings, a number (a phone typed
        // as one), a formula's string result, Vietnamese, and a second sheet whose 700
        // strings run over four CONTINUE records.
        (
            "xls",
            fixture("libreoffice.xls"),
            ok(
                &[
                    "Ana Rossi | ana.rossi@example.com | 393471234567 | key account",
                    "Nguyễn Văn An | an.nguyen@mail.vn | +84 90 513 4059 | Quận 1",
                    "Bo Lee | bo.lee@example.org | 12.5 | Lee, Bo",
                    "chuỗi số 00699 của Phường Bến Nghé | 699",
                ],
                704,
            ),
        ),
        // Word 97 documents as LibreOffice writes them: paragraphs, and tables by their
        // rows, an empty cell kept in its row; 8-bit and UTF-16 text.
        (
            "doc",
            fixture("libreoffice.doc"),
            ok(&["Customer list\nAna Rossi ana.rossi@example.com"], 0),
        ),
        (
            "doc with a table",
            fixture("libreoffice-customers.doc"),
            ok(
                &[
                    "Call Ana first: ana.rossi@example.com, +39 347 123 4567.",
                    "Nguyễn Văn An asked for the price list to go to an.nguyen@mail.vn.",
                    "Ana Rossi | ana.rossi@example.com | +39 347 123 4567 | key account",
                    "Jürgen Müller |  | +49 170 1234567 | Köln",
                    "Lee, Bo | bo.lee@example.org | 0412 555 019 | multi line",
                    "Total: 3 accounts — € 12.500 pipeline.",
                ],
                4,
            ),
        ),
        // A PowerPoint 97 presentation: its slides' and notes' texts, a table's cells one
        // to a line, in order.
        (
            "ppt",
            powerpoint(),
            ok(
                &[
                    "Key accounts Q3\nCall Ana Rossi first: ana.rossi@example.com, +39 347 123 4567",
                    "Nguyễn Văn An\nan.nguyen@mail.vn\n+84 90 513 4059\nJürgen Müller\n+49 170 1234567",
                    "Bo Lee, bo.lee@example.org, knows the pricing (€ 12.500).",
                ],
                0,
            ),
        ),
        // An Outlook message with a message attached (from the tests of msg_parser, BSD).
        (
            "outlook message",
            fixture("outlook-attached-message.msg"),
            ok(&["outer subject", "Outer body", "outer@foo.bar", "test@foobar.com"], 0),
        ),
        ("outlook message with a list attached", outlook_message(csv), ok(&["Bo Lee\nbo.lee@example.org", "Lee, Bo"], 3)),
        // SQLite databases as Python's sqlite3 writes them: a table's rows by their
        // values, integers and reals in decimal, a row longer than its page read as far
        // as the page goes, and a database in UTF-16.
        (
            "sqlite",
            fixture("crm.sqlite3"),
            ok(
                &[
                    "Ana Rossi | ana.rossi@example.com | +39 347 123 4567 | 393471234567 | 1250.5",
                    "Nguyễn Văn An | an.nguyen@mail.vn | +84 90 513 4059 | -5 | 0 | Quận 1",
                    "Person 0599 | person599@example.org | +44 20 7946 0599",
                    "Long Note | long.note@example.com | +1 212 555 0100 | 0 | 1 | yyy",
                ],
                602,
            ),
        ),
        ("sqlite, utf-16", fixture("utf16.sqlite3"), ok(&["Trần Thị Bình | binh@x.vn"], 2)),
        // 7z archives as 7-Zip 26 writes them (`7zz a`): LZMA2 (its default), a solid
        // block of two files, PPMd, BZip2, and a zip inside.
        ("7z", fixture("7z-lzma2.7z"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("7z, solid", fixture("7z-solid.7z"), ok(&["Meeting notes: nothing here.", "Ana Rossi | ana.rossi@example.com"], 3)),
        ("7z, ppmd", fixture("7z-ppmd.7z"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("7z, bzip2", fixture("7z-bzip2.7z"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        ("7z of a zip", fixture("7z-zip.7z"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        // py7zr 1.1 compresses the header too with a 16 MiB dictionary: its archives
        // were refused as needing more memory than a header may take.
        ("7z written by py7zr", fixture("7z-py7zr.7z"), ok(&["Ana Rossi | ana.rossi@example.com"], 3)),
        // A skippable frame's content is no part of the file, but it can carry one.
        (
            "zstd skippable frame holding a file",
            [&b"\x5A\x2A\x4D\x18"[..], &(csv.len() as u32).to_le_bytes(), csv].concat(),
            ok(&["Ana Rossi | ana@x.io"], 3),
        ),
        ("zstd", zstd_of(csv), ok(&["Lee, Bo"], 3)),
        (
            "zstd frames and a skippable frame",
            [zstd_of(b"first frame words\n"), b"\x50\x2A\x4D\x18\x03\x00\x00\x00abc".to_vec(), zstd_of(b"second frame words\n")].concat(),
            ok(&["first frame words", "second frame words"], 0),
        ),
        ("tar.zst of a zip of csv", zstd_of(&tar_of("c.zip", &zip_of(&[("c.csv", csv)]))), ok(&["Lee, Bo"], 3)),
        // Files carried encoded: in base64, whole or wrapped in lines as `base64` writes
        // it, or in the URL-safe alphabet without padding; in a JSON string as a `data:`
        // URI or bare base64 (how web apps post a file), each a part of its own.
        ("base64 of a csv, wrapped", wrapped_base64(LONG_CSV, 76), ok(&["Lee, Bo | bo@y.io | +1 415 555 0100"], 4)),
        ("url-safe unpadded base64 of a zip", url_safe_base64(&zip_of(&[("c.csv", csv)])), ok(&["Ana Rossi | ana@x.io"], 3)),
        (
            "json with a data uri",
            format!(r#"{{"title":"upload","file":"data:text/csv;charset=utf-8;base64,{}"}}"#, String::from_utf8(base64_of(csv)).unwrap()).into_bytes(),
            ok(&["Lee, Bo | bo@y.io", "upload"], 4),
        ),
        (
            "json with base64 of a spreadsheet",
            format!(r#"{{"files":[{{"name":"export.xlsx","content":"{}"}}]}}"#, String::from_utf8(base64_of(&xlsx_of_sheet())).unwrap()).into_bytes(),
            ok(&["Trần Lan | 84912345678", "export.xlsx"], 3),
        ),
        ("json data uri not in base64", br#"{"note":"data:text/plain,Ana%20Rossi%2C%20ana%40x.io"}"#.to_vec(), ok(&["Ana Rossi, ana@x.io"], 0)),
        // Strings that are base64 but no file, and a word list whose letters would be
        // base64, stay the text they are.
        ("json hash stays text", br#"{"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}"#.to_vec(), ok(&["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"], 1)),
        ("word list is not base64", b"Alessandra\nBartholomew\nConstantine\nDorothea\nEverardo\nFiorenzo\nGuadalupe\nHildegard\n".to_vec(), ok(&["Alessandra\nBartholomew"], 0)),
        // A web form's body: fields decoded, short ones as `name: value` lines, a pasted
        // list read as the table it is, an encoded file as the file.
        ("form of one record", b"name=Ana+Rossi&email=ana%40x.io&phone=%2B39+347+123+4567".to_vec(), ok(&["name: Ana Rossi\nemail: ana@x.io\nphone: +39 347 123 4567"], 0)),
        ("form with a pasted table", b"subject=fyi&body=name%2Cemail%0D%0AAna+Rossi%2Cana%40x.io%0D%0ABo+Lee%2Cbo%40y.io%0D%0A".to_vec(), ok(&["subject: fyi", "Bo Lee | bo@y.io"], 3)),
        (
            "form with an encoded file",
            format!("upload=1&file={}", percent_encoding::utf8_percent_encode(&format!("data:text/csv;base64,{}", String::from_utf8(base64_of(csv)).unwrap()), percent_encoding::NON_ALPHANUMERIC)).into_bytes(),
            ok(&["upload: 1", "Lee, Bo | bo@y.io"], 3),
        ),
        // Base64 pasted among other lines of a message, and a download link's `data:`
        // URI, are read as the file; the rest of the text stays.
        (
            "base64 pasted in prose",
            [&b"Hi, the list is below.\n\n"[..], &wrapped_base64(LONG_CSV, 64), b"\n\nThanks, Alex\n"].concat(),
            ok(&["Lee, Bo | bo@y.io | +1 415 555 0100", "Hi, the list is below.", "Thanks, Alex"], 4),
        ),
        (
            "html download link",
            format!(r#"<p>Export: <a download="c.csv" href="data:text/csv;base64,{}">c.csv</a></p>"#, String::from_utf8(base64_of(csv)).unwrap()).into_bytes(),
            ok(&["Lee, Bo | bo@y.io", "Export: c.csv"], 3),
        ),
        ("not a form", b"AT&T x=1&y".to_vec(), ok(&["AT&T x=1&y"], 0)),
        ("empty", Vec::new(), ok(&[], 0)),
        ("binary junk keeps strings", b"\x00\x01\x02\x03\xff\xfeSECRETVALUE\x00\x01\x02\x03\x04\x05\x06\x07".to_vec(), ok(&["SECRETVALUE"], 0)),
        ("enormous single line", vec![b'a'; 5 << 20], ok(&["aaaa"], 0)),
    ];
    for (name, bytes, expect) in &cases {
        check(name, bytes, &d, expect);
    }
}

/// A CSV whose base64 is two lines at 64 or 76, holds a `+` and ends in padding.
const LONG_CSV: &[u8] = b"name,email,phone\nAna Rossi,ana@x.io,+39 347 123 4567\n\"Lee, Bo\",bo@y.io,+1 415 555 0100\nKavya Reddy,kavya~@x.io,+91 98765 43210\n";

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `text` wrapped at `width`, each line between `prefix` and `suffix`.
fn lines_of(text: &str, width: usize, prefix: &str, suffix: &str) -> String {
    text.as_bytes()
        .chunks(width)
        .map(|line| format!("{prefix}{}{suffix}", text_of(line)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Files carried encoded are read whatever surrounds them, and text that only looks
/// encoded keeps its words (each case once found wrong in review).
#[test]
fn encoded_files_and_their_look_alikes() {
    let d = Limits::default();
    let encoded = text_of(&base64_of(LONG_CSV));
    assert!(encoded.contains('+') && encoded.ends_with('='), "{encoded}");
    let depth_chain = "data:,".repeat(12) + "x";
    let too_deep = |r: &UninspectableReason| matches!(r, UninspectableReason::DepthExceeded { .. });
    let cases: Vec<(&str, Vec<u8>, Limits, Expect)> = vec![
        // A short chain of data: URIs past the depth limit is reported, and the record
        // beside it is still read.
        (
            "json depth chain beside a record",
            format!(r#"{{"a":"{depth_chain}","name":"Ana Rossi","email":"ana@x.io"}}"#).into_bytes(),
            d,
            Expect {
                contains: &["Ana Rossi | ana@x.io"],
                rows: 1,
                reason: Some(too_deep),
            },
        ),
        (
            "form depth chain beside fields",
            format!(
                "a={}&name=Ana+Rossi&email=ana%40x.io",
                depth_chain.replace(':', "%3A").replace(',', "%2C")
            )
            .into_bytes(),
            d,
            Expect {
                contains: &["name: Ana Rossi\nemail: ana@x.io"],
                rows: 0,
                reason: Some(too_deep),
            },
        ),
        // One stray byte does not hide the file.
        (
            "base64 with a stray nul",
            base64_of(&[LONG_CSV, b"\0"].concat()),
            d,
            ok(&["Lee, Bo | bo@y.io"], 5),
        ),
        (
            "base64 with a stray invalid byte",
            base64_of(&[LONG_CSV, b"\xff"].concat()),
            d,
            ok(&["Lee, Bo | bo@y.io"], 5),
        ),
        // Base64 posted raw in a form has its `+` read as a space.
        (
            "raw base64 in a form",
            format!("subject=x&file={encoded}").into_bytes(),
            d,
            ok(&["subject: x", "Lee, Bo | bo@y.io"], 4),
        ),
        // A short line after one line of base64, and base64 wrapped at 70 with trailing
        // spaces, as mail clients leave them.
        (
            "one line of base64 then a name",
            format!("Here it is:\n{encoded}\nAlex\n").into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io", "Here it is:", "Alex"], 4),
        ),
        (
            "base64 wrapped at 70 with trailing spaces",
            format!(
                "Here:\n{}\nThanks\n",
                lines_of(&encoded, 70, "", "  ")
            )
            .into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io", "Thanks"], 4),
        ),
        // Text that only starts like a data: URI, or a secret with a `+`, is text.
        (
            "a line starting with Data:",
            b"Data: Ana Rossi, ana@x.io, +39 347 123 4567".to_vec(),
            d,
            ok(&["Data: Ana Rossi, ana@x.io, +39 347 123 4567"], 0),
        ),
        (
            "json string starting with DATA:",
            br#"{"msg":"DATA: Ana Rossi, ana@x.io"}"#.to_vec(),
            d,
            ok(&["DATA: Ana Rossi, ana@x.io"], 1),
        ),
        (
            "a secret with a plus is no form",
            b"client_secret=AbCdEfGh12+IjKlMnOp34+QrStUv56".to_vec(),
            d,
            ok(&["client_secret=AbCdEfGh12+IjKlMnOp34+QrStUv56"], 0),
        ),
        // A key in an XML data: URI stays text.
        (
            "xml data uri of a key",
            format!(
                r#"<k value="data:application/octet-stream;base64,{}"/>"#,
                text_of(&base64_of(
                    &(0..64u32)
                        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                        .collect::<Vec<_>>()
                ))
            )
            .into_bytes(),
            d,
            ok(&["data:application/octet-stream;base64,"], 0),
        ),
        // A file under an image's media type, in an element of XML, wrapped at 32
        // among other lines, or one record per short JSON string, is read (the short
        // strings kept too: they may be tokens); base64 of a Windows-1252 CSV, which
        // junk can pass for, is read beside its encoded text.
        (
            "csv under an image's media type",
            format!(r#"{{"file":"data:image/png;base64,{encoded}"}}"#).into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io"], 4),
        ),
        (
            "base64 in an xml element",
            format!("<export><attachment>{encoded}</attachment></export>").into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io"], 4),
        ),
        (
            "base64 wrapped at 32 among other lines",
            format!(
                "Here:\n{}\nThanks\n",
                lines_of(&encoded, 32, "", "")
            )
            .into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io", "Thanks"], 4),
        ),
        (
            "a record per short json string",
            format!(
                r#"["{}","{}"]"#,
                text_of(&base64_of(b"Ana Rossi, ana@x.io, +39 347")),
                text_of(&base64_of(b"Bo Lee, bo@y.io, +1 415 555"))
            )
            .into_bytes(),
            d,
            ok(
                &[
                    "Ana Rossi, ana@x.io, +39 347",
                    "Bo Lee, bo@y.io, +1 415 555",
                    "QW5hIFJvc3Np",
                ],
                1,
            ),
        ),
        (
            "base64 of a windows-1252 csv",
            base64_of(&legacy(
                &"Name;Telefon\r\nJürgen Weiß;+49 151 2345678\r\nBenoît Rousseau;+33 7 62 81 27 00\r\n".repeat(4),
                encoding_rs::WINDOWS_1252,
            )),
            d,
            ok(&["Jürgen Weiß | +49 151 2345678"], 12),
        ),
        // A data: URI within a line of a chat message or a document, and base64 behind
        // a quoted reply's `> ` or an indentation (a blind test found these missed).
        (
            "markdown link to a data uri",
            format!("ok here you go [leads.csv](data:text/csv;base64,{encoded}) don't share").into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io", "ok here you go"], 4),
        ),
        (
            "chat link to a data uri",
            format!("as promised: <data:text/csv;base64,{encoded}|leads.csv>").into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io"], 4),
        ),
        (
            "quoted reply with base64",
            format!(
                "On Monday Alex wrote:\n{}\n\nThanks\n",
                lines_of(&encoded, 64, "> ", "")
            )
            .into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io", "On Monday Alex wrote:"], 4),
        ),
        (
            "indented yaml block of base64",
            format!(
                "attachment:\n  name: leads.csv\n  data: |\n{}\n",
                lines_of(&encoded, 60, "    ", "")
            )
            .into_bytes(),
            d,
            ok(&["Lee, Bo | bo@y.io", "name: leads.csv"], 4),
        ),
        // Base64 in CDATA, and in JSON kept as a string in JSON (an API gateway's event).
        ("base64 in cdata", format!("<file><![CDATA[{encoded}]]></file>").into_bytes(), d, ok(&["Lee, Bo | bo@y.io"], 4)),
        (
            "json in a json string",
            serde_json::to_vec(&serde_json::json!({"httpMethod": "POST", "body": serde_json::json!({"fileName": "a.csv", "content": encoded}).to_string()})).unwrap(),
            d,
            ok(&["Lee, Bo | bo@y.io", "POST"], 6),
        ),
        // Every decoded part counts as a member.
        (
            "decoded parts are members",
            format!("[{}]", vec![format!(r#""data:text/plain,part""#); 12].join(",")).into_bytes(),
            Limits { max_members: 10, ..d },
            fails(|r| matches!(r, UninspectableReason::TooManyMembers { limit: 10 })),
        ),
    ];
    for (name, bytes, limits, expect) in &cases {
        check(name, bytes, limits, expect);
    }
    // The rows of a JSON array keep their source after a file carried in one of them.
    let json =
        format!(r#"[{{"n":"Ana","e":"ana@x.io","f":"data:text/csv;base64,{encoded}"}},{{"n":"Bo","e":"bo@y.io"}}]"#);
    let out = extract(json.as_bytes(), &d);
    let parent = out.segments.iter().find(|s| s.text.contains("Bo | bo@y.io")).unwrap();
    assert_eq!(parent.source, "", "{:?}", out.segments);
    let decoded = out
        .segments
        .iter()
        .find(|s| s.text.contains("Lee, Bo | bo@y.io"))
        .unwrap();
    assert_eq!(decoded.source, "f", "{:?}", out.segments);
}

/// `bytes` as `xxd` dumps them: an offset, eight groups of two bytes, the characters.
fn xxd_of(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let groups: Vec<String> = chunk
            .chunks(2)
            .map(|pair| data_encoding::HEXLOWER.encode(pair))
            .collect();
        let shown: String = chunk
            .iter()
            .map(|&b| if (0x20..0x7F).contains(&b) { b as char } else { '.' })
            .collect();
        out.push_str(&format!("{:08x}: {:<39}  {shown}\n", line * 16, groups.join(" ")));
    }
    out
}

/// `bytes` as `hexdump -C` dumps them, the last line the length.
fn hexdump_of(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let hex = |half: &[u8]| half.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        let (left, right) = chunk.split_at(chunk.len().min(8));
        let shown: String = chunk
            .iter()
            .map(|&b| if (0x20..0x7F).contains(&b) { b as char } else { '.' })
            .collect();
        out.push_str(&format!(
            "{:08x}  {:<23}  {:<23}  |{shown}|\n",
            line * 16,
            hex(left),
            hex(right)
        ));
    }
    out.push_str(&format!("{:08x}\n", bytes.len()));
    out
}

/// `bytes` as `od -A x -t x1z` dumps them, the last line the length.
fn od_of(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let hex = chunk.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        let shown: String = chunk
            .iter()
            .map(|&b| if (0x20..0x7F).contains(&b) { b as char } else { '.' })
            .collect();
        out.push_str(&format!("{:06x} {hex:<47}  >{shown}<\n", line * 16));
    }
    out.push_str(&format!("{:06x}\n", bytes.len()));
    out
}

/// `bytes` as `uuencode` writes them under `begin 644 name`.
fn uuencode_of(bytes: &[u8], name: &str) -> String {
    let char_of = |v: u8| if v == 0 { '`' } else { (v + 0x20) as char };
    let mut out = format!("begin 644 {name}\n");
    for line in bytes.chunks(45) {
        out.push(char_of(u8::try_from(line.len()).unwrap()));
        for group in line.chunks(3) {
            let [a, b, c] = [0, 1, 2].map(|i| group.get(i).copied().unwrap_or(0));
            for v in [a >> 2, (a & 3) << 4 | b >> 4, (b & 0x0F) << 2 | c >> 6, c & 0x3F] {
                out.push(char_of(v));
            }
        }
        out.push('\n');
    }
    out.push_str("`\nend\n");
    out
}

fn zlib_of(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn utf32(text: &str, little: bool, bom: bool) -> Vec<u8> {
    let mark = bom.then_some('\u{FEFF}');
    mark.into_iter()
        .chain(text.chars())
        .flat_map(|c| {
            if little {
                u32::from(c).to_le_bytes()
            } else {
                u32::from(c).to_be_bytes()
            }
        })
        .collect()
}

/// A raw zlib stream (a git loose object) and UTF-32 text are read as the files they
/// are (found missed by a blind test: each passed as holding nothing), a stream that
/// breaks off up to the break; text that starts with a zlib header's bytes, and bytes
/// behind one that are no stream, are read as they are, nothing reported.
#[test]
fn zlib_streams_and_utf32_text() {
    let d = Limits::default();
    let list = &["Lee, Bo | bo@y.io | +1 415 555 0100"];
    let git_blob = [format!("blob {}\0", LONG_CSV.len()).as_bytes(), LONG_CSV].concat();
    let cut_zlib = {
        let whole = zlib_of(&LONG_CSV.repeat(40));
        whole[..whole.len() / 2].to_vec()
    };
    let malformed = |r: &UninspectableReason| matches!(r, UninspectableReason::Malformed { .. });
    let math = "x^2 + y^2 = z^2 holds for the triples below, and the list goes on for a while.\n";
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("git loose object", zlib_of(&git_blob), ok(list, 4)),
        ("zlib of a zip", zlib_of(&zip_of(&[("c.csv", LONG_CSV)])), ok(list, 4)),
        ("text starting like zlib", math.into(), ok(&["x^2 + y^2"], 0)),
        // Bytes behind a zlib header that are no stream: an unknown binary.
        (
            "junk behind a zlib header",
            [&[0x78, 0x9C][..], b"\xff\xff\x00\x01SECRETVALUE\x00\x02"].concat(),
            ok(&["SECRETVALUE"], 0),
        ),
        (
            "utf-32le with a mark",
            utf32(&text_of(LONG_CSV), true, true),
            ok(list, 4),
        ),
        (
            "utf-32be with a mark",
            utf32(&text_of(LONG_CSV), false, true),
            ok(list, 4),
        ),
        (
            "utf-32le without a mark",
            utf32(&text_of(LONG_CSV), true, false),
            ok(list, 4),
        ),
        (
            "utf-32be without a mark",
            utf32(&text_of(LONG_CSV), false, false),
            ok(list, 4),
        ),
    ];
    for (name, bytes, expect) in &cases {
        check(name, bytes, &d, expect);
    }
    // A stream cut short: how much a decoder gives before the cut depends on its backend
    // (the workspace's features choose miniz_oxide or zlib-rs), so the first rows are
    // read, not the whole list, and the cut is reported.
    let cut = extract(&cut_zlib, &d);
    let text: String = cut.segments.iter().map(|s| s.text.as_str()).collect();
    let rows = cut.segments.iter().map(|s| s.rows.len()).sum::<usize>();
    assert!(text.contains("Ana Rossi | ana@x.io"), "{text:?}");
    assert!((2..80).contains(&rows), "{rows} rows of 160, cut in half");
    assert!(cut.uninspectable.iter().any(malformed), "{:?}", cut.uninspectable);
}

/// Files carried in other encodings than base64 are read as the files they are: hex
/// (`xxd -p`), hex dumps, base32, uuencode, and base64 in groups or sharing its line
/// (found missed by a blind test: each passed as holding nothing, where the plain list
/// was caught).
#[test]
fn files_in_other_encodings() {
    let d = Limits::default();
    let list = &["Lee, Bo | bo@y.io | +1 415 555 0100"];
    let hex = data_encoding::HEXLOWER.encode(LONG_CSV);
    let base32 = data_encoding::BASE32.encode(LONG_CSV);
    let base64 = text_of(&base64_of(LONG_CSV));
    let base64url = text_of(&url_safe_base64(LONG_CSV));
    let grouped = base64.as_bytes().chunks(4).map(text_of).collect::<Vec<_>>().join(" ");
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("hex of a csv, one line", hex.clone().into_bytes(), ok(list, 4)),
        (
            "hex wrapped at 60 in prose",
            format!("See below.\n{}\nBye\n", lines_of(&hex, 60, "", "")).into_bytes(),
            ok(&["Lee, Bo | bo@y.io | +1 415 555 0100", "See below.", "Bye"], 4),
        ),
        (
            "upper-case hex in quotes on a line",
            format!("payload: \"{}\" end", hex.to_uppercase()).into_bytes(),
            ok(&["Lee, Bo | bo@y.io | +1 415 555 0100", "payload:"], 4),
        ),
        (
            "hex of a zip",
            data_encoding::HEXLOWER
                .encode(&zip_of(&[("c.csv", LONG_CSV)]))
                .into_bytes(),
            ok(list, 4),
        ),
        ("xxd dump", xxd_of(LONG_CSV).into_bytes(), ok(list, 4)),
        // Its `|`s make the dump itself a table of nine rows, read as it is.
        ("hexdump -C", hexdump_of(LONG_CSV).into_bytes(), ok(list, 4 + 9)),
        (
            "od -A x -t x1z in prose",
            format!("dump:\n{}done\n", od_of(LONG_CSV)).into_bytes(),
            ok(&["Lee, Bo | bo@y.io | +1 415 555 0100", "dump:"], 4),
        ),
        (
            "base32 wrapped at 76",
            lines_of(&base32, 76, "", "").into_bytes(),
            ok(list, 4),
        ),
        (
            "base32 in prose",
            format!("Notes\n{}\nend of notes\n", lines_of(&base32, 76, "", "")).into_bytes(),
            ok(&["Lee, Bo | bo@y.io | +1 415 555 0100", "end of notes"], 4),
        ),
        ("uuencoded", uuencode_of(LONG_CSV, "c.csv").into_bytes(), ok(list, 4)),
        (
            "uuencoded in a mail body",
            format!("Hi,\n\n{}\nAlex\n", uuencode_of(LONG_CSV, "c.csv")).into_bytes(),
            ok(&["Lee, Bo | bo@y.io | +1 415 555 0100", "Alex"], 4),
        ),
        ("base64 in groups of four", grouped.clone().into_bytes(), ok(list, 4)),
        (
            // Ten groups a line, the last line two groups.
            "base64 in groups, wrapped",
            format!("x\n{}\n", lines_of(&grouped, 50, "", "")).into_bytes(),
            ok(list, 4),
        ),
        ("base64 after d=", format!("d={base64}").into_bytes(), ok(list, 4)),
        ("base64 in quotes", format!("\"{base64}\"").into_bytes(), ok(list, 4)),
        ("base64 after a word", format!("x {base64}").into_bytes(), ok(list, 4)),
        (
            "base64url token among lines",
            format!("GET /a\ntoken={base64url}\nok\n").into_bytes(),
            ok(list, 4),
        ),
        (
            "zlib in hex",
            data_encoding::HEXLOWER.encode(&zlib_of(LONG_CSV)).into_bytes(),
            ok(list, 4),
        ),
        (
            "utf-32 in hex",
            data_encoding::HEXLOWER
                .encode(&utf32("Jörg Weiß, jw@x.de, +49 30 1234567", true, true))
                .into_bytes(),
            ok(&["Jörg Weiß, jw@x.de"], 0),
        ),
    ];
    for (name, bytes, expect) in &cases {
        check(name, bytes, &d, expect);
    }
}

/// Text that only looks encoded is read as the text it is, nothing added and nothing
/// reported: hashes, ids, git's output, upper-case words, a `begin` line in prose, a
/// table of figures, and damaged encodings.
#[test]
fn look_alikes_of_other_encodings() {
    let d = Limits::default();
    let digests = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  report.pdf\n\
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.txt\n\
        sha512: cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e\n";
    let git_log = "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nAuthor: Ana <a@corp.example>\n\n    fix 1f0e3dad99908345f7439f8ffabdcc4e\n\n\
        4b825dc642cb6eb9a060e54bf8d69288fbee4904 1f0e3dad99908345f7439f8ffabdcc4e8d2b7d9e merge\n";
    let uuids = "id=123e4567-e89b-12d3-a456-426614174000,123e4567-e89b-12d3-a456-426614174001,123e4567-e89b-12d3-a456-426614174002\n";
    let upper = "WARNING THE ADMINISTRATOR ACCOUNT HAS BEEN LOCKED\nREQUESTIDABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH\n";
    let prose_begin = "begin 644 words of a meeting\nMinutes: we begin at noon.\nend\n";
    let figures = "000100 2019 2020 2021 2022\n000200 3019 3020 3021 3022\n000300 4019 4020 4021 4022\n100000 50 51 52 53 54 55 56 57 58 59\n";
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("hex digests", digests.into(), &["9f86d081884c7d659a2feaa0c55ad015"]),
        ("git log", git_log.into(), &["Author: Ana"]),
        ("uuids", uuids.into(), &["426614174002"]),
        ("upper-case words", upper.into(), &["ADMINISTRATOR ACCOUNT"]),
        ("a begin line in prose", prose_begin.into(), &["we begin at noon"]),
        ("a table of figures", figures.into(), &["2019 2020"]),
        (
            "odd-length hex",
            format!(
                "{}a",
                data_encoding::HEXLOWER.encode(b"just some words of a note, long enough")
            )
            .into_bytes(),
            &["6a757374"],
        ),
        (
            "bad base32 padding",
            format!(
                "{}=",
                data_encoding::BASE32.encode(b"just some words of a note, long enough to pass")
            )
            .into_bytes(),
            &["NJ2XG5BA"],
        ),
        (
            "uuencode cut short",
            uuencode_of(LONG_CSV, "c.csv").as_bytes()[..40].to_vec(),
            &["begin 644 c.csv"],
        ),
    ];
    for (name, bytes, contains) in cases {
        let out = extract(&bytes, &d);
        let all: String = out
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        for needle in contains {
            assert!(all.contains(needle), "{name}: {needle:?} not in {all:?}");
        }
        assert_eq!(out.segments.len(), 1, "{name}: {:?}", out.segments);
        assert!(out.uninspectable.is_empty(), "{name}: {:?}", out.uninspectable);
    }
}

/// Text in UTF-7 is read again decoded, for customer records (found missed by a blind
/// test: `Jos+AOk Jim+AOk-nez` is José Jiménez); a phone number, a sum and base64 keep
/// their `+`, and a line of pluses is read once.
#[test]
fn utf7_text_is_read_again_decoded() {
    let d = Limits::default();
    let out = extract(
        b"Jos+AOk Jim+AOk-nez, +49 30 1234567, a+b, +4915169026873, Stra+AN8-e 5",
        &d,
    );
    let again: Vec<&str> = out.rereadings.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(again, ["José Jiménez, +49 30 1234567, a+b, +4915169026873, Straße 5"]);
    assert!(out.segments[0].text.contains("Jos+AOk"), "{:?}", out.segments);
    for text in [
        "call +49 30 1234567 or +AB12, c++ and a+b".to_string(),
        text_of(&base64_of(LONG_CSV)),
        "+A".repeat(4 << 20),
    ] {
        let out = extract(text.as_bytes(), &d);
        assert!(out.rereadings.is_empty(), "{:?}", out.rereadings);
    }
}

/// A line of hex, of `=` or of base64 groups tens of megabytes long is read in one
/// pass: each is decoded or passed over once.
#[test]
fn long_encoded_lines_are_read_in_linear_time() {
    let d = Limits::default();
    for line in [
        "0".repeat(20 << 20),
        "=".repeat(20 << 20),
        "AAAA ".repeat(4 << 20),
        format!("begin 644 x\n{}", "M".repeat(10 << 20)),
        format!("{}\n", "00000000: 4e61 ".repeat(2 << 20)),
    ] {
        let started = cpu_time::ThreadTime::now();
        let _ = extract(line.as_bytes(), &d);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{}",
            &line[..16]
        );
    }
}

/// The parts of one upload share one budget, as an archive's members do: each part
/// alone fits, together they do not, and that is reported, not held in memory.
#[test]
fn parts_of_one_transfer_share_the_limits() {
    let text: Vec<u8> = (0..30_000u64)
        .flat_map(|i| format!("Ana Rossi {i}, ana{}@x.io\n", i.wrapping_mul(2_654_435_761) % 1_000_003).into_bytes())
        .collect();
    let part = gzip(&text);
    let limits = Limits {
        max_expanded_bytes: (text.len() * 5 / 2) as u64,
        ..Limits::default()
    };
    let alone = extract(&part, &limits);
    assert!(alone.uninspectable.is_empty(), "{:?}", alone.uninspectable);
    let parts: Vec<&[u8]> = vec![&part; 3];
    let together = extract_parts(&parts, &limits);
    assert!(
        together
            .uninspectable
            .iter()
            .any(|r| matches!(r, UninspectableReason::ExpandedSizeExceeded { .. })),
        "{:?}",
        together.uninspectable
    );
    // Within the budget, every part is read; the part that meets the bound is read up
    // to it, and nothing past it is inflated.
    let two = extract_parts(&parts[..2], &limits);
    assert!(two.uninspectable.is_empty(), "{:?}", two.uninspectable);
    assert_eq!(two.segments.len(), 2);
    assert_eq!(together.segments.len(), 3);
    assert_eq!(together.segments[..2], two.segments[..]);
    // Half a part's bytes were left in the budget: half of its text is read.
    let (whole, third) = (&two.segments[0].text, &together.segments[2].text);
    assert!(
        third.len() > whole.len() / 3 && third.len() <= whole.len() * 51 / 100,
        "{} of {}",
        third.len(),
        whole.len()
    );
    assert!(whole.starts_with(&third[..third.len() / 2]), "{third:.100}");
}

/// Base64 that decodes to neither a container nor clean text (a key, a hash, junk that
/// starts with a byte order mark) is no file: it stays the text it is, and nothing else
/// is extracted, for the detectors to see the key.
#[test]
fn base64_of_no_file_stays_text() {
    let junk_after_bom: Vec<u8> = (0..=255u8).rev().cycle().take(300).collect();
    let key_like: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (name, decoded) in [("junk after a bom", junk_after_bom), ("key-like bytes", key_like)] {
        let pem = [
            &b"-----BEGIN PUBLIC KEY-----\n"[..],
            &wrapped_base64(&decoded, 64),
            b"\n-----END PUBLIC KEY-----\n",
        ]
        .concat();
        let bare = wrapped_base64(&decoded, 76);
        let json = format!(r#"{{"key":"{}"}}"#, String::from_utf8(base64_of(&decoded)).unwrap()).into_bytes();
        for (shape, bytes) in [("pem", pem), ("bare", bare), ("json", json)] {
            let out = extract(&bytes, &Limits::default());
            let texts: Vec<&str> = out.segments.iter().map(|s| s.text.as_str()).collect();
            assert_eq!(texts.len(), 1, "{name} {shape}: {texts:?}");
            let encoded = String::from_utf8(base64_of(&decoded)).unwrap();
            let first_line = &encoded[..64];
            assert!(texts[0].contains(first_line), "{name} {shape}: {texts:?}");
            assert!(out.uninspectable.is_empty(), "{name} {shape}: {:?}", out.uninspectable);
        }
    }
}

#[test]
fn bounds_and_bad_input_are_reported() {
    let d = Limits::default();
    let zeros = vec![0u8; 20 << 20];
    let bomb = zip_of(&[("zeros.bin", &zeros)]);
    let mut nested = zip_of(&[("x.txt", b"deep")]);
    for level in 0..12 {
        nested = zip_of(&[(&format!("l{level}.zip"), &nested)]);
    }
    // A form in base64 in a form in base64, and so on: every decoding is a level.
    let mut encoded_nesting = b"words of the deepest level, long enough to be read as a file".to_vec();
    for level in 0..6 {
        let inner = String::from_utf8(base64_of(&encoded_nesting)).unwrap();
        let escaped = inner.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
        encoded_nesting = base64_of(format!("level={level}&file={escaped}").as_bytes());
    }
    let many: Vec<(String, Vec<u8>)> = (0..30).map(|i| (format!("f{i}.txt"), b"x".to_vec())).collect();
    let many_refs: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let many_zip = zip_of(&many_refs);
    let good = zip_of(&[("a.txt", b"some text inside the archive")]);
    let truncated = good.get(..good.len() / 2).unwrap().to_vec();
    let mut encrypted = zip_of(&[("secret.txt", b"hidden words")]);
    // Set the "encrypted" general-purpose flag in the local and central headers.
    for signature in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
        let at = encrypted.windows(4).position(|w| w == signature).unwrap();
        let flag_offset = if signature == b"PK\x03\x04" { at + 6 } else { at + 8 };
        encrypted[flag_offset] |= 1;
    }
    let mut pdf_bomb = b"%PDF-1.4\n1 0 obj << /Length 1 /Filter /FlateDecode >>\nstream\n".to_vec();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&zeros).unwrap();
    pdf_bomb.extend(z.finish().unwrap());
    pdf_bomb.extend(b"\nendstream\nendobj\n%%EOF\n");
    let small_members = Limits { max_members: 10, ..d };
    let small_work = Limits {
        max_work_bytes: 1000,
        ..d
    };
    let small_expansion = Limits {
        max_expanded_bytes: 100,
        ..d
    };
    let cases: Vec<(&str, Vec<u8>, Limits, Expect)> = vec![
        (
            "zip bomb",
            bomb,
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        (
            "gzip bomb",
            gzip(&zeros),
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        (
            "pdf bomb",
            pdf_bomb,
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        (
            "encoded files nested within the depth",
            encoded_nesting.clone(),
            Limits { max_depth: 20, ..d },
            ok(&["words of the deepest level"], 0),
        ),
        (
            "nesting of encoded files",
            encoded_nesting,
            d,
            fails(|r| matches!(r, UninspectableReason::DepthExceeded { limit: 10 })),
        ),
        (
            "nesting",
            nested,
            d,
            fails(|r| matches!(r, UninspectableReason::DepthExceeded { limit: 10 })),
        ),
        (
            "members",
            many_zip,
            small_members,
            fails(|r| matches!(r, UninspectableReason::TooManyMembers { limit: 10 })),
        ),
        (
            "work budget",
            vec![b'w'; 5000],
            small_work,
            fails(|r| matches!(r, UninspectableReason::WorkBudgetExceeded { .. })),
        ),
        (
            "expanded size",
            gzip(&[b'z'; 1000]),
            small_expansion,
            fails(|r| matches!(r, UninspectableReason::ExpandedSizeExceeded { limit: 100 })),
        ),
        (
            "truncated zip",
            truncated,
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "encrypted zip",
            encrypted,
            d,
            fails(|r| matches!(r, UninspectableReason::Encrypted { .. })),
        ),
        (
            "broken ole2",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest".to_vec(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        // A password-protected xlsx (msoffcrypto-tool, as Office encrypts) is a
        // compound file holding the encrypted package.
        (
            "password-protected xlsx",
            fixture("password-protected.xlsx"),
            d,
            fails(|r| matches!(r, UninspectableReason::Encrypted { format } if format == "office")),
        ),
        // A Word 97 document (LibreOffice's) marked encrypted, or of Word 6.0/95, whose
        // text is not kept in a table of pieces; one whose table of pieces is not where
        // its header says.
        (
            "encrypted word 97 document",
            word_header_patched(0x0B, 0x01),
            d,
            fails(|r| matches!(r, UninspectableReason::Encrypted { format } if format == "word")),
        ),
        (
            "word 95 document",
            word_header_patched(0x03, 0x00),
            d,
            fails(|r| matches!(r, UninspectableReason::Unsupported { format } if format.contains("word 6.0/95"))),
        ),
        (
            "encrypted powerpoint presentation",
            compound_of(&[
                ("/PowerPoint Document", &fixture("libreoffice-accounts.ppt-stream")),
                ("/EncryptedSummary", &[0; 64]),
            ]),
            d,
            fails(|r| matches!(r, UninspectableReason::Encrypted { format } if format == "powerpoint")),
        ),
        (
            "word document with its piece table elsewhere",
            word_header_patched(0x1A5, 0x7F),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { detail, .. } if detail.contains("piece table"))),
        ),
        // A workbook's string table is written out per cell, so its rows count as expanded.
        (
            "xls past the expanded size",
            fixture("libreoffice.xls"),
            small_expansion,
            fails(|r| matches!(r, UninspectableReason::ExpandedSizeExceeded { limit: 100 })),
        ),
        (
            "sqlite past the expanded size",
            fixture("crm.sqlite3"),
            small_expansion,
            fails(|r| matches!(r, UninspectableReason::ExpandedSizeExceeded { limit: 100 })),
        ),
        (
            "sqlite with a page size it does not use",
            [&b"SQLite format 3\0\x03\x00"[..], &[0; 100]].concat(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { detail, .. } if detail.contains("page size"))),
        ),
        (
            "broken 7z",
            b"7z\xBC\xAF\x27\x1Crest".to_vec(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "7z cut short",
            {
                let whole = fixture("7z-lzma2.7z");
                whole[..whole.len() - 40].to_vec()
            },
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        // The archives of 7-Zip 26 (`7zz a`): encrypted content, encrypted headers too
        // (`-mhe=on`), a method this reader does not decode, and 20 MiB of zeros.
        (
            "7z, encrypted",
            fixture("7z-encrypted.7z"),
            d,
            fails(|r| matches!(r, UninspectableReason::Encrypted { .. })),
        ),
        (
            "7z, encrypted headers",
            fixture("7z-encrypted-headers.7z"),
            d,
            fails(|r| matches!(r, UninspectableReason::Encrypted { .. })),
        ),
        (
            "7z, deflate",
            fixture("7z-deflate.7z"),
            d,
            fails(|r| matches!(r, UninspectableReason::Unsupported { format } if format.contains("DEFLATE"))),
        ),
        (
            "7z bomb",
            fixture("7z-zeros-20MiB.7z"),
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        // Found by a hostile-input review, each a few kilobytes: a header declaring 8
        // million files (761 MB of entries), a chain of four PPMd coders of 190 MiB each
        // (781 MB), 100 blocks of 190 MiB PPMd models (11 s; 10,000 took 19 minutes),
        // and an empty start header, which made the reader try every byte of the last
        // MiB as the header (47 s).
        (
            "7z declaring 8 million files",
            fixture("7z-8M-files-declared.7z"),
            d,
            fails(|r| matches!(r, UninspectableReason::Unsupported { format } if format.contains("2048 KiB allowed"))),
        ),
        // py7zr's header says it unpacks to 97 bytes; one that says 3 MiB is refused.
        (
            "7z whose compressed header unpacks past the header's bound",
            py7zr_archive_with_header_unpacking_to(&[0xE0, 0x00, 0x00, 0x30]),
            d,
            fails(|r| matches!(r, UninspectableReason::Unsupported { format } if format.contains("2048 KiB allowed"))),
        ),
        (
            "7z chain of PPMd models",
            fixture("7z-ppmd-chain-4x190MiB.7z"),
            d,
            fails(|r| matches!(r, UninspectableReason::Unsupported { format } if format.contains("PPMd"))),
        ),
        (
            "7z blocks of PPMd models",
            fixture("7z-ppmd-100-blocks-190MiB.7z"),
            d,
            fails(|r| matches!(r, UninspectableReason::Unsupported { format } if format.contains("in all"))),
        ),
        (
            "7z not finished",
            [&b"7z\xBC\xAF\x27\x1C\x00\x04"[..], &[0; 24], &b"\x01\x00".repeat(1000)].concat(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { detail, .. } if detail.contains("start header"))),
        ),
        (
            "bzip2 bomb",
            bzip2_of(&zeros),
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        (
            // lzma-rs writes literals only, so a bomb comes from the real tool:
            // `head -c 20971520 /dev/zero | xz -9e` is 3 KiB.
            "xz bomb",
            fixture("zeros-20MiB.xz"),
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        (
            // `head -c 30000000 /dev/zero | lz4`: 115 KiB, the most lz4 compresses.
            "lz4 bomb",
            fixture("zeros-30MB.lz4"),
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        (
            // Python's zipfile, ZIP_LZMA, 20 MiB of zeros in 3 KiB.
            "zip member lzma bomb",
            fixture("zip-lzma-zeros-20MiB.zip"),
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        (
            // Found in review: 3,000 entries naming one member whose skippable frame
            // held 1 MiB took 3.9 GB; what such frames hold is counted as expanded.
            "zip entries naming one member with a skippable frame",
            zip_of_entries_naming_one_member(
                93,
                &[&b"\x50\x2A\x4D\x18\x40\x00\x00\x00"[..], &[b'h'; 64], &zstd_of(b"x")].concat(),
                5,
            ),
            small_expansion,
            fails(|r| matches!(r, UninspectableReason::ExpandedSizeExceeded { limit: 100 })),
        ),
        (
            "zip member whose method is not its data's",
            {
                let mut zip = fixture("zip-xz.zip");
                // The local header's method and the central directory's: zstd.
                zip[8] = 93;
                let central = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
                zip[central + 10] = 93;
                zip
            },
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "zstd bomb",
            zstd_of(&zeros),
            d,
            fails(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        ),
        (
            "xz past the expanded size",
            xz_of(&[b'z'; 1000]),
            small_expansion,
            fails(|r| matches!(r, UninspectableReason::ExpandedSizeExceeded { limit: 100 })),
        ),
        (
            "broken bzip2",
            b"BZh91AY&SY\x12\x34rest".to_vec(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "broken xz",
            b"\xFD7zXZ\x00\x00\x04rest".to_vec(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "broken zstd",
            b"\x28\xB5\x2F\xFD\x04\x58rest".to_vec(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "zstd cut short",
            {
                let whole = zstd_of(&LONG_CSV.repeat(20));
                whole[..whole.len() / 2].to_vec()
            },
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "zstd skippable frame longer than the stream",
            b"\x50\x2A\x4D\x18\xFF\xFF\x00\x00abc".to_vec(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            // 4.4 KB of one-byte run blocks in a frame declaring a 128 MiB window: more
            // window than the stream may expand to, refused before it is filled.
            "zstd window larger than the cap",
            fixture("window-128MiB-rle.zst"),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "bzip2 streams past the member limit",
            bzip2_of(b"x").repeat(11),
            small_members,
            fails(|r| matches!(r, UninspectableReason::TooManyMembers { limit: 10 })),
        ),
        (
            // The streams of all members share the budget (found in review: 700 members
            // of 10,000 streams each took 296 s).
            "bzip2 streams of several members past the member limit",
            zip_of(&[
                ("a.bz2", &bzip2_of(b"x").repeat(4)),
                ("b.bz2", &bzip2_of(b"x").repeat(4)),
                ("c.bz2", &bzip2_of(b"x").repeat(4)),
            ]),
            small_members,
            fails(|r| matches!(r, UninspectableReason::TooManyMembers { limit: 10 })),
        ),
        (
            // `xz --lzma2=dict=1536MiB`: a dictionary far past what the stream may
            // expand to is refused before it is filled.
            "xz dictionary larger than the cap",
            fixture("dict-1536MiB.xz"),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        (
            "broken pdf",
            b"%PDF-1.7\n1 0 obj << /Type".to_vec(),
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
        // Behind a `%%EOF` of their own, which makes the whole file unreadable to the
        // PDF parser: the PDF is read alone, and what follows its first `%%EOF` after it.
        (
            "pdf with rows appended behind another end",
            [
                pdf_of_content("BT /F1 10 Tf 50 700 Td (Quarterly report) Tj ET"),
                b"name,email\nAna Rossi,ana@x.io\nBo Lee,bo@y.io\n%%EOF\n".to_vec(),
            ]
            .concat(),
            d,
            ok(&["Quarterly report", "Ana Rossi,ana@x.io"], 0),
        ),
        // A PDF that does not parse is reported, and its printable runs are read.
        (
            "broken pdf with rows appended",
            [
                &b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nstartxref\n99999\n"[..],
                b"Ana Rossi, ana@x.io, +39 347 123 4567\n",
            ]
            .concat(),
            d,
            Expect {
                contains: &["Ana Rossi, ana@x.io, +39 347 123 4567"],
                rows: 0,
                reason: Some(|r| matches!(r, UninspectableReason::Malformed { .. })),
            },
        ),
        (
            "broken gzip",
            vec![0x1f, 0x8b, 8, 0, 1, 2, 3],
            d,
            fails(|r| matches!(r, UninspectableReason::Malformed { .. })),
        ),
    ];
    for (name, bytes, limits, expect) in &cases {
        check(name, bytes, limits, expect);
    }
}

/// `cat secret.zip clean.zip > out.zip`: each archive of a file holding several is
/// read by its own end record, whose offsets count from its own start, and the bytes
/// between them as a part of their own. Read through the last end record only, an
/// archive before it was misread whenever its members took more room than the last
/// one's: the file was reported malformed and the customers in it never read.
#[test]
fn archives_one_after_another_are_each_read() {
    let d = Limits::default();
    let secret = zip_of(&[("customers.csv", b"name,email\nAna Rossi,ana@x.io\nBo Lee,bo@y.io\n")]);
    let more = zip_of(&[("leads.csv", b"name,phone\nCy Park,+1 415 555 0123\n")]);
    let note = zip_of(&[("note.txt", b"See you at the quarterly plan review.")]);
    let plan: String = (1..60)
        .map(|i| format!("Step {i} of the quarterly plan: {} tasks.\n", i * 7919 % 1000))
        .collect();
    let plan = zip_of(&[("plan.txt", plan.as_bytes())]);
    let rows = b"name,email\nDee Roy,dee@z.io\n".to_vec();
    // Twenty customers, enough for their list to be compressed, as a real list is.
    let list: String = (1..=20).map(|i| format!("Customer {i},c{i}@x.io\n")).collect();
    let compressed = zip_of(&[("customers.csv", format!("name,email\n{list}").as_bytes())]);
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "secret then clean",
            [secret.clone(), note.clone()].concat(),
            ok(
                &["Ana Rossi | ana@x.io", "Bo Lee | bo@y.io", "quarterly plan review"],
                3,
            ),
        ),
        (
            "clean then secret",
            [plan.clone(), secret.clone()].concat(),
            ok(
                &[
                    "Ana Rossi | ana@x.io",
                    "Bo Lee | bo@y.io",
                    "Step 59 of the quarterly plan",
                ],
                3,
            ),
        ),
        (
            "three archives",
            [secret.clone(), plan.clone(), more.clone()].concat(),
            ok(
                &[
                    "Ana Rossi | ana@x.io",
                    "Step 59 of the quarterly plan",
                    "Cy Park | +1 415 555 0123",
                ],
                5,
            ),
        ),
        (
            "archive, rows, archive",
            [secret.clone(), rows.clone(), note.clone()].concat(),
            ok(
                &["Ana Rossi | ana@x.io", "Dee Roy | dee@z.io", "quarterly plan review"],
                5,
            ),
        ),
        // A file that only ends as an archive: rows or a picture before it.
        (
            "rows then archive",
            [rows.clone(), compressed.clone()].concat(),
            ok(&["Dee Roy | dee@z.io", "Customer 20 | c20@x.io"], 23),
        ),
        (
            "picture then archive",
            [
                &b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"[..],
                &[0x80; 64],
                &compressed,
            ]
            .concat(),
            ok(&["Customer 20 | c20@x.io"], 21),
        ),
        // An archive whose offsets count from the start of the file: those after what
        // lies before its first member (`zip -A` after `cat secret.zip clean.zip`, and a
        // self-extracting program) are read as a part of their own.
        (
            "archives joined, offsets moved past the first",
            zip_after(&secret, &[("note.txt", b"See you at the quarterly plan review.")]),
            ok(
                &["Ana Rossi | ana@x.io", "Bo Lee | bo@y.io", "quarterly plan review"],
                3,
            ),
        ),
        (
            "self-extracting program",
            zip_after(
                &[&b"MZ\x90\x00"[..], &[0; 60], b"This program cannot be run in DOS mode."].concat(),
                &[("customers.csv", format!("name,email\n{list}").as_bytes())],
            ),
            ok(
                &["This program cannot be run in DOS mode.", "Customer 20 | c20@x.io"],
                21,
            ),
        ),
        (
            "office file, rows, archive",
            [xlsx_of_sheet(), rows.clone(), secret.clone()].concat(),
            ok(
                &["Trần Lan | 84912345678", "Dee Roy | dee@z.io", "Ana Rossi | ana@x.io"],
                7,
            ),
        ),
    ];
    for (name, bytes, expect) in &cases {
        let out = check(name, bytes, &d, expect);
        // Each archive's members keep a source of their own (a member's name is read
        // before it, under its source).
        let mut sources: Vec<&str> = out.segments.iter().map(|s| s.source.as_str()).collect();
        sources.dedup();
        let distinct: std::collections::HashSet<&&str> = sources.iter().collect();
        assert_eq!(distinct.len(), sources.len(), "{name}: {sources:?}");
    }
}

/// End records are tried from the last, each in constant time: a file full of forged
/// ones (which made the zip crate search the whole file again for each: 100,000 on each
/// side of an archive took 49 s) is read in one pass, and the junk they are reported, as
/// is an archive whose directory holds them; one full of small archives claimed by
/// forged end records meets the member limit after the archive before them is read.
#[test]
fn forged_zip_end_records_are_bounded() {
    let d = Limits::default();
    let secret = zip_of(&[("customers.csv", b"name,email\nAna Rossi,ana@x.io\nBo Lee,bo@y.io\n")]);
    // An end record of one entry whose directory would be the 46 bytes before it.
    let mut forged = b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00".to_vec();
    forged.extend_from_slice(&46u32.to_le_bytes());
    forged.extend_from_slice(&0u32.to_le_bytes());
    forged.extend_from_slice(&0u16.to_le_bytes());
    let forgeries = forged.repeat(150_000);
    // The same record behind a directory entry of nothing: an archive of one member that
    // is not there.
    let mut entry = b"PK\x01\x02".to_vec();
    entry.resize(46, 0);
    let archives = [entry, forged.clone()].concat().repeat(20_000);
    // An archive of one member whose directory of 32 entries holds 2 MB of end records in
    // the entries' comments, each pointing at the directory, and whose own end record
    // counts an entry more than there is: the zip crate, the directory failing, read it
    // again for each of them (8 entries took 8 s).
    let mut member = b"PK\x03\x04\x14\x00\x00\x00\x00\x00".to_vec();
    member.extend_from_slice(&[0; 8]); // time, date, crc
    member.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    member.extend_from_slice(b"ax");
    let entries = 32u16;
    let mut pointing = b"PK\x05\x06\x00\x00\x00\x00".to_vec();
    pointing.extend_from_slice(&(entries + 1).to_le_bytes());
    pointing.extend_from_slice(&(entries + 1).to_le_bytes());
    pointing.extend_from_slice(&0u32.to_le_bytes());
    pointing.extend_from_slice(&u32::try_from(member.len()).unwrap().to_le_bytes());
    pointing.extend_from_slice(&0u16.to_le_bytes());
    let comment = pointing.repeat(65_535 / 22);
    let mut directory = Vec::new();
    for _ in 0..entries {
        directory.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00");
        directory.extend_from_slice(&[0; 8]);
        directory.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
        directory.extend_from_slice(&u16::try_from(comment.len()).unwrap().to_le_bytes());
        directory.extend_from_slice(&[0; 12]);
        directory.extend_from_slice(b"a");
        directory.extend_from_slice(&comment);
    }
    let mut end = pointing.clone();
    end[12..16].copy_from_slice(&u32::try_from(directory.len()).unwrap().to_le_bytes());
    let forged_directory = [member, directory, end].concat();
    let forged_reason = Some(
        (|r| matches!(r, UninspectableReason::Malformed { format, .. } if format == "zip"))
            as fn(&UninspectableReason) -> bool,
    );
    let cases: Vec<(&'static str, Vec<u8>, Expect)> = vec![
        (
            "forged end records after an archive",
            [secret.clone(), forgeries.clone()].concat(),
            Expect {
                contains: &["Ana Rossi | ana@x.io"],
                rows: 3,
                reason: forged_reason,
            },
        ),
        (
            "forged end records around an archive",
            [forgeries.clone(), secret.clone(), forgeries].concat(),
            Expect {
                contains: &["Ana Rossi | ana@x.io"],
                rows: 3,
                reason: forged_reason,
            },
        ),
        (
            "an archive whose directory holds forged end records",
            [secret.clone(), forged_directory].concat(),
            Expect {
                contains: &["Ana Rossi | ana@x.io"],
                rows: 3,
                reason: forged_reason,
            },
        ),
        (
            "forged archives after an archive",
            [secret, archives].concat(),
            Expect {
                contains: &["Ana Rossi | ana@x.io"],
                rows: 3,
                reason: Some(|r| matches!(r, UninspectableReason::TooManyMembers { limit: 10_000 })),
            },
        ),
    ];
    for (name, bytes, expect) in cases {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let out = check(name, &bytes, &d, &expect);
            done.send(out.uninspectable.len()).ok();
        });
        // A fraction of a second; the deadline only tells one pass from a search per
        // signature.
        let reasons = finished.recv_timeout(std::time::Duration::from_secs(60));
        assert!(reasons.is_ok(), "{name}: {reasons:?}");
        // Each archive that does not open is not a reason of its own.
        assert!(reasons.is_ok_and(|reasons| reasons <= 3), "{name}: {reasons:?}");
    }
}

/// A PDF table's rows drawn out of reading order are read again by where they sit on
/// the page; a table drawn row by row, and prose, are read as drawn only.
#[test]
fn pdf_rows_drawn_out_of_order_are_read_again_by_place() {
    let rows_of = |pdf: &[u8]| -> Vec<String> {
        let out = extract(pdf, &Limits::default());
        assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
        out.rereadings
            .iter()
            .flat_map(|s| s.rows.iter().map(|(start, end)| s.text[*start..*end].to_string()))
            .collect()
    };
    let columns = rows_of(&fixture("columns.pdf"));
    assert_eq!(columns.len(), 30, "{columns:?}");
    assert_eq!(columns[0], "Ana Rossi | ana.rossi@example.com | +39 347 123 4567");
    // Two columns, each a cell of two runs (`Ana` then `Rossi`, placed apart).
    let by_column = pdf_of_content(
        "BT /F1 10 Tf 1 0 0 1 50 700 Tm (Ana) Tj 22 0 Td (Rossi) Tj 1 0 0 1 50 686 Tm (Bo) Tj 16 0 Td (Lee) Tj ET \
         BT 1 0 0 1 250 700 Tm (ana@x.io) Tj 1 0 0 1 250 686 Tm (bo@x.io) Tj ET",
    );
    assert_eq!(rows_of(&by_column), ["Ana Rossi | ana@x.io", "Bo Lee | bo@x.io"]);
    // One glyph placed at a time, as some converters write text (found in review).
    let glyphs = pdf_of_content(
        "BT /F1 10 Tf 1 0 0 1 50 700 Tm (A) Tj 6 0 Td (n) Tj 5 0 Td (a) Tj 5 0 Td ( ) Tj 3 0 Td (B) Tj 6 0 Td (o) Tj \
         1 0 0 1 50 686 Tm (C) Tj 6 0 Td (y) Tj ET \
         BT 1 0 0 1 250 700 Tm (a) Tj 5 0 Td (@) Tj 8 0 Td (x) Tj 1 0 0 1 250 686 Tm (c) Tj 5 0 Td (@) Tj 8 0 Td (x) Tj ET",
    );
    assert_eq!(rows_of(&glyphs), ["Ana Bo | a@x", "Cy | c@x"]);
    let by_row = pdf_of_content(
        "BT /F1 10 Tf 1 0 0 1 50 700 Tm (Ana Rossi) Tj 1 0 0 1 250 700 Tm (ana@x.io) Tj \
         1 0 0 1 50 686 Tm (Bo Lee) Tj 1 0 0 1 250 686 Tm (bo@x.io) Tj ET",
    );
    assert_eq!(rows_of(&by_row), Vec::<String>::new());
    let prose = pdf_of_content("BT /F1 10 Tf 14 TL 50 780 Td (Customer list) Tj T* (Kavya Reddy) Tj T* ET");
    assert_eq!(rows_of(&prose), Vec::<String>::new());
}

/// One TNEF attribute (MS-OXTNEF 2.1.3): level, id, length, data, checksum.
fn tnef_attribute(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
    let checksum = data.iter().fold(0u16, |sum, b| sum.wrapping_add(u16::from(*b)));
    [
        &[level][..],
        &id.to_le_bytes(),
        &u32::try_from(data.len()).unwrap().to_le_bytes(),
        data,
        &checksum.to_le_bytes(),
    ]
    .concat()
}

/// Outlook's `winmail.dat` (found missed by a blind test: an xlsx inside passed as
/// clean): the attachments it carries are read as the files they are, alone and as
/// the `application/ms-tnef` part of a mail; a stream cut short is reported.
#[test]
fn tnef_attachments_are_read() {
    let tnef = [
        &[0x78, 0x9F, 0x3E, 0x22, 0x01, 0x00][..],
        &tnef_attribute(1, 0x0002_800C, b"see the list attached"),
        &tnef_attribute(2, 0x0001_8010, b"a.xlsx\0"),
        &tnef_attribute(2, 0x0006_800F, &xlsx_of_sheet()),
    ]
    .concat();
    let alone = extract(&tnef, &Limits::default());
    let text: String = alone.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(text.contains("Trần Lan | 84912345678"), "{text:?}");
    assert!(text.contains("see the list attached"), "{text:?}");
    assert!(
        alone.segments.iter().any(|s| s.source.contains("a.xlsx")),
        "{:?}",
        alone.segments
    );
    assert!(alone.uninspectable.is_empty(), "{:?}", alone.uninspectable);
    let mail = email_with_text_part("application/ms-tnef", "base64", &base64_of(&tnef));
    let text: String = extract(&mail, &Limits::default())
        .segments
        .iter()
        .map(|s| s.text.as_str())
        .collect();
    assert!(text.contains("Trần Lan | 84912345678"), "{text:?}");
    let cut = extract(&tnef[..tnef.len() - 40], &Limits::default());
    assert!(
        cut.uninspectable
            .iter()
            .any(|r| matches!(r, UninspectableReason::Malformed { .. })),
        "{:?}",
        cut.uninspectable
    );
}

/// A file attached to an invitation (`ATTACH;ENCODING=BASE64`, its value folded over
/// lines of 75 characters, as RFC 5545 writes it) is read as the file it carries.
#[test]
fn a_file_attached_to_an_invitation_is_read() {
    let zip = zip_of(&[("customers.csv", b"name,email\nAna Rossi,ana@x.io\n")]);
    let line = format!(
        "ATTACH;FMTTYPE=application/zip;ENCODING=BASE64;VALUE=BINARY:{}",
        String::from_utf8(base64_of(&zip)).unwrap()
    );
    let folded: Vec<String> = line
        .as_bytes()
        .chunks(74)
        .map(|chunk| String::from_utf8(chunk.to_vec()).unwrap())
        .collect();
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Accounts\r\n{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        folded.join("\r\n ")
    );
    let out = extract(ics.as_bytes(), &Limits::default());
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("Ana Rossi | ana@x.io"), "{all:?} {:?}", out.uninspectable);
    assert!(all.contains("SUMMARY:Accounts"), "{all:?}");
}

/// What a cut-off or damaged stream held before the damage is read, and the damage is
/// reported: the first rows of a truncated list are still rows.
#[test]
fn a_truncated_stream_gives_what_it_holds() {
    let whole = gzip(&LONG_CSV.repeat(200));
    let out = extract(&whole[..whole.len() * 2 / 3], &Limits::default());
    assert!(
        out.segments.iter().any(|s| s.text.contains("Ana Rossi")),
        "{:?}",
        out.uninspectable
    );
    assert!(
        matches!(out.uninspectable.first(), Some(UninspectableReason::Malformed { .. })),
        "{:?}",
        out.uninspectable
    );
    // Bytes after the last member, which gunzip stops at, are read as a part of their own.
    let out = extract(&[&whole[..], b"trailing words, not gzip"].concat(), &Limits::default());
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(
        all.contains("Ana Rossi") && all.contains("trailing words, not gzip"),
        "{all:.200}"
    );
    assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
}

#[test]
fn envelope_of_the_sent_message_is_not_content() {
    let holds_recipient = |out: &Extraction| out.segments.iter().any(|s| s.text.contains("b@else.example"));
    assert!(!holds_recipient(&dlp::extract::extract_sent_mail(
        &email_with_zip(),
        &Limits::default()
    )));
    // A message attached to it, and a message file at rest, are content.
    let forwarded = zip_of(&[("fwd.eml", &email_with_zip())]);
    assert!(holds_recipient(&dlp::extract::extract_sent_mail(
        &forwarded,
        &Limits::default()
    )));
    assert!(holds_recipient(&extract(&email_with_zip(), &Limits::default())));
}

#[test]
fn encrypted_member_does_not_hide_the_rest() {
    let mut archive = zip_of(&[("secret.txt", b"hidden words"), ("open.txt", b"visible words")]);
    let at = archive.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
    archive[at + 6] |= 1;
    let central = archive.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    archive[central + 8] |= 1;
    let out = extract(&archive, &Limits::default());
    assert!(out.segments.iter().any(|s| s.text.contains("visible words")));
    assert!(!out.segments.iter().any(|s| s.text.contains("hidden words")));
    assert!(matches!(
        out.uninspectable.first(),
        Some(UninspectableReason::Encrypted { .. })
    ));
}

/// Pieces of rich text, to put together at random.
const RTF_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"\\",
    b"\\'",
    b"\\'8e",
    b"\\'e9",
    b"\\u",
    b"\\u-",
    b"\\u40000",
    b"\\uc2",
    b"\\bin",
    b"\\bin3 ",
    b"\\par",
    b"\\cell",
    b"\\row",
    b"\\trowd",
    b"\\intbl",
    b"\\pard",
    b"\\*",
    b"\\fonttbl",
    b"\\f1",
    b"\\fcharset128",
    b"\\ansicpg932",
    b"\\ansicpg99999",
    b"a",
    b"R",
    b"9",
    b"-",
    b" ",
    b"\x8e",
    b"\xff",
    b"\n",
];

/// A PowerPoint document stream cut inside a text is read up to the cut, and the cut
/// reported.
#[test]
fn a_powerpoint_presentation_cut_short_is_read_up_to_the_cut() {
    let stream = fixture("libreoffice-accounts.ppt-stream");
    let title = "Key accounts Q3"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect::<Vec<u8>>();
    let at = stream.windows(title.len()).position(|w| w == title).unwrap();
    let out = extract(
        &compound_of(&[("/PowerPoint Document", &stream[..at + 6])]),
        &Limits::default(),
    );
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("Click to edit Master title style"), "{all:?}");
    assert!(!all.contains("Key accounts"), "{all:?}");
    assert!(
        out.uninspectable
            .iter()
            .any(|r| matches!(r, UninspectableReason::Malformed { format, detail } if format == "ppt" && detail.contains("past the end"))),
        "{:?}",
        out.uninspectable
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn random_bytes_never_panic(prefix in 0usize..7, body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let magic: &[&[u8]] = &[b"", b"PK\x03\x04", b"%PDF-1.4\n", &[0x1f, 0x8b], b"From: a\r\nTo: b\r\n\r\n", b"<html><table><tr>", br"{\rtf1 "];
        let mut bytes = magic[prefix].to_vec();
        bytes.extend(body);
        let out = extract(&bytes, &Limits::default());
        // Bounded: text never exceeds what the limits allow.
        let total: usize = out.segments.iter().map(|s| s.text.len()).sum();
        prop_assert!(total <= (Limits::default().max_expanded_bytes as usize) * 4 + bytes.len() * 4);
    }

    #[test]
    fn random_rich_text_never_panics(tokens in proptest::collection::vec(0usize..RTF_TOKENS.len(), 0..400)) {
        let mut bytes = br"{\rtf1".to_vec();
        for token in tokens {
            bytes.extend_from_slice(RTF_TOKENS[token]);
        }
        let out = extract(&bytes, &Limits::default());
        prop_assert!(out.uninspectable.is_empty());
        let total: usize = out.segments.iter().map(|s| s.text.len()).sum();
        prop_assert!(total <= bytes.len() * 4);
    }

    #[test]
    fn mangled_encoded_files_never_panic(
        shape in 0usize..3,
        cut in 0usize..300,
        noise in "[A-Za-z0-9+/=&%_.\\-\r\n]{0,80}",
    ) {
        let zip = zip_of(&[("c.csv", b"name,email\nAna Rossi,ana@x.io\n")]);
        let encoded = String::from_utf8(wrapped_base64(&zip, 76)).unwrap();
        let at = (0..=cut.min(encoded.len())).rev().find(|i| encoded.is_char_boundary(*i)).unwrap_or(0);
        let mangled = format!("{}{noise}{}", &encoded[..at], &encoded[at..]);
        let bytes = match shape {
            0 => mangled.into_bytes(),
            1 => format!(r#"{{"file":"data:application/zip;base64,{}"}}"#, mangled.replace(['\r', '\n'], "")).into_bytes(),
            _ => format!("a=1&file={}", mangled.replace(['\r', '\n'], "")).into_bytes(),
        };
        let out = extract(&bytes, &Limits::default());
        let total: usize = out.segments.iter().map(|s| s.text.len()).sum();
        prop_assert!(total <= bytes.len() * 4);
    }

    #[test]
    fn mangled_archives_never_panic(cut in 0usize..400, flip in 0usize..400, value in any::<u8>()) {
        let csv = b"name,email\nAna Rossi,ana@x.io\n";
        let docx = zip_of(&[("word/document.xml", DOCX_XML.as_bytes()), ("in.zip", &zip_of(&[("c.csv", csv)]))]);
        let mut bytes = docx.get(..cut.min(docx.len())).unwrap_or_default().to_vec();
        bytes.extend_from_slice(docx.get(cut.min(docx.len())..).unwrap_or_default());
        if let Some(b) = bytes.get_mut(flip) { *b = value; }
        let _ = extract(&bytes, &Limits::default());
        let _ = extract(&gzip(&bytes), &Limits::default());
    }

    /// Bytes of a Word document's header, piece table and pages of paragraph properties
    /// set at random: read within the limits, or refused, never a panic.
    #[test]
    fn mangled_word_documents_never_panic(
        flips in proptest::collection::vec((0usize..14_000, any::<u8>()), 1..8),
        header_flips in proptest::collection::vec((0usize..0x200, any::<u8>()), 0..4),
    ) {
        let mut doc = fixture("libreoffice-customers.doc");
        let header = (512..doc.len()).step_by(512).find(|start| doc.get(*start..*start + 2) == Some(&[0xEC, 0xA5][..]));
        for (at, value) in flips.into_iter().chain(header_flips.into_iter().map(|(at, value)| (at + header.unwrap_or(0), value))) {
            if let Some(b) = doc.get_mut(at) { *b = value; }
        }
        let out = extract(&doc, &Limits::default());
        let total: usize = out.segments.iter().map(|s| s.text.len()).sum();
        prop_assert!(total <= doc.len() * 4);
    }

    /// Bytes of a PowerPoint document stream set at random, records' lengths among them.
    #[test]
    fn mangled_powerpoint_presentations_never_panic(flips in proptest::collection::vec((0usize..20_516, any::<u8>()), 1..16)) {
        let mut stream = fixture("libreoffice-accounts.ppt-stream");
        for (at, value) in flips {
            if let Some(b) = stream.get_mut(at) { *b = value; }
        }
        let out = extract(&compound_of(&[("/PowerPoint Document", &stream)]), &Limits::default());
        let total: usize = out.segments.iter().map(|s| s.text.len()).sum();
        prop_assert!(total <= stream.len() * 4);
    }

    #[test]
    fn mangled_pdfs_never_panic(cut in 0usize..2000, flip in 0usize..2000, value in any::<u8>()) {
        let pdf = dlp::corpus::pdf(&["Ana Rossi, ana@x.io".to_string(), "second line".to_string()]);
        let mut bytes = pdf.get(..cut.min(pdf.len())).unwrap_or_default().to_vec();
        if let Some(b) = bytes.get_mut(flip) { *b = value; }
        let _ = extract(&bytes, &Limits::default());
    }
}

#[test]
fn rich_text_properties_fonts_and_pictures_are_not_text() {
    let out = extract(
        br#"{\rtf1\ansi{\fonttbl{\f0\fswiss Helvetica;}}{\colortbl;\red255\green0\blue0;}{\stylesheet{\s1 Heading 1;}}{\info{\author Secret Author}{\company Rival Corp}}{\*\generator Msftedit;}{\*\unknowndest hidden words}{\field{\*\fldinst HYPERLINK "https://crm.example/7"}{\fldrslt Ana Rossi}}\pard{\pict\pngblip 89504e47}\par}"#,
        &Limits::default(),
    );
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("Ana Rossi"), "{all:?}");
    for hidden in [
        "Helvetica",
        "red255",
        "Heading",
        "Secret",
        "Rival",
        "Msftedit",
        "hidden",
        "crm.example",
        "89504e47",
    ] {
        assert!(!all.contains(hidden), "{hidden} in {all:?}");
    }
    let boxed = extract(
        b"{\\rtf1{\\*\r\n\\generator Hidden;}{\\shp{\\*\\shpinst{\\sp{\\sn shapeType}{\\sv 202}}{\\shptxt Boxed words}}{\\shprslt Boxed words}}}",
        &Limits::default(),
    );
    let text: String = boxed.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(text.matches("Boxed words").count(), 1, "{text:?}");
    for hidden in ["Hidden", "shapeType", "202"] {
        assert!(!text.contains(hidden), "{hidden} in {text:?}");
    }
    // Groups nested deeper than any document's are read, in bounded memory.
    let deep = [
        &b"{\\rtf1 "[..],
        &b"{".repeat(100_000),
        b"Ana Rossi",
        &b"}".repeat(100_000),
    ]
    .concat();
    let text: String = extract(&deep, &Limits::default())
        .segments
        .iter()
        .map(|s| s.text.clone())
        .collect();
    assert_eq!(text.trim(), "Ana Rossi");
}

#[test]
fn sixteen_bit_samples_are_not_read_as_text() {
    // A sensor's or an image's 16-bit values below U+0800 read as UTF-16 would be
    // Arabic digits and letters, and the digits a card number.
    let samples: Vec<u8> = (0..4096u16)
        .flat_map(|i| (0x660 + i % 10 + (i / 10 % 3) * 0x40).to_le_bytes())
        .collect();
    let text: String = extract(&samples, &Limits::default())
        .segments
        .iter()
        .map(|s| s.text.clone())
        .collect();
    assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text:?}");
}

/// Text attributes (a tooltip, a meta tag's content, a form's value, an app's `data-`)
/// are read; addresses, classes and styles are not (a phone number in an image's URL is
/// none).
#[test]
fn html_text_attributes_are_read_and_addresses_are_not() {
    let out = extract(
        b"<html><meta name=\"description\" content=\"Bo Lee, bo@y.io\"><p><a href=\"https://crm.example/x\">site</a> <span class=\"klass\" title=\"tip\">Ana</span> <input type=hidden value=\"+39 347 123 4567\"><tr data-customer=\"C-1\"></tr></p></html>",
        &Limits::default(),
    );
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    for text in ["site", "tip Ana", "Bo Lee, bo@y.io", "+39 347 123 4567", "C-1"] {
        assert!(all.contains(text), "{text} not in {all:?}");
    }
    for attribute in ["crm.example", "klass", "description", "hidden"] {
        assert!(!all.contains(attribute), "{attribute} in {all:?}");
    }
    let fragment = extract(
        b"<span style=\"color:red\"><img src=\"https://img.example/p?id=3471234567\" alt=\"x y\"></span>",
        &Limits::default(),
    );
    let text: String = fragment.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(!text.contains("3471234567") && text.contains("x y"), "{text:?}");
}

/// What a browser does not show is read too, as text of its own: comments, scripts and
/// styles, closed or running to the end of the file (found by a blind test: a customer
/// table behind `<style>` or `<!--` on its first line was read as nothing).
#[test]
fn markup_comments_scripts_and_styles_are_read_apart_from_the_text() {
    let table = "id,name,email\nC-1,Ana Rossi,ana@x.io\nC-2,Bo Lee,bo@y.io\n";
    for (name, markup, rows) in [
        ("style to the end", format!("<style>\n{table}"), 3),
        ("comment to the end", format!("<!--\n{table}"), 3),
        ("closed comment", format!("<!--\n{table}-->\n<p>Hello</p>"), 3),
        (
            "xml comment",
            format!("<?xml version=\"1.0\"?><r><!--{table}--></r>"),
            3,
        ),
        (
            "script",
            "<html><p>Hello</p><script>var c = [{n: \"Ana Rossi\", e: \"ana@x.io\"}];</script></html>".to_string(),
            0,
        ),
    ] {
        let out = check(
            name,
            markup.as_bytes(),
            &Limits::default(),
            &ok(&["Ana Rossi", "ana@x.io"], rows),
        );
        // Hidden text does not join what is shown around it.
        assert!(
            !out.segments
                .iter()
                .any(|s| s.text.contains("Hello") && s.text.contains("Ana")),
            "{name}: {:?}",
            out.segments
        );
    }
    // Many scripts and comments are read in linear time, tiny ones as one segment.
    for (name, markup) in [
        ("scripts", "<script>x</script>".repeat(1 << 18)),
        ("comments", "<!--a-->".repeat(1 << 19)),
        ("comments of lines", "<!--a\nb-->".repeat(1 << 18)),
        ("styles in capitals", "<STYLE>b{}</Style>".repeat(1 << 18)),
    ] {
        let started = cpu_time::ThreadTime::now();
        let out = extract(markup.as_bytes(), &Limits::default());
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{name}");
        assert!(out.segments.len() <= 1001, "{name}: {} segments", out.segments.len());
    }
    // Scripts inside scripts are bounded by the nesting limit, never by the stack.
    let nested = "<script>\n".repeat(100_000);
    let out = extract(nested.as_bytes(), &Limits::default());
    assert!(
        out.uninspectable
            .iter()
            .any(|reason| matches!(reason, UninspectableReason::DepthExceeded { .. })),
        "{:?}",
        out.uninspectable
    );
}

#[test]
fn rows_of_each_table_stay_apart_and_keep_their_source() {
    let zip = zip_of(&[
        ("a.csv", b"name,phone\nAna Rossi,555 0101\n"),
        ("b.tsv", b"name\tcity\nBo Li\tHue\n"),
    ]);
    let out = extract(&zip, &Limits::default());
    let tables: Vec<(&str, Vec<&str>)> = out
        .segments
        .iter()
        .map(|s| {
            let rows = s.rows.iter().map(|(start, end)| &s.text[*start..*end]).collect();
            (s.source.as_str(), rows)
        })
        .collect();
    assert_eq!(
        tables,
        [
            // Each member's name is read before it, a text of its own.
            ("a.csv", vec![]),
            ("a.csv", vec!["name | phone", "Ana Rossi | 555 0101"]),
            ("b.tsv", vec![]),
            ("b.tsv", vec!["name | city", "Bo Li | Hue"]),
        ]
    );
    // So do a mail's parts, which are not files of an archive.
    let mail = email_with_text_part("text/csv", "8bit", b"name,phone\nAna Rossi,555 0101\n");
    let mail = String::from_utf8(mail).unwrap().replace(
        "\r\n--B--\r\n",
        "\r\n--B\r\nContent-Type: text/csv; name=\"b.csv\"\r\nContent-Disposition: attachment; filename=\"b.csv\"\r\n\r\nname,city\nBo Li,Hue\n\r\n--B--\r\n",
    );
    let parts = extract(mail.as_bytes(), &Limits::default());
    let sources: Vec<(&str, usize)> = parts
        .segments
        .iter()
        .filter(|s| !s.rows.is_empty())
        .map(|s| (s.source.rsplit('/').next().unwrap_or_default(), s.rows.len()))
        .collect();
    assert_eq!(sources, [("export", 2), ("b.csv", 2)]);
    // Text on either side of a card is read apart.
    let around = extract(
        b"BEGIN:VCARD\nFN:Y\nEND:VCARD\nWe met Ana\nBEGIN:VCARD\nFN:X\nEND:VCARD\nRossi called\n",
        &Limits::default(),
    );
    let texts: Vec<&str> = around.segments.iter().map(|s| s.text.trim()).collect();
    assert_eq!(texts, ["Y", "We met Ana", "X", "Rossi called"]);
    // And an Office file's parts.
    let table = |cell: &str| {
        format!("<w:document xmlns:w=\"w\"><w:body><w:tbl><w:tr><w:tc><w:p><w:r><w:t>{cell}</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>")
    };
    let (body, header) = (table("Ana Rossi"), table("Bo Li"));
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", body.as_bytes()),
        ("word/header1.xml", header.as_bytes()),
    ]);
    let parts = extract(&docx, &Limits::default());
    let sources: Vec<&str> = parts
        .segments
        .iter()
        .map(|s| s.source.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(sources, ["document.xml", "header1.xml"]);
    // And a workbook's sheets.
    let sheet = |cell: &str| {
        format!(
            r#"<worksheet><sheetData><row><c t="inlineStr"><is><t>{cell}</t></is></c></row></sheetData></worksheet>"#
        )
    };
    let (one, two) = (sheet("Ana Rossi"), sheet("Bo Li"));
    let workbook = zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", one.as_bytes()),
        ("xl/worksheets/sheet2.xml", two.as_bytes()),
    ]);
    let sheets = extract(&workbook, &Limits::default());
    let sources: Vec<(&str, &str)> = sheets
        .segments
        .iter()
        .map(|s| (s.source.rsplit('/').next().unwrap_or_default(), s.text.as_str()))
        .collect();
    assert_eq!(sources, [("sheet1.xml", "Ana Rossi"), ("sheet2.xml", "Bo Li")]);
    // Rows are apart by an empty line, so no value runs on from one row into the next.
    assert_eq!(out.segments[1].text, "name | phone\n\nAna Rossi | 555 0101");
}

/// A workbook's shared strings run over CONTINUE records, where a string cut in two
/// restarts with its own flags (Vietnamese in two bytes a character, the rest in one):
/// every string of the second sheet comes out whole and in order.
#[test]
fn xls_strings_continued_over_records_are_read_whole() {
    let out = extract(&fixture("libreoffice.xls"), &Limits::default());
    assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
    let many = out
        .segments
        .iter()
        .find(|segment| segment.source.ends_with("sheet 2"))
        .expect("the second sheet");
    let rows: Vec<&str> = many.rows.iter().map(|(start, end)| &many.text[*start..*end]).collect();
    let expected: Vec<String> = (0..700)
        .map(|i| {
            let text = if i % 3 == 0 {
                format!("chuỗi số {i:05} của Phường Bến Nghé")
            } else {
                format!("unique string number {i:05} padded")
            };
            format!("{text} | {i}")
        })
        .collect();
    assert_eq!(rows, expected);
}

/// A damaged database costs only the rows of its damaged pages: no byte changed or
/// cut makes the reader fail, and a page left whole keeps its rows.
#[test]
fn a_damaged_sqlite_database_keeps_its_whole_pages() {
    let whole = fixture("crm.sqlite3");
    let limits = Limits::default();
    let rows = |bytes: &[u8]| {
        extract(bytes, &limits)
            .segments
            .iter()
            .map(|s| s.rows.len())
            .sum::<usize>()
    };
    assert_eq!(rows(&whole), 602);
    for cut in (100..whole.len()).step_by(997) {
        assert!(rows(&whole[..cut]) <= 602, "cut at {cut}");
    }
    for at in (0..whole.len()).step_by(499) {
        for value in [0x00, 0x0D, 0x7F, 0xFF] {
            let mut damaged = whole.clone();
            damaged[at] = value;
            rows(&damaged);
        }
    }
    // The fifth page (a leaf of the table) damaged: the rows of the others are read.
    let mut damaged = whole.clone();
    damaged[4 * 4096..5 * 4096].fill(0xFF);
    let left = rows(&damaged);
    assert!((500..602).contains(&left), "{left}");
}

/// A workbook stream that breaks off keeps the rows before the break, and reports it
/// (found in review: one record past the end lost the whole workbook); a message with
/// more attachments than the members allowed stops at the limit, before reading them
/// all (20,000 took 115 s).
#[test]
fn a_broken_workbook_keeps_its_rows_and_attachments_stop_at_the_limit() {
    let worksheet = biff(0x0809, &[0x00, 0x06, 0x10, 0x00, 0, 0, 0, 0]);
    let label = |row: u16, col: u16, text: &str| {
        let data = [
            &row.to_le_bytes()[..],
            &col.to_le_bytes(),
            &[0, 0],
            &(text.len() as u16).to_le_bytes(),
            &[0],
            text.as_bytes(),
        ]
        .concat();
        biff(0x0204, &data)
    };
    let stream = [
        worksheet,
        label(0, 0, "Ana Rossi"),
        label(0, 1, "ana.rossi@example.com"),
        // A record claiming 200 bytes with 3 left.
        [&0x0203u16.to_le_bytes()[..], &200u16.to_le_bytes(), &[1, 2, 3]].concat(),
    ]
    .concat();
    let out = extract(&compound_of(&[("/Workbook", &stream)]), &Limits::default());
    let rows: Vec<&str> = out
        .segments
        .iter()
        .flat_map(|s| s.rows.iter().map(|(a, b)| &s.text[*a..*b]))
        .collect();
    assert_eq!(rows, ["Ana Rossi | ana.rossi@example.com"]);
    assert!(
        matches!(&out.uninspectable[..], [UninspectableReason::Malformed { format, .. }] if format == "xls"),
        "{:?}",
        out.uninspectable
    );

    let name = |text: &str| text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
    let mut streams: Vec<(String, Vec<u8>)> = vec![("/__properties_version1.0".into(), vec![0; 32])];
    for index in 0..5 {
        let storage = format!("/__attach_version1.0_#{index:08X}");
        streams.push((
            format!("{storage}/__substg1.0_3707001F"),
            name(&format!("list{index}.csv")),
        ));
        streams.push((
            format!("{storage}/__substg1.0_37010102"),
            b"name,email\nAna Rossi,ana@x.io\n".to_vec(),
        ));
    }
    let borrowed: Vec<(&str, &[u8])> = streams.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let message = compound_of(&borrowed);
    let all = extract(&message, &Limits::default());
    assert!(all.uninspectable.is_empty(), "{:?}", all.uninspectable);
    assert!(all.segments.iter().any(|s| s.source.ends_with("list4.csv")));
    let limits = Limits {
        max_members: 3,
        ..Limits::default()
    };
    let limited = extract(&message, &limits);
    assert!(
        limited
            .uninspectable
            .iter()
            .any(|r| matches!(r, UninspectableReason::TooManyMembers { limit: 3 })),
        "{:?}",
        limited.uninspectable
    );
}

#[test]
fn content_codings_are_undone_in_reverse_order_of_application() {
    use dlp::extract::decode_content_encoding;
    let rows = b"name,email\nAn Tran,an.tran@khach.vn\n".repeat(20);
    let limits = Limits::default();
    let deflate = |bytes: &[u8], zlib: bool| {
        if zlib {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        } else {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("gzip", gzip(&rows)),
        ("x-gzip", gzip(&rows)),
        ("deflate", deflate(&rows, true)),
        ("Deflate", deflate(&rows, false)),
        ("zstd", zstd_of(&rows)),
        ("identity", rows.clone()),
        ("", rows.clone()),
        // Applied first gzip, then zstd: undone zstd first.
        ("gzip, zstd", zstd_of(&gzip(&rows))),
        ("deflate,identity,gzip", gzip(&deflate(&rows, true))),
    ];
    for (coding, body) in cases {
        assert_eq!(
            decode_content_encoding(&body, coding, &limits).as_deref(),
            Ok(rows.as_slice()),
            "{coding:?}"
        );
    }
}

#[test]
fn content_codings_that_cannot_be_undone_are_uninspectable() {
    use dlp::extract::decode_content_encoding;
    let limits = Limits::default();
    let unsupported = |format: &str| {
        Err(UninspectableReason::Unsupported {
            format: format.to_string(),
        })
    };
    assert_eq!(
        decode_content_encoding(b"x", "br", &limits),
        unsupported("content coding br")
    );
    assert_eq!(
        decode_content_encoding(b"x", "gzip, <script>", &limits),
        unsupported("content coding (unnamed)"),
        "the sender's text is not repeated"
    );
    let gzipped = gzip(&b"a,b\n".repeat(1000));
    let cut = &gzipped[..gzipped.len() / 2];
    assert!(matches!(
        decode_content_encoding(cut, "gzip", &limits),
        Err(UninspectableReason::Malformed { .. })
    ));
    assert!(decode_content_encoding(b"plain text, not zstd", "zstd", &limits).is_err());
    // A bomb stops at the bound, not after inflating.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    let small = Limits {
        max_expanded_bytes: 8 << 20,
        ..Limits::default()
    };
    assert!(matches!(
        decode_content_encoding(&bomb, "gzip", &small),
        Err(UninspectableReason::ExpandedSizeExceeded { .. } | UninspectableReason::CompressionRatioExceeded { .. })
    ));
}

/// A Word 97 document (1Table) built by hand: `text` is the WordDocument stream after
/// its 1024-byte header (so its first byte is at offset 1024), `table` the table
/// stream; the header points at the Clx and the PlcBtePapx in it.
fn word_97(text: &[u8], table: &[u8], clx: (u32, u32), bte_papx: (u32, u32)) -> Vec<u8> {
    let mut word = vec![0u8; 1024];
    word[0..2].copy_from_slice(&0xA5ECu16.to_le_bytes());
    word[2..4].copy_from_slice(&0x00C1u16.to_le_bytes());
    word[0x0A..0x0C].copy_from_slice(&0x0200u16.to_le_bytes());
    word[32..34].copy_from_slice(&14u16.to_le_bytes());
    word[62..64].copy_from_slice(&22u16.to_le_bytes());
    word[152..154].copy_from_slice(&93u16.to_le_bytes());
    let mut pair = |index: usize, (fc, lcb): (u32, u32)| {
        word[154 + 8 * index..158 + 8 * index].copy_from_slice(&fc.to_le_bytes());
        word[158 + 8 * index..162 + 8 * index].copy_from_slice(&lcb.to_le_bytes());
    };
    pair(33, clx);
    pair(13, bte_papx);
    word.extend_from_slice(text);
    compound_of(&[("/WordDocument", &word), ("/1Table", table)])
}

/// A Clx of `count` pieces, each the 8-bit text of `chars` characters at offset 1024.
fn clx_repeating(count: u32, chars: u32) -> Vec<u8> {
    let mut plc = Vec::new();
    for index in 0..=count {
        plc.extend_from_slice(&(index * chars).to_le_bytes());
    }
    for _ in 0..count {
        plc.extend_from_slice(&[0, 0]);
        plc.extend_from_slice(&((1024u32 * 2) | 0x4000_0000).to_le_bytes());
        plc.extend_from_slice(&[0, 0]);
    }
    [&[2u8][..], &(plc.len() as u32).to_le_bytes(), &plc].concat()
}

/// A table of 8 columns after one of 2 (LibreOffice's export of python-docx's
/// document): the wide table's row ends carry their properties in the Data stream
/// (sprmPHugePapx, 0x6646), as they do from 8 columns on. Its rows must stay apart and
/// the paragraph after it stay out of them.
#[test]
fn a_wide_word_table_keeps_its_rows() {
    let out = extract(&fixture("libreoffice-wide-table.doc"), &Limits::default());
    let rows: Vec<&str> = out
        .segments
        .iter()
        .flat_map(|s| s.rows.iter().map(|(a, b)| &s.text[*a..*b]))
        .collect();
    assert!(
        rows.contains(
            &"Ana Rossi | ana.rossi@example.com | +39 347 123 4567 | Via Roma 12 | Milano | 20121 | IT | C-1"
        ),
        "{rows:#?}"
    );
    assert!(
        rows.contains(&"Carla Neri | carla.neri@example.com | +39 333 765 4321 | Via Po 3 | Torino | 10123 | IT | C-2"),
        "{rows:#?}"
    );
    assert!(!rows.iter().any(|r| r.contains("End of list")), "{rows:#?}");
}

/// 64 KiB of 0x07 read 150 times through the piece table: 4.9 million empty table
/// cells, whose text (3 bytes a character charged) fits a budget of 32 MiB but whose
/// held cells do not: refused as over the budget, as an xls's held cells are, rather
/// than held (it took 675 MB; found in review).
#[test]
fn empty_word_cells_are_charged_for_what_they_hold() {
    let limits = Limits {
        max_expanded_bytes: 32 << 20,
        ..Limits::default()
    };
    let clx = clx_repeating(150, 65536);
    let doc = word_97(&vec![7u8; 65536], &clx, (0, clx.len() as u32), (0, 0));
    assert!(doc.len() < 100_000);
    let out = extract(&doc, &limits);
    assert!(
        out.uninspectable
            .iter()
            .any(|r| matches!(r, UninspectableReason::ExpandedSizeExceeded { .. })),
        "{:?}",
        out.uninspectable
    );
}

/// A list of 262,144 entries naming one page of paragraph properties whose 30 runs each
/// end a table row: the page is read once, and the document read within 32 MiB (every
/// entry read it again before, holding 480 bytes of runs for each 8 bytes of the list;
/// found in review).
#[test]
fn pages_of_paragraph_properties_named_again_are_read_once() {
    let mut page = vec![0u8; 512];
    let crun = 30usize;
    for run in 0..=crun {
        let fc = 1024 + run as u32;
        page[4 * run..4 * run + 4].copy_from_slice(&fc.to_le_bytes());
    }
    for run in 0..crun {
        page[4 * (crun + 1) + 13 * run] = 251; // properties at 502
    }
    // cb 3: istd 0, then sprmPFTtp 1.
    page[502..508].copy_from_slice(&[3, 0, 0, 0x17, 0x24, 1]);
    page[511] = crun as u8;
    let entries = 1usize << 18;
    let mut plcf = Vec::with_capacity(8 * entries + 4);
    for _ in 0..=entries {
        plcf.extend_from_slice(&1024u32.to_le_bytes());
    }
    for _ in 0..entries {
        plcf.extend_from_slice(&2u32.to_le_bytes()); // page 2, at offset 1024
    }
    let clx = clx_repeating(1, 3);
    let table = [&clx[..], &plcf].concat();
    let mut text = page.clone();
    text[..3].copy_from_slice(b"abc");
    let doc = word_97(
        &text,
        &table,
        (0, clx.len() as u32),
        (clx.len() as u32, plcf.len() as u32),
    );
    let limits = Limits {
        max_expanded_bytes: 32 << 20,
        ..Limits::default()
    };
    let out = extract(&doc, &limits);
    assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("abc"), "{all:?}");
}

/// A PowerPoint stream with text where PowerPoint keeps it outside text atoms: a
/// footer (HeadersFootersContainer's CString, instance 2), a comment (Comment10Container
/// inside a PP10 BinaryTagDataBlob, CString instance 1) and a link's target
/// (ExHyperlinkContainer's CString) are read, as a pptx's are.
#[test]
fn powerpoint_footers_comments_and_link_targets_are_read() {
    fn record(version: u16, instance: u16, kind: u16, body: &[u8]) -> Vec<u8> {
        [
            &(version | instance << 4).to_le_bytes()[..],
            &kind.to_le_bytes(),
            &(body.len() as u32).to_le_bytes(),
            body,
        ]
        .concat()
    }
    let cstring = |instance: u16, text: &str| {
        record(
            0,
            instance,
            0x0FBA,
            &text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>(),
        )
    };
    let footer = record(0xF, 3, 0x0FD9, &cstring(2, "Prepared for Ana Rossi +39 347 123 4567"));
    let link = record(
        0xF,
        0,
        0x0409,
        &record(0xF, 0, 0x0FD7, &cstring(1, "mailto:bo.lee@example.org")),
    );
    let comment = record(
        0xF,
        0,
        0x2EE0,
        &[cstring(0, "Rev"), cstring(1, "Call carla.neri@example.com")].concat(),
    );
    let tags = record(
        0xF,
        0,
        0x1388,
        &record(
            0xF,
            0,
            0x138A,
            &[cstring(0, "___PPT10"), record(0, 0, 0x138B, &comment)].concat(),
        ),
    );
    let slide_text = record(0, 0, 0x0FA8, b"Key accounts");
    let stream = [
        record(0xF, 0, 0x03E8, &[footer, link].concat()),
        record(0xF, 0, 0x03EE, &[slide_text, tags].concat()),
    ]
    .concat();
    let out = extract(&compound_of(&[("/PowerPoint Document", &stream)]), &Limits::default());
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("Key accounts"), "{all:?}");
    assert!(all.contains("Ana Rossi +39 347 123 4567"), "footer: {all:?}");
    assert!(all.contains("carla.neri@example.com"), "comment: {all:?}");
    assert!(all.contains("bo.lee@example.org"), "link: {all:?}");
}

/// Forms drawing forms ten times each, eight levels deep, would be drawn a hundred
/// million times: the page's forms are drawn at most 1,024 times, and its text read.
#[test]
fn a_pdf_of_forms_drawing_forms_is_read_within_bounds() {
    let calls = "/N Do ".repeat(10);
    let forms: Vec<(String, String)> = (0..9)
        .map(|level| {
            (
                format!(
                    "/Subtype /Form /Resources << /Font << /F2 5 0 R >> /XObject << /N {} 0 R >> >>",
                    7 + level
                ),
                format!("BT /F2 10 Tf 50 800 Td (level{level}) Tj ET {calls}"),
            )
        })
        .collect();
    let forms: Vec<(&str, &str)> = forms.iter().map(|(e, c)| (e.as_str(), c.as_str())).collect();
    let out = extract(&pdf_with_forms(&forms), &Limits::default());
    assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
    let text: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    let drawn = text.matches("level").count();
    assert!(text.contains("level0") && text.contains("level7"), "{text:.200}");
    assert!(!text.contains("level8"), "nine levels drawn: {text:.200}");
    assert!((1_000..=1_024).contains(&drawn), "{drawn} forms drawn");
}

/// A table of a record to a column (cards side by side, a transposed export) is read
/// again by its columns; a table of a record to a row is not, nor one of many rows.
#[test]
fn tables_of_a_record_to_a_column_are_read_again_by_column() {
    let again = |bytes: &[u8]| -> Vec<String> {
        let out = extract(bytes, &Limits::default());
        assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
        out.rereadings
            .iter()
            .flat_map(|s| s.rows.iter().map(|(start, end)| s.text[*start..*end].to_string()))
            .collect()
    };
    assert_eq!(
        again(b"Field,C-1,C-2,C-3\nName,Ana Rossi,Bo Lee,Cy Ng\nPhone,555 0101,555 0202,\n"),
        [
            "Field | Name | Phone",
            "C-1 | Ana Rossi | 555 0101",
            "C-2 | Bo Lee | 555 0202",
            "C-3 | Cy Ng"
        ]
    );
    assert!(again(b"name,email,phone\nAna Rossi,ana@x.io,555 0101\nBo Lee,bo@y.io,555 0202\n").is_empty());
    let long: String = std::iter::once("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r\n".to_string())
        .chain((0..17).map(|i| format!("{i},x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x\n")))
        .collect();
    assert!(again(long.as_bytes()).is_empty(), "18 rows are records a row each");
    let wide = format!("{0}\n{0}\n", vec!["a"; 100_000].join(","));
    assert!(
        again(wide.as_bytes()).is_empty(),
        "a hundred thousand columns are no records"
    );
}

/// A form drawn again and again, and annotations sharing one note, count against the
/// work budget as they are read (found in review: a page drawing a form of 16 KiB
/// 1,024 times read 16 MiB unreported, and 20,000 references to one note of 11 KB made
/// 216 MB of text before any of it was counted).
#[test]
fn pdf_forms_and_annotations_are_charged_to_the_work_budget() {
    let limits = Limits {
        max_work_bytes: 4 << 20,
        ..Limits::default()
    };
    let refused = |pdf: &[u8]| {
        let out = extract(pdf, &limits);
        out.uninspectable
            .iter()
            .any(|r| matches!(r, UninspectableReason::WorkBudgetExceeded { .. }))
    };
    let form = [("/Subtype /Form", "0 0 m 1 1 l S\n".repeat(16 * 1024 / 14))];
    let form: Vec<(&str, &str)> = form.iter().map(|(e, c)| (*e, c.as_str())).collect();
    assert!(!refused(&pdf_drawing_forms("/X Do", &form)), "a form drawn once fits");
    assert!(
        refused(&pdf_drawing_forms(&"/X Do\n".repeat(1024), &form)),
        "16 MiB of forms within 4 MiB"
    );

    let note = "Karen Johnson 512-364-7562 ".repeat(400);
    let shared = pdf_of_objects(&[
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [{}] >>", "6 0 R 7 0 R ".repeat(1000)),
        pdf_stream("", "BT /F1 12 Tf 50 800 Td (Notes) Tj ET"),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
        "<< /Type /Annot /Subtype /Text /Rect [0 0 9 9] /Contents 8 0 R >>".into(),
        "<< /Type /Annot /Subtype /Text /Rect [0 0 9 9] /Contents 8 0 R >>".into(),
        format!("({note})"),
    ]);
    let out = extract(&shared, &limits);
    assert!(
        out.uninspectable.is_empty(),
        "each annotation read once: {:?}",
        out.uninspectable
    );
    let text: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        text.matches("512-364-7562").count(),
        2 * 400,
        "two annotations, once each"
    );
    let many: Vec<String> = (0..400)
        .map(|i| format!("<< /Type /Annot /Subtype /Text /Rect [0 0 9 9] /Contents 8 0 R /NM ({i}) >>"))
        .collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [{}] >>", (0..400).map(|i| format!("{} 0 R", 9 + i)).collect::<Vec<_>>().join(" ")),
        pdf_stream("", "BT /F1 12 Tf 50 800 Td (Notes) Tj ET"),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        "<< >>".to_string(),
        "<< >>".to_string(),
        format!("({note})"),
    ];
    objects.extend(many);
    assert!(refused(&pdf_of_objects(&objects)), "400 notes of 11 KB within 4 MiB");
}

/// Deflate behind ASCII85 or hexadecimal (`[/ASCII85Decode /FlateDecode]`, as ReportLab
/// writes) is measured as any compressed stream before lopdf decodes it whole (found in
/// review: 650 KB made 578 MiB); LZW, which lopdf also decodes whole, is reported.
#[test]
fn pdf_streams_behind_two_filters_are_bounded() {
    use std::io::Write as _;
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(&vec![0u8; 64 << 20]).unwrap();
    let deflated = deflate.finish().unwrap();
    let hex: String = deflated.iter().map(|b| format!("{b:02x}")).collect();
    let ascii85: String = deflated
        .chunks(4)
        .flat_map(|chunk| {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            let mut value = u32::from_be_bytes(word);
            let mut digits = [0u8; 5];
            for digit in digits.iter_mut().rev() {
                *digit = b'!' + (value % 85) as u8;
                value /= 85;
            }
            digits[..chunk.len() + 1].to_vec()
        })
        .map(char::from)
        .collect();
    for (filters, content) in [
        ("[/ASCIIHexDecode /FlateDecode]", format!("{hex}>")),
        ("[/ASCII85Decode /FlateDecode]", format!("{ascii85}~>")),
    ] {
        let pdf = pdf_drawing_forms("/X Do", &[(&format!("/Subtype /Form /Filter {filters}"), &content)]);
        let out = extract(&pdf, &Limits::default());
        assert!(
            out.uninspectable
                .iter()
                .any(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
            "{filters}: {:?}",
            out.uninspectable
        );
    }
    let lzw = pdf_drawing_forms("/X Do", &[("/Subtype /Form /Filter /LZWDecode", "x")]);
    let out = extract(&lzw, &Limits::default());
    assert!(
        matches!(out.uninspectable.first(), Some(UninspectableReason::Unsupported { format }) if format.contains("LZW")),
        "{:?}",
        out.uninspectable
    );
    // Text behind the two filters is still read (the fixture is ReportLab's).
    let out = extract(&fixture("columns.pdf"), &Limits::default());
    assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
}

/// A customer list in UTF-8, as the blind test's downgrades carried one.
const ACCENTED_CSV: &str = "Name,Email,Phone\nInés Sánchez,ines.sanchez@example.es,+34 917 655 368\nÍñigo Núñez,inigo.nunez@example.es,647 163 001\n";

/// A file whose magic bytes name a format it is not (a customer list behind a zip's,
/// gzip's, OLE2's, rar's or 7z's signature) is reported, and read by its printable runs
/// in UTF-8, as a PDF that does not parse is (found by a blind test: such a list was
/// reported uninspectable and its customers never counted, so a list that is blocked
/// plain was only asked a justification).
#[test]
fn a_file_that_is_not_the_format_its_magic_names_is_read_by_its_printable_runs() {
    let signatures: [(&str, &[u8]); 12] = [
        ("zip", b"PK\x03\x04"),
        ("gzip", b"\x1f\x8b\x08\x00"),
        ("bzip2", b"BZh91AY&SY"),
        ("xz", b"\xFD7zXZ\x00"),
        ("zstd", b"\x28\xB5\x2F\xFD"),
        ("lz4", b"\x04\x22\x4D\x18"),
        ("7z", b"7z\xBC\xAF\x27\x1C"),
        ("ole2", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
        ("rar", b"Rar!\x1A\x07\x00"),
        ("sqlite", b"SQLite format 3\0"),
        ("pdf", b"%PDF-1.4\n"),
        ("tnef", b"\x78\x9F\x3E\x22"),
    ];
    for (name, signature) in signatures {
        let out = extract(&[signature, ACCENTED_CSV.as_bytes()].concat(), &Limits::default());
        let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
        for line in ACCENTED_CSV.lines() {
            assert!(all.contains(line), "{name}: {line:?} not in {all:?}");
        }
        assert!(
            out.uninspectable.iter().any(|r| matches!(
                r,
                UninspectableReason::Malformed { .. } | UninspectableReason::Unsupported { .. }
            )),
            "{name}: {:?}",
            out.uninspectable
        );
    }
    // Inside an archive too, beside a member that is read.
    let archive = zip_of(&[
        ("notes.txt", b"plain words"),
        ("list.csv", &[&b"PK\x03\x04"[..], ACCENTED_CSV.as_bytes()].concat()),
    ]);
    let out = extract(&archive, &Limits::default());
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(
        all.contains("plain words") && all.contains("Inés Sánchez,ines.sanchez@example.es"),
        "{all}"
    );
    assert!(
        matches!(&out.uninspectable[..], [UninspectableReason::Malformed { .. }]),
        "{:?}",
        out.uninspectable
    );
    // An archive found by its end record that does not open (its directory's entry
    // runs past the end): its members are read by their local headers, as the rows
    // they are.
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file("list.csv", stored).unwrap();
    writer.write_all(ACCENTED_CSV.as_bytes()).unwrap();
    let mut broken = writer.finish().unwrap().into_inner();
    let central = broken.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    broken[central + 28..central + 30].copy_from_slice(&[0xFF, 0xFF]);
    let out = extract(&broken, &Limits::default());
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("Inés Sánchez | ines.sanchez@example.es"), "{all}");
    assert!(
        matches!(&out.uninspectable[..], [UninspectableReason::Malformed { .. }]),
        "{:?}",
        out.uninspectable
    );
    // Encrypted content is reported and not read: it holds nothing to read.
    let mut encrypted = zip_of(&[("secret.txt", b"hidden words")]);
    let at = encrypted.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    encrypted[at + 8] |= 1;
    let out = extract(&encrypted, &Limits::default());
    assert!(!out.segments.iter().any(|s| s.text.contains("hidden words")));
}

/// A container whose reader gave text before it failed: the printable runs of the
/// whole are read again for customer records only, so what was read is not counted
/// twice by the detectors and fingerprints, and what lies past the damage is still read.
#[test]
fn a_container_damaged_after_its_first_member_reads_the_rest_again_for_customers_only() {
    let mut tar = tar_of("first.txt", b"alpha words of the first member");
    // Its end (two empty blocks) taken off, and a block that is no header put after it.
    tar.truncate(tar.len() - 1024);
    let mut damaged = ACCENTED_CSV.as_bytes().to_vec();
    damaged.resize(512, b' ');
    tar.extend_from_slice(&damaged);
    let out = extract(&tar, &Limits::default());
    let read: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(read.matches("alpha words").count(), 1, "{read}");
    assert!(!read.contains("Inés Sánchez"), "{read}");
    let again: String = out.rereadings.iter().map(|s| s.text.as_str()).collect();
    assert!(again.contains("Inés Sánchez,ines.sanchez@example.es"), "{again}");
    assert!(
        matches!(&out.uninspectable[..], [UninspectableReason::Malformed { format, .. }] if format == "tar"),
        "{:?}",
        out.uninspectable
    );
}

/// A member past the compression ratio is reported by name and read up to the bound;
/// the archive's other members, before and after it, are read (found by a blind test:
/// a zip of a customer list and 5 MB of zeros, and a document of the list followed by
/// 200,000 empty paragraphs, were reported with no customer read).
#[test]
fn a_member_past_the_ratio_is_read_up_to_the_bound_and_the_others_are_read() {
    let zeros = vec![0u8; 5 << 20];
    let over = |out: &Extraction, member: &str| {
        out.uninspectable.iter().any(
            |r| matches!(r, UninspectableReason::CompressionRatioExceeded { member: m, limit: 100 } if m == member),
        )
    };
    let rows_of = |out: &Extraction| out.segments.iter().map(|s| s.rows.len()).sum::<usize>();
    for archive in [
        zip_of(&[("customers.csv", ACCENTED_CSV.as_bytes()), ("z.bin", &zeros)]),
        zip_of(&[("z.bin", &zeros), ("customers.csv", ACCENTED_CSV.as_bytes())]),
    ] {
        let out = extract(&archive, &Limits::default());
        assert!(over(&out, "z.bin"), "{:?}", out.uninspectable);
        assert_eq!(rows_of(&out), 3, "{:?}", out.segments);
    }
    // A stream of one file: the list before the zeros.
    let out = extract(&gzip(&[ACCENTED_CSV.as_bytes(), &zeros].concat()), &Limits::default());
    assert!(
        out.uninspectable
            .iter()
            .any(|r| matches!(r, UninspectableReason::CompressionRatioExceeded { .. })),
        "{:?}",
        out.uninspectable
    );
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("Inés Sánchez"), "{:.200}", all);
    // A document whose one part is past the ratio: its first paragraphs, up to the bound.
    let paragraphs: String = ACCENTED_CSV
        .lines()
        .map(|line| format!("<w:p><w:r><w:t>{line}</w:t></w:r></w:p>"))
        .collect();
    let document = format!(
        r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{paragraphs}{}</w:body></w:document>"#,
        "<w:p/>".repeat(200_000)
    );
    let docx = zip_of(&[("word/document.xml", document.as_bytes())]);
    let out = extract(&docx, &Limits::default());
    assert!(over(&out, "word/document.xml"), "{:?}", out.uninspectable);
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    for line in ACCENTED_CSV.lines() {
        assert!(all.contains(line), "{line:?} not in {all:?}");
    }
    // Never more than the bound is inflated, or kept: 1 MiB, or 100 times the member.
    let held: usize = out.segments.iter().map(|s| s.text.len()).sum();
    assert!(held <= 1 << 20, "{held}");
}

/// No reason quotes the file: a parser's message names what it read (a tag, an entity,
/// version bytes, a byte order mark, an entry's path), and a customer's name put there
/// came back in the detail (found by a blind test: `expected </Nguyen_Minh_Chau>`, and
/// a CSV's first letters behind a 7z signature as `UnsupportedVersion { major: 78,
/// minor: 97 }`). Each parser's fault is told in fixed words.
#[test]
fn reasons_never_quote_the_file() {
    let secret = "Nguyen_Minh_Chau";
    let docx = zip_of(&[(
        "word/document.xml",
        format!(
            r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Dear customer</w:t></w:r></w:p><{secret}></wrong></w:body></w:document>"#
        )
        .as_bytes(),
    )]);
    let xlsx = zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        (
            "xl/sharedStrings.xml",
            format!("<sst><si><t>first</t></si><si><t>&{secret};</t></si></sst>").as_bytes(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                "<worksheet><sheetData><row><c t=\"s\"><v>0</v></c></row><{secret}></wrong></sheetData></worksheet>"
            )
            .as_bytes(),
        ),
    ]);
    let mut header = tar::Header::new_ustar();
    header.set_path(format!("{secret}.csv")).unwrap();
    header.set_mode(0o644);
    header.as_mut_bytes()[124..136].copy_from_slice(b"Nguyen Minh ");
    header.set_cksum();
    let tar = [header.as_bytes().to_vec(), vec![0; 1024]].concat();
    // The bytes a parser would print: 7z's version (238, 221), OLE2's byte order mark
    // (0xDDEE).
    let seven_z = [&b"7z\xBC\xAF\x27\x1C\xEE\xDD"[..], &[b'x'; 40]].concat();
    let ole = [
        &b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"[..],
        &[0; 20],
        b"\xEE\xDD",
        &[0; 482],
    ]
    .concat();
    for (name, bytes, quoted) in [
        ("docx", docx, &[secret][..]),
        ("xlsx", xlsx, &[secret]),
        ("tar", tar, &[secret, "Nguyen Minh"]),
        ("7z", seven_z, &["238", "221"]),
        ("ole2", ole, &["DDEE", "ddee"]),
    ] {
        let out = extract(&bytes, &Limits::default());
        assert!(!out.uninspectable.is_empty(), "{name}");
        for reason in &out.uninspectable {
            let shown = format!("{reason} {reason:?}");
            for quote in quoted {
                assert!(!shown.contains(quote), "{name}: {shown}");
            }
        }
    }
    // What the XML held before it went wrong is read, and where it went wrong is said.
    let out = extract(
        &zip_of(&[("word/document.xml", b"<w:p><w:t>Dear customer</w:t></w:p><a></b>")]),
        &Limits::default(),
    );
    assert!(
        out.segments.iter().any(|s| s.text.contains("Dear customer")),
        "{:?}",
        out.segments
    );
    assert!(
        matches!(&out.uninspectable[..], [UninspectableReason::Malformed { detail, .. }] if detail.contains("byte offset")),
        "{:?}",
        out.uninspectable
    );
}

/// All text of an extraction, its segments a line apart.
fn all_text(out: &Extraction) -> String {
    out.segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rows of an extraction's tables, each as its text.
fn all_rows(out: &Extraction) -> Vec<String> {
    out.segments
        .iter()
        .flat_map(|s| s.rows.iter().map(|(start, end)| s.text[*start..*end].to_string()))
        .collect()
}

/// Found missed by a blind test: a record where an Office file keeps text outside its
/// body, sheets and slides. Document properties (core, app and custom), a workbook's
/// defined name, a sheet's print header and a data validation's message, a picture's
/// alternative text in a document, a slide and a workbook's drawing, a text box of a
/// drawing, a slide layout's text. Styles and themes stay unread.
#[test]
fn office_text_outside_the_body_is_read() {
    let properties: [(&str, &[u8]); 3] = [
        (
            "docProps/core.xml",
            "<cp:coreProperties xmlns:cp=\"cp\" xmlns:dc=\"dc\"><dc:title/><dc:subject>Dörte Schröder, dorte.schroder@example.de</dc:subject><dc:creator>python-docx</dc:creator></cp:coreProperties>".as_bytes(),
        ),
        ("docProps/app.xml", b"<Properties><Company>Kowalski Trading</Company><Manager>Jan Kowalski</Manager></Properties>"),
        (
            "docProps/custom.xml",
            b"<Properties xmlns:vt=\"vt\"><property name=\"Account owner\" pid=\"2\"><vt:lpwstr>Ana Rossi +39 347 123 4567</vt:lpwstr></property></Properties>",
        ),
    ];
    let docx = zip_of(
        &[
            &properties[..],
            &[
                (
                    "word/document.xml",
                    "<w:document xmlns:w=\"w\" xmlns:wp=\"wp\"><w:body><w:p><w:r><w:t>Dör</w:t></w:r><w:r><w:drawing><wp:inline><wp:docPr id=\"1\" name=\"Picture 1\" descr=\"Bo Lee, bo.lee@example.org\" title=\"Lee &amp; Co\"/></wp:inline></w:drawing></w:r><w:r><w:t>te</w:t></w:r></w:p></w:body></w:document>".as_bytes(),
                ),
                ("word/styles.xml", b"<w:styles><w:style w:styleId=\"a\"><w:name w:val=\"StyleName\"/><w:t>StyleWord</w:t></w:style></w:styles>"),
                ("word/theme/theme1.xml", b"<a:theme name=\"ThemeName\"><a:t>ThemeWord</a:t></a:theme>"),
            ][..],
        ]
        .concat(),
    );
    let text = all_text(&extract(&docx, &Limits::default()));
    for wanted in [
        "Dörte\n",
        "Bo Lee, bo.lee@example.org\nLee & Co\n",
        "Dörte Schröder, dorte.schroder@example.de\npython-docx\n",
        "Kowalski Trading\nJan Kowalski\n",
        "Ana Rossi +39 347 123 4567",
        "Account owner",
    ] {
        assert!(text.contains(wanted), "docx: {wanted:?} not in {text:?}");
    }
    for unread in ["StyleWord", "StyleName", "ThemeWord", "ThemeName", "Picture 1"] {
        assert!(!text.contains(unread), "docx: {unread:?} in {text:?}");
    }

    let sheet = "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>Q1</t></is></c></row></sheetData><dataValidations><dataValidation type=\"list\" promptTitle=\"Owner\" prompt=\"Ask Ana Rossi first\"><formula1>\"Kim Tran,Bo Lee\"</formula1></dataValidation></dataValidations><headerFooter><oddHeader>&amp;L&amp;\"Arial,Bold\"&amp;12D&#246;rte Schr&#246;der&amp;Cdorte.schroder@example.de&amp;R&amp;P</oddHeader></headerFooter></worksheet>";
    let xlsx = zip_of(&[
        (
            "xl/workbook.xml",
            b"<workbook><sheets><sheet name=\"Plan\" sheetId=\"1\"/></sheets><definedNames><definedName name=\"contact\">\"Carla Neri, carla.neri@example.com\"</definedName><definedName name=\"mail\">\"eva\"&amp;CHAR(64)&amp;\"example.org\"</definedName><definedName name=\"range\">Plan!$A$1:$B$2</definedName></definedNames></workbook>",
        ),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        (
            "xl/drawings/drawing1.xml",
            b"<xdr:wsDr xmlns:xdr=\"xdr\" xmlns:a=\"a\"><xdr:pic><xdr:nvPicPr><xdr:cNvPr id=\"2\" name=\"Logo\" descr=\"Kim Tran 0412 345 678\"/></xdr:nvPicPr></xdr:pic><xdr:sp><xdr:txBody><a:p><a:r><a:t>Call Ngu</a:t></a:r><a:r><a:t>yen Van An</a:t></a:r></a:p></xdr:txBody></xdr:sp></xdr:wsDr>",
        ),
        ("xl/styles.xml", b"<styleSheet><cellStyles><cellStyle name=\"StyleName\"/></cellStyles></styleSheet>"),
        ("docProps/core.xml", b"<cp:coreProperties xmlns:cp=\"cp\"><cp:keywords>Ian Park, ian.park@example.com</cp:keywords></cp:coreProperties>"),
    ]);
    let text = all_text(&extract(&xlsx, &Limits::default()));
    for wanted in [
        "Q1",
        "\nDörte Schröder\ndorte.schroder@example.de\n",
        "Owner\nAsk Ana Rossi first\n",
        "Kim Tran,Bo Lee",
        "Carla Neri, carla.neri@example.com\n",
        "eva@example.org\n",
        "Plan!$A$1:$B$2",
        "Call Nguyen Van An\n",
        "Kim Tran 0412 345 678\n",
        "Ian Park, ian.park@example.com",
    ] {
        assert!(text.contains(wanted), "xlsx: {wanted:?} not in {text:?}");
    }
    assert!(!text.contains("StyleName"), "xlsx: {text:?}");

    let pptx = zip_of(&[
        ("ppt/presentation.xml", b"<p:presentation/>"),
        (
            "ppt/slides/slide1.xml",
            b"<p:sld xmlns:p=\"p\" xmlns:a=\"a\"><p:pic><p:nvPicPr><p:cNvPr id=\"2\" name=\"Picture 1\" descr=\"D&#246;rte Schr&#246;der, dorte.schroder@example.de\"/></p:nvPicPr></p:pic><p:sp><p:txBody><a:p><a:r><a:t>Roadmap</a:t></a:r></a:p></p:txBody></p:sp></p:sld>",
        ),
        (
            "ppt/slideLayouts/slideLayout1.xml",
            b"<p:sldLayout xmlns:p=\"p\" xmlns:a=\"a\"><p:cSld name=\"Title Slide\"><p:sp><p:txBody><a:p><a:r><a:t>Prepared for Bo Lee</a:t></a:r></a:p></p:txBody></p:sp></p:cSld></p:sldLayout>",
        ),
        ("ppt/presProps.xml", b"<p:presentationPr><p:extLst><p:ext uri=\"PresPropsWord\"/></p:extLst></p:presentationPr>"),
    ]);
    let text = all_text(&extract(&pptx, &Limits::default()));
    for wanted in [
        "Roadmap\n",
        "Dörte Schröder, dorte.schroder@example.de\n",
        "Prepared for Bo Lee\n",
        "Title Slide\n",
    ] {
        assert!(text.contains(wanted), "pptx: {wanted:?} not in {text:?}");
    }
    assert!(!text.contains("PresPropsWord"), "pptx: {text:?}");
}

/// Found missed by a blind test: an email only as the target of a `mailto:` link (a
/// relationship of the part, `TargetMode="External"`), read where the link is: in a
/// document's paragraph, a sheet's cell (the cell of a link's `ref`, which holds other
/// text) and a slide's run. A target no reader placed (a link of the package) is read
/// too; an internal target (a picture) is not text.
#[test]
fn external_link_targets_are_read_where_the_link_is() {
    let rels = |targets: &[(&str, &str)]| {
        let mut xml = String::from("<Relationships xmlns=\"r\">");
        for (id, target) in targets {
            let mode = if target.starts_with("media/") {
                ""
            } else {
                " TargetMode=\"External\""
            };
            xml.push_str(&format!(
                "<Relationship Id=\"{id}\" Type=\"t/hyperlink\" Target=\"{target}\"{mode}/>"
            ));
        }
        xml.push_str("</Relationships>");
        xml
    };
    let document_rels = rels(&[
        ("rId5", "mailto:dorte.schroder%40example.de?subject=Hi"),
        ("rId6", "media/image1.png"),
    ]);
    let package_rels = rels(&[("rId9", "https://crm.example/customers/CU-10041")]);
    let docx = zip_of(&[
        (
            "word/document.xml",
            "<w:document xmlns:w=\"w\" xmlns:r=\"r\"><w:body><w:p><w:r><w:t xml:space=\"preserve\">Dörte Schröder – </w:t></w:r><w:hyperlink r:id=\"rId5\"><w:r><w:t>e-mail</w:t></w:r></w:hyperlink><w:r><w:drawing><a:blip xmlns:a=\"a\" r:embed=\"rId6\"/></w:drawing></w:r></w:p><w:p><w:r><w:instrText xml:space=\"preserve\">HYPERLINK \"mailto:bo.lee@example.org\"</w:instrText></w:r><w:r><w:t>Bo Lee</w:t></w:r></w:p></w:body></w:document>".as_bytes(),
        ),
        ("word/_rels/document.xml.rels", document_rels.as_bytes()),
        ("_rels/.rels", package_rels.as_bytes()),
    ]);
    let out = extract(&docx, &Limits::default());
    let text = all_text(&out);
    for wanted in [
        "Dörte Schröder – dorte.schroder@example.de e-mail\n",
        "HYPERLINK \"mailto:bo.lee@example.org\" Bo Lee",
        "https://crm.example/customers/CU-10041",
    ] {
        assert!(text.contains(wanted), "docx: {wanted:?} not in {text:?}");
    }
    assert!(!text.contains("image1"), "docx: {text:?}");
    assert!(
        out.segments
            .iter()
            .any(|s| s.source == "_rels/.rels" && s.text.contains("CU-10041")),
        "{:?}",
        out.segments
    );

    let sheet_rels = rels(&[
        ("rId1", "mailto:dorte.schroder@example.de"),
        ("rId2", "tel:+49%20151%2069026873"),
    ]);
    let xlsx = zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        (
            "xl/worksheets/sheet1.xml",
            b"<worksheet xmlns:r=\"r\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>D&#246;rte Schr&#246;der</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t>mail</t></is></c></row><row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Bo Lee</t></is></c></row></sheetData><hyperlinks><hyperlink ref=\"B1\" r:id=\"rId1\" display=\"mail\"/><hyperlink ref=\"C2\" r:id=\"rId2\" tooltip=\"call Bo\"/><hyperlink ref=\"A9\" location=\"Sheet2!A1\" display=\"elsewhere\"/></hyperlinks></worksheet>",
        ),
        ("xl/worksheets/_rels/sheet1.xml.rels", sheet_rels.as_bytes()),
    ]);
    let out = extract(&xlsx, &Limits::default());
    assert_eq!(
        all_rows(&out),
        [
            "Dörte Schröder | mail dorte.schroder@example.de",
            "Bo Lee | +49 151 69026873 call Bo"
        ]
    );
    assert!(all_text(&out).contains("elsewhere"), "{:?}", out.segments);

    let slide_rels = rels(&[("rId2", "mailto:carla.neri@example.com")]);
    let pptx = zip_of(&[
        ("ppt/presentation.xml", b"<p:presentation/>"),
        (
            "ppt/slides/slide1.xml",
            b"<p:sld xmlns:p=\"p\" xmlns:a=\"a\" xmlns:r=\"r\"><a:p><a:r><a:t>Carla Neri</a:t></a:r><a:r><a:rPr><a:hlinkClick r:id=\"rId2\"/></a:rPr><a:t>write</a:t></a:r></a:p></p:sld>",
        ),
        ("ppt/slides/_rels/slide1.xml.rels", slide_rels.as_bytes()),
    ]);
    let text = all_text(&extract(&pptx, &Limits::default()));
    assert!(text.contains("Carla Neri carla.neri@example.com write"), "{text:?}");
}

/// Found missed by a blind test: a sheet written by a script, its cells built by
/// formulas without values saved. The strings a formula joins are read joined, as the
/// cell shows them; strings it does not join stay apart.
#[test]
fn formulas_without_values_are_read_as_their_strings_joined() {
    let xlsx = zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        (
            "xl/worksheets/sheet1.xml",
            b"<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><f>CONCATENATE(\"D&#246;r\",\"te Schr&#246;der\")</f><v></v></c><c r=\"B1\"><f>\"dorte\"&amp;\".schroder@example.de\"</f><v></v></c><c r=\"C1\"><f>_xlfn.CONCAT(\"bo\", CHAR(64), \"example.org\")</f></c><c r=\"D1\"><f>IF(A2=\"\",\"none\",A2&amp;\"!\")</f></c></row></sheetData></worksheet>",
        ),
    ]);
    let out = extract(&xlsx, &Limits::default());
    assert_eq!(
        all_rows(&out),
        ["Dörte Schröder | dorte.schroder@example.de | bo@example.org | none !"]
    );
}

/// Found missed by a blind test: a pivot cache keeps the rows it sums up after their
/// sheet is deleted. Its records are read as rows under its fields' names, each value
/// by its index into its field's items (a field computed by a formula is in no record),
/// and an item no record refers to as prose. The records are found by the definition's
/// relationship.
#[test]
fn pivot_cache_records_are_read_as_rows() {
    let definition = "<pivotCacheDefinition xmlns=\"m\" xmlns:r=\"r\" r:id=\"rId1\"><cacheSource type=\"worksheet\"><worksheetSource ref=\"A1:C3\" sheet=\"Deleted\"/></cacheSource><cacheFields count=\"4\"><cacheField name=\"Name\"><sharedItems count=\"3\"><s v=\"Dörte Schröder\"/><s v=\"Bo Lee\"/><s v=\"Kim Tran\"/></sharedItems></cacheField><cacheField name=\"Email\"><sharedItems count=\"2\"><s v=\"dorte.schroder@example.de\"/><s v=\"bo.lee@example.org\"/></sharedItems></cacheField><cacheField name=\"Total\" formula=\"Amount*2\" databaseField=\"0\"/><cacheField name=\"Amount\"><sharedItems containsNumber=\"1\"/></cacheField></cacheFields></pivotCacheDefinition>";
    let records = "<pivotCacheRecords xmlns=\"m\" count=\"2\"><r><x v=\"0\"/><x v=\"0\"/><n v=\"120\"/></r><r><x v=\"1\"/><x v=\"1\"/><m/></r></pivotCacheRecords>";
    let xlsx = zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/pivotCache/pivotCacheDefinition1.xml", definition.as_bytes()),
        ("xl/pivotCache/data.xml", records.as_bytes()),
        (
            "xl/pivotCache/_rels/pivotCacheDefinition1.xml.rels",
            b"<Relationships><Relationship Id=\"rId1\" Type=\"t/pivotCacheRecords\" Target=\"data.xml\"/></Relationships>",
        ),
    ]);
    let out = extract(&xlsx, &Limits::default());
    assert_eq!(
        all_rows(&out),
        [
            "Name | Email | Amount",
            "Dörte Schröder | dorte.schroder@example.de | 120",
            "Bo Lee | bo.lee@example.org | "
        ]
    );
    assert!(all_text(&out).contains("Kim Tran"), "{:?}", out.segments);
    assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
}

/// [`pdf_of_objects`] with a trailer that names object `info` as the document's
/// information dictionary.
fn pdf_with_info(objects: &[String], info: usize) -> Vec<u8> {
    String::from_utf8(pdf_of_objects(objects))
        .unwrap()
        .replace("/Root 1 0 R", &format!("/Root 1 0 R /Info {info} 0 R"))
        .into_bytes()
}

/// Found missed by a blind test: a PDF's document information (`/Info`), a form field
/// no page shows (in the `/AcroForm` tree only, under a parent), read besides a
/// widget's value (read once), its bookmarks, a figure's alternative description and
/// XMP metadata.
#[test]
fn pdf_properties_fields_bookmarks_and_metadata_are_read() {
    let xmp = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"r\"><rdf:Description xmlns:dc=\"dc\"><dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">Carla Neri +39 347 123 4567</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>";
    let pdf = pdf_with_info(
        &[
            "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R 9 0 R] >> /Outlines 10 0 R /Metadata 12 0 R /StructTreeRoot 14 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [8 0 R] >>".into(),
            pdf_stream("", "BT /F1 12 Tf 50 800 Td (Form) Tj ET"),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
            "<< /T (customer) /Kids [7 0 R] >>".into(),
            "<< /FT /Tx /T (c) /Parent 6 0 R /V (D\\366rte Schr\\366der, dorte.schroder@example.de) >>".into(),
            "<< /Type /Annot /Subtype /Widget /FT /Tx /T (shown) /V (Shown value) /Rect [0 0 9 9] >>".into(),
            "<< /FT /Ch /T (list) /TU (Pick Bo Lee) /Opt [(Kim Tran) (Ian Park)] /Kids [8 0 R] >>".into(),
            "<< /First 11 0 R >>".into(),
            "<< /Title (Chapter: Ana Rossi) /Parent 10 0 R >>".into(),
            pdf_stream("/Type /Metadata /Subtype /XML", xmp),
            "<< /Title (Brochure) /Subject <FEFF00440061006E00200050006F0070006500730063007500200064006100700040> /Keywords (VIP; +40 721 234 567) /CreationDate (D:20240101120000Z) >>".into(),
            "<< /Type /StructTreeRoot /K << /S /Document /K [15 0 R 0] >> >>".into(),
            "<< /S /Figure /Alt (Photo of Eva Berg, eva.berg@example.org) /K 1 >>".into(),
        ],
        13,
    );
    let out = extract(&pdf, &Limits::default());
    let text = all_text(&out);
    for wanted in [
        "Form\nShown value\n",
        "Brochure\nDan Popescu dap@\nVIP; +40 721 234 567\n",
        "Dörte Schröder, dorte.schroder@example.de\n",
        "Pick Bo Lee\nKim Tran\nIan Park\n",
        "Chapter: Ana Rossi\n",
        "Photo of Eva Berg, eva.berg@example.org\n",
        "Carla Neri +39 347 123 4567",
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in {text:?}");
    }
    assert_eq!(text.matches("Shown value").count(), 1, "{text:?}");
    assert!(!text.contains("D:2024"), "{text:?}");
    assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
}

/// Found missed by a blind test: files attached to a PDF (the document's
/// `/EmbeddedFiles`, and a file attachment annotation's) are read as the files they are,
/// a CSV by its rows and a zip by its members, also behind filters; each is a member of
/// the PDF, within the bounds.
#[test]
fn files_attached_to_a_pdf_are_read_as_files() {
    use std::io::Write as _;
    let csv = "Name,Email\nDörte Schröder,dorte.schroder@example.de\n";
    let zip = zip_of(&[("inner/list.csv", b"Name,Phone\nBo Lee,+61 412 345 678\n")]);
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(&zip).unwrap();
    let hex: String = deflate.finish().unwrap().iter().map(|b| format!("{b:02x}")).collect();
    let pdf = pdf_of_objects(&[
        "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Kids [9 0 R] >> >> >>".into(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [8 0 R] >>".into(),
        pdf_stream("", "BT /F1 12 Tf 50 800 Td (See attachment) Tj ET"),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
        pdf_stream("/Type /EmbeddedFile", csv),
        "<< /Type /Filespec /F (notes.csv) /UF (notes.csv) /Desc (for Kim Tran) /EF << /F 6 0 R >> >>".into(),
        "<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS << /Type /Filespec /F (backup.zip) /EF << /F 10 0 R >> >> >>".into(),
        "<< /Names [(notes.csv) 7 0 R (again.csv) 7 0 R] >>".into(),
        pdf_stream("/Type /EmbeddedFile /Filter [/ASCIIHexDecode /FlateDecode]", &format!("{hex}>")),
    ]);
    let out = extract(&pdf, &Limits::default());
    let tables: Vec<(&str, Vec<&str>)> = out
        .segments
        .iter()
        .filter(|s| !s.rows.is_empty())
        .map(|s| {
            let rows = s.rows.iter().map(|(start, end)| &s.text[*start..*end]).collect();
            (s.source.as_str(), rows)
        })
        .collect();
    assert_eq!(
        tables,
        [
            (
                "notes.csv",
                vec!["Name | Email", "Dörte Schröder | dorte.schroder@example.de"]
            ),
            (
                "backup.zip/inner/list.csv",
                vec!["Name | Phone", "Bo Lee | +61 412 345 678"]
            ),
        ]
    );
    let text = all_text(&out);
    assert!(text.contains("See attachment\n"), "{text:?}");
    assert!(text.contains("notes.csv\nfor Kim Tran\n"), "{text:?}");
    assert!(out.uninspectable.is_empty(), "{:?}", out.uninspectable);
    // Each attached file is a member: past the limit, the PDF is reported.
    let out = extract(
        &pdf,
        &Limits {
            max_members: 1,
            ..Limits::default()
        },
    );
    assert!(
        out.uninspectable
            .iter()
            .any(|r| matches!(r, UninspectableReason::TooManyMembers { .. })),
        "{:?}",
        out.uninspectable
    );
}

/// A PDF's trees that loop (a field its own kid, a bookmark its own next, a name tree
/// node its own kid, a structure element its own kid) are walked once.
#[test]
fn pdf_trees_that_loop_are_read_once() {
    let pdf = pdf_of_objects(&[
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] >> /Outlines << /First 7 0 R >> /Names << /EmbeddedFiles 8 0 R >> /StructTreeRoot << /K 9 0 R >> >>".into(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".into(),
        pdf_stream("", "BT /F1 12 Tf 50 800 Td (Loops) Tj ET"),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
        "<< /T (f) /V (field value) /Kids [6 0 R 6 0 R] >>".into(),
        "<< /Title (bookmark title) /Next 7 0 R /First 7 0 R >>".into(),
        "<< /Kids [8 0 R] /Names [(a.txt) << /EF << /F 10 0 R >> >>] >>".into(),
        "<< /S /Figure /Alt (figure text) /K [9 0 R 9 0 R] >>".into(),
        pdf_stream("/Type /EmbeddedFile", "attached text"),
    ]);
    let out = extract(&pdf, &Limits::default());
    let text = all_text(&out);
    for once in ["field value", "bookmark title", "figure text", "attached text"] {
        assert_eq!(text.matches(once).count(), 1, "{once:?} in {text:?}");
    }
}

/// A zip whose central directory is gone (a download cut short, the first part of
/// `split`) is still reported malformed, and its members are read from their local
/// headers as far as their data goes.
#[test]
fn zip_members_are_read_by_their_local_headers_when_the_directory_is_cut_off() {
    let rows: String = (0..400)
        .map(|i| format!("Customer {i},customer{i}@example.org\n"))
        .collect();
    let stored = {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        writer.start_file("notes.txt", options).unwrap();
        writer.write_all(b"Stored notes beside the list").unwrap();
        writer
            .start_file("list.csv", zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(rows.as_bytes()).unwrap();
        writer.finish().unwrap().into_inner()
    };
    let directory = stored.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let malformed = |r: &UninspectableReason| matches!(r, UninspectableReason::Malformed { .. });
    let without_directory = extract(&stored[..directory], &Limits::default());
    let text: String = without_directory.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(text.contains("Stored notes beside the list"), "{text:?}");
    assert_eq!(
        without_directory.segments.iter().map(|s| s.rows.len()).sum::<usize>(),
        400
    );
    assert!(without_directory.uninspectable.iter().any(malformed));
    // Cut within the deflated list: the rows before the cut are read.
    let list = stored.windows(4).rposition(|w| w == b"PK\x03\x04").unwrap();
    let cut = extract(&stored[..list + (directory - list) / 2], &Limits::default());
    let read = cut.segments.iter().map(|s| s.rows.len()).sum::<usize>();
    assert!((50..400).contains(&read), "{read} rows of a list cut in half");
    assert!(cut.uninspectable.iter().any(malformed));
    // The directory there but damaged: the members are read all the same.
    let mut damaged = stored.clone();
    damaged[directory + 10] ^= 0xFF;
    let damaged = extract(&damaged, &Limits::default());
    assert_eq!(damaged.segments.iter().map(|s| s.rows.len()).sum::<usize>(), 400);
    // Each header found counts against the members' bound; bytes that only look like
    // a header are passed over.
    let many = [&b"PK\x03\x04junk"[..], &stored[..directory].repeat(20)].concat();
    let limits = Limits {
        max_members: 10,
        ..Limits::default()
    };
    let over = extract(&many, &limits);
    assert!(over
        .uninspectable
        .iter()
        .any(|r| matches!(r, UninspectableReason::TooManyMembers { limit: 10 })));
}

/// The output of an encryption tool is reported as encrypted, by its header (found by a
/// blind test: `gpg -c` and `openssl enc` of a customer list passed as a file of
/// nothing). The OpenPGP samples are the first octets of real `gpg` 2.2 output.
#[test]
fn the_output_of_encryption_tools_is_reported_encrypted() {
    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
            .collect()
    }
    let encrypted: [(&str, Vec<u8>, &str); 9] = [
        (
            "gpg -c",
            hex("8c0d0409030297c1881590d0b3b9ffd25001effebe8dcf26"),
            "OpenPGP",
        ),
        (
            "gpg -e",
            hex("85018c032c2a12219c878786010bfe210c44584009d39027"),
            "OpenPGP",
        ),
        ("new packet format", hex("c30d04090302a7c1881590d0b3b9ffd2"), "OpenPGP"),
        (
            "gpg --armor",
            b"-----BEGIN PGP MESSAGE-----\n\njA0ECQMC\n".to_vec(),
            "OpenPGP",
        ),
        (
            "openssl enc",
            hex("53616c7465645f5f6af3204419b1b32b634a1d59c6775769"),
            "openssl enc",
        ),
        ("age", b"age-encryption.org/v1\n-> scrypt x 18\n".to_vec(), "age"),
        (
            "age armored",
            b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n".to_vec(),
            "age",
        ),
        ("luks", hex("4c554b53babe0001"), "LUKS"),
        (
            "ansible vault",
            b"$ANSIBLE_VAULT;1.1;AES256\n6162\n".to_vec(),
            "Ansible vault",
        ),
    ];
    for (name, bytes, expected) in encrypted {
        let out = extract(&bytes, &Limits::default());
        assert!(
            matches!(&out.uninspectable[..], [UninspectableReason::Encrypted { format }] if format == expected),
            "{name}: {:?}",
            out.uninspectable
        );
    }
    // A signature alone does not hide what follows it.
    let out = extract(
        &[&b"Salted__"[..], ACCENTED_CSV.as_bytes()].concat(),
        &Limits::default(),
    );
    let all: String = out.segments.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("Inés Sánchez,ines.sanchez@example.es"), "{all}");
    // Octets that begin like a packet but hold no session key are not a message: a
    // version or an algorithm that does not exist, a tag of another packet.
    for (name, bytes) in [
        ("version 9", hex("8c0d0909030297c1")),
        ("cipher 99", hex("8c0d0463030297c1")),
        ("literal data packet", hex("ac0d62000000000068690a")),
        ("no octets after the tag", hex("8c")),
    ] {
        let out = extract(&bytes, &Limits::default());
        assert!(
            !out.uninspectable
                .iter()
                .any(|r| matches!(r, UninspectableReason::Encrypted { .. })),
            "{name}: {:?}",
            out.uninspectable
        );
    }
}

/// A document's fingerprint reads its text, not the bookkeeping its tool writes in every
/// file: an empty Word file with the same properties as a registered one matched it
/// (found by a blind test), and an OpenDocument file's styles and settings would do the
/// same. A scan still reads the properties for customer records.
#[test]
fn package_bookkeeping_is_no_part_of_a_document_fingerprint() {
    use dlp::fingerprint::{FingerprintConfig, FingerprintIndex, FingerprintKey};
    let bookkeeping: [(&str, &[u8]); 4] = [
        (
            "customXml/item1.xml",
            b"<b:Sources SelectedStyle=\"\\APASixthEditionOfficeOnline.xsl\" StyleName=\"APA\" Version=\"6\" xmlns:b=\"http://schemas.openxmlformats.org/officeDocument/2006/bibliography\"/>",
        ),
        (
            "docProps/thumbnail.jpeg",
            b"\xFF\xD8\xFF\xE0ICC_PROFILE\x00mntrRGB XYZ acspAPPL Generic RGB Profile, Copyright 2007 Apple Inc., all rights reserved.\x00\x01",
        ),
        (
            "docProps/core.xml",
            b"<cp:coreProperties xmlns:cp=\"cp\" xmlns:dc=\"dc\"><dc:creator>python-docx</dc:creator><cp:lastModifiedBy>python-docx</cp:lastModifiedBy><dc:description>generated by python-docx</dc:description><cp:revision>1</cp:revision></cp:coreProperties>",
        ),
        (
            "docProps/app.xml",
            b"<Properties><Template>Normal.dotm</Template><TotalTime>0</TotalTime><Pages>1</Pages><Words>0</Words><Characters>0</Characters><Application>Microsoft Office Word</Application><DocSecurity>0</DocSecurity><Lines>0</Lines><Paragraphs>0</Paragraphs><ScaleCrop>false</ScaleCrop><Company></Company><LinksUpToDate>false</LinksUpToDate><CharactersWithSpaces>0</CharactersWithSpaces><SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged><AppVersion>16.0000</AppVersion><TitlesOfParts><vt:vector size=\"1\" baseType=\"lpstr\"><vt:lpstr>Title of the document template used by the company</vt:lpstr></vt:vector></TitlesOfParts></Properties>",
        ),
    ];
    let body = "The wafer yield of the new alloy batch rose after calibration of the firmware. ".repeat(20);
    let registered = zip_of(
        &[
            &bookkeeping[..],
            &[(
                "word/document.xml",
                format!(
                    "<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>{body}</w:t></w:r></w:p></w:body></w:document>"
                )
                .as_bytes(),
            )][..],
        ]
        .concat(),
    );
    let empty = zip_of(
        &[
            &bookkeeping[..],
            &[(
                "word/document.xml",
                &b"<w:document xmlns:w=\"w\"><w:body><w:p/></w:body></w:document>"[..],
            )][..],
        ]
        .concat(),
    );
    let registered_text = extract(&registered, &Limits::default()).document_text();
    assert!(
        registered_text.contains("wafer yield") && !registered_text.contains("python-docx"),
        "{registered_text}"
    );
    let mut index = FingerprintIndex::new(&FingerprintKey::from_bytes([3; 32]), FingerprintConfig::default());
    index.add("spec", &registered_text);
    let scanned = all_text(&extract(&empty, &Limits::default()));
    assert!(scanned.contains("generated by python-docx"), "{scanned}");
    assert!(index.find(&scanned).is_empty(), "{:?}", index.find(&scanned));
    let copy = all_text(&extract(&registered, &Limits::default()));
    assert_eq!(index.find(&copy).len(), 1);
    // OpenDocument's meta, styles and settings, top-level or in an archive.
    let odt = zip_of(&[
        (
            "meta.xml",
            &b"<office:meta><meta:generator>LibreOffice/7.4</meta:generator></office:meta>"[..],
        ),
        (
            "styles.xml",
            b"<office:styles><style:font-face style:name=\"Liberation Serif\"/></office:styles>",
        ),
        (
            "content.xml",
            b"<office:text><text:p>Board minutes of the merger</text:p></office:text>",
        ),
    ]);
    for file in [odt.clone(), zip_of(&[("minutes.odt", &odt[..])])] {
        let text = extract(&file, &Limits::default()).document_text();
        assert!(
            text.contains("Board minutes") && !text.contains("LibreOffice") && !text.contains("Liberation"),
            "{text}"
        );
    }
}
