//! Normalization of the identifiers that blind indexes are built on.
//!
//! Phone numbers are normalized to E.164 by hand rather than with the
//! `phonenumber` crate: blind indexes only need a canonical digit string
//! (not validation of number ranges), and importing a million customers
//! cannot afford a full metadata parse per number.

/// An email address for exact lookup: trimmed and lowercased.
pub fn email(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    if local.is_empty() || domain.is_empty() || !domain.contains('.') || e.contains(char::is_whitespace) {
        return None;
    }
    Some(e)
}

/// Country calling codes by ISO 3166 alpha-2 code, with the national trunk
/// prefix that a national number starts with.
const CALLING_CODES: &[(&str, &str, &str)] = &[
    ("VN", "84", "0"),
    ("US", "1", "1"),
    ("CA", "1", "1"),
    ("GB", "44", "0"),
    ("DE", "49", "0"),
    ("FR", "33", "0"),
    ("ES", "34", ""),
    ("IT", "39", ""),
    ("NL", "31", "0"),
    ("CN", "86", "0"),
    ("HK", "852", ""),
    ("TW", "886", "0"),
    ("JP", "81", "0"),
    ("KR", "82", "0"),
    ("SG", "65", ""),
    ("MY", "60", "0"),
    ("TH", "66", "0"),
    ("ID", "62", "0"),
    ("PH", "63", "0"),
    ("IN", "91", "0"),
    ("AU", "61", "0"),
    ("NZ", "64", "0"),
    ("BR", "55", "0"),
    ("MX", "52", ""),
    ("AE", "971", "0"),
    ("ZA", "27", "0"),
    ("SE", "46", "0"),
    ("CH", "41", "0"),
    ("PL", "48", ""),
    // "UK" is not ISO 3166 but is what people write for GB.
    ("UK", "44", "0"),
    ("IE", "353", "0"),
    ("PT", "351", ""),
    ("BE", "32", "0"),
    ("LU", "352", ""),
    ("AT", "43", "0"),
    ("DK", "45", ""),
    ("NO", "47", ""),
    ("FI", "358", "0"),
    ("IS", "354", ""),
    ("CZ", "420", ""),
    ("SK", "421", "0"),
    ("HU", "36", "06"),
    ("RO", "40", "0"),
    ("BG", "359", "0"),
    ("GR", "30", ""),
    ("HR", "385", "0"),
    ("SI", "386", "0"),
    ("RS", "381", "0"),
    ("EE", "372", ""),
    ("LV", "371", ""),
    ("LT", "370", "8"),
    ("UA", "380", "0"),
    ("RU", "7", "8"),
    ("KZ", "7", "8"),
    ("TR", "90", "0"),
    ("IL", "972", "0"),
    ("SA", "966", "0"),
    ("QA", "974", ""),
    ("KW", "965", ""),
    ("EG", "20", "0"),
    ("MA", "212", "0"),
    ("NG", "234", "0"),
    ("KE", "254", "0"),
    ("AR", "54", "0"),
    ("CL", "56", ""),
    ("CO", "57", ""),
    ("PE", "51", "0"),
    ("PK", "92", "0"),
    ("BD", "880", "0"),
    ("LK", "94", "0"),
    ("NP", "977", "0"),
    ("KH", "855", "0"),
    ("LA", "856", "0"),
    ("MM", "95", "0"),
    ("IR", "98", "0"),
];

/// The calling code of a country, if known.
pub fn calling_code(country: &str) -> Option<&'static str> {
    CALLING_CODES
        .iter()
        .find(|(c, _, _)| c.eq_ignore_ascii_case(country.trim()))
        .map(|(_, code, _)| *code)
}

/// The ISO 3166-1 alpha-2 code of a country written as a code or a name, in any
/// case: `vn`, `VNM`, `Viet Nam`, `United Kingdom` (`GB`), `Deutschland` is not read.
/// `UK`, which is not ISO 3166 but what people write for GB, is kept as written: the
/// rest of the system reads it as GB.
pub fn country_code(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Some(raw.to_ascii_uppercase());
    }
    // celes keys its names without spaces or punctuation ("unitedkingdom"), and
    // also takes alpha-3 codes and common aliases ("England", "USA").
    let key: String = fold_diacritics(raw).chars().filter(|c| c.is_alphanumeric()).collect();
    if key.is_empty() || key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse::<celes::Country>().ok().map(|c| c.alpha2.to_owned())
}

