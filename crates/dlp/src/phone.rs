//! Small phone-number normalizer to E.164.
//!
//! The `phonenumber` crate carries the full libphonenumber metadata and regex set, which
//! is heavy to build and slow per call; matching only needs the country calling code and
//! the national significant number (NSN), so this module keeps the prefix-free ITU
//! calling-code list and the trunk-prefix rule ("0" in most countries, none in NANP).

/// ITU country calling codes (prefix-free), as digit strings.
const CALLING_CODES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48",
    "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
    "86", "90", "91", "92", "93", "94", "95", "98", "211", "212", "213", "216", "218", "220", "221", "222", "223",
    "224", "225", "226", "227", "228", "229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239",
    "240", "241", "242", "243", "244", "245", "246", "248", "249", "250", "251", "252", "253", "254", "255", "256",
    "257", "258", "260", "261", "262", "263", "264", "265", "266", "267", "268", "269", "290", "291", "297", "298",
    "299", "350", "351", "352", "353", "354", "355", "356", "357", "358", "359", "370", "371", "372", "373", "374",
    "375", "376", "377", "378", "380", "381", "382", "383", "385", "386", "387", "389", "420", "421", "423", "500",
    "501", "502", "503", "504", "505", "506", "507", "508", "509", "590", "591", "592", "593", "594", "595", "596",
    "597", "598", "599", "670", "672", "673", "674", "675", "676", "677", "678", "679", "680", "681", "682", "683",
    "685", "686", "687", "688", "689", "690", "691", "692", "850", "852", "853", "855", "856", "880", "886", "960",
    "961", "962", "963", "964", "965", "966", "967", "968", "970", "971", "972", "973", "974", "975", "976", "977",
    "992", "993", "994", "995", "996", "998",
];

/// Calling codes whose numbers keep their leading 0 after the code (Italy, San Marino,
/// Vatican City): `06 6705 1838` in Rome is `+39 06 6705 1838`, not `+39 6…`.
const LEADING_ZERO_KEPT: &[&str] = &["39", "378", "379"];

/// A phone number split into calling code and national significant number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    /// Country calling code digits, when known.
    pub country_code: Option<String>,
    /// National digits without a leading 0, the way a national reading of the number
    /// is keyed.
    pub national: String,
    /// The number began with a 0 that its international form keeps (see
    /// [`LEADING_ZERO_KEPT`]).
    pub leading_zero_kept: bool,
}

impl PhoneNumber {
    fn new(country_code: Option<&str>, national: &str) -> Self {
        let stripped = national.strip_prefix('0');
        Self {
            leading_zero_kept: stripped.is_some() && country_code.is_some_and(|cc| LEADING_ZERO_KEPT.contains(&cc)),
            country_code: country_code.map(str::to_string),
            national: stripped.unwrap_or(national).to_string(),
        }
    }

    /// The digits a national reading of the number written with its country's trunk
    /// prefix gives, when that prefix is neither `0` (which national readings drop) nor
    /// NANP's `1` (read with and without): `06 1 234 5678` in Hungary is read as
    /// `612345678`, `8 912 345-67-89` in Russia as `89123456789`.
    pub fn national_with_trunk(&self) -> Option<String> {
        let trunk = model::normalize::trunk_prefix(self.country_code.as_deref()?);
        let kept = trunk.trim_start_matches('0');
        (!kept.is_empty() && trunk != "1").then(|| format!("{kept}{}", self.national))
    }

    /// E.164 form (`+` and digits) when the calling code is known.
    pub fn e164(&self) -> Option<String> {
        let zero = if self.leading_zero_kept { "0" } else { "" };
        self.country_code
            .as_ref()
            .map(|cc| format!("+{cc}{zero}{}", self.national))
    }
}

/// Calling code for an ISO 3166-1 alpha-2 country, if known: the vault's table, so the
/// index reads a national number in the same countries that imports accept.
pub fn calling_code(country: &str) -> Option<&'static str> {
    model::normalize::calling_code(country)
}

fn split_calling_code(digits: &str) -> Option<(&str, &str)> {
    let (code, _) = split_calling_code_bytes(digits.as_bytes())?;
    Some((digits.get(..code.len())?, digits.get(code.len()..)?))
}

