//! Compound files (OLE2), the container of legacy Office files and of Outlook's saved
//! messages: an Excel 97–2003 workbook (`.xls`, BIFF8) is read as rows of cells, a Word
//! 97–2003 document (`.doc`) as paragraphs and table rows, a PowerPoint 97–2003
//! presentation (`.ppt`) as its texts, an Outlook message (`.msg`) as its text
//! properties and attachments.
//!
//! The container is read by the `cfb` crate; the records inside by hand. calamine reads
//! `.xls`, but it builds every sheet up front as a dense grid of cloned strings, so a
//! file of a few kilobytes can ask for gigabytes; here a cell is a reference into the
//! string table until its row is written, and what rows write is counted against the
//! caller's budget. No maintained crate reads `.msg`, and the crates that read `.doc`
//! and `.ppt` come inside whole document-conversion frameworks: their text is a table
//! of pieces and a walk over records, read here in a few lines.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// What a compound file holds, as far as this module reads it.
pub(crate) enum Compound {
    /// An Excel 97–2003 workbook.
    Workbook(Workbook),
    /// An Outlook message.
    Message(Message),
    /// A Word or PowerPoint 97–2003 document.
    Document(Document),
    /// Encrypted: a password-protected Office file (of any kind) or workbook.
    Encrypted(&'static str),
    /// A kind of compound file not read here, by name.
    Unsupported(&'static str),
}

/// An Excel 97–2003 workbook's content.
pub(crate) struct Workbook {
    /// Each sheet's rows, each row its cells' text joined by the separator given.
    pub(crate) sheets: Vec<Vec<String>>,
    /// What was damaged, when the workbook stream breaks off: the rows before it are read.
    pub(crate) damage: Option<&'static str>,
}

/// A Word or PowerPoint 97–2003 document's text. Of Word's, its main text, then its
/// footnotes, headers and footers, comments, endnotes and text boxes, in the file's
/// order; of PowerPoint's, every text of its slides, notes and masters, in the file's
/// order.
pub(crate) struct Document {
    /// `doc` or `ppt`.
    pub(crate) format: &'static str,
    pub(crate) blocks: Vec<crate::rtf::Block>,
    /// What was damaged, when text runs past its stream: the rest is read.
    pub(crate) damage: Option<&'static str>,
}

/// An Outlook message's content.
pub(crate) struct Message {
    /// The text properties of each storage (the message, each recipient, each
    /// attachment), one entry per storage, in the file's order.
    pub(crate) texts: Vec<String>,
    /// The HTML body, when the message has one.
    pub(crate) html: Option<Vec<u8>>,
    /// Attached files, by name.
    pub(crate) attachments: Vec<(String, Vec<u8>)>,
    /// Properties that could not be read (a stream shorter than it says): the others are.
    pub(crate) damage: Vec<&'static str>,
}

/// Why a compound file could not be read. Its words are fixed: the cfb crate's messages
/// quote what it read (the byte order mark, a version, a stream's name), and no
/// plaintext may reach an error message.
#[derive(Debug)]
pub(crate) enum OleError {
    /// The container or a record inside is broken.
    Malformed(&'static str),
    /// Reading it would produce more text than the budget allows.
    OverBudget,
    /// It holds more attachments than the members allowed.
    TooManyMembers,
}

fn malformed(detail: &'static str) -> OleError {
    OleError::Malformed(detail)
}

/// What reading a compound file may take.
pub(crate) struct Allowance<'a> {
    /// Bytes of text and attachments (a cell held until its row is written costs
    /// [`CELL_COST`]).
    pub(crate) bytes: u64,
    /// Attachments.
    pub(crate) members: u64,
    /// What joins a row's cells.
    pub(crate) cell_separator: &'a str,
}

/// Reads the compound file `data` within `allowance`.
pub(crate) fn read(data: &[u8], allowance: &Allowance<'_>) -> Result<Compound, OleError> {
    let mut file = cfb::CompoundFile::open(Cursor::new(data))
        .map_err(|_| malformed("its header or directory is not a compound file's"))?;
    let has = |file: &cfb::CompoundFile<Cursor<&[u8]>>, name: &str| file.is_stream(name);
    if has(&file, "/EncryptedPackage") || has(&file, "/EncryptionInfo") {
        return Ok(Compound::Encrypted("office"));
    }
    if has(&file, "/Workbook") {
        let (stream, fault) = read_stream(&mut file, Path::new("/Workbook"), data.len())?;
        let mut read = workbook(&stream, allowance)?;
        if let (Compound::Workbook(book), Some(fault)) = (&mut read, fault) {
            book.damage.get_or_insert(fault);
        }
        return Ok(read);
    }
    if has(&file, "/__properties_version1.0") {
        return message(&mut file, data.len(), allowance).map(Compound::Message);
    }
    if has(&file, "/WordDocument") {
        return word_document(&mut file, data.len(), allowance);
    }
    if has(&file, "/PowerPoint Document") {
        if has(&file, "/EncryptedSummary") {
            return Ok(Compound::Encrypted("powerpoint"));
        }
        let (stream, damage) = read_stream(&mut file, Path::new("/PowerPoint Document"), data.len())?;
        return presentation(&stream, damage, allowance).map(Compound::Document);
    }
    Ok(Compound::Unsupported(if has(&file, "/Book") {
        "excel 5.0/95 workbook"
    } else {
        "ole2 compound document"
    }))
}

/// A whole stream, or as much of it as its chain of sectors holds, with what broke it
/// off. No stream of a compound file is larger than the file itself. Its path is not
/// named: a stream's name is the file's.
fn read_stream(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &Path,
    limit: usize,
) -> Result<(Vec<u8>, Option<&'static str>), OleError> {
    let stream = file
        .open_stream(path)
        .map_err(|_| malformed("a stream could not be opened"))?;
    let mut bytes = Vec::new();
    let fault = stream.take(limit as u64).read_to_end(&mut bytes).err();
    Ok((
        bytes,
        fault.map(|_| "a stream's chain of sectors breaks off before its length"),
    ))
}

/// Bytes of text or attachments still allowed.
struct Budget(u64);

impl Budget {
    fn charge(&mut self, bytes: usize) -> Result<(), OleError> {
        self.0 = self.0.checked_sub(bytes as u64).ok_or(OleError::OverBudget)?;
        Ok(())
    }

    /// Charges `count` cells held until their row is written.
    fn charge_cells(&mut self, count: usize) -> Result<(), OleError> {
        self.0 = self
            .0
            .checked_sub(CELL_COST.saturating_mul(count as u64))
            .ok_or(OleError::OverBudget)?;
        Ok(())
    }
}

// BIFF8 record types ([MS-XLS] 2.3).
const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const FILEPASS: u16 = 0x002F;
const SST: u16 = 0x00FC;
const CONTINUE: u16 = 0x003C;
const LABEL_SST: u16 = 0x00FD;
const LABEL: u16 = 0x0204;
const NUMBER: u16 = 0x0203;
const RK: u16 = 0x027E;
const MUL_RK: u16 = 0x00BD;
const FORMULA: u16 = 0x0006;
const STRING: u16 = 0x0207;
/// BOF's `dt` of a worksheet substream.
const WORKSHEET: u16 = 0x0010;
/// BOF's `vers` of BIFF8, the format of Excel 97 to 2003.
const BIFF8: u16 = 0x0600;

/// A cell's value until its row is written.
enum Cell {
    /// An index into the shared string table.
    Shared(u32),
    Text(String),
    Number(f64),
}

/// A record: its type and data, with the data of the CONTINUE records after it.
struct Record<'a> {
    kind: u16,
    parts: Vec<&'a [u8]>,
}

/// The records of a workbook stream, each with its continuations, read one at a time
/// (30 million empty records, all held at once, took 2 GB: found in review). Ends at
/// the stream's end, or with an error at a record running past it.
struct Records<'a> {
    stream: &'a [u8],
    at: usize,
}

