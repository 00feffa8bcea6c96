//! Seeded generator of a labelled test corpus: customers to index, positive files that
//! leak some of them in every supported format with real-leak variation, and hard
//! negatives. Used by the accuracy test and the benchmark; deterministic for a seed.
//!
//! Variation on positives: columns reordered or a subset of fields, phones in E.164,
//! spaced international, national and NANP styles, names as "Last, First", upper/lower
//! case and without diacritics, extra whitespace, rows embedded in prose, HTML tables,
//! xlsx, docx, pdf, json, nested zip, gzip, tar, mail attachments, UTF-16 and Latin-1.
//! Hard negatives: look-alike people who are not customers, a customer's name (or email)
//! alone, the company's public contact data, numbers that look like customers' phones.

use std::io::Write;

use base64::Engine;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::edm::FieldKind;

/// One synthetic customer.
#[derive(Clone, PartialEq, Eq)]
pub struct Customer {
    /// Record id.
    pub id: String,
    /// Given name(s).
    pub first: String,
    /// Family name.
    pub last: String,
    /// Email.
    pub email: String,
    /// ISO country.
    pub country: &'static str,
    /// Calling code digits.
    pub calling_code: &'static str,
    /// National significant number digits.
    pub national: String,
    /// Postal address.
    pub address: String,
    /// Company customer number.
    pub number: String,
}

impl std::fmt::Debug for Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Synthetic, but the type mirrors real records: keep values out of logs.
        f.debug_struct("Customer").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Customer {
    /// Fields as handed to [`crate::edm::EdmIndex::add`] (phone in E.164 or national).
    pub fn fields(&self) -> Vec<(FieldKind, String)> {
        vec![
            (FieldKind::Name, format!("{} {}", self.first, self.last)),
            (FieldKind::Email, self.email.clone()),
            (FieldKind::Phone, format!("+{}{}", self.calling_code, self.national)),
            (FieldKind::Address, self.address.clone()),
            (FieldKind::CustomerId, self.number.clone()),
        ]
    }
}

/// One labelled file.
#[derive(Debug, Clone)]
pub struct LabeledFile {
    /// Descriptive name (format and scenario); the extractor never sees it.
    pub name: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// Distinct customers leaked (0 for negatives).
    pub expected_customers: usize,
    /// The records are carried encoded (a web form's body, a file in base64 in JSON):
    /// text that a search of the bytes, such as ripgrep's, does not read as records.
    pub encoded: bool,
}

/// A generated corpus.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Customers to index.
    pub customers: Vec<Customer>,
    /// Positive and negative files.
    pub files: Vec<LabeledFile>,
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "José",
    "María",
    "Zoë",
    "François",
    "Søren",
    "Łukasz",
    "Jürgen",
    "Ana",
    "Chloé",
    "Mateo",
    "Aiko",
    "Priya",
    "Olu",
    "Fatima",
    "Ivan",
    "Elena",
    "Noah",
    "Lucía",
    "Văn An",
    "Thị Hương",
    "Minh Khôi",
    "Thị Lan",
    "Đức Anh",
    "Quốc Bảo",
    "Ngọc Mai",
    "Hữu Phước",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Müller",
    "Schröder",
    "Dubois",
    "Lefèvre",
    "Kowalski",
    "Nørgaard",
    "Tanaka",
    "Okafor",
    "Petrov",
    "Rossi",
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
];
const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Elm",
    "Lake",
    "Hill",
    "Park",
    "River",
    "Sunset",
    "Lê Lợi",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Kingsway",
    "Rue de Rivoli",
    "Hauptstraße",
    "Pine",
    "Willow",
];
const STREET_TYPES: &[&str] = &["Street", "Avenue", "Road", "Lane", "Drive", "Boulevard"];
const CITIES: &[&str] = &[
    "Springfield",
    "Riverton",
    "Hà Nội",
    "Đà Nẵng",
    "Hồ Chí Minh",
    "London",
    "Berlin",
    "Lyon",
    "Austin",
    "Portland",
    "Hải Phòng",
    "Manchester",
    "Munich",
    "Toulouse",
];
const DOMAINS: &[&str] = &["gmail.com", "yahoo.com", "outlook.com", "proton.me", "fpt.vn", "web.de"];
const COUNTRIES: &[(&str, &str, usize, &[char])] = &[
    ("US", "1", 10, &['2', '3', '4', '5', '6', '7', '8', '9']),
    ("VN", "84", 9, &['3', '7', '8', '9']),
    ("GB", "44", 10, &['7']),
    ("DE", "49", 11, &['1']),
    ("FR", "33", 9, &['6', '7']),
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    // The lists above are non-empty constants.
    &items[rng.gen_range(0..items.len())]
}

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
}