/// The trunk prefix that national forms of numbers under `calling_code` begin with
/// (`0` in most countries, `06` in Hungary, `8` in Russia, `1` in NANP), or "" when
/// there is none or the code is not known.
pub fn trunk_prefix(calling_code: &str) -> &'static str {
    CALLING_CODES
        .iter()
        .find(|(_, code, _)| *code == calling_code)
        .map_or("", |(_, _, trunk)| *trunk)
}

/// The national significant number of `digits`, a number written in national form in a
/// country with `calling_code`: without its trunk prefix (`0` mostly, `8` in Russia) when
/// it has one. Where the trunk prefix is a digit that numbers also begin with (`8` in
/// Russia and Lithuania, `06` in Hungary), it is dropped only from a number one prefix
/// longer than a national number ([`NATIONAL_LENGTHS`]), as `812 123-45-67` (St
/// Petersburg, written without the prefix) is the number itself.
pub fn national_number<'a>(digits: &'a str, calling_code: &str) -> &'a str {
    let trunk = trunk_prefix(calling_code);
    let Some(rest) = digits.strip_prefix(trunk).filter(|_| !trunk.is_empty()) else {
        return digits;
    };
    match NATIONAL_LENGTHS.iter().find(|(code, _)| *code == calling_code) {
        Some((_, lengths)) if trunk != "0" && !lengths.contains(&rest.len()) => digits,
        _ => rest,
    }
}

/// The lengths of the national significant numbers under a calling code, where they
/// are few enough to tell a number written with its calling code but without `+`
/// (`84912345678`, as spreadsheets and SMS gateways keep Vietnamese numbers) from one
/// written in national form: Vietnam's have 9 or 10 digits, so `84890520495` is `+84
/// 890 520 495`, not a national number of 11 digits (found stored as `+8484890520495`
/// by a blind test); they also tell a trunk prefix from a number's first digits
/// ([`national_number`]). Codes whose lengths vary more (Germany, Austria, Italy,
/// Finland, Sweden) are not listed, and NANP's leading `1` is read apart.
const NATIONAL_LENGTHS: &[(&str, &[usize])] = &[
    ("370", &[8]),
    ("36", &[8, 9]),
    ("84", &[9, 10]),
    ("44", &[9, 10]),
    ("33", &[9]),
    ("34", &[9]),
    ("31", &[9]),
    ("32", &[8, 9]),
    ("41", &[9]),
    ("45", &[8]),
    ("47", &[8]),
    ("48", &[9]),
    ("351", &[9]),
    ("420", &[9]),
    ("421", &[9]),
    ("40", &[9]),
    ("30", &[10]),
    ("90", &[10]),
    ("7", &[10]),
    ("380", &[9]),
    ("86", &[10, 11]),
    ("81", &[9, 10]),
    ("82", &[8, 9, 10]),
    ("65", &[8]),
    ("60", &[8, 9, 10]),
    ("66", &[8, 9]),
    ("63", &[8, 9, 10]),
    ("91", &[10]),
    ("61", &[9]),
    ("55", &[10, 11]),
    ("52", &[10]),
    ("54", &[10, 11]),
    ("56", &[9]),
    ("57", &[10]),
    ("971", &[8, 9]),
    ("972", &[8, 9]),
    ("966", &[8, 9]),
    ("20", &[8, 9, 10]),
    ("27", &[9]),
];

/// The national number after the calling code `code` that `national` begins with, when
/// the rest has a length of the country's numbers and `national` has none (see
/// [`NATIONAL_LENGTHS`]): the code written without `+` in a national reading
/// (`84890520495` in Vietnam), or written twice (`+84 84 890 520 495`, which imports
/// before this was read stored). None otherwise, and for codes whose lengths vary.
pub fn national_after_code<'a>(code: &str, national: &'a str) -> Option<&'a str> {
    let (_, lengths) = NATIONAL_LENGTHS.iter().find(|(known, _)| *known == code)?;
    national
        .strip_prefix(code)
        .map(|rest| national_number(rest, code))
        .filter(|rest| lengths.contains(&rest.len()) && !lengths.contains(&national.len()))
}

