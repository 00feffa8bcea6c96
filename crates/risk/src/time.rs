//! Calendar helpers on day numbers (days since 1970-01-01, UTC).
//!
//! Hand-written rather than a date crate: the CERT hot path parses tens of millions of
//! fixed-width `MM/DD/YYYY HH:MM:SS` stamps, where a byte-level parser is several times
//! faster than a generic format-string parser, and the rest is Howard Hinnant's civil
//! calendar arithmetic (a dozen lines).

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Day number (days since 1970-01-01) of a proleptic Gregorian date.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number.
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day of week, 0 = Monday … 6 = Sunday.
pub fn weekday(days: i32) -> u32 {
    (days + 3).rem_euclid(7) as u32
}

/// ISO date `YYYY-MM-DD`.
pub fn iso_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Human date `12 Mar 2010` used in reasons.
pub fn human_date(days: i32) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = civil_from_days(days);
    let name = MONTHS.get(m as usize - 1).copied().unwrap_or("???");
    format!("{d} {name} {y}")
}

/// Parses an ISO date `YYYY-MM-DD` into a day number.
pub fn parse_iso_date(text: &str) -> Option<i32> {
    let b = text.trim().as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = digits(b.get(0..4)?)? as i32;
    let month = digits(b.get(5..7)?)?;
    let day = digits(b.get(8..10)?)?;
    valid(year, month, day).then(|| days_from_civil(year, month, day))
}

/// Parses a CERT timestamp `MM/DD/YYYY HH:MM:SS` into (day number, second of day).
pub fn parse_cert_datetime(b: &[u8]) -> Option<(i32, u32)> {
    if b.len() != 19 || b.get(2) != Some(&b'/') || b.get(5) != Some(&b'/') {
        return None;
    }
    let month = digits(b.get(0..2)?)?;
    let day = digits(b.get(3..5)?)?;
    let year = digits(b.get(6..10)?)? as i32;
    let hour = digits(b.get(11..13)?)?;
    let minute = digits(b.get(14..16)?)?;
    let second = digits(b.get(17..19)?)?;
    if !valid(year, month, day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((days_from_civil(year, month, day), hour * 3600 + minute * 60 + second))
}

/// Parses `MM/DD/YYYY HH:MM:SS` (fast path), its unpadded form `M/D/YYYY H:MM[:SS]`, or
/// ISO `YYYY-MM-DD[ T]HH:MM[:SS]`, into (day number, second of day).
pub fn parse_any_datetime(b: &[u8]) -> Option<(i32, u32)> {
    if let Some(parsed) = parse_cert_datetime(b) {
        return Some(parsed);
    }
    let text = std::str::from_utf8(b).ok()?.trim();
    let (date, time) = text.split_once([' ', 'T'])?;
    let mut d = date.split(['/', '-']);
    let (a, b2, c) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() {
        return None;
    }
    let (year, month, day) = if a.len() == 4 {
        (a.parse().ok()?, b2.parse().ok()?, c.parse().ok()?)
    } else {
        (c.parse().ok()?, a.parse().ok()?, b2.parse().ok()?)
    };
    let time = time.trim_end_matches('Z');
    let time = time.split(['.', '+']).next()?;
    let mut t = time.split(':');
    let hour: u32 = t.next()?.parse().ok()?;
    let minute: u32 = t.next()?.parse().ok()?;
    let second: u32 = t.next().map_or(Some(0), |s| s.parse().ok())?;
    if t.next().is_some() || !valid(year, month, day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((
        days_from_civil(year, month, day),
        hour * 3600 + minute * 60 + second.min(59),
    ))
}

/// Formats a CERT timestamp `MM/DD/YYYY HH:MM:SS`.
pub fn cert_datetime(days: i32, second_of_day: u32) -> String {
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    format!("{m:02}/{d:02}/{y:04} {h:02}:{mi:02}:{s:02}")
}

fn valid(year: i32, month: u32, day: u32) -> bool {
    (1900..=2200).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(iso_date(days_from_civil(2010, 3, 12)), "2010-03-12");
        assert_eq!(human_date(days_from_civil(2010, 3, 12)), "12 Mar 2010");
        // 2 Jan 2010 was a Saturday.
        assert_eq!(weekday(days_from_civil(2010, 1, 2)), 5);
        assert_eq!(
            parse_cert_datetime(b"01/02/2010 06:49:00"),
            Some((days_from_civil(2010, 1, 2), 6 * 3600 + 49 * 60))
        );
        assert_eq!(parse_cert_datetime(b"13/02/2010 06:49:00"), None);
        assert_eq!(parse_cert_datetime(b"01/02/2010 6:49:00"), None);
        assert_eq!(parse_iso_date("2011-05-17"), Some(days_from_civil(2011, 5, 17)));
        assert_eq!(parse_iso_date("2011-5-17"), None);
        let want = Some((days_from_civil(2010, 1, 2), 6 * 3600 + 49 * 60));
        for text in [
            "01/02/2010 06:49:00",
            "1/2/2010 6:49:00",
            "1/2/2010 6:49",
            "2010-01-02 06:49:00",
            "2010-01-02T06:49:00Z",
            "2010-01-02T06:49:00.250+00:00",
        ] {
            assert_eq!(parse_any_datetime(text.as_bytes()), want, "{text}");
        }
        for bad in ["", "2010-01-02", "13/02/2010 06:49:00", "1/2/2010 25:00", "a/b/c d:e"] {
            assert_eq!(parse_any_datetime(bad.as_bytes()), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn civil_round_trip(days in -100_000i32..200_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn cert_format_round_trip(days in 0i32..60_000, sec in 0u32..86_400) {
            let text = cert_datetime(days, sec);
            prop_assert_eq!(parse_cert_datetime(text.as_bytes()), Some((days, sec)));
        }
    }
}