fn ascii_fold(text: &str) -> String {
    crate::normalize::fold(text)
        .split(' ')
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Transliterates to ASCII keeping case ("Đặng Łukasz" becomes "Dang Lukasz"), as a
/// person writing in an ASCII-only tool would.
fn ascii_transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let folded = crate::normalize::fold(&c.to_string());
        if c.is_uppercase() {
            out.extend(folded.chars().map(|f| f.to_ascii_uppercase()));
        } else {
            out.push_str(&folded);
        }
    }
    out
}

fn make_person(rng: &mut ChaCha8Rng, id: String) -> Customer {
    let first = pick(rng, FIRST).to_string();
    let last = pick(rng, LAST).to_string();
    let (country, calling_code, len, leads) = *pick(rng, COUNTRIES);
    let national = format!("{}{}", pick(rng, leads), digits(rng, len - 1));
    let local: String = crate::normalize::fold(&format!("{first}.{last}"))
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    // The record number keeps emails unique, as a customer database would.
    let serial: String = id.chars().filter(char::is_ascii_digit).collect();
    let email = format!("{local}{serial}{}@{}", rng.gen_range(1..99), pick(rng, DOMAINS));
    let address = format!(
        "{} {} {}, {}",
        rng.gen_range(1..2000),
        pick(rng, STREETS),
        pick(rng, STREET_TYPES),
        pick(rng, CITIES)
    );
    let number = format!("CUST-{}", digits(rng, 7));
    Customer {
        id,
        first,
        last,
        email,
        country,
        calling_code,
        national,
        address,
        number,
    }
}

/// Renders a phone in one of the ways people write it.
fn phone_variant(rng: &mut ChaCha8Rng, c: &Customer) -> String {
    let n = &c.national;
    let (a, b) = n.split_at(3.min(n.len()));
    let (b1, b2) = b.split_at(3.min(b.len()));
    match rng.gen_range(0..5) {
        0 => format!("+{}{}", c.calling_code, n),
        1 => format!("+{} {} {} {}", c.calling_code, a, b1, b2),
        2 if c.calling_code == "1" => format!("({a}) {b1}-{b2}"),
        2 => format!("0{a} {b1} {b2}"),
        3 if c.calling_code == "1" => format!("1-{a}-{b1}-{b2}"),
        3 => format!("00{} {}", c.calling_code, n),
        _ if c.calling_code == "1" => format!("{a}.{b1}.{b2}"),
        _ => format!("0{n}"),
    }
}

fn name_variant(rng: &mut ChaCha8Rng, c: &Customer) -> String {
    match rng.gen_range(0..5) {
        0 => format!("{} {}", c.first, c.last),
        1 => format!("{}, {}", c.last, c.first),
        2 => format!("{} {}", c.last, c.first).to_uppercase(),
        3 => ascii_fold(&format!("{} {}", c.first, c.last)),
        _ => format!("{}  {}", c.first.to_lowercase(), c.last),
    }
}

fn email_variant(rng: &mut ChaCha8Rng, c: &Customer) -> String {
    if rng.gen_bool(0.2) {
        c.email.to_uppercase()
    } else {
        c.email.clone()
    }
}

fn address_variant(rng: &mut ChaCha8Rng, c: &Customer) -> String {
    let mut address = c.address.clone();
    if rng.gen_bool(0.3) {
        for (long, short) in [("Street", "St."), ("Avenue", "Ave"), ("Road", "Rd")] {
            address = address.replace(long, short);
        }
    }
    if rng.gen_bool(0.2) {
        address = address.to_uppercase();
    }
    address
}

/// Columns of a leaked table: a random subset (≥ 2 identifying) in random order.
fn leak_columns(rng: &mut ChaCha8Rng) -> Vec<FieldKind> {
    let mut all = vec![
        FieldKind::Name,
        FieldKind::Email,
        FieldKind::Phone,
        FieldKind::Address,
        FieldKind::CustomerId,
    ];
    all.shuffle(rng);
    let keep = rng.gen_range(2..=all.len());
    all.truncate(keep);
    all
}

