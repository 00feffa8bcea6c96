//! Names, companies, addresses and numbers that look like a real customer
//! base in Vietnam and abroad.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;

const VN_FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý",
];
const VN_MIDDLE: &[&str] = &[
    "Văn", "Thị", "Minh", "Thu", "Quốc", "Thanh", "Ngọc", "Đức", "Hải", "Bảo", "Gia", "Hoài",
];
const VN_GIVEN: &[&str] = &[
    "An", "Bình", "Châu", "Hà", "Huy", "Tùng", "Lan", "Anh", "Yến", "Ngọc", "Phúc", "Quân", "Trang", "Dũng", "Linh",
    "Khoa", "Mai", "Sơn", "Thảo", "Vy",
];
const CN_NAMES: &[&str] = &[
    "王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄勇", "周杰", "吴芳", "徐强", "孙艳", "马超", "朱琳",
];
const CN_PINYIN_FAMILY: &[&str] = &[
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu",
];
const CN_PINYIN_GIVEN: &[&str] = &[
    "Wei", "Na", "Min", "Yang", "Jing", "Lei", "Li", "Yong", "Jie", "Fang", "Xiaoming", "Mei",
];
const JP_NAMES: &[&str] = &[
    "Sato Haruto",
    "Suzuki Yui",
    "Takahashi Ren",
    "Tanaka Aoi",
    "Watanabe Sota",
    "Ito Hina",
    "Yamamoto Riku",
    "Nakamura Mio",
];
const WEST_GIVEN: &[&str] = &[
    "James", "Emma", "Oliver", "Sophie", "Lukas", "Émilie", "José", "Zoë", "Mateo", "Hannah", "Noah", "Chloé", "Björn",
    "Ingrid", "Priya", "Arjun", "Siobhán", "Łukasz",
];
const WEST_FAMILY: &[&str] = &[
    "Smith",
    "Müller",
    "Dubois",
    "García",
    "O'Brien",
    "Schröder",
    "Martin",
    "Rossi",
    "Jensen",
    "Sharma",
    "Nowak",
    "Brown",
    "Lefèvre",
    "Andersson",
    "Taylor",
    "Kowalski",
];

/// A staff member's name (the demo company is Vietnamese with some expats).
pub fn person_name(rng: &mut impl Rng) -> String {
    if rng.gen_bool(0.85) {
        vn_name(rng)
    } else {
        west_name(rng)
    }
}

fn pick<'a>(items: &[&'a str], rng: &mut impl Rng) -> &'a str {
    items.choose(rng).copied().unwrap_or("")
}

fn vn_name(rng: &mut impl Rng) -> String {
    format!(
        "{} {} {}",
        pick(VN_FAMILY, rng),
        pick(VN_MIDDLE, rng),
        pick(VN_GIVEN, rng)
    )
}

fn west_name(rng: &mut impl Rng) -> String {
    format!("{} {}", pick(WEST_GIVEN, rng), pick(WEST_FAMILY, rng))
}

/// A customer contact's name for a country.
pub fn customer_name(country: &str, rng: &mut impl Rng) -> String {
    match country {
        "VN" => vn_name(rng),
        "CN" if rng.gen_bool(0.5) => pick(CN_NAMES, rng).to_owned(),
        "CN" | "SG" => format!("{} {}", pick(CN_PINYIN_FAMILY, rng), pick(CN_PINYIN_GIVEN, rng)),
        "JP" => pick(JP_NAMES, rng).to_owned(),
        _ => west_name(rng),
    }
}

const VN_COMPANY_A: &[&str] = &[
    "Sao Mai",
    "Hòa Phát",
    "Minh Long",
    "Phú Thịnh",
    "Đại Việt",
    "Hưng Thịnh",
    "Tân Cảng",
    "Bình Minh",
    "Thành Công",
    "Ánh Dương",
    "Kim Long",
    "Hải Đăng",
];
const VN_COMPANY_B: &[&str] = &[
    "Trading",
    "Logistics",
    "Manufacturing",
    "Foods",
    "Pharma",
    "Construction",
    "Textiles",
    "Electronics",
    "Seafood",
    "Retail",
];
const INTL_COMPANY_A: &[&str] = &[
    "Pacific",
    "Northwind",
    "Golden Gate",
    "Rhine",
    "Lumière",
    "Evergreen",
    "Harbour",
    "Summit",
    "Lotus",
    "Meridian",
    "Dragon",
    "Crescent",
];
const INTL_COMPANY_B: &[&str] = &[
    "Holdings",
    "Systems",
    "Industries",
    "Partners",
    "Supply",
    "Analytics",
    "Devices",
    "Foods",
    "Energy",
    "Labs",
];

pub fn company_name(country: &str, rng: &mut impl Rng) -> String {
    if country == "VN" {
        format!(
            "Công ty {} {} {}",
            pick(VN_COMPANY_A, rng),
            pick(VN_COMPANY_B, rng),
            rng.gen_range(1..40)
        )
    } else {
        let suffix = match country {
            "DE" => "GmbH",
            "FR" => "SAS",
            "GB" => "Ltd",
            "JP" => "K.K.",
            "CN" => "Co., Ltd.",
            "SG" => "Pte. Ltd.",
            "AU" => "Pty Ltd",
            _ => "Inc.",
        };
        format!(
            "{} {} {} {suffix}",
            pick(INTL_COMPANY_A, rng),
            pick(INTL_COMPANY_B, rng),
            rng.gen_range(1..40)
        )
    }
}

