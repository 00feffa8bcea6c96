//! Text normalization shared by exact data match and fingerprints: NFKD, diacritics
//! dropped, case folded, a few letters without decomposition mapped by hand
//! (đ, ø, ł, ß, æ, œ, þ, Arabic's variant letters), characters that show nothing
//! dropped, letters that look Latin read as the Latin letter they look like, address
//! words abbreviated, tokens split on non-alphanumerics.

use std::sync::LazyLock;

use icu_properties::props::DefaultIgnorableCodePoint;
use icu_properties::CodePointSetData;
use unicode_normalization::char::is_combining_mark;

use crate::masks;
use unicode_normalization::UnicodeNormalization;

/// One normalized word and where it was found (byte offsets into the source text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Normalized form.
    pub text: String,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset after the last character.
    pub end: usize,
}

/// Folds one string: compatibility decomposition, marks and characters that show nothing
/// dropped, lowercase, and letters that look Latin read as Latin where [`read_look_alikes`]
/// says.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let (held, look_alikes) = fold_holding_look_alikes(text);
    if look_alikes {
        read_look_alikes(&held)
    } else {
        held
    }
}

/// [`fold`] up to its look-alikes: those ([`look_alike`]) are kept as they are, in their
/// case, for [`read_look_alikes`], which needs the word whole to read them; the flag tells
/// whether there was one.
fn fold_holding_look_alikes(text: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut held = false;
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        // Greek final sigma: a char lowercases `Σ` to `σ` wherever it stands, so
        // "ΚΩΣΤΑΣ" is "κωστασ" and "Κώστας" must be too (found by a blind test).
        let c = if c == 'ς' { 'σ' } else { c };
        match c {
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            // Turkish dotless i: "Yılmaz" is written "Yilmaz" and "YILMAZ".
            'ı' => out.push('i'),
            'ħ' | 'Ħ' => out.push('h'),
            'ŧ' | 'Ŧ' => out.push('t'),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'ß' => out.push_str("ss"),
            // Arabic as search engines fold it (Lucene's Arabic and Persian
            // normalizers): the tatweel that stretches a word for looks dropped; final
            // ى and ة as often written ي and ه (Egypt); Persian ی and ک as Arabic
            // ي and ك. Hamza and harakat are combining marks, dropped above.
            '\u{640}' => {}
            'ى' | 'ی' => out.push('ي'),
            'ة' => out.push('ه'),
            'ک' => out.push('ك'),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'þ' | 'Þ' => out.push_str("th"),
            other if other.is_ascii() => out.push(other.to_ascii_lowercase()),
            // Hangul fillers (`\u{3164}`, decomposed to `\u{1160}`) are letters that show
            // nothing: one inside a name would make another word of it.
            other if is_default_ignorable(other) => {}
            other if look_alike(other).is_some() => {
                out.push(other);
                held = true;
            }
            other => out.extend(other.to_lowercase()),
        }
    }
    (out, held)
}

/// Whether `c` is one of Unicode's Default_Ignorable_Code_Point characters
/// (DerivedCoreProperties; ICU4X's data, Unicode 18): characters a renderer shows
/// nothing for, such as zero-width spaces and joiners, bidirectional controls, variation
/// selectors, tag characters, the combining grapheme joiner and the Hangul fillers. Put
/// inside a name or an email, they hid it from the match (found by a blind test).
pub fn is_default_ignorable(c: char) -> bool {
    // The first is the soft hyphen; ASCII and most of Latin-1 are answered at once.
    c >= '\u{AD}' && CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// How a letter that looks like a Latin one is read ([`look_alike`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LookAlike {
    /// The Latin letter (lowercase ASCII) it looks like as written, in its own case (`Η`
    /// is `h`, `η` is `n`); 0 for none.
    glyph: u8,
    /// The Latin letter its lowercase form is read as in a word written wholly in such
    /// letters, the same for either case (the capital's look first: `Η` and `η` are
    /// `h`); 0 for none.
    folded: u8,
    /// A letter of the Latin script itself (a small capital `ᴊ`, an IPA letter `ɡ`),
    /// read as its letter in every word.
    latin: bool,
}

/// The blocks whose letters are looked up ([`look_alike`]), as code point ranges: IPA
/// extensions to Armenian (`ɡ`, Greek, Cyrillic, `օ`), Cherokee (`Ꭺ`), phonetic
/// extensions (the small capitals `ᴀ`...`ᴢ`), Latin Extended-D (`ꜱ`) and Cherokee's
/// lowercase letters. Of these, the IPA, phonetic and Latin Extended-D blocks are the
/// Latin script.
const LOOK_ALIKE_BLOCKS: [(u32, u32); 5] = [
    (0x250, 0x590),
    (0x13A0, 0x1400),
    (0x1D00, 0x1D80),
    (0xA720, 0xA800),
    (0xAB70, 0xABC0),
];