fn render_field(rng: &mut ChaCha8Rng, c: &Customer, kind: FieldKind) -> String {
    match kind {
        FieldKind::Name => name_variant(rng, c),
        FieldKind::Email => email_variant(rng, c),
        FieldKind::Phone => phone_variant(rng, c),
        FieldKind::Address => address_variant(rng, c),
        FieldKind::CustomerId => c.number.clone(),
    }
}

fn header(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Name => "full_name",
        FieldKind::Email => "email",
        FieldKind::Phone => "phone",
        FieldKind::Address => "address",
        FieldKind::CustomerId => "customer_no",
    }
}

fn table(rng: &mut ChaCha8Rng, people: &[&Customer]) -> (Vec<String>, Vec<Vec<String>>) {
    let columns = leak_columns(rng);
    let head = columns.iter().map(|k| header(*k).to_string()).collect();
    let rows = people
        .iter()
        .map(|c| columns.iter().map(|k| render_field(rng, c, *k)).collect())
        .collect();
    (head, rows)
}

fn csv_text(head: &[String], rows: &[Vec<String>], delimiter: u8) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new());
    let _ = writer.write_record(head);
    for row in rows {
        let _ = writer.write_record(row);
    }
    writer.into_inner().unwrap_or_default()
}

fn html_table(head: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
    let mut out = String::from("<!DOCTYPE html><html><body><h1>Export</h1><table>\n<tr>");
    for h in head {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{}</td>", escape(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></body></html>");
    out.into_bytes()
}

fn json_rows(head: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let values: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::Value::Object(
                head.iter()
                    .cloned()
                    .zip(row.iter().cloned().map(serde_json::Value::String))
                    .collect(),
            )
        })
        .collect();
    serde_json::to_vec_pretty(&values).unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in files {
        if writer.start_file(*name, options).is_ok() {
            let _ = writer.write_all(bytes);
        }
    }
    writer.finish().map(std::io::Cursor::into_inner).unwrap_or_default()
}

fn xlsx(head: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut shared: Vec<String> = Vec::new();
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in std::iter::once(head).chain(rows.iter().map(Vec::as_slice)).enumerate() {
        sheet.push_str(&format!("<row r=\"{}\">", r + 1));
        for cell in row {
            shared.push(cell.clone());
            sheet.push_str(&format!("<c t=\"s\"><v>{}</v></c>", shared.len() - 1));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let mut strings = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    );
    for s in &shared {
        strings.push_str(&format!("<si><t>{}</t></si>", xml_escape(s)));
    }
    strings.push_str("</sst>");
    zip_of(&[
        ("[Content_Types].xml", b"<Types/>".to_vec()),
        ("xl/workbook.xml", b"<workbook/>".to_vec()),
        ("xl/sharedStrings.xml", strings.into_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
    ])
}

fn docx(paragraphs: &[String], table_rows: &[Vec<String>]) -> Vec<u8> {
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#,
    );
    for p in paragraphs {
        body.push_str(&format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", xml_escape(p)));
    }
    if !table_rows.is_empty() {
        body.push_str("<w:tbl>");
        for row in table_rows {
            body.push_str("<w:tr>");
            for cell in row {
                body.push_str(&format!(
                    "<w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc>",
                    xml_escape(cell)
                ));
            }
            body.push_str("</w:tr>");
        }
        body.push_str("</w:tbl>");
    }
    body.push_str("</w:body></w:document>");
    zip_of(&[
        ("[Content_Types].xml", b"<Types/>".to_vec()),
        ("word/document.xml", body.into_bytes()),
    ])
}

/// A one-page PDF with Helvetica text lines (ASCII only: diacritics are folded).
pub fn pdf(lines: &[String]) -> Vec<u8> {
    let mut content = String::from("BT /F1 9 Tf 40 800 Td 11 TL\n");
    for line in lines {
        let ascii: String = ascii_transliterate(line)
            .chars()
            .filter(|c| c.is_ascii() && !matches!(c, '(' | ')' | '\\'))
            .collect();
        content.push_str(&format!("({ascii} ) Tj T*\n"));
    }
    content.push_str("ET");
    pdf_of_content(&content)
}

/// A one-page PDF whose page content stream is `content`, with font `/F1` (Helvetica).
pub fn pdf_of_content(content: &str) -> Vec<u8> {
    pdf_of_objects(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        pdf_stream("", content),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    ])
}

/// A stream object whose dictionary holds `entries` besides its length.
pub fn pdf_stream(entries: &str, content: &str) -> String {
    let entries = if entries.is_empty() {
        String::new()
    } else {
        format!(" {entries}")
    };
    format!("<< /Length {}{entries} >>\nstream\n{content}\nendstream", content.len())
}

/// A PDF of these objects, numbered from 1 in order; the first is the catalog.
pub fn pdf_of_objects(objects: &[String]) -> Vec<u8> {
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{}\nendobj\n", i + 1, object));
    }
    let xref = out.len();
    out.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1));
    for offset in offsets {
        out.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

fn email_with_attachment(body: &str, attachment_name: &str, attachment: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(attachment);
    let wrapped: Vec<String> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "From: Alex Employee <alex@corp.example>\r\nTo: someone@personal-mail.example\r\nSubject: files\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@corp.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{attachment_name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        wrapped.join("\r\n")
    )
    .into_bytes()
}