impl<'a> Records<'a> {
    /// The type and data of the record at `self.at`.
    fn peek(&self) -> Option<Result<(u16, &'a [u8]), OleError>> {
        if self.at + 4 > self.stream.len() {
            return None;
        }
        let kind = u16_at(self.stream, self.at);
        let len = usize::from(u16_at(self.stream, self.at + 2));
        Some(
            self.stream
                .get(self.at + 4..self.at + 4 + len)
                .map(|data| (kind, data))
                .ok_or_else(|| malformed("an xls record runs past the end of its stream")),
        )
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, OleError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (kind, data) = match self.peek()? {
            Ok(found) => found,
            Err(error) => {
                self.at = self.stream.len();
                return Some(Err(error));
            }
        };
        self.at += 4 + data.len();
        let mut parts = vec![data];
        while let Some(Ok((CONTINUE, more))) = self.peek() {
            self.at += 4 + more.len();
            parts.push(more);
        }
        Some(Ok(Record { kind, parts }))
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    let mut two = [0u8; 2];
    if let Some(found) = bytes.get(at..at + 2) {
        two.copy_from_slice(found);
    }
    u16::from_le_bytes(two)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut four = [0u8; 4];
    if let Some(found) = bytes.get(at..at + 4) {
        four.copy_from_slice(found);
    }
    u32::from_le_bytes(four)
}

// The File Information Block of a Word document ([MS-DOC] 2.5).
/// `wIdent` of a Word document.
const WORD_IDENT: u16 = 0xA5EC;
/// Lowest `nFib` of the format read here, Word 97's; earlier ones have no piece table
/// of this form.
const WORD_97: u16 = 0x00C1;
/// Flags of `FibBase`: encrypted (or obfuscated, which sets this too), and the table
/// stream's name (`1Table`, else `0Table`).
const FIB_ENCRYPTED: u16 = 0x0100;
const FIB_TABLE_ONE: u16 = 0x0200;
/// `FibBase` is 32 bytes; the counted arrays `fibRgW`, `fibRgLw` and `fibRgFcLcb` follow.
const FIB_BASE_BYTES: usize = 32;
/// Index of `fcClx` among the `fibRgFcLcb` pairs: where the piece table is.
const FC_CLX: usize = 33;
/// Index of `fcPlcfBtePapx` among those pairs: where the pages of paragraph properties
/// are listed.
const FC_PLCF_BTE_PAPX: usize = 13;
/// The paragraph property that marks a table row's end, `sprmPFTtp`. A table inside a
/// table ends its cells and rows with paragraph marks, not 0x07: its rows are read into
/// the outer cell.
const SPRM_ROW_END: u16 = 0x2417;
/// Most columns a Word table has.
const MAX_WORD_COLUMNS: usize = 63;
/// `sprmPHugePapx`: the paragraph's properties are in the Data stream, at its operand.
const SPRM_HUGE_PROPERTIES: u16 = 0x6646;
/// `sprmTDefTable`, whose operand's size is told in two bytes, not one.
const SPRM_TABLE_CELLS: u16 = 0xD608;
/// Bit of a piece's file offset for 8-bit text (`FcCompressed.fCompressed`).
const PIECE_COMPRESSED: u32 = 0x4000_0000;
/// Windows-1252 characters of the bytes 0x80 to 0x9F in 8-bit text; the bytes above are
/// Latin-1 ([MS-DOC] 2.4.1).
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{2C6}', '\u{2030}',
    '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}',
    '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}',
    '\u{17E}', '\u{178}',
];

