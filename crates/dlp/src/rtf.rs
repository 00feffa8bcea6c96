//! Text of Rich Text Format documents (WordPad, Outlook's rich text, "Save as RTF").
//!
//! Written by hand: the RTF crates on crates.io lose what matters here. One tried
//! (rtf-parser 0.4) ran paragraphs together, read `\'xx` bytes as Latin-1 whatever
//! the code page, dropped `\u` characters, joined table cells and kept the document
//! properties as text. The reading needed is small: groups, destinations to skip,
//! code pages by document and by font, Unicode escapes, paragraphs and table rows.

use encoding_rs::Encoding;

/// What a document holds, in order: running text, and table rows by cell.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Block {
    Prose(String),
    Row(Vec<String>),
}

/// Destinations whose text is not the document's: tables of fonts, colours and
/// styles, document properties, pictures, embedded objects' data, field
/// instructions (a field's result is read), and whatever a reader may skip (`\*`).
const SKIPPED_DESTINATIONS: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "objdata",
    "fldinst",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "filetbl",
    "revtbl",
];

#[derive(Clone, Copy)]
struct GroupState {
    skipped: bool,
    /// Characters that stand in for each `\u` character, for readers without Unicode.
    unicode_fallback: usize,
    encoding: &'static Encoding,
    /// Inside the font table: the font being declared.
    in_font_table: bool,
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    blocks: Vec<Block>,
    prose: String,
    cells: Vec<String>,
    cell: String,
    in_table: bool,
    /// `\'hh` bytes not yet decoded: a double-byte character comes as two.
    pending: Vec<u8>,
    /// The high half of a surrogate pair written as two `\u`.
    high_surrogate: Option<u16>,
    document_encoding: &'static Encoding,
    /// Code page of each font (`\f1\fcharset204`), as Word writes Cyrillic or Greek
    /// runs in a document whose own code page is Windows-1252.
    font_encodings: Vec<(i32, &'static Encoding)>,
    declared_font: Option<i32>,
    /// Fallback characters still to skip after a `\u`.
    to_skip: usize,
}

/// Reads the text of an RTF document. Never fails: what is malformed (unbalanced
/// braces, a truncated escape) is read as far as it goes.
pub(crate) fn read(data: &[u8]) -> Vec<Block> {
    let mut reader = Reader {
        data,
        at: 0,
        blocks: Vec::new(),
        prose: String::new(),
        cells: Vec::new(),
        cell: String::new(),
        in_table: false,
        pending: Vec::new(),
        high_surrogate: None,
        document_encoding: encoding_rs::WINDOWS_1252,
        font_encodings: Vec::new(),
        declared_font: None,
        to_skip: 0,
    };
    reader.run();
    reader.blocks
}

impl Reader<'_> {
    fn run(&mut self) {
        let mut state = GroupState {
            skipped: false,
            unicode_fallback: 1,
            encoding: encoding_rs::WINDOWS_1252,
            in_font_table: false,
        };
        let mut stack: Vec<GroupState> = Vec::new();
        // Whether the group just opened may still name a destination (`{\*\x` or `{\x`).
        let mut group_start = false;
        let mut ignorable = false;
        while let Some(&byte) = self.data.get(self.at) {
            self.at += 1;
            match byte {
                b'{' => {
                    self.flush_bytes(&state);
                    stack.push(state);
                    group_start = true;
                    ignorable = false;
                    continue;
                }
                b'}' => {
                    self.flush_bytes(&state);
                    if state.in_font_table {
                        self.declared_font = None;
                    }
                    if let Some(outer) = stack.pop() {
                        state = outer;
                    }
                    self.to_skip = 0;
                }
                b'\\' => {
                    let starts_group = group_start;
                    group_start = false;
                    self.control(&mut state, starts_group, &mut ignorable);
                    if ignorable {
                        group_start = true;
                    }
                    continue;
                }
                b'\r' | b'\n' => {}
                _ => {
                    if self.to_skip > 0 {
                        self.to_skip -= 1;
                    } else if !state.skipped {
                        // Word writes the second byte of a double-byte character as
                        // itself when it is printable (`\'8eR` for 山), and some
                        // writers put 8-bit bytes in unescaped.
                        if byte >= 0x80 || awaits_trail_byte(&self.pending, state.encoding) {
                            self.pending.push(byte);
                        } else {
                            self.flush_bytes(&state);
                            self.push_char(char::from(byte));
                        }
                    }
                }
            }
            group_start = false;
        }
        self.flush_bytes(&state);
        self.end_paragraph();
        if !self.cell.trim().is_empty() || !self.cells.is_empty() {
            self.end_row();
        }
    }