/// A web form's body, as a browser posts it (`application/x-www-form-urlencoded`).
fn form_body(fields: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
        .into_bytes()
}

/// A file posted by a web app inside JSON: as a `data:` URI or as bare base64.
fn json_upload(rng: &mut ChaCha8Rng, name: &str, file: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(file);
    let content = if rng.gen_bool(0.5) {
        format!("data:application/octet-stream;base64,{encoded}")
    } else {
        encoded
    };
    serde_json::to_vec(&serde_json::json!({ "name": name, "size": file.len(), "content": content })).unwrap_or_default()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

fn tar_of(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    let _ = builder.append_data(&mut header, name, bytes);
    builder.into_inner().unwrap_or_default()
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend(unit.to_le_bytes());
    }
    out
}

/// Latin-1 bytes; characters outside Latin-1 are written without diacritics, as a
/// person typing in a Latin-1 editor would.
fn latin1(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for c in text.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(byte) => out.push(byte),
            Err(_) => {
                let folded = crate::normalize::fold(&c.to_string());
                let upper = c.is_uppercase();
                for f in folded.chars() {
                    let f = if upper { f.to_ascii_uppercase() } else { f };
                    out.push(u8::try_from(u32::from(f)).unwrap_or(b'?'));
                }
            }
        }
    }
    out
}

const PROSE: &[&str] = &[
    "As discussed in the quarterly review, the renewal pipeline looks healthy.",
    "Please find the details below and let me know if anything is missing.",
    "The shipment was delayed because of the holiday schedule at the port.",
    "We agreed to revisit the pricing after the pilot ends next month.",
    "Reminder: the office will be closed on Friday for maintenance.",
];

fn prose_with_records(rng: &mut ChaCha8Rng, people: &[&Customer]) -> String {
    let mut out = String::new();
    for c in people {
        out.push_str(pick::<&str>(rng, PROSE));
        out.push(' ');
        let mut kinds = leak_columns(rng);
        kinds.truncate(2.max(rng.gen_range(2..=3)));
        let parts: Vec<String> = kinds.iter().map(|k| render_field(rng, c, *k)).collect();
        match rng.gen_range(0..3) {
            0 => out.push_str(&format!(
                "Customer {} can be reached via {}.",
                parts.join(" / "),
                pick(rng, &["phone", "email", "mail"])
            )),
            1 => out.push_str(&format!("\n{}\n", parts.join(", "))),
            _ => out.push_str(&format!(
                "Follow up with {} ({}) today.",
                parts.first().cloned().unwrap_or_default(),
                parts.get(1..).unwrap_or_default().join("; ")
            )),
        }
        out.push(' ');
    }
    out.push_str(pick::<&str>(rng, PROSE));
    out
}

/// Seed of the web uploads' random stream, apart from the other files'.
const UPLOAD_STREAM: u64 = 0x75_706c_6f61_6473;

