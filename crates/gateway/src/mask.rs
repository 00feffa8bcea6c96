//! Masking of customer fields for callers who may see that a value exists
//! but not the value. Masking happens here, in the gateway, never in callers.

const DOT: char = '•';

/// `+84 912 345 123` → `+84 •••• ••• 123`: the country code and the last
/// three digits stay, enough to recognise a number the customer reads out.
pub fn phone(e164_or_raw: &str) -> String {
    let digits: String = e164_or_raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return DOT.to_string().repeat(4);
    }
    let code_len = country_code_len(&digits);
    let (code, rest) = digits.split_at(code_len);
    let tail = &rest[rest.len().saturating_sub(3)..];
    format!("+{code} {} {} {tail}", dots(4), dots(3))
}

fn country_code_len(digits: &str) -> usize {
    // One-digit codes (+1, +7), two-digit codes from the common zones, else three.
    match digits.as_bytes().first() {
        Some(b'1') | Some(b'7') => 1,
        _ => {
            let two = digits.get(..2).unwrap_or("");
            if matches!(
                two,
                "20" | "27"
                    | "28"
                    | "30"
                    | "31"
                    | "32"
                    | "33"
                    | "34"
                    | "36"
                    | "39"
                    | "40"
                    | "41"
                    | "43"
                    | "44"
                    | "45"
                    | "46"
                    | "47"
                    | "48"
                    | "49"
                    | "51"
                    | "52"
                    | "53"
                    | "54"
                    | "55"
                    | "56"
                    | "57"
                    | "58"
                    | "60"
                    | "61"
                    | "62"
                    | "63"
                    | "64"
                    | "65"
                    | "66"
                    | "81"
                    | "82"
                    | "84"
                    | "86"
                    | "90"
                    | "91"
                    | "92"
                    | "93"
                    | "94"
                    | "95"
                    | "98"
            ) {
                2
            } else {
                3
            }
        }
    }
}

fn dots(n: usize) -> String {
    std::iter::repeat_n(DOT, n).collect()
}

/// `lan.nguyen@example.com` → `l•••@example.com`.
pub fn email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}{}@{domain}", dots(3))
        }
        None => dots(6),
    }
}

/// `Nguyễn Văn An` → `N••• V••• A•••`: initials only.
pub fn name(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let first: String = w.chars().take(1).collect();
            format!("{first}{}", dots(3))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Any other text: only its shape survives.
pub fn text(_value: &str) -> String {
    dots(6)
}

/// `VN12 3456 7890 1234` → `•••• 1234`.
pub fn account(value: &str) -> String {
    let tail: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
    let tail = &tail[tail.len().saturating_sub(4)..];
    format!("{} {tail}", dots(4))
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks() {
        assert_eq!(super::phone("+84912345123"), "+84 •••• ••• 123");
        assert_eq!(super::phone("+14155550132"), "+1 •••• ••• 132");
        assert_eq!(super::phone("+8613812345678"), "+86 •••• ••• 678");
        assert_eq!(super::phone("12"), "••••");
        assert_eq!(super::email("lan.nguyen@example.com"), "l•••@example.com");
        assert_eq!(super::email("ễ@x.vn"), "ễ•••@x.vn");
        assert_eq!(super::name("Nguyễn Văn An"), "N••• V••• A•••");
        assert_eq!(super::account("VN12 3456 7890 1234"), "•••• 1234");
    }
}