    fn control(&mut self, state: &mut GroupState, starts_group: bool, ignorable: &mut bool) {
        let Some(&first) = self.data.get(self.at) else {
            return;
        };
        if !first.is_ascii_alphabetic() {
            self.at += 1;
            self.symbol(first, state, starts_group, ignorable);
            return;
        }
        let word_start = self.at;
        while self.data.get(self.at).is_some_and(u8::is_ascii_alphabetic) && self.at - word_start < 32 {
            self.at += 1;
        }
        let word = std::str::from_utf8(self.data.get(word_start..self.at).unwrap_or_default()).unwrap_or_default();
        let param_start = self.at;
        if self.data.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        while self.data.get(self.at).is_some_and(u8::is_ascii_digit) && self.at - param_start < 11 {
            self.at += 1;
        }
        let param: Option<i32> = std::str::from_utf8(self.data.get(param_start..self.at).unwrap_or_default())
            .ok()
            .and_then(|digits| digits.parse().ok());
        if self.data.get(self.at) == Some(&b' ') {
            self.at += 1;
        }
        if word != "u" {
            self.flush_bytes(state);
        }
        let was_ignorable = std::mem::take(ignorable);
        if starts_group && (was_ignorable || SKIPPED_DESTINATIONS.contains(&word)) {
            if word == "fonttbl" {
                state.in_font_table = true;
            }
            state.skipped = true;
        }
        if state.in_font_table {
            match (word, param) {
                ("f", Some(font)) => self.declared_font = Some(font),
                ("fcharset", Some(charset)) => {
                    if let (Some(font), Some(encoding)) = (self.declared_font, charset_encoding(charset)) {
                        self.font_encodings.push((font, encoding));
                    }
                }
                _ => {}
            }
            return;
        }
        if state.skipped {
            if word == "bin" {
                self.skip_binary(param);
            }
            return;
        }
        match word {
            "ansicpg" => {
                if let Some(encoding) = param
                    .and_then(|page| u16::try_from(page).ok())
                    .and_then(codepage::to_encoding_no_replacement)
                {
                    self.document_encoding = encoding;
                    state.encoding = encoding;
                }
            }
            "f" => {
                state.encoding = param
                    .and_then(|font| self.font_encodings.iter().find(|(f, _)| *f == font))
                    .map_or(self.document_encoding, |(_, encoding)| *encoding);
            }
            "uc" => state.unicode_fallback = param.and_then(|n| usize::try_from(n).ok()).unwrap_or(1),
            "u" => {
                if let Some(value) = param {
                    self.flush_bytes(state);
                    // RTF writes code points above 32767 as negative numbers.
                    let unit = if value < 0 { value + 65536 } else { value };
                    if let Ok(unit) = u16::try_from(unit) {
                        self.push_unit(unit);
                    }
                    self.to_skip = state.unicode_fallback;
                }
            }
            "par" | "line" | "sect" | "page" => {
                if self.in_table {
                    self.cell.push(' ');
                } else {
                    self.prose.push('\n');
                }
            }
            "tab" => self.push_char('\t'),
            "trowd" | "intbl" if !self.in_table => {
                self.end_paragraph();
                self.in_table = true;
            }
            "cell" | "nestcell" => self.cells.push(std::mem::take(&mut self.cell).trim().to_string()),
            "row" | "nestrow" => self.end_row(),
            // A paragraph reset between rows ends the table; within a row, `\intbl`
            // follows it.
            "pard" if self.in_table && self.cells.is_empty() && self.cell.trim().is_empty() => {
                self.in_table = false;
            }
            "emdash" => self.push_char('\u{2014}'),
            "endash" => self.push_char('\u{2013}'),
            "bullet" => self.push_char('\u{2022}'),
            "lquote" => self.push_char('\u{2018}'),
            "rquote" => self.push_char('\u{2019}'),
            "ldblquote" => self.push_char('\u{201C}'),
            "rdblquote" => self.push_char('\u{201D}'),
            "bin" => self.skip_binary(param),
            _ => {}
        }
    }