/// Generates `customers` customers and `positives` + `negatives` files, and one web
/// upload for every 8 positives.
pub fn generate(seed: u64, customers: usize, positives: usize, negatives: usize) -> Corpus {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let people: Vec<Customer> = (0..customers).map(|i| numbered_person(&mut rng, i)).collect();
    let mut files = Vec::new();
    for index in 0..positives {
        if people.is_empty() {
            break;
        }
        let count = if rng.gen_bool(0.3) {
            rng.gen_range(1..=3)
        } else {
            rng.gen_range(4..=40)
        }
        .min(people.len());
        let chosen: Vec<&Customer> = people.choose_multiple(&mut rng, count).collect();
        let (name, bytes) = render_positive(&mut rng, index, &chosen);
        files.push(LabeledFile {
            name,
            bytes,
            expected_customers: count,
            encoded: false,
        });
    }
    // Web uploads come from a random stream of their own, so the other files are what
    // they were before uploads were generated (the scan benchmark's corpus among them).
    let mut upload_rng = ChaCha8Rng::seed_from_u64(seed ^ UPLOAD_STREAM);
    for index in 0..positives / 8 {
        if people.is_empty() {
            break;
        }
        let count = upload_rng.gen_range(2..=40).min(people.len());
        let chosen: Vec<&Customer> = people.choose_multiple(&mut upload_rng, count).collect();
        let (name, bytes) = render_upload(&mut upload_rng, index, &chosen);
        files.push(LabeledFile {
            name,
            bytes,
            expected_customers: count,
            encoded: true,
        });
    }
    for index in 0..negatives {
        let (name, bytes) = render_negative(&mut rng, index, &people);
        files.push(LabeledFile {
            name,
            bytes,
            expected_customers: 0,
            encoded: false,
        });
    }
    Corpus {
        customers: people,
        files,
    }
}

/// The customers of [`generate`] with the same `seed`, one at a time: an index of
/// millions is built from them without holding them all, as it is from the vault.
pub fn customers(seed: u64, count: usize) -> impl Iterator<Item = Customer> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count).map(move |i| numbered_person(&mut rng, i))
}

/// The `i`th generated customer, whose record id is `rec-{i}`.
fn numbered_person(rng: &mut ChaCha8Rng, i: usize) -> Customer {
    make_person(rng, format!("rec-{i}"))
}

fn render_positive(rng: &mut ChaCha8Rng, index: usize, chosen: &[&Customer]) -> (String, Vec<u8>) {
    let (head, rows) = table(rng, chosen);
    let lines: Vec<String> = rows.iter().map(|r| r.join(", ")).collect();
    let format = index % 16;
    let bytes = match format {
        0 => csv_text(&head, &rows, b','),
        1 => csv_text(&head, &rows, b'\t'),
        2 => html_table(&head, &rows),
        3 => json_rows(&head, &rows),
        4 => xlsx(&head, &rows),
        5 => docx(&["Customer list for the handover".to_string()], &rows),
        6 => pdf(&lines),
        7 => email_with_attachment("see attached", "export.csv", &csv_text(&head, &rows, b',')),
        8 => zip_of(&[(
            "inner.zip",
            zip_of(&[("data/customers.csv", csv_text(&head, &rows, b';'))]),
        )]),
        9 => gzip(&csv_text(&head, &rows, b',')),
        10 => tar_of("backup/customers.tsv", &csv_text(&head, &rows, b'\t')),
        11 => prose_with_records(rng, chosen).into_bytes(),
        12 => utf16le(&String::from_utf8_lossy(&csv_text(&head, &rows, b','))),
        13 => latin1(&prose_with_records(rng, chosen)),
        14 => email_with_attachment(
            "notes attached",
            "notes.docx",
            &docx(
                &prose_with_records(rng, chosen)
                    .split('\n')
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
                &[],
            ),
        ),
        _ => zip_of(&[
            ("report.html", html_table(&head, &rows)),
            ("readme.txt", b"export".to_vec()),
        ]),
    };
    (format!("positive-{index}-format-{format}"), bytes)
}

/// A leak through a web app: rows pasted into a form's text box, or a file posted in
/// JSON as a `data:` URI or bare base64.
fn render_upload(rng: &mut ChaCha8Rng, index: usize, chosen: &[&Customer]) -> (String, Vec<u8>) {
    let (head, rows) = table(rng, chosen);
    let format = index % 3;
    let bytes = match format {
        0 => {
            let pasted: Vec<String> = rows.iter().map(|r| r.join(", ")).collect();
            form_body(&[("subject", "handover"), ("body", &pasted.join("\r\n"))])
        }
        1 => json_upload(rng, "export.csv", &csv_text(&head, &rows, b',')),
        _ => json_upload(rng, "export.xlsx", &xlsx(&head, &rows)),
    };
    (format!("upload-{index}-format-{format}"), bytes)
}