/// A Word 97–2003 document: its text, from the piece table of its table stream, read as
/// paragraphs and table rows.
fn word_document(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    limit: usize,
    allowance: &Allowance<'_>,
) -> Result<Compound, OleError> {
    let (word, mut damage) = read_stream(file, Path::new("/WordDocument"), limit)?;
    if u16_at(&word, 0) != WORD_IDENT || word.len() < FIB_BASE_BYTES {
        return Err(malformed(
            "the WordDocument stream does not start with a Word file information block",
        ));
    }
    if u16_at(&word, 2) < WORD_97 {
        return Ok(Compound::Unsupported("word 6.0/95 document"));
    }
    let flags = u16_at(&word, 0x0A);
    if flags & FIB_ENCRYPTED != 0 {
        return Ok(Compound::Encrypted("word"));
    }
    // The counted arrays after `FibBase`: each count, then its entries.
    let words_at = FIB_BASE_BYTES + 2;
    let longs_count_at = words_at + 2 * usize::from(u16_at(&word, FIB_BASE_BYTES));
    let longs_at = longs_count_at + 2;
    let pairs_count_at = longs_at + 4 * usize::from(u16_at(&word, longs_count_at));
    if usize::from(u16_at(&word, pairs_count_at)) <= FC_CLX {
        return Err(malformed("the Word file information block has no piece table"));
    }
    let clx_at = pairs_count_at + 2 + 8 * FC_CLX;
    let (clx_start, clx_len) = (u32_at(&word, clx_at) as usize, u32_at(&word, clx_at + 4) as usize);
    let table_name = if flags & FIB_TABLE_ONE != 0 {
        "/1Table"
    } else {
        "/0Table"
    };
    if !file.is_stream(table_name) {
        return Err(malformed(if flags & FIB_TABLE_ONE != 0 {
            "the table stream 1Table is missing"
        } else {
            "the table stream 0Table is missing"
        }));
    }
    let (table, table_damage) = read_stream(file, Path::new(table_name), limit)?;
    damage = damage.or(table_damage);
    let clx = table
        .get(clx_start..clx_start.saturating_add(clx_len))
        .ok_or_else(|| malformed("the piece table runs past the end of its stream"))?;
    let pairs_at = pairs_count_at + 2;
    let papx_at = pairs_at + 8 * FC_PLCF_BTE_PAPX;
    let papx = table
        .get(u32_at(&word, papx_at) as usize..)
        .and_then(|rest| rest.get(..u32_at(&word, papx_at + 4) as usize));
    // Properties too large for their page are in the Data stream (`sprmPHugePapx`).
    let data = if file.is_stream("/Data") {
        read_stream(file, Path::new("/Data"), limit)?.0
    } else {
        Vec::new()
    };
    let mut budget = Budget(allowance.bytes);
    let row_ends = match papx {
        Some(papx) => row_end_runs(&word, papx, &data, &mut budget)?,
        None => Vec::new(),
    };
    let mut blocks = WordBlocks {
        row_ends,
        ..WordBlocks::default()
    };
    for piece in pieces(clx)? {
        let Piece {
            chars,
            offset,
            compressed,
        } = piece;
        let (start, width) = if compressed { (offset / 2, 1) } else { (offset, 2) };
        let end = start.saturating_add(chars.saturating_mul(width));
        let Some(bytes) = word.get(start..end.min(word.len())) else {
            damage.get_or_insert("a piece of text lies past the end of the WordDocument stream");
            continue;
        };
        if end > word.len() {
            damage.get_or_insert("a piece of text runs past the end of the WordDocument stream");
        }
        // As UTF-8, a character takes at most three bytes.
        budget.charge(bytes.len() / width * 3)?;
        if compressed {
            for (at, byte) in (start..).zip(bytes) {
                let c = match byte {
                    0x80..=0x9F => CP1252_HIGH.get(usize::from(byte - 0x80)).copied().unwrap_or(' '),
                    _ => char::from(*byte),
                };
                blocks.push(c, at, &mut budget)?;
            }
        } else {
            // Where each character is, for the row ends: a character outside the basic
            // plane takes two units.
            let mut at = start;
            let units = bytes.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
            for c in char::decode_utf16(units) {
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                blocks.push(c, at, &mut budget)?;
                at += 2 * c.len_utf16();
            }
        }
    }
    Ok(Compound::Document(Document {
        format: "doc",
        blocks: blocks.finish(),
        damage,
    }))
}