/// `number` without an extension after it, which is no part of the number: `x12`, `ext.
/// 355` (as CRMs and Faker write US numbers; found by a blind test, where a tenth of a
/// vault's US customers were refused at import), `;ext=12` (RFC 3966), `#12`, and the
/// words of other languages (`poste`, `Durchwahl`, `interno`, `ramal`, `toestel`).
fn without_extension(number: &str) -> &str {
    const EXTENSION_WORDS: &[&str] = &[
        "x",
        "ext",
        "extn",
        "extension",
        "poste",
        "durchwahl",
        "dw",
        "int",
        "interno",
        "anexo",
        "ramal",
        "toestel",
        "wew",
    ];
    let Some(at) = number.find(|c: char| c.is_alphabetic() || matches!(c, '#' | ';')) else {
        return number;
    };
    let (head, tail) = number.split_at(at);
    let tail = tail.trim_start_matches([';', '#']);
    let word_end = tail.find(|c: char| !c.is_alphabetic()).unwrap_or(tail.len());
    let (word, digits) = tail.split_at(word_end);
    let digits = digits.trim_start_matches(['.', ':', '=', ' ', '\u{a0}']).trim_end();
    let is_extension = (word.is_empty() || EXTENSION_WORDS.iter().any(|known| word.eq_ignore_ascii_case(known)))
        && (1..=6).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit());
    if is_extension {
        head.trim_end_matches([',', ' ', '\u{a0}'])
    } else {
        number
    }
}

/// A phone number in E.164 form (`+84912345678`), read in `country` when it
/// is written in national form. `None` when it cannot be a phone number.
pub fn phone_e164(raw: &str, country: Option<&str>) -> Option<String> {
    let trimmed = without_extension(raw.trim());
    // "+44 (0)20 …": the bracketed trunk prefix is dropped in international form.
    let without_trunk;
    let trimmed = if (trimmed.starts_with('+') || trimmed.starts_with("00")) && trimmed.contains("(0)") {
        without_trunk = trimmed.replacen("(0)", "", 1);
        without_trunk.as_str()
    } else {
        trimmed
    };
    let mut digits = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() => digits.push('+'),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let international = if let Some(rest) = digits.strip_prefix('+') {
        rest.to_owned()
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let (_, code, _) = CALLING_CODES
            .iter()
            .find(|(c, _, _)| country.is_some_and(|k| c.eq_ignore_ascii_case(k.trim())))?;
        // NANP numbers may be written with or without the leading 1.
        let national = if *code == "1" && digits.len() == 10 {
            digits.as_str()
        } else {
            national_number(&digits, code)
        };
        format!("{code}{}", national_after_code(code, national).unwrap_or(national))
    };
    if !(8..=15).contains(&international.len()) || international.starts_with('0') {
        return None;
    }
    Some(format!("+{international}"))
}

/// Lowercases and maps Latin letters with diacritics (Latin-1, Latin
/// Extended-A, Vietnamese) to their base letter: `Nguyễn Đức` → `nguyen duc`.
/// Written by hand because a full Unicode decomposition crate is more than
/// search and demo e-mail addresses need (the DLP engine does the full job).
pub fn fold_diacritics(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).map(base_letter).collect()
}