fn stranger(rng: &mut ChaCha8Rng, people: &[Customer]) -> Customer {
    let mut person = make_person(rng, "stranger".into());
    // Strangers have their own mailbox provider, so they never share a customer's email.
    if let Some((local, _)) = person.email.split_once('@') {
        person.email = format!("{local}@stranger-mail.example");
    }
    // Look-alikes share a customer's name but nothing else.
    if let Some(c) = people.get(rng.gen_range(0..people.len().max(1))) {
        if rng.gen_bool(0.5) {
            person.first = c.first.clone();
            person.last = c.last.clone();
        }
    }
    person
}

fn render_negative(rng: &mut ChaCha8Rng, index: usize, people: &[Customer]) -> (String, Vec<u8>) {
    let scenario = index % 6;
    let bytes = match scenario {
        0 => {
            let strangers: Vec<Customer> = (0..rng.gen_range(3..30)).map(|_| stranger(rng, people)).collect();
            let refs: Vec<&Customer> = strangers.iter().collect();
            let (head, rows) = table(rng, &refs);
            match rng.gen_range(0..3) {
                0 => csv_text(&head, &rows, b','),
                1 => xlsx(&head, &rows),
                _ => html_table(&head, &rows),
            }
        }
        1 => {
            let name = people
                .get(rng.gen_range(0..people.len().max(1)))
                .map(|c| name_variant(rng, c))
                .unwrap_or_default();
            format!("{} I had lunch with {name} yesterday. {}", pick(rng, PROSE), pick(rng, PROSE)).into_bytes()
        }
        2 => format!(
            "Contact us: support@custodia-corp.example, sales +1 800 555 0199, 1 Corporate Way, Springfield.\n{}\nInvoice 2026-11-0042, order 4155550123-X total 1,234.56",
            pick(rng, PROSE)
        )
        .into_bytes(),
        3 => {
            // Numbers one digit away from customers' phones, next to real-looking names.
            let mut text = String::new();
            for c in people.iter().take(20) {
                let mut national: Vec<char> = c.national.chars().collect();
                if let Some(last) = national.last_mut() {
                    *last = if *last == '9' { '0' } else { char::from(*last as u8 + 1) };
                }
                let near: String = national.into_iter().collect();
                let s = stranger(rng, people);
                text.push_str(&format!("{} {}, ref +{}{}\n", s.first, s.last, c.calling_code, near));
            }
            format!("Reference numbers\n{text}").into_bytes()
        }
        4 => {
            // A customer's email alone, in a mail, with a stranger's phone.
            let c = people.get(rng.gen_range(0..people.len().max(1)));
            let s = stranger(rng, people);
            let body = format!(
                "Forwarding the newsletter bounce for {} . Unrelated: call {} on +{} {}.",
                c.map(|c| c.email.clone()).unwrap_or_default(),
                s.first,
                s.calling_code,
                s.national
            );
            email_with_attachment(&body, "logo.bin", &[0u8, 1, 2, 3, 255, 254])
        }
        _ => {
            let strangers: Vec<Customer> = (0..10).map(|_| stranger(rng, people)).collect();
            let refs: Vec<&Customer> = strangers.iter().collect();
            let (head, rows) = table(rng, &refs);
            zip_of(&[("people.csv", csv_text(&head, &rows, b','))])
        }
    };
    (format!("negative-{index}-scenario-{scenario}"), bytes)
}

