//! Text of Rich Text Format documents (WordPad, Outlook's rich text, "Save as RTF").
//!
//! Written by hand: the RTF crates on crates.io lose what matters here. One tried
//! (rtf-parser 0.4) ran paragraphs together, read `\'xx` bytes as Latin-1 whatever
//! the code page, dropped `\u` characters, joined table cells and kept the document
//! properties as text. The reading needed is small: groups, destinations to skip,
//! code pages by document and by font, Unicode escapes, paragraphs and table rows.
//!
//! Linear in the input, with the group stack bounded: a file of nothing but `{`
//! takes no more memory than its first [`MAX_GROUP_DEPTH`] levels.

use std::collections::HashMap;

use encoding_rs::Encoding;

/// What a document holds, in order: running text, and table rows by cell.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Block {
    Prose(String),
    Row(Vec<String>),
}

/// Destinations whose text is not the document's: tables of fonts, colours and
/// styles, document properties, pictures, embedded objects' data, the copy of a
/// nested table or a shape for readers without them, and whatever a reader may skip
/// (`\*`) but those of [`READ_DESTINATIONS`]. A field's instruction is read for its
/// link only ([`Reader::end_instruction`]); its result is text.
const SKIPPED_DESTINATIONS: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "objdata",
    "nonesttables",
    "shprslt",
];

/// Destinations read although marked skippable or inside a skipped one: the text of
/// a text box and of a comment.
const READ_DESTINATIONS: &[&str] = &["shptxt", "annotation"];

/// Deeper groups are read as part of the group at this depth.
const MAX_GROUP_DEPTH: usize = 1024;

/// A field instruction longer than this is no link.
const MAX_INSTRUCTION_BYTES: usize = 4096;

#[derive(Clone, Copy)]
struct GroupState {
    skipped: bool,
    /// Characters that stand in for each `\u` character, for readers without Unicode.
    unicode_fallback: usize,
    encoding: &'static Encoding,
    in_font_table: bool,
    /// A field's instruction (`HYPERLINK "mailto:…"`), collected for its link.
    in_instruction: bool,
    /// A list item's number or bullet, a text box or a comment: its paragraph
    /// marks say nothing of the table around it.
    aside: bool,
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    blocks: Vec<Block>,
    prose: String,
    in_table: bool,
    cells: Vec<String>,
    cell: String,
    cell_has_text: bool,
    /// Cells of the inner row of a nested table (`\nestcell`).
    nested_cells: Vec<String>,
    /// `\'hh` bytes not yet decoded: a double-byte character comes as two.
    pending: Vec<u8>,
    /// Whether the last pending byte leads a double-byte character.
    trail_expected: bool,
    /// The high half of a surrogate pair written as two `\u`.
    high_surrogate: Option<u16>,
    document_encoding: &'static Encoding,
    default_font: Option<i32>,
    /// Code page of each font (`\f1\fcharset204`), as Word writes Cyrillic or Greek
    /// runs in a document whose own code page is Windows-1252.
    font_encodings: HashMap<i32, &'static Encoding>,
    declared_font: Option<i32>,
    /// Fallback characters still to skip after a `\u`.
    to_skip: usize,
    instruction: String,
}