/// A piece of a Word document's text: its characters, where they start in the
/// WordDocument stream (of 8-bit characters, twice the byte offset), and how wide.
struct Piece {
    chars: usize,
    offset: usize,
    compressed: bool,
}

/// The pieces of a Word document's text, in order, from its `Clx`: property lists
/// (`Prc`, skipped), then the piece table (`Pcdt`): n + 1 character positions, then n
/// piece descriptors of 8 bytes each holding the piece's file offset at byte 2.
fn pieces(clx: &[u8]) -> Result<Vec<Piece>, OleError> {
    let mut at = 0;
    loop {
        match clx.get(at) {
            Some(1) => at += 3 + usize::from(u16_at(clx, at + 1)),
            Some(2) => break,
            _ => {
                return Err(malformed(
                    "the Word piece table is not where its file information block says",
                ))
            }
        }
    }
    let table_len = u32_at(clx, at + 1) as usize;
    let table = clx
        .get(at + 5..(at + 5).saturating_add(table_len))
        .filter(|table| table.len() >= 4 && (table.len() - 4) % 12 == 0)
        .ok_or_else(|| malformed("the Word piece table has a size no table of pieces has"))?;
    let count = (table.len() - 4) / 12;
    let descriptors = 4 * (count + 1);
    let mut pieces = Vec::with_capacity(count);
    for index in 0..count {
        let (first, next) = (u32_at(table, 4 * index), u32_at(table, 4 * index + 4));
        let chars = next
            .checked_sub(first)
            .ok_or_else(|| malformed("the Word piece table's positions go backwards"))?;
        let fc = u32_at(table, descriptors + 8 * index + 2);
        pieces.push(Piece {
            chars: chars as usize,
            offset: (fc & !(PIECE_COMPRESSED | 0x8000_0000)) as usize,
            compressed: fc & PIECE_COMPRESSED != 0,
        });
    }
    Ok(pieces)
}

/// The runs of the WordDocument stream (start and end offsets, sorted) whose paragraph
/// properties mark a table row's end, from the pages of paragraph properties that
/// `plcf_bte_papx` lists ([MS-DOC] 2.8.6, 2.9.175): each page ends with its count of runs
/// and starts with their offsets, then for each the place of its properties; those hold
/// a style and then the properties (`sprm`s), each with an operand whose size its code
/// says, or a pointer into the `data` stream where properties too large for the page
/// are (`sprmPHugePapx`, which LibreOffice writes for a row of eight cells or more;
/// found in review). Each page is read once however often it is listed, and what is
/// kept is charged (a list naming one page again and again took gigabytes; found in
/// review). Whatever does not read so is left out, and its rows end as without
/// properties.
fn row_end_runs(
    word: &[u8],
    plcf_bte_papx: &[u8],
    data: &[u8],
    budget: &mut Budget,
) -> Result<Vec<(usize, usize)>, OleError> {
    const PAGE: usize = 512;
    let count = plcf_bte_papx.len().saturating_sub(4) / 8;
    let mut pages: Vec<usize> = (0..count)
        .map(|index| (u32_at(plcf_bte_papx, 4 * (count + 1) + 4 * index) & 0x003F_FFFF) as usize)
        .filter(|page| page.saturating_add(1).saturating_mul(PAGE) <= word.len())
        .collect();
    pages.sort_unstable();
    pages.dedup();
    let mut runs = Vec::new();
    for page_number in pages {
        let Some(page) = word.get(page_number * PAGE..).and_then(|rest| rest.get(..PAGE)) else {
            continue;
        };
        let count = usize::from(page.get(PAGE - 1).copied().unwrap_or(0));
        for run in 0..count {
            let Some(offset) = page.get(4 * (count + 1) + 13 * run).map(|b| 2 * usize::from(*b)) else {
                break;
            };
            if offset == 0 {
                continue;
            }
            let properties = match page.get(offset).copied() {
                Some(0) => page
                    .get(offset + 1)
                    .and_then(|size| page.get(offset + 2..offset + 2 + 2 * usize::from(*size))),
                Some(size) => page.get(offset + 1..offset + 2 * usize::from(size)),
                None => None,
            };
            if properties.is_some_and(|properties| marks_row_end(properties.get(2..).unwrap_or_default(), Some(data))) {
                budget.charge(size_of::<(usize, usize)>())?;
                runs.push((u32_at(page, 4 * run) as usize, u32_at(page, 4 * run + 4) as usize));
            }
        }
    }
    runs.sort_unstable();
    Ok(runs)
}

/// Whether paragraph properties (`sprm`s with their operands) hold a row end that is
/// set, there or in the `data` stream they point into (None for properties read from
/// it, which point nowhere further).
fn marks_row_end(mut sprms: &[u8], data: Option<&[u8]>) -> bool {
    while sprms.len() >= 2 {
        let sprm = u16_at(sprms, 0);
        let operand = match sprm >> 13 {
            // `sprmTDefTable`, a row's cells, which a row end carries: a two-byte size,
            // one more than the bytes after it.
            _ if sprm == SPRM_TABLE_CELLS => 1 + usize::from(u16_at(sprms, 2)),
            0 | 1 => 1,
            2 | 4 | 5 => 2,
            3 => 4,
            7 => 3,
            // Variable: a size byte, then that many bytes.
            _ => 1 + usize::from(sprms.get(2).copied().unwrap_or(0)),
        };
        if sprm == SPRM_ROW_END && sprms.get(2).is_some_and(|value| *value != 0) {
            return true;
        }
        // The properties in the Data stream: a two-byte size, then them.
        if let (SPRM_HUGE_PROPERTIES, Some(data)) = (sprm, data) {
            let at = u32_at(sprms, 2) as usize;
            let size = usize::from(u16_at(data, at));
            let huge = data.get(at + 2..).and_then(|rest| rest.get(..size)).unwrap_or_default();
            if marks_row_end(huge, None) {
                return true;
            }
        }
        sprms = sprms.get(2 + operand..).unwrap_or_default();
    }
    false
}