/// Latin small capitals, which Unicode neither decomposes nor lists as confusable with
/// their letters (`ᴀ` is LATIN LETTER SMALL CAPITAL A): each with the letter it is.
const SMALL_CAPITALS: [(char, u8); 25] = [
    ('ᴀ', b'a'),
    ('ʙ', b'b'),
    ('ᴄ', b'c'),
    ('ᴅ', b'd'),
    ('ᴇ', b'e'),
    ('ꜰ', b'f'),
    ('ɢ', b'g'),
    ('ʜ', b'h'),
    ('ɪ', b'i'),
    ('ᴊ', b'j'),
    ('ᴋ', b'k'),
    ('ʟ', b'l'),
    ('ᴍ', b'm'),
    ('ɴ', b'n'),
    ('ᴏ', b'o'),
    ('ᴘ', b'p'),
    ('ꞯ', b'q'),
    ('ʀ', b'r'),
    ('ꜱ', b's'),
    ('ᴛ', b't'),
    ('ᴜ', b'u'),
    ('ᴠ', b'v'),
    ('ᴡ', b'w'),
    ('ʏ', b'y'),
    ('ᴢ', b'z'),
];

/// The look-alikes of [`LOOK_ALIKE_BLOCKS`], one entry per code point of the blocks in
/// order, read once from UTS #39's confusables ([`unicode_security::skeleton`]): a
/// character looks like the Latin letter that has its skeleton (`а` and `a`, `Ι` and `I`),
/// or like the small capital that has it (`н` and `ʜ`, `в` and `ʙ`, `м` and `ᴍ`).
static LOOK_ALIKES: LazyLock<Vec<LookAlike>> = LazyLock::new(|| {
    let skeleton = |c: char| -> String { unicode_security::skeleton(c.encode_utf8(&mut [0; 4])).collect() };
    // Skeletons of the Latin letters (each with whether it is a capital) and of the small
    // capitals (read as lowercase). `I` and `l` share one: a capital takes `I`.
    let mut latin: Vec<(String, u8, bool)> = Vec::new();
    for letter in b'a'..=b'z' {
        latin.push((skeleton(char::from(letter)), letter, false));
        latin.push((skeleton(char::from(letter.to_ascii_uppercase())), letter, true));
    }
    for (small, letter) in SMALL_CAPITALS {
        latin.push((skeleton(small), letter, false));
    }
    let glyph = |c: char| -> u8 {
        if let Some((_, letter)) = SMALL_CAPITALS.iter().find(|(small, _)| *small == c) {
            return *letter;
        }
        let own = skeleton(c);
        if own.chars().eq([c]) {
            return 0;
        }
        let mut alike = latin.iter().filter(|(other, _, _)| *other == own);
        let capital = c.is_uppercase();
        alike
            .clone()
            .find(|(_, _, upper)| *upper == capital)
            .or_else(|| alike.next())
            .map_or(0, |(_, letter, _)| *letter)
    };
    let i_and_l = skeleton('I');
    let looks_like_i_and_l = |c: char| skeleton(c) == i_and_l;
    let mut table = Vec::new();
    for (start, end) in LOOK_ALIKE_BLOCKS {
        for code in start..end {
            let Some(c) = char::from_u32(code) else {
                table.push(LookAlike::default());
                continue;
            };
            let mut lowercase = c.to_lowercase();
            let lower = match (lowercase.next(), lowercase.next()) {
                (Some(lower), None) => lower,
                _ => c,
            };
            let mut upper = lower.to_uppercase();
            let capital = match (upper.next(), upper.next()) {
                (Some(capital), None) if capital != lower => Some(capital),
                _ => None,
            };
            // The capital's look, unless it looks like both `I` and `l` (Cyrillic `Ӏ`):
            // then the lowercase letter's (`ӏ` is `l`, Greek `ι` is `i`).
            let folded = match capital.filter(|capital| !looks_like_i_and_l(*capital)).map(glyph) {
                Some(letter) if letter != 0 => letter,
                _ => match glyph(lower) {
                    0 => capital.map_or(0, glyph),
                    letter => letter,
                },
            };
            table.push(LookAlike {
                glyph: glyph(c),
                folded,
                latin: code < 0x2B0 || (0x1D00..0x1D80).contains(&code) || (0xA720..0xA800).contains(&code),
            });
        }
    }
    table
});

