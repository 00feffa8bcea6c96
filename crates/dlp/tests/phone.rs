//! Phone normalization boundary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dlp::phone::{candidate_keys, parse};

/// `expected`: Some((E.164 or None, national)) or None when the input is not a number.
fn check(raw: &str, country: Option<&str>, expected: Option<(Option<&str>, &str)>) {
    let parsed = parse(raw, country);
    let got = parsed.as_ref().map(|p| (p.e164(), p.national.as_str()));
    let want = expected.map(|(e, n)| (e.map(str::to_string), n));
    assert_eq!(got, want, "{raw:?} in {country:?}");
    if let Some(p) = &parsed {
        // What the number is written as must lead back to one of its index keys.
        let keys = candidate_keys(raw);
        assert!(
            keys.iter().any(|k| Some(k) == p.e164().as_ref()
                || k == &p.national
                || Some(k) == p.national_with_trunk().as_ref()),
            "{raw:?}: keys {keys:?}"
        );
    }
}

#[test]
fn phone_forms() {
    check("+84 912 345 678", None, Some((Some("+84912345678"), "912345678")));
    check("0912 345 678", Some("VN"), Some((Some("+84912345678"), "912345678")));
    check("0084-912-345-678", None, Some((Some("+84912345678"), "912345678")));
    check("(415) 555-0123", Some("US"), Some((Some("+14155550123"), "4155550123")));
    check("1-415-555-0123", Some("us"), Some((Some("+14155550123"), "4155550123")));
    check("+44 (0)20 7946 0958", None, Some((Some("+442079460958"), "2079460958")));
    check("020 7946 0958", Some("GB"), Some((Some("+442079460958"), "2079460958")));
    check("0171 2345678", None, Some((None, "1712345678")));
    // Italian numbers keep their leading 0 after the calling code.
    check("+39 06 6705 1838", None, Some((Some("+390667051838"), "667051838")));
    check("+390667051838", None, Some((Some("+390667051838"), "667051838")));
    check("06 6705 1838", Some("IT"), Some((Some("+390667051838"), "667051838")));
    check("+39 347 123 4567", None, Some((Some("+393471234567"), "3471234567")));
    // The trunk 0 written after the calling code by mistake.
    check("+84 0912 345 678", None, Some((Some("+84912345678"), "912345678")));
    check(
        "+44 07911 123456",
        Some("GB"),
        Some((Some("+447911123456"), "7911123456")),
    );
    check("0049 0151 2345678", None, Some((Some("+491512345678"), "1512345678")));
    // Italian numbers keep it: only the number as written is read.
    assert_eq!(candidate_keys("+39 06 6705 1838"), ["+390667051838"]);
    assert_eq!(candidate_keys("+84 0912 345 678"), ["+840912345678", "+84912345678"]);
    // Groups apart by no-break spaces: the number without a group glued on.
    assert!(dlp::phone::candidate_runs("415\u{a0}555\u{a0}0123\u{a0}7").contains(&"415\u{a0}555\u{a0}0123"));
    // Mexican mobiles as dialled from abroad until 2019.
    assert_eq!(
        candidate_keys("+52 1 81 4632 1591"),
        ["+5218146321591", "+528146321591"]
    );
    // Trunk prefixes other than 0 are dropped in the country's national reading.
    check(
        "8 (912) 345-67-89",
        Some("RU"),
        Some((Some("+79123456789"), "9123456789")),
    );
    check("+7 912 345 67 89", None, Some((Some("+79123456789"), "9123456789")));
    check("06 1 234 5678", Some("HU"), Some((Some("+3612345678"), "12345678")));
    check("8 612 34567", Some("LT"), Some((Some("+37061234567"), "61234567")));
    // Numbers that begin with the trunk digit, written without the trunk prefix.
    check(
        "(812) 123-45-67",
        Some("RU"),
        Some((Some("+78121234567"), "8121234567")),
    );
    check("800 12345", Some("LT"), Some((Some("+37080012345"), "80012345")));
    check("+999 1234567", None, None);
    check("12", Some("US"), None);
    check("", None, None);
    check("+1234567890123456789", None, None);
}

/// The string-building reading of a run that the allocation-free one must equal.
fn reference_keys(raw: &str) -> Vec<String> {
    let digits: String = raw.replace("(0)", "").chars().filter(char::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) {
        return Vec::new();
    }
    let mut keys = Vec::new();
    let international = digits.strip_prefix("00").unwrap_or(&digits);
    keys.push(format!("+{international}"));
    if digits.starts_with("00") || raw.trim_start().starts_with('+') {
        let code = (1..=3).filter_map(|len| international.get(..len)).find(|code| {
            parse(&format!("+{code} 1234567"), None)
                .and_then(|p| p.country_code)
                .as_deref()
                == Some(*code)
        });
        if let Some(code) = code.filter(|code| !["39", "378", "379"].contains(code)) {
            if let Some(national) = international[code.len()..].strip_prefix('0') {
                keys.push(format!("+{code}{national}"));
            }
        }
        if let Some(mobile) = international.strip_prefix("521").filter(|m| m.len() == 10) {
            keys.push(format!("+52{mobile}"));
        }
        return keys;
    }
    let national = digits.strip_prefix('0').unwrap_or(&digits);
    keys.push(national.to_string());
    if digits.len() == 11 {
        if let Some(nanp) = digits.strip_prefix('1') {
            keys.push(nanp.to_string());
        }
    }
    keys
}

proptest::proptest! {
    #[test]
    fn candidate_keys_equal_the_string_reading(raw in "[0-9 ()+./\\-]{0,30}") {
        proptest::prop_assert_eq!(candidate_keys(&raw), reference_keys(&raw));
    }
}

proptest::proptest! {
    /// The allocation-free check the phone detector uses equals a full parse.
    #[test]
    fn is_international_equals_parse(raw in "[ +(0)0-9\\-./\t\u{a0}\u{2003}a]{0,30}|\\+[0-9 ]{0,22}|00[0-9 ]{0,22}") {
        let parsed = parse(&raw, None).is_some_and(|n| n.country_code.is_some());
        proptest::prop_assert_eq!(dlp::phone::is_international(&raw), parsed, "{:?}", raw);
    }
}