/// A Word document's characters made into paragraphs and table rows. A paragraph ends
/// at 0x0D; a table cell at 0x07, and its row at a 0x07 of its own after the last cell's,
/// in a paragraph whose properties say so ([MS-DOC] 2.4.3). Where they cannot be read, a
/// 0x07 after an empty cell is read as a row's end: the row is split there, and no two
/// rows are ever joined.
#[derive(Default)]
struct WordBlocks {
    /// Runs of the WordDocument stream that end table rows (see [`row_end_runs`]).
    row_ends: Vec<(usize, usize)>,
    blocks: Vec<crate::rtf::Block>,
    prose: String,
    cells: Vec<String>,
    cell: String,
}

impl WordBlocks {
    /// Takes the next character, which is at offset `at` of the WordDocument stream. A
    /// cell held until its row is written is charged as an xls's is: a document of empty
    /// cells holds far more than its text (found in review).
    fn push(&mut self, c: char, at: usize, budget: &mut Budget) -> Result<(), OleError> {
        let in_row = !self.cells.is_empty();
        let row_end = || {
            if self.row_ends.is_empty() {
                return self.cell.trim().is_empty();
            }
            let run = self.row_ends.partition_point(|(start, _)| *start <= at);
            run.checked_sub(1)
                .and_then(|run| self.row_ends.get(run))
                .is_some_and(|(_, end)| at < *end)
        };
        match c {
            // A paragraph's end; inside a cell, one of the cell's lines.
            '\r' | '\u{0B}' | '\u{0C}' if in_row => self.cell.push(' '),
            '\r' | '\u{0B}' | '\u{0C}' => {
                self.prose.push_str(&self.cell);
                self.prose.push('\n');
                self.cell.clear();
            }
            '\u{07}' if in_row && row_end() => {
                self.cell.clear();
                self.blocks
                    .push(crate::rtf::Block::Row(std::mem::take(&mut self.cells)));
            }
            '\u{07}' => {
                budget.charge_cells(1)?;
                if !in_row && !self.prose.trim().is_empty() {
                    self.blocks
                        .push(crate::rtf::Block::Prose(std::mem::take(&mut self.prose)));
                }
                self.cells.push(self.cell.trim().to_string());
                self.cell.clear();
                // Word's tables have 63 columns at most: a row of more lost its end.
                if self.cells.len() > MAX_WORD_COLUMNS {
                    self.blocks
                        .push(crate::rtf::Block::Row(std::mem::take(&mut self.cells)));
                }
            }
            // Field marks (begin, separator, end): the field's instruction, which may hold
            // a link (`HYPERLINK "mailto:…"`), and its result are both text.
            '\u{13}' | '\u{14}' | '\u{15}' => self.cell.push(' '),
            // A non-breaking hyphen.
            '\u{1E}' => self.cell.push('-'),
            '\t' => self.cell.push('\t'),
            // Anchors of pictures, footnotes and comments, and optional hyphens.
            _ if c.is_control() => {}
            _ => self.cell.push(c),
        }
        Ok(())
    }

    fn finish(mut self) -> Vec<crate::rtf::Block> {
        if !self.cells.is_empty() {
            self.cells.push(std::mem::take(&mut self.cell));
            self.blocks
                .push(crate::rtf::Block::Row(std::mem::take(&mut self.cells)));
        }
        self.prose.push_str(&self.cell);
        if !self.prose.trim().is_empty() {
            self.blocks.push(crate::rtf::Block::Prose(self.prose));
        }
        self.blocks
    }
}

// Records of a PowerPoint 97–2003 document stream ([MS-PPT] 2.3.1, 2.9).
/// `recVer` of a container, whose records follow its header.
const PPT_CONTAINER: u16 = 0xF;
/// Text atoms: UTF-16, and 8-bit (each byte a UTF-16 unit's low byte, so Latin-1).
const PPT_TEXT_CHARS: u16 = 0x0FA0;
const PPT_TEXT_BYTES: u16 = 0x0FA8;
/// A string, UTF-16: a footer, a link's target, a comment, a name.
const PPT_CSTRING: u16 = 0x0FBA;
/// A blob of tags' data (`BinaryTagDataBlob`), whose body is records: PowerPoint 2002's
/// additions, comments among them.
const PPT_TAG_BLOB: u16 = 0x138B;
/// How deep tags' blobs are walked inside one another.
const PPT_BLOB_DEPTH: usize = 2;