/// Folds a name to ASCII for email addresses: `Nguyễn Đức` → `nguyen duc`.
/// Names in other scripts (Chinese) fold to nothing and get a number.
pub fn fold_ascii(s: &str) -> String {
    model::normalize::fold_diacritics(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect()
}

pub fn domain_for(company: &str) -> String {
    let words: Vec<String> = fold_ascii(company)
        .split_whitespace()
        .filter(|w| {
            !matches!(
                *w,
                "cong" | "ty" | "co" | "ltd" | "inc" | "gmbh" | "sas" | "pte" | "pty" | "kk"
            )
        })
        .take(2)
        .map(str::to_owned)
        .collect();
    let base = if words.is_empty() {
        "customer".to_owned()
    } else {
        words.join("")
    };
    format!("{base}.example")
}

/// `first.last@domain`, with a number added until it is unique.
pub fn unique_email(name: &str, domain: &str, used: &mut BTreeSet<String>) -> String {
    let folded = fold_ascii(name);
    let parts: Vec<&str> = folded.split_whitespace().collect();
    let local = match parts.as_slice() {
        [] => "contact".to_owned(),
        [one] => (*one).to_owned(),
        [first, .., last] => format!("{last}.{first}"),
    };
    let mut candidate = format!("{local}@{domain}");
    let mut n = 1;
    while !used.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{local}{n}@{domain}");
    }
    candidate
}

/// A phone number in E.164 for a country, written with spaces.
pub fn phone(country: &str, rng: &mut impl Rng) -> String {
    let digits = |n: usize, rng: &mut dyn rand::RngCore| -> String {
        (0..n).map(|_| char::from(b'0' + (rng.next_u32() % 10) as u8)).collect()
    };
    match country {
        "VN" => format!(
            "+84 {}{} {} {}",
            pick(&["9", "8", "3", "7"], rng),
            digits(2, rng),
            digits(3, rng),
            digits(3, rng)
        ),
        "CN" => format!(
            "+86 1{}{} {} {}",
            rng.gen_range(3..9),
            digits(1, rng),
            digits(4, rng),
            digits(4, rng)
        ),
        "SG" => format!("+65 {}{} {}", pick(&["8", "9"], rng), digits(3, rng), digits(4, rng)),
        "JP" => format!("+81 90 {} {}", digits(4, rng), digits(4, rng)),
        "US" => format!(
            "+1 {}{} {}{} {}",
            rng.gen_range(2..10),
            digits(2, rng),
            rng.gen_range(2..10),
            digits(2, rng),
            digits(4, rng)
        ),
        "DE" => format!("+49 15{} {}", digits(1, rng), digits(7, rng)),
        "FR" => format!(
            "+33 6 {} {} {} {}",
            digits(2, rng),
            digits(2, rng),
            digits(2, rng),
            digits(2, rng)
        ),
        "GB" => format!("+44 7{} {}", digits(3, rng), digits(6, rng)),
        _ => format!("+61 4{} {} {}", digits(2, rng), digits(3, rng), digits(3, rng)),
    }
}

const VN_STREETS: &[&str] = &[
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Phan Chu Trinh",
];
const VN_CITIES: &[&str] = &[
    "Quận 1, TP. Hồ Chí Minh",
    "Quận Hoàn Kiếm, Hà Nội",
    "Quận Hải Châu, Đà Nẵng",
    "TP. Hải Phòng",
    "TP. Cần Thơ",
    "Bắc Ninh",
];
const INTL_CITIES: &[(&str, &str)] = &[
    ("CN", "Shanghai"),
    ("SG", "Singapore"),
    ("JP", "Tokyo"),
    ("US", "San Jose, CA"),
    ("DE", "München"),
    ("FR", "Lyon"),
    ("GB", "Manchester"),
    ("AU", "Sydney NSW"),
];

pub fn address(country: &str, rng: &mut impl Rng) -> String {
    if country == "VN" {
        format!(
            "{} {}, {}",
            rng.gen_range(1..300),
            pick(VN_STREETS, rng),
            pick(VN_CITIES, rng)
        )
    } else {
        let city = INTL_CITIES
            .iter()
            .find(|(c, _)| *c == country)
            .map_or("Sydney NSW", |(_, city)| city);
        format!("{} {} Street, {city}", rng.gen_range(1..900), pick(INTL_COMPANY_A, rng))
    }
}

const NOTES: &[&str] = &[
    "Prefers calls after 14:00. Renewal due in Q2.",
    "Decision maker is the CFO; ask for a reference visit.",
    "Negotiated 12% discount for a 3-year term.",
    "Complained about delivery delays in March; resolved.",
    "Interested in Project Lotus pilot.",
    "Pays by bank transfer, net 30.",
    "",
];

pub fn note(rng: &mut impl Rng) -> String {
    pick(NOTES, rng).to_owned()
}

pub fn bank_account(country: &str, rng: &mut impl Rng) -> String {
    let n: u64 = rng.gen_range(1_000_000_000..9_999_999_999);
    match country {
        "VN" => format!("Vietcombank {n}"),
        "DE" => format!("DE{:02} 5001 0517 {n}", rng.gen_range(10..99)),
        "FR" => format!("FR76 3000 6000 01{n}"),
        "GB" => format!("GB{:02} BARC 2000 {n}", rng.gen_range(10..99)),
        _ => format!("ACCT {n}"),
    }
}