/// [`split_calling_code`] of digits as bytes: the calling code (the list is
/// prefix-free, so at most one length fits) and the national number after it.
fn split_calling_code_bytes(digits: &[u8]) -> Option<(&[u8], &[u8])> {
    (1..=3).find_map(|len| {
        let (cc, rest) = (digits.get(..len)?, digits.get(len..)?);
        CALLING_CODES
            .iter()
            .any(|code| code.as_bytes() == cc)
            .then_some((cc, rest))
    })
}

/// Parses international (`+84 91…`, `0084 91…`) and national (`091…`, `(415) 555-…`) forms.
/// National numbers are read in `country` when given. Returns None when the digit count
/// is outside 7..=15 or the international prefix names no calling code.
pub fn parse(raw: &str, country: Option<&str>) -> Option<PhoneNumber> {
    let cleaned = raw.replace("(0)", "");
    let trimmed = cleaned.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    if let Some(number) = international {
        let (cc, national) = split_calling_code(number)?;
        let number = PhoneNumber::new(Some(cc), national);
        return valid_length(&number.national).then_some(number);
    }
    let cc = country.and_then(calling_code);
    let number = match cc {
        // NANP numbers are often written with the leading 1.
        Some("1") if digits.len() == 11 => PhoneNumber::new(cc, digits.strip_prefix('1').unwrap_or(&digits)),
        // Other trunk prefixes than 0 (`06`, `8`) are dropped as imports drop them.
        Some(code) if !matches!(model::normalize::trunk_prefix(code), "" | "0" | "1") => {
            PhoneNumber::new(cc, model::normalize::national_number(&digits, code))
        }
        _ => PhoneNumber::new(cc, &digits),
    };
    valid_length(&number.national).then_some(number)
}

/// Whether `raw` is a number with a known calling code, i.e.
/// `parse(raw, None).is_some_and(|n| n.country_code.is_some())`, without allocating:
/// the international-phone detector asks this of every candidate.
pub fn is_international(raw: &str) -> bool {
    // Longer digit strings leave a national number longer than 14 digits.
    const MAX_DIGITS: usize = 24;
    let mut digits = [0u8; MAX_DIGITS];
    let mut count = 0;
    let mut first = None;
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        // "(0)" is dropped before anything is read, as in `parse`.
        if let Some(after) = rest.strip_prefix("(0)") {
            rest = after;
            continue;
        }
        if first.is_none() && !c.is_whitespace() {
            first = Some(c);
        }
        if c.is_ascii_digit() {
            match digits.get_mut(count) {
                Some(slot) => *slot = c as u8,
                None => return false,
            }
            count += 1;
        }
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    let digits = digits.get(..count).unwrap_or_default();
    let number = if first == Some('+') {
        digits
    } else {
        match digits.strip_prefix(b"00") {
            Some(number) => number,
            None => return false,
        }
    };
    let Some((_, national)) = split_calling_code_bytes(number) else {
        return false;
    };
    let national = national.strip_prefix(b"0").unwrap_or(national);
    (6..=14).contains(&national.len())
}

fn valid_length(national: &str) -> bool {
    (6..=14).contains(&national.len())
}

/// Digit strings a phone-like text run may stand for: its digits read as E.164 (with any
/// `00` international prefix dropped) and, unless it starts with `+` or `00`, as a
/// national number without trunk prefix.
pub fn candidate_keys(raw: &str) -> Vec<String> {
    let mut keys = Vec::with_capacity(3);
    for_each_candidate_key(raw, |key| {
        keys.push(String::from_utf8_lossy(key).into_owned());
    });
    keys
}

/// Fewest digits [`candidate_keys`] reads.
pub const MIN_KEY_DIGITS: usize = 7;

/// Longest digit string [`candidate_keys`] reads.
const MAX_KEY_DIGITS: usize = 15;