/// The texts of a PowerPoint document stream, one paragraph each, in the stream's
/// order. Text is in text atoms, and in strings (`CString`) for footers, links' targets,
/// comments and names (found missed in review); comments of PowerPoint 2002 and later
/// sit in a blob of tags whose body is records again (found in review).
fn presentation(
    stream: &[u8],
    mut damage: Option<&'static str>,
    allowance: &Allowance<'_>,
) -> Result<Document, OleError> {
    let mut budget = Budget(allowance.bytes);
    let mut text = String::new();
    if !presentation_records(stream, &mut text, &mut budget, 0)? {
        damage.get_or_insert("a record runs past the end of the PowerPoint Document stream");
    }
    let blocks = if text.trim().is_empty() {
        Vec::new()
    } else {
        vec![crate::rtf::Block::Prose(text)]
    };
    Ok(Document {
        format: "ppt",
        blocks,
        damage,
    })
}

/// Reads the texts of `records` into `text`, and tells whether they all fit in it. The
/// records are walked in one pass, a container's header stepped over into its records
/// and every other record over its body, so no record is read twice and nesting costs no
/// stack; a tags' blob is walked as records of its own, at most [`PPT_BLOB_DEPTH`] deep.
/// Each record starts with its version and instance (two bytes), type (two) and length
/// (four).
fn presentation_records(
    records: &[u8],
    text: &mut String,
    budget: &mut Budget,
    depth: usize,
) -> Result<bool, OleError> {
    let mut at = 0;
    while at + 8 <= records.len() {
        let (version, kind) = (u16_at(records, at) & 0xF, u16_at(records, at + 2));
        let len = u32_at(records, at + 4) as usize;
        at += 8;
        if version == PPT_CONTAINER {
            continue;
        }
        let Some(body) = records.get(at..at.saturating_add(len)) else {
            return Ok(false);
        };
        at += len;
        let before = text.len();
        match kind {
            PPT_TEXT_CHARS | PPT_CSTRING => {
                budget.charge(body.len() / 2 * 3)?;
                let units = body.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
                text.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
            }
            PPT_TEXT_BYTES => {
                budget.charge(body.len() * 2)?;
                text.extend(body.iter().map(|byte| char::from(*byte)));
            }
            // What is not records in it ends its walk there, not the stream's.
            PPT_TAG_BLOB if depth < PPT_BLOB_DEPTH => {
                presentation_records(body, text, budget, depth + 1)?;
                continue;
            }
            _ => continue,
        }
        // Paragraphs end with a carriage return, lines within one with a vertical tab.
        if let Some(added) = text.get_mut(before..) {
            if added.contains(['\r', '\u{0B}']) {
                let lines = added.replace(['\r', '\u{0B}'], "\n");
                text.truncate(before);
                text.push_str(&lines);
            }
        }
        text.push('\n');
    }
    Ok(true)
}

/// What one cell costs against the budget while it waits for its sheet's end: its
/// place, value and share of the list (its text is charged when written).
const CELL_COST: u64 = 48;

/// The rows of every worksheet of a BIFF8 workbook stream. A sheet's rows are written
/// at its end, and its cells then dropped.
fn workbook(stream: &[u8], allowance: &Allowance<'_>) -> Result<Compound, OleError> {
    let mut budget = Budget(allowance.bytes);
    let separator = allowance.cell_separator;
    let mut shared: Vec<String> = Vec::new();
    let mut sheets = Vec::new();
    let mut cells: Vec<(u16, u16, Cell)> = Vec::new();
    // The kinds of the substreams open: a chart's substream can sit inside a sheet's.
    let mut open: Vec<u16> = Vec::new();
    // A formula's string result is in the STRING record after it.
    let mut pending_formula: Option<(u16, u16)> = None;
    let mut damage = None;
    for record in (Records { stream, at: 0 }) {
        let record = match record {
            Ok(record) => record,
            // The rows before the damage are read, and the damage reported.
            Err(OleError::Malformed(detail)) => {
                damage = Some(detail);
                break;
            }
            Err(other) => return Err(other),
        };
        let data = record.parts.first().copied().unwrap_or_default();
        let (row, col) = (u16_at(data, 0), u16_at(data, 2));
        match record.kind {
            BOF => {
                if u16_at(data, 0) != BIFF8 {
                    return Ok(Compound::Unsupported("excel workbook older than excel 97"));
                }
                open.push(u16_at(data, 2));
            }
            FILEPASS => return Ok(Compound::Encrypted("xls")),
            SST => shared = shared_strings(&record.parts, &mut budget)?,
            // The guard closes the substream whichever kind it is.
            EOF if open.pop() == Some(WORKSHEET) => {
                sheets.push(sheet_rows(std::mem::take(&mut cells), &shared, separator, &mut budget)?);
            }
            _ => {}
        }
        if open.last() != Some(&WORKSHEET) {
            continue;
        }
        let held = cells.len();
        match record.kind {
            LABEL_SST => cells.push((row, col, Cell::Shared(u32_at(data, 6)))),
            LABEL => {
                let text = Continued::new(&record.parts, 6).unicode_string(false, &mut budget)?;
                cells.push((row, col, Cell::Text(text)));
            }
            NUMBER => {
                if let Some(bits) = data.get(6..14).and_then(|bits| <[u8; 8]>::try_from(bits).ok()) {
                    cells.push((row, col, Cell::Number(f64::from_le_bytes(bits))));
                }
            }
            RK => cells.push((row, col, Cell::Number(rk_number(u32_at(data, 6))))),
            MUL_RK => {
                // colFirst, then (xf, rk) pairs, then colLast.
                let pairs = data.len().saturating_sub(6) / 6;
                for index in 0..pairs {
                    let column = col.saturating_add(index as u16);
                    cells.push((row, column, Cell::Number(rk_number(u32_at(data, 4 + 6 * index + 2)))));
                }
            }
            FORMULA => {
                let result = data.get(6..14).unwrap_or_default();
                if result.get(6..8) == Some(&[0xFF, 0xFF][..]) {
                    // 0 at the start: a string, written next.
                    pending_formula = (result.first() == Some(&0)).then_some((row, col));
                } else if let Ok(bits) = <[u8; 8]>::try_from(result) {
                    cells.push((row, col, Cell::Number(f64::from_le_bytes(bits))));
                }
            }
            STRING => {
                if let Some((row, col)) = pending_formula.take() {
                    let text = Continued::new(&record.parts, 0).unicode_string(false, &mut budget)?;
                    cells.push((row, col, Cell::Text(text)));
                }
            }
            _ => {}
        }
        budget.charge_cells(cells.len() - held)?;
    }
    // A stream cut short keeps the rows read before the cut.
    if !cells.is_empty() {
        sheets.push(sheet_rows(cells, &shared, separator, &mut budget)?);
    }
    Ok(Compound::Workbook(Workbook { sheets, damage }))
}