/// How `c` is read if it looks like a Latin letter ([`LOOK_ALIKES`]); None for every
/// other character, the Latin letters themselves among them.
fn look_alike(c: char) -> Option<LookAlike> {
    let code = u32::from(c);
    if code < LOOK_ALIKE_BLOCKS[0].0 {
        return None;
    }
    let mut offset = 0;
    for (start, end) in LOOK_ALIKE_BLOCKS {
        if code < start {
            return None;
        }
        if code < end {
            return LOOK_ALIKES
                .get(offset + (code - start) as usize)
                .filter(|entry| entry.glyph != 0 || entry.folded != 0)
                .copied();
        }
        offset += (end - start) as usize;
    }
    None
}

/// A word folded by [`fold_holding_look_alikes`], its look-alikes read: as the Latin
/// letters they look like, as written (else as [`LookAlike::folded`]), in a word that also
/// holds Latin letters (`Dörtе` with a Cyrillic `е`, `ΑSΗLΕΥ` with Greek capitals, `Daνid`
/// with a Greek `ν`); as the
/// Latin letters their lowercase forms are read as ([`LookAlike::folded`]) in a word of
/// such letters only (`Јоусе`, wholly Cyrillic); and as their own lowercase letters in a
/// word that holds another letter of their script (`Смирнова`). Small capitals are read as
/// their letters everywhere. Found by a blind test: a name with one letter swapped for its
/// Cyrillic or Greek look-alike, or written in small capitals, was no longer found.
///
/// The same reading is made of the vault's values and of the text scanned, so a customer
/// whose name is written in Cyrillic or Greek matches that name as before; a Greek or
/// Cyrillic word wholly of look-alikes (`Анна` is read `ahha`) is then also matched by
/// the Latin letters it looks like, which adds matches only between words that look alike,
/// still with a second field of the same customer. A word of one script is read the same
/// in either case; a word mixing scripts is read as its letters look, case by case, since
/// Greek `Ν` and `ν` look like `N` and `v`.
fn read_look_alikes(word: &str) -> String {
    let mixed = word
        .chars()
        .any(|c| c.is_ascii_alphabetic() || look_alike(c).is_some_and(|entry| entry.latin));
    let wholly = !mixed
        && word
            .chars()
            .all(|c| c.is_ascii() || !c.is_alphabetic() || look_alike(c).is_some_and(|entry| entry.folded != 0));
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        let letter = match look_alike(c) {
            Some(entry) if entry.latin => Some(if entry.folded != 0 { entry.folded } else { entry.glyph }),
            Some(entry) if mixed => Some(if entry.glyph != 0 { entry.glyph } else { entry.folded }),
            Some(entry) if wholly => Some(entry.folded),
            _ => None,
        };
        match letter.filter(|letter| *letter != 0) {
            Some(letter) => out.push(char::from(letter)),
            None => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Common address words reduced to their postal abbreviation, so "Street" and "St."
/// hash the same.
fn canonical_word(word: &str) -> &str {
    canonical_abbreviation(word).unwrap_or_else(|| without_street_suffix(word))
}

/// A German or Dutch street name with its `-straße` (folded `strasse`) or `-straat`
/// written as `-str.`, the way addresses abbreviate it (`Hauptstraße` = `Hauptstr.`,
/// found by a blind test; `Kalverstraat` = `Kalverstr.`), and a Dutch `-gracht` or
/// `-weg` as `-gr.` or `-wg.` (`Keizersgr.`, `Stationswg.`; found by a blind test), and
/// a Swedish `-gatan` or `-vägen` as `-g.` or `-v.`: each read as the shorter, which is
/// a slice of both.
fn without_street_suffix(word: &str) -> &str {
    if let Some(short) = word.strip_suffix("asse").or_else(|| word.strip_suffix("aat")) {
        if short.ends_with("str") {
            return short;
        }
    }
    // Swedish `-gatan` and `-vägen` as `-g.` and `-v.` (`Linnég.`, `Sveav.`; found
    // missed by a blind test).
    if let Some(short) = word
        .strip_suffix("atan")
        .filter(|short| short.len() > 3 && short.ends_with('g'))
        .or_else(|| {
            word.strip_suffix("agen")
                .filter(|short| short.len() > 3 && short.ends_with('v'))
        })
    {
        return short;
    }
    if let Some(short) = word
        .strip_suffix("acht")
        .filter(|short| short.len() > 4 && short.ends_with("gr"))
    {
        return short;
    }
    match word.strip_suffix("eg").or_else(|| word.strip_suffix('g')) {
        Some(short) if short.len() > 3 && short.ends_with('w') => short,
        _ => word,
    }
}

/// The postal abbreviation of a common address word, if it is one (empty for a word
/// that addresses may carry or not, such as a postal code's label).
fn canonical_abbreviation(word: &str) -> Option<&'static str> {
    Some(match word {
        // `Str.` is a street in English and German (`Maple Str`, `Goethe-Straße`; found
        // missed by a blind test).
        "street" | "str" | "strasse" => "st",
        "avenue" => "ave",
        "road" => "rd",
        "boulevard" => "blvd",
        "drive" => "dr",
        "lane" => "ln",
        "court" => "ct",
        "place" => "pl",
        "square" => "sq",
        "apartment" => "apt",
        "suite" => "ste",
        "floor" => "fl",
        // More of the USPS's and Royal Mail's, and the German, Spanish and Polish for a
        // square, street and avenue (`Guntram-Löwer-Pl.`, `ul. Długa`, `al. Jana Pawła`;
        // found missed by a blind test).
        "parkway" => "pkwy",
        "highway" => "hwy",
        "expressway" => "expy",
        "terrace" | "terr" | "tce" => "ter",
        "crescent" => "cres",
        "circle" => "cir",
        "heights" => "hts",
        "building" => "bldg",
        "platz" | "plaza" | "plac" => "pl",
        "ulica" => "ul",
        "aleja" | "aleje" => "al",
        // Portuguese, Spanish and French: `R. Augusta`, `C/ Mayor`, `Av. Paulista`,
        // `Avda. de América`, `Bd Haussmann` (found missed by a blind test).
        // `r.` is the French `rue` as well (found missed by a blind test).
        "rua" | "rue" => "r",
        // Italian `V. Dante` for `Via Dante` (found missed by a blind test).
        "via" => "v",
        // And Colombia's `Cl.`/`Cll.` for `Calle` (so `Cl` for `Close` reads as it) and
        // `Cra.`/`Kr` for `Carrera` (found missed by a blind test).
        "calle" | "cl" | "cll" | "close" => "c",
        "carrera" | "cra" | "kr" | "kra" => "cra",
        "avenida" | "avda" | "av" => "ave",
        "bd" => "blvd",
        // French street names' titles and ways (`rue du Gén. Leclerc`, `Fbg`, `Imp.`,
        // `Ch.`, `Rte`, `St-Denis`; found missed by a blind test).
        "general" => "gen",
        "marechal" => "mal",
        "president" => "pdt",
        "faubourg" => "fbg",
        "impasse" => "imp",
        "chemin" => "ch",
        "route" => "rte",
        "saint" => "st",
        "sainte" => "ste",
        // Labels of a postal code (`CEP 22070-011` in Brazil, `PLZ 10115` in Germany)
        // are no part of the address: dropped.
        "cep" | "plz" => "",
        // Vietnamese wards and districts as written in full, abbreviated and in English:
        // `Phường 10` = `P.10` = `Ward 10`, `Quận 3` = `Q.3` = `District 3` = `Dist. 3`
        // (found missed by a blind test).
        // And `F` (`F12`, `F.12`), as Saigon writes its wards (found missed by a blind
        // test); one letter alone is no word of a name.
        "phuong" | "ward" | "f" => "p",
        "quan" | "district" | "dist" => "q",
        // And the street, rural district and commune as Vietnamese people abbreviate
        // them: `Đ. Trần Phú` = `Đường Trần Phú`, `H. Củ Chi` = `Huyện Củ Chi`, `X. Tân
        // Thông Hội` = `Xã Tân Thông Hội` (found missed by a blind test). The names
        // `Dương` and `Huyền` fold to the same words and are keyed so too, on both sides,
        // as `Phương` is; an initial (`H.` alone) is still no word of a name.
        "duong" => "d",
        "huyen" => "h",
        "xa" => "x",
        // More of Royal Mail's, and the French, Spanish, Portuguese and Russian for an
        // alley, square, crossing street, street and house (`Windsor Gdns`, `all. des
        // Lilas`, `Pza. Mayor`, `Tv. Augusta`, `улица Чехова, дом 120` for `ул. Чехова,
        // д. 120`; found missed by a blind test).
        "gardens" => "gdns",
        "grove" => "gr",
        "allee" => "all",
        "pza" => "pl",
        "paseo" | "pso" => "po",
        "travessa" => "tv",
        "улица" => "ул",
        "дом" => "д",
        "квартира" => "кв",
        // Indonesian, Turkish, Ukrainian, Filipino, Norwegian, Québécois, Hebrew and
        // Arabic streets, numbers, wards and towns in full and abbreviated (`Jalan` =
        // `Jl.`, `Nomor` = `No.`, `Caddesi` = `Cad.`, `Bulvarı` = `Blv.`, `вулиця` = `вул.`, `Barangay` =
        // `Brgy.`, `gate` = `gt.`, `appartement` = `app.`, `רחוב` = `רח'`, `شارع` = `ش`),
        // and a flat by either English word (`Flat 12` = `Apartment 12`); found missed by
        // a blind test. Ukrainian `буд.` (house) labels the number: dropped.
        "jalan" => "jl",
        "nomor" => "no",
        "kelurahan" => "kel",
        "kecamatan" => "kec",
        "mahallesi" => "mah",
        "caddesi" => "cad",
        "sokak" | "sokagi" => "sok",
        "bulvari" | "bulvar" | "blv" => "bulv",
        "вулиця" => "вул",
        "місто" => "м",
        "буд" | "будинок" => "",
        "barangay" => "brgy",
        "gate" => "gt",
        "appartement" | "app" => "apt",
        "flat" => "apt",
        // A Spanish flat (`Depto B`, `dto. B`; found missed by a blind test).
        "departamento" | "depto" | "dpto" => "dto",
        "רחוב" => "רח",
        "شارع" => "ش",
        "north" => "n",
        "south" => "s",
        "east" => "e",
        "west" => "w",
        _ => return None,
    })
}

/// Calls `visit(normalized, start, end)` for every token of `text`, in order, without
/// allocating per token: ASCII words are lowercased into one reusable buffer, and only
/// words with non-ASCII characters take the Unicode path ([`fold`]).
pub fn for_each_token(text: &str, mut visit: impl FnMut(&str, usize, usize)) {
    let mut buffer = String::new();
    for_each_raw_word(text, |raw, begin, end, ascii| {
        let normalized = normalize_word(raw, ascii, &mut buffer);
        if !normalized.is_empty() {
            visit(normalized, begin, end);
        }
    });
}

/// Calls `visit(raw, start, end, ascii)` for every maximal run of word characters
/// (alphanumerics and combining marks) of `text`, in order; `ascii` tells whether the run
/// is all ASCII. [`normalize_word`] turns a run into its token; callers that see the
/// same words again can memoize on the raw run and skip normalizing.
pub fn for_each_raw_word(text: &str, mut visit: impl FnMut(&str, usize, usize, bool)) {
    let bytes = text.as_bytes();
    // The run being read: its start and whether it is all ASCII so far.
    let mut open: Option<(usize, bool)> = None;
    let mut emit = |begin: usize, end: usize, ascii: bool| {
        visit(text.get(begin..end).unwrap_or_default(), begin, end, ascii);
    };
    let mut index = 0;
    while index < bytes.len() {
        let block = bytes.get(index..index + 64).map(|block| {
            let (word, non_ascii) = masks::block_masks(block, masks::Lanes::alphanumeric, masks::Lanes::non_ascii);
            (word, non_ascii == 0)
        });
        match block {
            // All-ASCII blocks: one bit per byte, runs found from the mask's bit
            // transitions. Word and separator bytes alternate every few bytes in text,
            // so a branch per byte is mispredicted at every word edge.
            Some((word, true)) => {
                let mut from = 0;
                loop {
                    let edge = match open {
                        Some(_) => !word & (u64::MAX << from),
                        None => word & (u64::MAX << from),
                    };
                    if edge == 0 {
                        break;
                    }
                    from = edge.trailing_zeros();
                    let at = index + from as usize;
                    open = match open {
                        Some((begin, ascii)) => {
                            emit(begin, at, ascii);
                            None
                        }
                        None => Some((at, true)),
                    };
                }
                index += 64;
            }
            // Elsewhere (non-ASCII text, the tail) a character at a time, for up to a
            // block's worth of bytes before trying the fast path again.
            _ => {
                let stop = index + 64;
                while index < stop {
                    let Some(c) = text.get(index..).and_then(|rest| rest.chars().next()) else {
                        index = bytes.len();
                        break;
                    };
                    let is_word = if c.is_ascii() {
                        c.is_ascii_alphanumeric()
                    } else {
                        is_word_char(c)
                    };
                    if is_word && is_word_of_its_own(c) {
                        if let Some((begin, ascii)) = open.take() {
                            emit(begin, index, ascii);
                        }
                        emit(index, index + c.len_utf8(), false);
                        index += c.len_utf8();
                        continue;
                    }
                    open = match (is_word, open) {
                        (true, None) => Some((index, c.is_ascii())),
                        (true, Some((begin, ascii))) => Some((begin, ascii && c.is_ascii())),
                        (false, Some((begin, ascii))) => {
                            emit(begin, index, ascii);
                            None
                        }
                        (false, None) => None,
                    };
                    index += c.len_utf8();
                }
            }
        }
    }
    if let Some((begin, ascii)) = open {
        emit(begin, bytes.len(), ascii);
    }
}

/// Whether a word character is a word of its own: a Han ideograph (with the iteration
/// mark 々), kana or a Hangul syllable. Chinese and Japanese are written without spaces
/// between words, and Korean glues particles and titles to names, so "山田太郎様" holds
/// the name 山田 太郎 only when each character is read alone. A name of such characters
/// is then matched character by character, as search engines index these scripts.
pub(crate) fn is_word_of_its_own(c: char) -> bool {
    matches!(c,
        '\u{3005}'
        | '\u{3040}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

/// Whether a token (folded) is a character of a script written without spaces (see
/// [`is_word_of_its_own`]): names of such tokens are matched whole and in order, as
/// their characters are not first and last names that can be reordered or dropped.
pub fn is_spaceless(token: &str) -> bool {
    // A folded Hangul syllable is its jamo: folding decomposes it (NFKD).
    token.chars().next().is_some_and(|c| {
        is_word_of_its_own(c)
            || matches!(c, '\u{1100}'..='\u{11FF}' | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}')
    })
}

/// Whether a token is an initial (`Q` in "John Q. Smith"): one character, and not a
/// word of its own (a Chinese surname is one character).
fn is_initial(token: &str) -> bool {
    let mut chars = token.chars();
    chars.next().is_some_and(|c| !is_word_of_its_own(c)) && chars.next().is_none()
}

/// Whether the raw word `raw`, normalized to `normalized`, is an initial: both are one
/// character (combining marks aside). A street word abbreviated to one letter
/// (`Calle` = `c`, `West` = `w`) is a word of a name, not an initial of one: "Andrés
/// Calle" and "Kanye West" keep both their words (found in review).
pub fn is_initial_word(raw: &str, normalized: &str) -> bool {
    is_initial(normalized) && raw.chars().filter(|c| !is_combining_mark(*c)).count() == 1
}

/// Whether a non-ASCII character is part of a word: alphanumeric or a combining mark.
/// The Latin letters of European and Vietnamese text are answered from their blocks,
/// which hold letters only: the general lookup costs a table search per character.
fn is_word_char(c: char) -> bool {
    match c {
        '\u{C0}'..='\u{24F}' => c != '\u{D7}' && c != '\u{F7}',
        '\u{300}'..='\u{36F}' | '\u{1E00}'..='\u{1EFF}' => true,
        _ => c.is_alphanumeric() || is_combining_mark(c),
    }
}

/// Whether `c` folds ([`fold`]) to text with an ASCII digit: an ASCII digit, or a
/// character whose compatibility decomposition holds one (fullwidth `１`, `²`, `½`,
/// `①`). The Latin letters and combining marks of European and Vietnamese text and
/// general punctuation (curly quotes, dashes), most non-ASCII characters scanned, are
/// answered from their blocks.
pub(crate) fn may_fold_to_ascii_digit(c: char) -> bool {
    match c {
        '0'..='9' => true,
        '\u{0}'..='\u{7F}'
        | '\u{C0}'..='\u{24F}'
        | '\u{300}'..='\u{36F}'
        | '\u{1E00}'..='\u{1EFF}'
        | '\u{2000}'..='\u{206F}' => false,
        _ => c.nfkd().any(|d| d.is_ascii_digit()),
    }
}

/// The token of one raw word run (see [`for_each_raw_word`]), written into `buffer`:
/// lowercased, folded when not ASCII, address words abbreviated. Empty when nothing
/// alphanumeric remains.
pub fn normalize_word<'a>(raw: &str, ascii: bool, buffer: &'a mut String) -> &'a str {
    buffer.clear();
    if ascii {
        buffer.push_str(raw);
        buffer.make_ascii_lowercase();
        if let Some(short) = canonical_abbreviation(buffer) {
            buffer.clear();
            buffer.push_str(short);
        } else {
            let kept = without_street_suffix(buffer).len();
            buffer.truncate(kept);
        }
    } else {
        let read = read_word(raw);
        // Folding may split a token (e.g. a ligature with a space); keep alphanumerics.
        buffer.extend(canonical_word(&read).chars().filter(|c| c.is_alphanumeric()));
    }
    if is_saigon_ward(buffer) {
        // `F12` is `P12`, a ward run into its number (see `canonical_abbreviation`).
        buffer.replace_range(..1, "p");
    }
    buffer.as_str()
}

/// Whether a lowercased ASCII word is a ward run into its number as Saigon writes it:
/// `f` and one or two digits (`f7`, `f12`).
fn is_saigon_ward(word: &str) -> bool {
    matches!(word.as_bytes(), [b'f', digits @ ..] if (1..=2).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit))
}