    fn symbol(&mut self, symbol: u8, state: &GroupState, starts_group: bool, ignorable: &mut bool) {
        match symbol {
            b'*' if starts_group => *ignorable = true,
            b'\'' => {
                let hex = self
                    .data
                    .get(self.at..self.at + 2)
                    .and_then(|pair| std::str::from_utf8(pair).ok());
                if let Some(byte) = hex.and_then(|pair| u8::from_str_radix(pair, 16).ok()) {
                    self.at += 2;
                    if self.to_skip > 0 {
                        self.to_skip -= 1;
                    } else if !state.skipped && !state.in_font_table {
                        self.pending.push(byte);
                    }
                }
            }
            b'{' | b'}' | b'\\' if !state.skipped => {
                self.flush_bytes(state);
                self.push_char(char::from(symbol));
            }
            b'~' if !state.skipped => self.push_char('\u{A0}'),
            b'_' if !state.skipped => self.push_char('-'),
            b'\r' | b'\n' if !state.skipped => {
                if self.in_table {
                    self.cell.push(' ');
                } else {
                    self.prose.push('\n');
                }
            }
            _ => {}
        }
    }

    fn skip_binary(&mut self, length: Option<i32>) {
        let length = length.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        self.at = self.at.saturating_add(length).min(self.data.len());
    }

    fn flush_bytes(&mut self, state: &GroupState) {
        if self.pending.is_empty() {
            return;
        }
        let bytes = std::mem::take(&mut self.pending);
        let (text, _) = state.encoding.decode_without_bom_handling(&bytes);
        for c in text.chars() {
            self.push_char(c);
        }
    }

    fn push_unit(&mut self, unit: u16) {
        if (0xD800..0xDC00).contains(&unit) {
            self.high_surrogate = Some(unit);
            return;
        }
        let units: Vec<u16> = self.high_surrogate.take().into_iter().chain([unit]).collect();
        for c in char::decode_utf16(units) {
            self.push_char(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        }
    }

    fn push_char(&mut self, c: char) {
        if self.in_table {
            self.cell.push(c);
        } else {
            self.prose.push(c);
        }
    }

    fn end_paragraph(&mut self) {
        if !self.prose.trim().is_empty() {
            self.blocks.push(Block::Prose(std::mem::take(&mut self.prose)));
        }
        self.prose.clear();
    }

    fn end_row(&mut self) {
        if !self.cell.trim().is_empty() {
            self.cells.push(std::mem::take(&mut self.cell).trim().to_string());
        }
        self.cell.clear();
        let cells = std::mem::take(&mut self.cells);
        if cells.iter().any(|cell| !cell.is_empty()) {
            self.blocks.push(Block::Row(cells));
        }
    }
}

/// Whether `bytes` in `encoding` end in the first byte of a double-byte character.
fn awaits_trail_byte(bytes: &[u8], encoding: &'static Encoding) -> bool {
    if bytes.is_empty() || encoding.is_single_byte() {
        return false;
    }
    let is_lead = |byte: u8| {
        if encoding == encoding_rs::SHIFT_JIS {
            matches!(byte, 0x81..=0x9F | 0xE0..=0xFC)
        } else {
            matches!(byte, 0x81..=0xFE)
        }
    };
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        at += if is_lead(byte) { 2 } else { 1 };
    }
    at > bytes.len()
}

/// The code page of a font's `\fcharset`, as Windows numbers character sets.
fn charset_encoding(charset: i32) -> Option<&'static Encoding> {
    let page = match charset {
        0 => 1252,
        128 => 932,
        129 => 949,
        134 => 936,
        136 => 950,
        161 => 1253,
        162 => 1254,
        163 => 1258,
        177 => 1255,
        178 => 1256,
        186 => 1257,
        204 => 1251,
        222 => 874,
        238 => 1250,
        _ => return None,
    };
    codepage::to_encoding_no_replacement(page)
}