fn base_letter(c: char) -> char {
    const GROUPS: &[(char, &str)] = &[
        ('a', "àáâãäåāăąạảấầẩẫậắằẳẵặ"),
        ('e', "èéêëēĕėęěẹẻẽếềểễệ"),
        ('i', "ìíîïĩīĭįıỉị"),
        ('o', "òóôõöøōŏőơọỏốồổỗộớờởỡợ"),
        ('u', "ùúûüũūŭůűųưụủứừửữự"),
        ('y', "ýÿŷỳỵỷỹ"),
        ('d', "đď"),
        ('c', "çćĉċč"),
        ('n', "ñńņňŉ"),
        ('s', "śŝşšș"),
        ('z', "źżž"),
        ('g', "ĝğġģ"),
        ('l', "ĺļľŀł"),
        ('r', "ŕŗř"),
        ('t', "ţťŧț"),
    ];
    GROUPS
        .iter()
        .find(|(_, set)| set.contains(c))
        .map_or(c, |(base, _)| *base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, country: Option<&str>, expected: Option<&str>) {
        assert_eq!(phone_e164(raw, country).as_deref(), expected, "{raw:?} in {country:?}");
    }

    #[test]
    fn phones() {
        check("+84 912 345 678", None, Some("+84912345678"));
        check("0912 345 678", Some("VN"), Some("+84912345678"));
        check("0912.345.678", Some("vn"), Some("+84912345678"));
        check("0084912345678", None, Some("+84912345678"));
        check("(415) 555-0132", Some("US"), Some("+14155550132"));
        check("1-415-555-0132", Some("US"), Some("+14155550132"));
        check("020 7946 0958", Some("GB"), Some("+442079460958"));
        check("+44 (0)20 7946 0958", None, Some("+442079460958"));
        check("010-8888-6666", Some("CN"), Some("+861088886666"));
        check("912 345 678", Some("ES"), Some("+34912345678"));
        // The calling code without `+`, where the whole is no national number's length;
        // a national number that begins with the code's digits stays one.
        check("84890520495", Some("VN"), Some("+84890520495"));
        check("842871712952", Some("VN"), Some("+842871712952"));
        check("840912345678", Some("VN"), Some("+84912345678"));
        check("848905204", Some("VN"), Some("+84848905204"));
        check("0848905204", Some("VN"), Some("+84848905204"));
        check("447911123456", Some("GB"), Some("+447911123456"));
        check("4930123456", Some("DE"), Some("+494930123456"));
        assert_eq!(national_after_code("84", "84890520495"), Some("890520495"));
        assert_eq!(national_after_code("84", "848905204"), None);
        assert_eq!(national_after_code("49", "4930123456"), None);
        check("0912 345 678", None, None);
        check("call me", Some("VN"), None);
        check("12", Some("VN"), None);
        check("+84 912 345 678 x12", None, Some("+84912345678"));
        // Extensions as CRMs write them.
        check("+1 803-553-4322 ext. 355", None, Some("+18035534322"));
        check("(803) 553-4322 Ext 3551", Some("US"), Some("+18035534322"));
        check("803.553.4322x355", Some("US"), Some("+18035534322"));
        check("+33 1 42 68 53 00 poste 214", None, Some("+33142685300"));
        check("+49 30 1234567 Durchwahl: 12", None, Some("+49301234567"));
        check("tel:+18035534322;ext=355", None, None);
        check("+18035534322;ext=355", None, Some("+18035534322"));
        check("+1 803 553 4322 #12", None, Some("+18035534322"));
        // Not an extension: other words, or more than an extension's digits.
        check("+1 803-553-4322 call 355", None, None);
        check("+1 803-553-4322 ext. 1234567", None, None);
        check("+1 803-553-4322 ext.", None, None);
        // Countries without a trunk prefix, with "0", and with another one.
        check("47 54 23 73", Some("DK"), Some("+4547542373"));
        check("0505 844 40 94", Some("TR"), Some("+905058444094"));
        check("020 7946 0958", Some("UK"), Some("+442079460958"));
        check("06 1 234 5678", Some("HU"), Some("+3612345678"));
        check("8 (495) 123-45-67", Some("RU"), Some("+74951234567"));
        // A trunk prefix that numbers also begin with is dropped only at its length.
        check("(812) 123-45-67", Some("RU"), Some("+78121234567"));
        check("8 (812) 123-45-67", Some("RU"), Some("+78121234567"));
        check("8 612 34567", Some("LT"), Some("+37061234567"));
        check("800 12345", Some("LT"), Some("+37080012345"));
        check("06 30 123 4567", Some("HU"), Some("+36301234567"));
        check("47 54 23 73", Some("ZZ"), None);
    }

    #[test]
    fn country_codes() {
        for (raw, expected) in [
            ("vn", Some("VN")),
            (" UK ", Some("UK")),
            ("VNM", Some("VN")),
            ("Viet Nam", Some("VN")),
            ("Vietnam", Some("VN")),
            ("United Kingdom", Some("GB")),
            ("united-states", Some("US")),
            ("Deutschland", None),
            ("", None),
            ("704", None),
            ("Atlantis", None),
        ] {
            assert_eq!(country_code(raw).as_deref(), expected, "{raw:?}");
        }
    }

    #[test]
    fn folding() {
        assert_eq!(fold_diacritics("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(fold_diacritics("Łukasz Müller"), "lukasz muller");
        assert_eq!(fold_diacritics("王伟"), "王伟");
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("  Lan.Nguyen@Example.COM ").as_deref(),
            Some("lan.nguyen@example.com")
        );
        assert_eq!(email("no-at-sign"), None);
        assert_eq!(email("a@b"), None);
        assert_eq!(email("a b@c.d"), None);
    }
}