/// A word of non-ASCII text folded ([`fold`]) for [`canonical_word`]. A word's own
/// script's abbreviation is taken before its look-alikes are read, so `квартира` and
/// `кв` (flat) are one word as they were, whatever `кв` is read as.
fn read_word(raw: &str) -> String {
    let (held, look_alikes) = fold_holding_look_alikes(raw);
    if !look_alikes {
        return held;
    }
    // Lowercased a character at a time, as `fold` does: `str::to_lowercase` writes a
    // final sigma at a word's end.
    let lower: String = held.chars().flat_map(char::to_lowercase).collect();
    let abbreviated = canonical_word(&lower);
    if abbreviated == lower {
        read_look_alikes(&held)
    } else {
        read_look_alikes(abbreviated)
    }
}

/// Splits `text` into normalized alphanumeric tokens with their byte positions.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for_each_token(text, |normalized, start, end| {
        out.push(Token {
            text: normalized.to_string(),
            start,
            end,
        });
    });
    out
}

/// Collapses a whole value to its normalized tokens joined by single spaces.
pub fn normalized_words(text: &str) -> Vec<String> {
    tokens(text).into_iter().map(|t| t.text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocks answered without decomposing hold no character that folds to a digit,
    /// and every other character is answered as folding says.
    #[test]
    fn characters_that_fold_to_a_digit_are_known() {
        let mut folding = 0;
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let folds = fold(&c.to_string()).bytes().any(|b| b.is_ascii_digit());
            assert_eq!(may_fold_to_ascii_digit(c), folds, "{c:?} (U+{:04X})", u32::from(c));
            folding += usize::from(folds);
        }
        // Ten ASCII digits and hundreds of others (fullwidth, superscripts, fractions,
        // circled and mathematical digits).
        assert!(folding > 300, "{folding}");
    }

    /// The per-character reading the allocation-free tokenizer must equal.
    fn reference_tokens(text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        let mut push = |begin: usize, end: usize| {
            let folded = read_word(text.get(begin..end).unwrap_or_default());
            let mut text: String = canonical_word(&folded)
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            if is_saigon_ward(&text) {
                text.replace_range(..1, "p");
            }
            if !text.is_empty() {
                out.push(Token {
                    text,
                    start: begin,
                    end,
                });
            }
        };
        let mut start: Option<usize> = None;
        for (index, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            let word_char = c.is_alphanumeric() || is_combining_mark(c);
            if word_char && is_word_of_its_own(c) {
                if let Some(begin) = start.take() {
                    push(begin, index);
                }
                push(index, index + c.len_utf8());
                continue;
            }
            match (word_char, start) {
                (true, None) => start = Some(index),
                (false, Some(begin)) => {
                    push(begin, index);
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// Unicode's default-ignorable characters, as DerivedCoreProperties 18.0 lists them.
    const DEFAULT_IGNORABLE: [(char, char); 17] = [
        ('\u{AD}', '\u{AD}'),
        ('\u{34F}', '\u{34F}'),
        ('\u{61C}', '\u{61C}'),
        ('\u{115F}', '\u{1160}'),
        ('\u{17B4}', '\u{17B5}'),
        ('\u{180B}', '\u{180F}'),
        ('\u{200B}', '\u{200F}'),
        ('\u{202A}', '\u{202E}'),
        ('\u{2060}', '\u{206F}'),
        ('\u{3164}', '\u{3164}'),
        ('\u{FE00}', '\u{FE0F}'),
        ('\u{FEFF}', '\u{FEFF}'),
        ('\u{FFA0}', '\u{FFA0}'),
        ('\u{FFF0}', '\u{FFF8}'),
        ('\u{1BCA0}', '\u{1BCA3}'),
        ('\u{1D173}', '\u{1D17A}'),
        ('\u{E0000}', '\u{E0FFF}'),
    ];

    #[test]
    fn default_ignorable_characters_are_unicodes() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let listed = DEFAULT_IGNORABLE
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&c));
            assert_eq!(is_default_ignorable(c), listed, "U+{:04X}", u32::from(c));
        }
    }

    fn check(cases: &[(&str, &[&str])]) {
        for (text, expected) in cases {
            assert_eq!(normalized_words(text), *expected, "{text:?}");
        }
    }

    /// Words as a reader sees them: characters that show nothing dropped, letters that
    /// look Latin read as Latin in a word with Latin letters or of look-alikes only, and
    /// words of Cyrillic and Greek read alike in either case.
    #[test]
    fn words_are_read_as_a_reader_sees_them() {
        check(&[
            // A Hangul filler is a letter that shows nothing.
            ("Ma\u{3164}ria Ro\u{FFA0}ssi", &["maria", "rossi"]),
            // One letter swapped for a Cyrillic or Greek look-alike.
            ("Dörtе Schrödеr", &["dorte", "schroder"]),
            ("Ana Rοssi", &["ana", "rossi"]),
            ("Daνid Kυrt", &["david", "kurt"]),
            // Greek capitals among Latin ones, as they look (`Η` is `H`, `Υ` is `Y`).
            ("ΑSΗLΕΥ WΙLSΟΝ", &["ashley", "wilson"]),
            // Small capitals, IPA's script g and Cherokee capitals.
            ("ᴀꜱʜʟᴇʏ ᴡɪʟꜱᴏɴ", &["ashley", "wilson"]),
            ("ɡreta ᎪᏴᏟ", &["greta", "abc"]),
            // Words wholly of look-alikes, in either case.
            ("Јоусе Науеѕ", &["joyce", "hayes"]),
            // Cyrillic palochka looks like `l`, its capital like `I` and `l`.
            ("Аѕһӏеу АЅҺӀЕУ", &["ashley", "ashley"]),
            ("ЈОУСЕ НАУЕЅ", &["joyce", "hayes"]),
            ("ΑΝΑ ΡΟΣΣΙ", &["ana", "poooi"]),
            // Real Cyrillic and Greek names: a word with another letter of its script
            // stays as it is; one wholly of look-alikes is read alike in either case.
            ("Ксения Лебедева", &["ксения", "лебедева"]),
            ("КСЕНИЯ ЛЕБЕДЕВА", &["ксения", "лебедева"]),
            ("Анна Смирнова", &["ahha", "смирнова"]),
            ("АННА СМИРНОВА", &["ahha", "смирнова"]),
            ("Κώστας ΚΩΣΤΑΣ", &["κωστασ", "κωστασ"]),
            ("Νίκος ΝΙΚΟΣ", &["nikoo", "nikoo"]),
            // A script's own abbreviations are read before its look-alikes.
            (
                "улица ул. дом д. квартира кв. місто м.",
                &["ул", "ул", "д", "д", "kb", "kb", "m", "m"],
            ),
            ("Strееt Hаuptstrаße", &["st", "hauptstr"]),
        ]);
    }

    proptest::proptest! {
        /// A word of Greek or Cyrillic letters is read alike in either case, and a Latin
        /// word with its letters swapped for look-alikes, in either case, as the word.
        #[test]
        fn look_alikes_are_read_alike_in_either_case(
            word in "[а-яё]{1,8}|[α-ω]{1,8}",
            latin in proptest::collection::vec((0usize..12, proptest::bool::ANY, proptest::bool::ANY), 1..10),
        ) {
            proptest::prop_assert_eq!(normalized_words(&word.to_uppercase()), normalized_words(&word));
            // Latin letters with Cyrillic look-alikes in both cases.
            const ALIKE: [(char, char, char); 12] = [
                ('a', 'а', 'А'), ('c', 'с', 'С'), ('e', 'е', 'Е'), ('o', 'о', 'О'), ('p', 'р', 'Р'),
                ('x', 'х', 'Х'), ('y', 'у', 'У'), ('i', 'і', 'І'), ('j', 'ј', 'Ј'), ('s', 'ѕ', 'Ѕ'),
                ('h', 'һ', 'Һ'), ('k', 'к', 'К'),
            ];
            let plain: String = latin.iter().map(|(at, _, _)| ALIKE[*at].0).collect();
            let disguised: String = latin
                .iter()
                .map(|(at, swapped, capital)| match (swapped, capital) {
                    (false, false) => ALIKE[*at].0,
                    (false, true) => ALIKE[*at].0.to_ascii_uppercase(),
                    (true, false) => ALIKE[*at].1,
                    (true, true) => ALIKE[*at].2,
                })
                .collect();
            proptest::prop_assert_eq!(normalized_words(&disguised), normalized_words(&plain), "{}", disguised);
        }
    }

    #[test]
    fn latin_blocks_are_read_like_the_unicode_tables() {
        let blocks = ['\u{80}'..='\u{24F}', '\u{250}'..='\u{36F}', '\u{1E00}'..='\u{1EFF}'];
        for c in blocks.into_iter().flatten() {
            assert_eq!(is_word_char(c), c.is_alphanumeric() || is_combining_mark(c), "{c:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn tokens_equal_the_per_character_reading(
            text in "(Street|street|Hauptstraße|STRASSE|ÆSIR|ǅ|ﬁ|Đà Nẵng|e\u{301}|山田太郎様|김민준님|ヤマダ・タロウ|[a-zA-Z0-9 ,.\\-@|]|\\PC){0,24}"
        ) {
            proptest::prop_assert_eq!(tokens(&text), reference_tokens(&text));
        }

        /// Long, mostly ASCII texts: words crossing the 64-byte blocks of the fast path
        /// and its switches to the per-character path and back.
        #[test]
        fn long_texts_tokenize_like_the_per_character_reading(
            text in "(Street|Nguyễn|e\u{301}|鈴木一郎様|[a-zA-Z0-9]{1,12}|[ ,.\\-@|\n]{1,3}|\\PC){0,200}"
        ) {
            proptest::prop_assert_eq!(tokens(&text), reference_tokens(&text));
        }
    }
}