/// Reads the text of an RTF document. Never fails: what is malformed (unbalanced
/// braces, a truncated escape) is read as far as it goes.
pub(crate) fn read(data: &[u8]) -> Vec<Block> {
    let mut reader = Reader {
        data,
        at: 0,
        blocks: Vec::new(),
        prose: String::new(),
        in_table: false,
        cells: Vec::new(),
        cell: String::new(),
        cell_has_text: false,
        nested_cells: Vec::new(),
        pending: Vec::new(),
        trail_expected: false,
        high_surrogate: None,
        document_encoding: encoding_rs::WINDOWS_1252,
        default_font: None,
        font_encodings: HashMap::new(),
        declared_font: None,
        to_skip: 0,
        instruction: String::new(),
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
            in_instruction: false,
            aside: false,
        };
        let mut stack: Vec<GroupState> = Vec::new();
        let mut too_deep = 0usize;
        // Whether the group just opened may still name a destination (`{\*\x` or `{\x`).
        let mut group_start = false;
        let mut ignorable = false;
        while let Some(&byte) = self.data.get(self.at) {
            self.at += 1;
            match byte {
                b'{' => {
                    self.flush_bytes(&state);
                    if stack.len() < MAX_GROUP_DEPTH {
                        stack.push(state);
                    } else {
                        too_deep += 1;
                    }
                    group_start = true;
                    ignorable = false;
                    continue;
                }
                b'}' => {
                    self.flush_bytes(&state);
                    if too_deep > 0 {
                        too_deep -= 1;
                    } else if let Some(outer) = stack.pop() {
                        if state.in_font_table && !outer.in_font_table {
                            self.declared_font = None;
                        }
                        if state.in_instruction && !outer.in_instruction {
                            self.end_instruction(&outer);
                        }
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
                // Line breaks in the file are not text, and do not end `{\*`.
                b'\r' | b'\n' => continue,
                _ => {
                    if self.to_skip > 0 {
                        self.to_skip -= 1;
                    } else if byte >= 0x80 || self.trail_expected {
                        // Word writes the second byte of a double-byte character as
                        // itself when it is printable (`\'8eR` for 山), and some
                        // writers put 8-bit bytes in unescaped.
                        self.push_byte(byte, &state);
                    } else {
                        self.flush_bytes(&state);
                        self.emit(char::from(byte), &state);
                    }
                }
            }
            group_start = false;
        }
        self.flush_bytes(&state);
        self.end_paragraph();
        if self.cell_has_text || !self.cells.is_empty() {
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
        if starts_group {
            self.open_destination(word, was_ignorable, state);
        }
        if state.in_font_table {
            match (word, param) {
                ("f", Some(font)) => self.declared_font = Some(font),
                ("fcharset", Some(charset)) => {
                    if let (Some(font), Some(encoding)) = (self.declared_font, charset_encoding(charset)) {
                        self.font_encodings.insert(font, encoding);
                    }
                }
                _ => {}
            }
            return;
        }
        match word {
            "bin" => {
                // Binary data, in a picture or object: skipped whatever the group.
                let length = param.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
                self.at = self.at.saturating_add(length).min(self.data.len());
            }
            // A nested table's row ends inside `{\*\nesttableprops`, which is skipped.
            "nestrow" => {
                self.push_cell_to_nested();
                let cells = std::mem::take(&mut self.nested_cells);
                if cells.iter().any(|cell| !cell.is_empty()) {
                    self.blocks.push(Block::Row(cells));
                }
            }
            "ansicpg" => {
                if let Some(encoding) = param
                    .and_then(|page| u16::try_from(page).ok())
                    .and_then(codepage::to_encoding_no_replacement)
                {
                    self.document_encoding = encoding;
                    state.encoding = encoding;
                }
            }
            "deff" => self.default_font = param,
            "f" => state.encoding = self.font_encoding(param),
            "plain" => state.encoding = self.font_encoding(self.default_font),
            "uc" => state.unicode_fallback = param.and_then(|n| usize::try_from(n).ok()).unwrap_or(1),
            "u" => {
                if let Some(value) = param {
                    self.flush_bytes(state);
                    // RTF writes code points above 32767 as negative numbers.
                    let unit = if value < 0 { value + 65536 } else { value };
                    if let Ok(unit) = u16::try_from(unit) {
                        self.push_unit(unit, state);
                    }
                    self.to_skip = state.unicode_fallback;
                }
            }
            _ if state.skipped && !state.in_instruction => {}
            "par" | "line" | "sect" | "page" => self.break_line(state),
            "tab" => self.emit('\t', state),
            "trowd" | "intbl" if !self.in_table && !state.aside => {
                self.end_paragraph();
                self.in_table = true;
            }
            "cell" => {
                let cell = std::mem::take(&mut self.cell).trim().to_string();
                self.cells.push(cell);
                self.cell_has_text = false;
            }
            "nestcell" => self.push_cell_to_nested(),
            "row" => self.end_row(),
            // A paragraph reset between rows ends the table; within a row, `\intbl`
            // follows it.
            "pard" if self.in_table && !state.aside && self.cells.is_empty() && !self.cell_has_text => {
                self.in_table = false;
            }
            "emdash" => self.emit('\u{2014}', state),
            "endash" => self.emit('\u{2013}', state),
            "bullet" => self.emit('\u{2022}', state),
            "lquote" => self.emit('\u{2018}', state),
            "rquote" => self.emit('\u{2019}', state),
            "ldblquote" => self.emit('\u{201C}', state),
            "rdblquote" => self.emit('\u{201D}', state),
            _ => {}
        }
    }

    /// Sets what a group that begins with control word `word` is.
    fn open_destination(&mut self, word: &str, ignorable: bool, state: &mut GroupState) {
        match word {
            "fonttbl" => {
                state.in_font_table = true;
                state.skipped = true;
            }
            "fldinst" => {
                state.in_instruction = true;
                state.skipped = true;
                self.instruction.clear();
            }
            "listtext" | "pntext" => state.aside = true,
            _ if READ_DESTINATIONS.contains(&word) => {
                state.skipped = false;
                state.aside = true;
            }
            _ if ignorable || SKIPPED_DESTINATIONS.contains(&word) => state.skipped = true,
            _ => {}
        }
    }

    fn symbol(&mut self, symbol: u8, state: &GroupState, starts_group: bool, ignorable: &mut bool) {
        if symbol == b'*' {
            *ignorable = starts_group;
            return;
        }
        if symbol == b'\'' {
            let hex = self.data.get(self.at..self.at + 2);
            if let Some(&[high, low]) = hex {
                if let (Some(high), Some(low)) = (hex_value(high), hex_value(low)) {
                    self.at += 2;
                    if self.to_skip > 0 {
                        self.to_skip -= 1;
                    } else if !state.in_font_table {
                        self.push_byte(high << 4 | low, state);
                    }
                }
            }
            return;
        }
        self.flush_bytes(state);
        match symbol {
            b'{' | b'}' | b'\\' => self.emit(char::from(symbol), state),
            b'~' => self.emit('\u{A0}', state),
            b'_' => self.emit('-', state),
            b'\r' | b'\n' => self.break_line(state),
            _ => {}
        }
    }

    fn font_encoding(&self, font: Option<i32>) -> &'static Encoding {
        font.and_then(|font| self.font_encodings.get(&font).copied())
            .unwrap_or(self.document_encoding)
    }

    fn push_byte(&mut self, byte: u8, state: &GroupState) {
        if state.skipped && !state.in_instruction {
            return;
        }
        self.trail_expected = !self.trail_expected && leads_double_byte(byte, state.encoding);
        self.pending.push(byte);
    }

    fn flush_bytes(&mut self, state: &GroupState) {
        self.trail_expected = false;
        if self.pending.is_empty() {
            return;
        }
        let bytes = std::mem::take(&mut self.pending);
        let (text, _) = state.encoding.decode_without_bom_handling(&bytes);
        for c in text.chars() {
            self.emit(c, state);
        }
    }

    fn push_unit(&mut self, unit: u16, state: &GroupState) {
        if (0xD800..0xDC00).contains(&unit) {
            self.high_surrogate = Some(unit);
            return;
        }
        let units: Vec<u16> = self.high_surrogate.take().into_iter().chain([unit]).collect();
        for c in char::decode_utf16(units) {
            self.emit(c.unwrap_or(char::REPLACEMENT_CHARACTER), state);
        }
    }

    /// Writes a character of text where it belongs: the field instruction being
    /// read, the current cell, or running text; nowhere in a skipped group.
    fn emit(&mut self, c: char, state: &GroupState) {
        if state.in_instruction {
            if self.instruction.len() < MAX_INSTRUCTION_BYTES {
                self.instruction.push(c);
            }
        } else if !state.skipped {
            if self.in_table {
                self.cell_has_text |= !c.is_whitespace();
                self.cell.push(c);
            } else {
                self.prose.push(c);
            }
        }
    }

    fn break_line(&mut self, state: &GroupState) {
        if state.skipped {
            return;
        }
        if !self.in_table {
            self.prose.push('\n');
        } else if !self.cell.ends_with(' ') {
            self.cell.push(' ');
        }
    }

    /// The address a link field points to (`HYPERLINK "mailto:ana%40x.io"`), as text
    /// before the field's result: only `mailto:` and `tel:` links, as in HTML.
    fn end_instruction(&mut self, outer: &GroupState) {
        let instruction = std::mem::take(&mut self.instruction);
        let Some(address) = instruction
            .split(|c: char| c == '"' || c.is_whitespace())
            .find_map(crate::extract::strip_link_scheme)
        else {
            return;
        };
        for c in address.chars().chain([' ']) {
            self.emit(c, outer);
        }
    }

    fn push_cell_to_nested(&mut self) {
        let cell = std::mem::take(&mut self.cell).trim().to_string();
        self.cell_has_text = false;
        self.nested_cells.push(cell);
    }

    fn end_paragraph(&mut self) {
        if !self.prose.trim().is_empty() {
            self.blocks.push(Block::Prose(std::mem::take(&mut self.prose)));
        }
        self.prose.clear();
    }

    fn end_row(&mut self) {
        if self.cell_has_text {
            self.cells.push(std::mem::take(&mut self.cell).trim().to_string());
        }
        self.cell.clear();
        self.cell_has_text = false;
        let cells = std::mem::take(&mut self.cells);
        if cells.iter().any(|cell| !cell.is_empty()) {
            self.blocks.push(Block::Row(cells));
        }
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Whether `byte` is the first of a double-byte character in `encoding`.
fn leads_double_byte(byte: u8, encoding: &'static Encoding) -> bool {
    if encoding.is_single_byte() {
        false
    } else if encoding == encoding_rs::SHIFT_JIS {
        matches!(byte, 0x81..=0x9F | 0xE0..=0xFC)
    } else {
        matches!(byte, 0x81..=0xFE)
    }
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