/// An RK number ([MS-XLS] 2.5.217): 30 bits of an integer or of a double's high
/// bits, optionally divided by 100.
fn rk_number(rk: u32) -> f64 {
    let value = if rk & 0x02 != 0 {
        f64::from((rk as i32) >> 2)
    } else {
        f64::from_bits(u64::from(rk & 0xFFFF_FFFC) << 32)
    };
    if rk & 0x01 != 0 {
        value / 100.0
    } else {
        value
    }
}

/// A number as Excel shows it in a general cell: integers without a fraction (a phone
/// or an id typed as a number), others as Rust writes them.
fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A sheet's cells as rows of text, in row and column order, each row its cells' text
/// joined by `separator`.
fn sheet_rows(
    mut cells: Vec<(u16, u16, Cell)>,
    shared: &[String],
    separator: &str,
    budget: &mut Budget,
) -> Result<Vec<String>, OleError> {
    cells.sort_by_key(|(row, col, _)| (*row, *col));
    let mut rows: Vec<String> = Vec::new();
    let mut current_row = None;
    for (row, _, cell) in cells {
        let number;
        let text = match &cell {
            Cell::Shared(index) => shared.get(*index as usize).map_or("", String::as_str),
            Cell::Text(text) => text.as_str(),
            Cell::Number(value) => {
                number = number_text(*value);
                number.as_str()
            }
        };
        // A string of the table can be referenced by every cell: what rows write is
        // counted, not only what the file holds.
        budget.charge(text.len() + separator.len())?;
        match rows.last_mut() {
            Some(last) if current_row == Some(row) => {
                last.push_str(separator);
                last.push_str(text);
            }
            _ => {
                current_row = Some(row);
                rows.push(text.to_string());
            }
        }
    }
    Ok(rows)
}

/// The shared string table (SST): its record and its continuations.
fn shared_strings(parts: &[&[u8]], budget: &mut Budget) -> Result<Vec<String>, OleError> {
    let mut reader = Continued::new(parts, 8);
    let unique = u32_at(parts.first().copied().unwrap_or_default(), 4);
    let mut strings = Vec::new();
    for _ in 0..unique {
        if reader.at_end() {
            break;
        }
        strings.push(reader.unicode_string(true, budget)?);
    }
    Ok(strings)
}

/// A reader over a record's data and its CONTINUE records. A string's characters that
/// run into a continuation restart there with a byte saying how they are stored.
struct Continued<'a> {
    parts: &'a [&'a [u8]],
    part: usize,
    at: usize,
}