/// Words of ordinary business prose, by role in a sentence.
const SUBJECTS: &[&str] = &[
    "The team",
    "Our vendor",
    "The finance department",
    "The new release",
    "The board",
    "Legal",
    "The warehouse",
    "Support",
    "The pilot project",
    "Marketing",
    "The auditors",
    "Procurement",
];
const VERBS: &[&str] = &[
    "reviewed",
    "approved",
    "postponed",
    "delivered",
    "updated",
    "questioned",
    "signed off on",
    "rescheduled",
    "summarized",
    "escalated",
    "documented",
    "benchmarked",
];
const OBJECTS: &[&str] = &[
    "the budget forecast",
    "the migration plan",
    "the pricing model",
    "the onboarding guide",
    "the security checklist",
    "the supplier contract",
    "the travel policy",
    "the roadmap",
    "the incident report",
    "the hiring plan",
    "the inventory count",
    "the training schedule",
];
const CLOSINGS: &[&str] = &[
    "before the end of the quarter",
    "after a long discussion",
    "with minor changes",
    "pending a second opinion",
    "as agreed last week",
    "without objections",
    "once the figures were final",
    "in time for the workshop",
];
const PRODUCTS: &[&str] = &[
    "Atlas", "Beacon", "Cirrus", "Delta", "Ember", "Falcon", "Granite", "Harbor",
];
const REGIONS: &[&str] = &["North", "South", "East", "West", "Central", "Overseas"];
const SERVICES: &[&str] = &["billing", "auth", "search", "export", "gateway", "scheduler"];
const VIETNAMESE: &[&str] = &[
    "Cuộc họp tuần này đã thống nhất kế hoạch triển khai cho quý tới.",
    "Phòng kinh doanh sẽ gửi báo cáo doanh số trước thứ Sáu.",
    "Nhà cung cấp đã xác nhận lịch giao hàng mới cho kho Bắc Ninh.",
    "Vui lòng cập nhật tài liệu hướng dẫn trước buổi đào tạo.",
];
const CODE: &[&str] = &[
    "fn total(items: &[Item]) -> u64 { items.iter().map(|i| i.amount).sum() }",
    "    let config = Config::load(&path).context(\"reading config\")?;",
    "def normalize(record):\n    return {k.lower(): v.strip() for k, v in record.items()}",
    "    if response.status != 200:\n        raise RetryError(response.reason)",
    "SELECT region, SUM(amount) FROM orders GROUP BY region ORDER BY 2 DESC;",
    "const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;",
    "// TODO: cache the parsed template instead of reading it on every request",
];

/// Ordinary business documents that carry no customer record: the bulk of what leaves a
/// company. Meeting notes naming colleagues and cities, figure tables, service logs,
/// source code and Vietnamese notes, about `bytes` in all, each document ending in a
/// blank line. Colleague names are drawn from the same name lists as customers, so the
/// scan meets name words that are indexed, as it does in real mail.
pub fn ordinary_documents(seed: u64, bytes: usize) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut documents = Vec::new();
    let mut total = 0;
    while total < bytes {
        let mut doc = String::new();
        let target = rng.gen_range(2_000..20_000);
        let kind = rng.gen_range(0..5);
        while doc.len() < target {
            match kind {
                0 => {
                    let person = format!("{} {}", pick(&mut rng, FIRST), pick(&mut rng, LAST));
                    doc.push_str(&format!(
                        "{} {} {} {}. {} will follow up from {}",
                        pick(&mut rng, SUBJECTS),
                        pick(&mut rng, VERBS),
                        pick(&mut rng, OBJECTS),
                        pick(&mut rng, CLOSINGS),
                        person,
                        pick(&mut rng, CITIES),
                    ));
                    if rng.gen_bool(0.3) {
                        doc.push_str(&format!(
                            " and expects a {}% change by {} {}",
                            rng.gen_range(1..40),
                            pick(&mut rng, &["March", "June", "September", "December"]),
                            rng.gen_range(2025..2028)
                        ));
                    }
                    doc.push_str(if rng.gen_bool(0.2) { ".\n\n" } else { ". " });
                }
                1 => doc.push_str(&format!(
                    "{} | {} | {} | {} | {:.1}%\n",
                    pick(&mut rng, REGIONS),
                    pick(&mut rng, PRODUCTS),
                    rng.gen_range(100..90_000),
                    rng.gen_range(100..90_000),
                    rng.gen_range(-20.0..40.0f64)
                )),
                2 => doc.push_str(&format!(
                    "2026-{:02}-{:02}T{:02}:{:02}:{:02}Z {} service={} request_id={:016x} latency_ms={} status={}\n",
                    rng.gen_range(1..13),
                    rng.gen_range(1..29),
                    rng.gen_range(0..24),
                    rng.gen_range(0..60),
                    rng.gen_range(0..60),
                    pick(&mut rng, &["INFO", "INFO", "INFO", "WARN", "ERROR"]),
                    pick(&mut rng, SERVICES),
                    rng.gen::<u64>(),
                    rng.gen_range(1..900),
                    pick(&mut rng, &[200, 200, 200, 201, 404, 503])
                )),
                3 => {
                    doc.push_str(pick::<&str>(&mut rng, CODE));
                    doc.push('\n');
                }
                _ => {
                    doc.push_str(pick::<&str>(&mut rng, VIETNAMESE));
                    doc.push_str(if rng.gen_bool(0.25) { "\n" } else { " " });
                }
            }
        }
        doc.push_str("\n\n");
        total += doc.len();
        documents.push(doc);
    }
    documents
}