/// Calls `visit` with each of [`candidate_keys`]`(raw)` as bytes, without allocating: the
/// scan hashes these for every phone-like run.
pub fn for_each_candidate_key(raw: &str, mut visit: impl FnMut(&[u8])) {
    // "+" then up to 15 digits; "(0)" is dropped before digits are read.
    let mut buffer = [b'+'; MAX_KEY_DIGITS + 1];
    let mut count = 0;
    let bytes = raw.as_bytes();
    let mut index = 0;
    while let Some(&b) = bytes.get(index) {
        if bytes.get(index..index + 3) == Some(b"(0)".as_slice()) {
            index += 3;
            continue;
        }
        if b.is_ascii_digit() {
            count += 1;
            if let Some(slot) = buffer.get_mut(count) {
                *slot = b;
            }
        }
        index += 1;
    }
    if !(MIN_KEY_DIGITS..=MAX_KEY_DIGITS).contains(&count) {
        return;
    }
    let Some(digits) = buffer.get(1..=count) else {
        return;
    };
    // E.164 reading: "+" and the digits, an international "00" dropped.
    if digits.starts_with(b"00") {
        let mut international = [b'+'; MAX_KEY_DIGITS + 1];
        if let (Some(target), Some(source)) = (international.get_mut(1..count - 1), digits.get(2..)) {
            target.copy_from_slice(source);
        }
        let e164 = international.get(..count - 1).unwrap_or_default();
        visit(e164);
        visit_written_variants(e164, &mut visit);
        return;
    }
    let e164 = buffer.get(..=count).unwrap_or_default();
    visit(e164);
    // A number written with its country code is that country's: its digits read as a
    // national number would be taken for one of the customer's own country
    // (`+1 7911924512` is not `07911 924512` in Leeds).
    if raw.trim_start().starts_with('+') {
        visit_written_variants(e164, &mut visit);
        return;
    }
    visit(digits.strip_prefix(b"0").unwrap_or(digits));
    if count == 11 {
        if let Some(nanp) = digits.strip_prefix(b"1") {
            visit(nanp);
        }
    }
}

/// Calls `visit` with the other ways `e164` (`+` and digits, as written) is read: without
/// a trunk 0 after the calling code, and as a Mexican mobile number without the `1`
/// written before it until 2019 ([`without_mexican_mobile_one`]).
fn visit_written_variants(e164: &[u8], visit: &mut impl FnMut(&[u8])) {
    visit_without_trunk_zero(e164, visit);
    if let Some(current) = without_mexican_mobile_one(e164) {
        visit(&current);
    }
}

/// `+52 1 81 4632 1591` as `+52 81 4632 1591`: Mexican mobile numbers were dialled from
/// abroad with a `1` after the calling code until 2019, and old records keep it.
pub fn without_mexican_mobile_one(e164: &[u8]) -> Option<[u8; 13]> {
    // `+`, `52`, `1` and the ten digits of the number.
    let number = e164.strip_prefix(b"+521").filter(|number| number.len() == 10)?;
    let mut current = *b"+520000000000";
    current.get_mut(3..)?.copy_from_slice(number);
    Some(current)
}

/// An Argentine number in its other international form: mobile numbers are dialled
/// from abroad with a `9` after the calling code (`+54 9 11 6897 5909`, as every chat
/// export writes them), and records keep one form or the other (found missed by a
/// blind test).
pub fn argentine_other_form(e164: &[u8]) -> Option<Vec<u8>> {
    let number = e164.strip_prefix(b"+54")?;
    match number {
        [b'9', rest @ ..] if rest.len() == 10 => Some([b"+54".as_slice(), rest].concat()),
        _ if number.len() == 10 => Some([b"+549".as_slice(), number].concat()),
        _ => None,
    }
}