impl<'a> Continued<'a> {
    fn new(parts: &'a [&'a [u8]], at: usize) -> Self {
        Self { parts, part: 0, at }
    }

    fn at_end(&mut self) -> bool {
        self.settle();
        self.part >= self.parts.len()
    }

    /// Moves past exhausted parts.
    fn settle(&mut self) {
        while self.parts.get(self.part).is_some_and(|part| self.at >= part.len()) {
            self.part += 1;
            self.at = 0;
        }
    }

    fn byte(&mut self) -> Result<u8, OleError> {
        self.settle();
        let byte = self
            .parts
            .get(self.part)
            .and_then(|part| part.get(self.at))
            .copied()
            .ok_or_else(|| malformed("xls string runs past its record"))?;
        self.at += 1;
        Ok(byte)
    }

    fn u16(&mut self) -> Result<u16, OleError> {
        Ok(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    fn u32(&mut self) -> Result<u32, OleError> {
        Ok(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    fn skip(&mut self, mut count: usize) -> Result<(), OleError> {
        while count > 0 {
            self.settle();
            let left = self
                .parts
                .get(self.part)
                .map(|part| part.len() - self.at)
                .ok_or_else(|| malformed("xls string runs past its record"))?;
            let step = left.min(count);
            self.at += step;
            count -= step;
        }
        Ok(())
    }

    /// An XLUnicodeRichExtendedString ([MS-XLS] 2.5.293) when `extended`, else an
    /// XLUnicodeString: a length in characters, a byte of flags, then the characters,
    /// one byte each (Latin-1) or two (UTF-16).
    fn unicode_string(&mut self, extended: bool, budget: &mut Budget) -> Result<String, OleError> {
        let count = usize::from(self.u16()?);
        let flags = self.byte()?;
        let (mut runs, mut extra) = (0, 0);
        if extended {
            if flags & 0x08 != 0 {
                runs = usize::from(self.u16()?);
            }
            if flags & 0x04 != 0 {
                extra = self.u32()? as usize;
            }
        }
        let mut wide = flags & 0x01 != 0;
        let mut units: Vec<u16> = Vec::with_capacity(count);
        let mut part = self.part;
        for _ in 0..count {
            self.settle();
            if self.part != part {
                // Characters continued in the next record restart with their flags.
                part = self.part;
                wide = self.byte()? & 0x01 != 0;
            }
            units.push(if wide { self.u16()? } else { u16::from(self.byte()?) });
        }
        self.skip(4 * runs + extra)?;
        let text = String::from_utf16_lossy(&units);
        budget.charge(text.len())?;
        Ok(text)
    }
}

/// MAPI property types of the `__substg1.0_` streams read.
const UNICODE_STRING: u16 = 0x001F;
const EIGHT_BIT_STRING: u16 = 0x001E;
const BINARY: u16 = 0x0102;
/// PR_ATTACH_DATA_BIN, an attachment's bytes.
const ATTACH_DATA: u16 = 0x3701;
/// PR_ATTACH_LONG_FILENAME and PR_ATTACH_FILENAME.
const ATTACH_LONG_NAME: u16 = 0x3707;
const ATTACH_NAME: u16 = 0x3704;
/// PR_HTML, the HTML body.
const HTML_BODY: u16 = 0x1013;

/// An Outlook message ([MS-OXMSG]): every text property (subject, body, the sender's
/// and recipients' names and addresses, the transport headers), grouped by storage so
/// a recipient's name and address stay together; the HTML body; each attachment.
/// Messages attached to it are storages inside it and are read the same way.
fn message(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    limit: usize,
    allowance: &Allowance<'_>,
) -> Result<Message, OleError> {
    let mut budget = Budget(allowance.bytes);
    let streams: Vec<(PathBuf, String)> = file
        .walk()
        .filter(|entry| entry.is_stream())
        .map(|entry| (entry.path().to_path_buf(), entry.name().to_string()))
        .collect();
    let mut texts: Vec<(PathBuf, String)> = Vec::new();
    let mut html = None;
    let mut attachments: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    // Each attachment's longest name (the long one when it has one, else the 8.3 one),
    // by storage: looked up once per attachment (a list searched each time took 115 s
    // for 20,000 attachments, found in review).
    let mut names: HashMap<PathBuf, String> = HashMap::new();
    let mut damage = Vec::new();
    for (path, name) in streams {
        let Some((property, kind)) = property_of(&name) else {
            continue;
        };
        let storage = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let wanted = matches!(kind, UNICODE_STRING | EIGHT_BIT_STRING)
            || (kind == BINARY && matches!(property, ATTACH_DATA | HTML_BODY));
        if !wanted {
            continue;
        }
        if kind == BINARY && property == ATTACH_DATA && attachments.len() as u64 >= allowance.members {
            return Err(OleError::TooManyMembers);
        }
        // A stream whose chain is shorter than its length is read as far as it goes,
        // and a property that cannot be opened is passed over: the others are read.
        let bytes = match read_stream(file, &path, limit) {
            Ok((bytes, fault)) => {
                damage.extend(fault);
                bytes
            }
            Err(OleError::Malformed(detail)) => {
                damage.push(detail);
                continue;
            }
            Err(other) => return Err(other),
        };
        budget.charge(bytes.len())?;
        match kind {
            UNICODE_STRING | EIGHT_BIT_STRING => {
                let text = if kind == UNICODE_STRING {
                    crate::extract::decode_utf16(&bytes, true)
                } else {
                    encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned()
                };
                let text = text.trim_end_matches('\0').to_string();
                if matches!(property, ATTACH_LONG_NAME | ATTACH_NAME) {
                    let known = names.entry(storage.clone()).or_default();
                    if text.len() > known.len() {
                        known.clone_from(&text);
                    }
                }
                match texts.last_mut() {
                    Some((last, joined)) if *last == storage => {
                        joined.push('\n');
                        joined.push_str(&text);
                    }
                    _ => texts.push((storage, text)),
                }
            }
            _ if property == HTML_BODY => html = Some(bytes),
            _ => attachments.push((storage, bytes)),
        }
    }
    let attachments = attachments
        .into_iter()
        .map(|(storage, bytes)| {
            let name = names.remove(&storage).unwrap_or_else(|| "attachment".to_string());
            (name, bytes)
        })
        .collect();
    Ok(Message {
        texts: texts.into_iter().map(|(_, text)| text).collect(),
        html,
        attachments,
        damage,
    })
}

/// The property id and type of a `__substg1.0_IIIITTTT` stream (an array's element
/// has a suffix after them).
fn property_of(name: &str) -> Option<(u16, u16)> {
    let hex = name.strip_prefix("__substg1.0_")?;
    let property = u16::from_str_radix(hex.get(0..4)?, 16).ok()?;
    let kind = u16::from_str_radix(hex.get(4..8)?, 16).ok()?;
    Some((property, kind))
}
