//! SQLite database files, read as rows: an application's local database or a
//! developer's copy of one carries customers as table rows, whose values the file
//! stores side by side without separators (`Rhys Hallhall.rhys@gmail.com`), so its
//! bytes read as text match nothing.
//!
//! Read by hand from the documented file format (<https://sqlite.org/fileformat.html>):
//! every leaf page of a table b-tree is read on its own, so a damaged page costs only
//! its rows, and nothing in the file is executed, as opening it with SQLite itself
//! could (views and triggers live in its schema). A row's values past its page (kept
//! on overflow pages when the row is larger than about a quarter of a page) are not
//! followed: customer rows are small.

/// The 16 bytes every SQLite database starts with.
pub(crate) const SIGNATURE: &[u8; 16] = b"SQLite format 3\0";

/// The page type of a table b-tree leaf, the page that holds rows.
const TABLE_LEAF: u8 = 0x0D;

/// Why a database could not be read.
#[derive(Debug)]
pub(crate) enum SqliteError {
    /// Its header is not one SQLite writes.
    Malformed(&'static str),
    /// Its rows would write more text than the budget allows.
    OverBudget,
}

/// How the database stores text (header offset 56).
#[derive(Clone, Copy)]
enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// The rows of every table in `data`, each as its values' text, writing at most
/// `budget` bytes of text.
pub(crate) fn rows(data: &[u8], budget: u64) -> Result<Vec<Vec<String>>, SqliteError> {
    let header = data
        .get(..100)
        .ok_or(SqliteError::Malformed("shorter than its header"))?;
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        size if size >= 512 && size.is_power_of_two() => usize::from(size),
        _ => return Err(SqliteError::Malformed("its page size is not one SQLite uses")),
    };
    let usable = page_size - usize::from(header[20]);
    if usable < 480 {
        return Err(SqliteError::Malformed("its pages leave too little room for rows"));
    }
    let encoding = match u32::from_be_bytes([header[56], header[57], header[58], header[59]]) {
        0 | 1 => TextEncoding::Utf8,
        2 => TextEncoding::Utf16Le,
        3 => TextEncoding::Utf16Be,
        _ => return Err(SqliteError::Malformed("its text encoding is not one SQLite uses")),
    };
    let mut left = budget;
    let mut out = Vec::new();
    for (index, page) in data.chunks(page_size).enumerate() {
        // The first page's b-tree header follows the file header.
        let start = if index == 0 { 100 } else { 0 };
        for row in leaf_rows(page, start, usable, encoding) {
            let written: usize = row.iter().map(|value| value.len() + 3).sum();
            left = left.checked_sub(written as u64).ok_or(SqliteError::OverBudget)?;
            out.push(row);
        }
    }
    Ok(out)
}

/// The rows of one page when it is a table leaf; none otherwise, or where it is damaged.
fn leaf_rows(page: &[u8], start: usize, usable: usize, encoding: TextEncoding) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    if page.get(start) != Some(&TABLE_LEAF) {
        return rows;
    }
    let cells = usize::from(be16(page, start + 3));
    for cell in 0..cells {
        let Some(offset) = page.get(start + 8 + 2 * cell..start + 10 + 2 * cell) else {
            break;
        };
        let offset = usize::from(u16::from_be_bytes([offset[0], offset[1]]));
        if let Some(row) = cell_row(page, offset, usable, encoding) {
            rows.push(row);
        }
    }
    rows
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(two) => u16::from_be_bytes([two[0], two[1]]),
        None => 0,
    }
}

/// The values of the row in the cell at `offset`: the part of its payload on this page.
fn cell_row(page: &[u8], offset: usize, usable: usize, encoding: TextEncoding) -> Option<Vec<String>> {
    let (payload_size, used) = varint(page.get(offset..)?)?;
    let (_rowid, rowid_len) = varint(page.get(offset + used..)?)?;
    let local = local_payload(payload_size, usable);
    let body_start = offset + used + rowid_len;
    let payload = page.get(body_start..)?;
    let payload = payload.get(..local.min(payload.len()))?;
    let (header_size, mut at) = varint(payload)?;
    let header_end = usize::try_from(header_size).ok()?;
    let mut types = Vec::new();
    while at < header_end.min(payload.len()) {
        let (serial, len) = varint(payload.get(at..)?)?;
        types.push(serial);
        at += len;
    }
    let mut values = Vec::with_capacity(types.len());
    let mut position = header_end;
    for serial in types {
        let size = value_size(serial);
        let Some(bytes) = payload.get(position..) else {
            break;
        };
        // A value cut by the end of the page (the rest is on an overflow page) is read
        // as far as it goes.
        let bytes = bytes.get(..size).unwrap_or(bytes);
        position += size;
        if let Some(text) = value_text(serial, bytes, encoding) {
            values.push(text);
        }
    }
    (!values.is_empty()).then_some(values)
}

/// How much of a payload of `size` bytes is on its page (the format's overflow rule).
fn local_payload(size: u64, usable: usize) -> usize {
    let most = usable - 35;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if size <= most {
        return size;
    }
    let least = (usable - 12) * 32 / 255 - 23;
    let kept = least + (size - least) % (usable - 4);
    if kept <= most {
        kept
    } else {
        least
    }
}

/// A value's size in bytes from its serial type.
fn value_size(serial: u64) -> usize {
    match serial {
        0 | 8 | 9 | 10 | 11 => 0,
        1..=4 => serial as usize,
        5 => 6,
        6 | 7 => 8,
        n => usize::try_from((n - 12) / 2).unwrap_or(usize::MAX),
    }
}

/// A value as text: integers and reals in decimal, text decoded, blobs and nulls left out.
fn value_text(serial: u64, bytes: &[u8], encoding: TextEncoding) -> Option<String> {
    match serial {
        1..=6 => {
            // A big-endian two's complement integer of 1 to 8 bytes.
            let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
            let mut value: i64 = if negative { -1 } else { 0 };
            for byte in bytes {
                value = (value << 8) | i64::from(*byte);
            }
            Some(value.to_string())
        }
        7 => {
            let eight: [u8; 8] = bytes.try_into().ok()?;
            Some(f64::from_be_bytes(eight).to_string())
        }
        8 => Some("0".to_string()),
        9 => Some("1".to_string()),
        n if n >= 13 && n % 2 == 1 => {
            let text = match encoding {
                TextEncoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
                TextEncoding::Utf16Le => crate::extract::decode_utf16(bytes, true),
                TextEncoding::Utf16Be => crate::extract::decode_utf16(bytes, false),
            };
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    }
}

/// A SQLite varint: one to nine bytes, seven bits each and all eight of the ninth;
/// its value and length.
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (index, byte) in bytes.iter().take(9).enumerate() {
        if index == 8 {
            return Some(((value << 8) | u64::from(*byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}