/// Calls `visit` with `e164` (`+` and digits) without the trunk `0` written after its
/// calling code, a common slip (`+84 0912 345 678`, `+44 07911 123456`), where the code
/// is known and its numbers do not keep the 0 (see [`LEADING_ZERO_KEPT`]).
fn visit_without_trunk_zero(e164: &[u8], visit: &mut impl FnMut(&[u8])) {
    let Some(number) = e164.get(1..) else {
        return;
    };
    // Codes are 1 to 3 digits long: no 0 after one, nothing to drop (most numbers).
    if !number.get(1..4).unwrap_or_default().contains(&b'0') {
        return;
    }
    let Some((code, national)) = split_calling_code_bytes(number) else {
        return;
    };
    if national.first() != Some(&b'0') || LEADING_ZERO_KEPT.iter().any(|kept| kept.as_bytes() == code) {
        return;
    }
    // The key is `+`, the code and the national digits after the 0: one byte shorter.
    let mut key = [b'+'; MAX_KEY_DIGITS + 1];
    for (slot, digit) in key.iter_mut().skip(1).zip(code.iter().chain(national.iter().skip(1))) {
        *slot = *digit;
    }
    visit(key.get(..e164.len() - 1).unwrap_or_default());
}

/// Sub-runs of a phone-like match worth trying: the whole run, its parts split on `/`,
/// a dash of typesetting or a column gap (a tab, or two spaces or more), and each prefix
/// and suffix of whole digit groups of 7 to 15 digits: neighbouring cells run together
/// into one run (`0160 00177517 030 12345678`, a mobile and an office number;
/// `0950 802 481 12 500`, a phone and an amount), or a number glued on.
/// A first group that is an international prefix (`+52`, `0052`) stays: what follows it
/// is a national number of that country, and read alone it would be taken for one of
/// the customer's own country (`+52 312 546 1350` in Mexico is not `(312) 546-1350` in
/// Chicago); a suffix of such a run is read only after a whole number, of 7 digits or
/// more.
pub fn candidate_runs(run: &str) -> Vec<&str> {
    let mut runs = vec![run];
    // Two numbers, or a number and a year, apart by a slash or a dash of typesetting
    // (`415 555 0123 – 415 555 0199`, found in review).
    if run.contains(['/', '\u{2013}', '\u{2014}']) {
        runs.extend(
            run.split(['/', '\u{2013}', '\u{2014}'])
                .map(str::trim)
                .filter(|p| !p.is_empty()),
        );
    }
    let trimmed = run.trim();
    // Where groups end and the next begins: gaps of any spaces, no-break ones too.
    let gaps = group_gaps(trimmed);
    // Cells of a table row pasted as text: a phone in the middle cell is neither a
    // prefix nor a suffix of the run (`12<TAB>0160 00177517<TAB>030 1234`).
    if gaps.iter().any(|gap| gap.wide) {
        let mut start = 0;
        for gap in gaps.iter().filter(|gap| gap.wide) {
            runs.extend(trimmed.get(start..gap.start));
            start = gap.end;
        }
        runs.extend(trimmed.get(start..));
    }
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let digits = |text: &str| text.bytes().filter(u8::is_ascii_digit).count();
    let keyed = |text: &str| (MIN_KEY_DIGITS..=MAX_KEY_DIGITS).contains(&digits(text));
    for gap in &gaps {
        let (Some(head), Some(tail)) = (trimmed.get(..gap.start), trimmed.get(gap.end..)) else {
            continue;
        };
        let head_digits = digits(head);
        if (MIN_KEY_DIGITS..=MAX_KEY_DIGITS).contains(&head_digits) {
            runs.push(head);
        }
        if (!international || head_digits >= MIN_KEY_DIGITS) && keyed(tail) {
            runs.push(tail);
        }
    }
    // A cell can be the run, its prefix or its suffix too: each is keyed once, since
    // keying hashes (a customer table has a phone run in every row).
    runs.sort_unstable();
    runs.dedup();
    runs
}

/// A run of whitespace between two digit groups of a phone-like run.
struct Gap {
    start: usize,
    end: usize,
    /// A tab, or two spaces or more: a gap between columns rather than digit groups.
    wide: bool,
}

/// The whitespace gaps of `run` (trimmed), in order.
fn group_gaps(run: &str) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = Vec::new();
    for (index, c) in run.char_indices().filter(|(_, c)| c.is_whitespace()) {
        let end = index + c.len_utf8();
        match gaps.last_mut() {
            Some(gap) if gap.end == index => {
                gap.end = end;
                gap.wide = true;
            }
            _ => gaps.push(Gap {
                start: index,
                end,
                wide: c == '\t',
            }),
        }
    }
    gaps
}
