//! Reading customers and people from CSV files: header mapping, BOM,
//! quoted fields, and a problem report per line.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use model::{
    Agreement, AgreementKind, Classification, CustomerId, EmploymentStatus, NewCustomer, Person, PersonId, Role, TeamId,
};

/// A problem with one line of the input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineProblem {
    pub line: u64,
    pub problem: String,
}

/// The customer fields a CSV column can map to, with the header names
/// recognised by default (compared case-insensitively, with diacritics folded and
/// spaces, dashes, underscores and dots ignored).
///
/// A name split over columns (given, middle, family) and an address split over
/// columns (street, street2, city, state, postcode) are joined into one; see
/// `customer_from`.
const CUSTOMER_COLUMNS: &[(&str, &[&str])] = &[
    (
        "id",
        &[
            "id",
            "customerid",
            "customerno",
            "customernumber",
            "accountid",
            "makhachhang",
        ],
    ),
    (
        "name",
        &[
            "name",
            "displayname",
            "fullname",
            "customername",
            "contact",
            "contactname",
            "hoten",
            "hovaten",
            "ten",
        ],
    ),
    ("given_name", &["givenname", "firstname", "forename", "first"]),
    ("middle_name", &["middlename", "middle"]),
    ("family_name", &["familyname", "lastname", "surname", "last"]),
    (
        "company",
        &[
            "company",
            "companyname",
            "accountname",
            "organization",
            "organisation",
            "account",
            "congty",
        ],
    ),
    (
        "email",
        &[
            "email",
            "emails",
            "emailaddress",
            "mail",
            "workemail",
            "personalemail",
            "secondaryemail",
            "email1",
            "email2",
            "email3",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "phones",
            "telephone",
            "tel",
            "mobile",
            "phonenumber",
            "mobilephone",
            "mobilenumber",
            "cell",
            "cellphone",
            "workphone",
            "homephone",
            "businessphone",
            "fax",
            "phone1",
            "phone2",
            "phone3",
            "sodienthoai",
            "didong",
        ],
    ),
    (
        "address",
        &[
            "address",
            "addresses",
            "postaladdress",
            "mailingaddress",
            "homeaddress",
            "billingaddress",
            "shippingaddress",
            "diachi",
        ],
    ),
    (
        "street",
        &["street", "streetaddress", "address1", "addressline1", "street1"],
    ),
    ("street2", &["address2", "addressline2", "street2"]),
    ("city", &["city", "town", "locality"]),
    ("state", &["state", "province", "county", "stateprovince"]),
    ("postcode", &["postcode", "postalcode", "zip", "zipcode"]),
    ("notes", &["notes", "note", "comments", "ghichu"]),
    ("annual_value", &["annualvalue", "dealvalue", "value", "revenue"]),
    ("bank_details", &["bankdetails", "bank", "bankaccount", "iban"]),
    ("country", &["country", "countrycode"]),
    ("owner", &["owner", "accountmanager", "accountowner", "rep"]),
    ("team", &["team"]),
    ("territory", &["territory", "region"]),
    ("classification", &["classification", "level", "sensitivity"]),
    ("compartments", &["compartments", "compartment", "needtoknow"]),
];

/// Fields that take every column mapped to them (`phone` and `mobile`, a billing
/// and a shipping address), joined as a cell of several values; other fields take
/// the first of their columns with a value.
const MULTI_VALUED: &[&str] = &["email", "phone", "address", "compartments"];

/// What CRMs put before a field's name ("Mailing Street", "Billing Country",
/// "Contact Owner", "Primary Email"): a header is also read without it.
const HEADER_PREFIXES: &[&str] = &[
    "mailing", "billing", "shipping", "primary", "contact", "customer", "client",
];

/// The spellings a header is recognised by: as written; each side of a slash
/// ("State/Province", "Zip/Postal Code", "Country/Region"); and each of those
/// without a CRM's prefix and without a trailing "number" ("Mobile Phone Number").
fn header_keys(header: &str) -> Vec<String> {
    let mut keys = vec![squash(header)];
    let sides: Vec<&str> = header.split('/').collect();
    if sides.len() > 1 {
        keys.extend(sides.iter().map(|side| squash(side)));
    }
    let mut more = Vec::new();
    for key in &keys {
        let unprefixed = HEADER_PREFIXES
            .iter()
            .find_map(|p| key.strip_prefix(p).filter(|rest| !rest.is_empty()));
        for key in [Some(key.as_str()), unprefixed].into_iter().flatten() {
            more.push(key.to_owned());
            if let Some(bare) = key.strip_suffix("number").filter(|rest| !rest.is_empty()) {
                more.push(bare.to_owned());
            }
        }
    }
    more
}

fn squash(s: &str) -> String {
    model::normalize::fold_diacritics(s)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
        .collect()
}

/// Reads a CSV file into header-mapped records, each with its line number.
/// Structural problems (bad encoding, unequal field counts, bad quoting)
/// fail the whole file with the line named.
fn read_csv(path: &Path, columns: &[(&str, &[&str])], overrides: &[String]) -> anyhow::Result<Table> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        bail!(
            "{}: line {line} is not UTF-8 text; save the file as UTF-8 (with or without BOM)",
            path.display()
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header line", path.display()))?
        .clone();
    if headers.iter().all(str::is_empty) {
        bail!("{}: the file is empty or has no header line", path.display());
    }
    let keys: Vec<Vec<String>> = headers.iter().map(header_keys).collect();
    let mut mapping: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    // A column is read as one field, the first in `columns` it is recognised as:
    // "Country/Region" is the country, not also the territory.
    let mut taken = vec![false; keys.len()];
    for (target, synonyms) in columns {
        let matching: Vec<usize> = keys
            .iter()
            .enumerate()
            .filter(|(i, keys)| {
                !taken.get(*i).copied().unwrap_or(true) && keys.iter().any(|k| synonyms.contains(&k.as_str()))
            })
            .map(|(i, _)| i)
            .collect();
        for &i in &matching {
            if let Some(t) = taken.get_mut(i) {
                *t = true;
            }
        }
        if !matching.is_empty() {
            mapping.insert((*target).to_owned(), matching);
        }
    }
    // A field named by --map takes the columns named for it there, and only those.
    let mut mapped: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for spec in overrides {
        let Some((target, source)) = spec.split_once('=') else {
            bail!("--map {spec:?}: expected FIELD=COLUMN, e.g. --map name=\"Full Name\"");
        };
        if !columns.iter().any(|(t, _)| *t == target) {
            let known: Vec<&str> = columns.iter().map(|(t, _)| *t).collect();
            bail!(
                "--map {spec:?}: unknown field {target:?}; fields are {}",
                known.join(", ")
            );
        }
        let Some(i) = headers.iter().position(|h| h == source) else {
            bail!(
                "--map {spec:?}: the file has no column {source:?}; its columns are {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        };
        mapped.entry(target.to_owned()).or_default().push(i);
    }
    mapping.extend(mapped);
    let mut rows = Vec::new();
    // Lines are counted here from the records' byte offsets: the csv crate's own count
    // was one short in files with CRLF line ends (what Python's csv module and Excel
    // write; found by a blind test), where a record's offset is that of the line feed
    // before it. Records come in order, so each counts from the last.
    let (mut counted_to, mut lines_before) = (0usize, 0u64);
    let mut line_at = |byte: u64| -> u64 {
        let mut byte = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(bytes.len())
            .max(counted_to);
        while matches!(bytes.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        lines_before += bytes
            .get(counted_to..byte)
            .map_or(0, |skipped| skipped.iter().filter(|b| **b == b'\n').count() as u64);
        counted_to = byte;
        lines_before + 1
    };
    for result in reader.records() {
        let record = result.map_err(|e| {
            let line = e.position().map_or(0, |p| line_at(p.byte()));
            let what = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!(
                        "has {len} fields where the header has {expected_len} (a stray comma or an unclosed quote?)"
                    )
                }
                csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".to_owned(),
                _ => "cannot be read as CSV".to_owned(),
            };
            anyhow::anyhow!("{}: line {line} {what}; nothing was imported", path.display())
        })?;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let fields = mapping
            .iter()
            .map(|(field, columns)| {
                let mut values = columns.iter().filter_map(|&i| record.get(i)).filter(|v| !v.is_empty());
                let value = if MULTI_VALUED.contains(&field.as_str()) {
                    values.collect::<Vec<_>>().join(";")
                } else {
                    values.next().unwrap_or_default().to_owned()
                };
                (field.clone(), value)
            })
            .collect();
        rows.push((line, fields));
    }
    let read: Vec<usize> = mapping.values().flatten().copied().collect();
    Ok(Table {
        unread: (0..headers.len())
            .filter(|i| !read.contains(i))
            .filter_map(|i| headers.get(i).map(str::to_owned))
            .collect(),
        headers: headers.iter().map(str::to_owned).collect(),
        mapped: mapping.into_keys().collect(),
        rows,
    })
}

/// A CSV file read by `read_csv`.
struct Table {
    /// The header line's column names, as written.
    headers: Vec<String>,
    /// The columns no field maps to, as written.
    unread: Vec<String>,
    /// The fields some column maps to.
    mapped: Vec<String>,
    /// Each record with its line: the fields and their values.
    rows: Vec<(u64, BTreeMap<String, String>)>,
}

impl Table {
    fn maps_any(&self, fields: &[&str]) -> bool {
        self.mapped.iter().any(|m| fields.contains(&m.as_str()))
    }
}

fn list(value: Option<&String>) -> Vec<String> {
    value.map_or_else(Vec::new, |v| {
        v.split([';', '|', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// The addresses of a cell: separated by ';' or '|', each of one line or several. A
/// line break is no separator here, as it is between emails or phones: an address is
/// written over lines (`253 Moyer Burg Apt. 372` above `Cohenside, IL 10322`), and its
/// lines are joined with commas. Reading each line as an address of its own made a
/// city's line one that any text naming the city matched (found by a blind test).
fn addresses(value: Option<&String>) -> Vec<String> {
    value.map_or_else(Vec::new, |v| {
        v.split([';', '|'])
            .map(|address| {
                address
                    .lines()
                    .map(|line| line.trim().trim_end_matches(','))
                    .filter(|line| !line.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|address| !address.is_empty())
            .collect()
    })
}

/// The name column's value, or else the name written from its parts: given,
/// middle and family name, in that order.
fn name(f: &BTreeMap<String, String>) -> String {
    opt(f.get("name")).unwrap_or_else(|| {
        ["given_name", "middle_name", "family_name"]
            .iter()
            .filter_map(|part| opt(f.get(*part)))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The address cells, with an address split over columns (street, street2, city,
/// state and postcode) joined into one, as it is written on an envelope:
/// `12 Main St, Apt 4, Springfield, IL 62701`. With an address column as well, the
/// parts it does not already hold are added to its first address, so a street in
/// one column and the town in the next make one address, not two.
fn addresses_with_parts(f: &BTreeMap<String, String>) -> Vec<String> {
    let mut all = addresses(f.get("address"));
    let region = ["state", "postcode"]
        .iter()
        .filter_map(|part| opt(f.get(*part)))
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<String> = ["street", "street2", "city"]
        .iter()
        .filter_map(|part| opt(f.get(*part)))
        .chain((!region.is_empty()).then_some(region))
        .collect();
    if parts.is_empty() {
        return all;
    }
    match all.first_mut() {
        None => all.push(parts.join(", ")),
        Some(first) => {
            let held = first.to_lowercase();
            for part in parts {
                if !held.contains(&part.to_lowercase()) {
                    first.push_str(", ");
                    first.push_str(&part);
                }
            }
        }
    }
    all
}

fn opt(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Customers read from a file, each with its line; the lines that failed; and the
/// columns that were not read, as written.
pub type ReadCustomers = (Vec<(u64, NewCustomer)>, Vec<LineProblem>, Vec<String>);

/// Reads customers from `path`. `default_owner` is the owner of rows that name none.
///
/// A file without a column for the name, or for the owner when no default is
/// given, fails as a whole, naming its columns: every line of it would.
pub fn customers(path: &Path, overrides: &[String], default_owner: Option<&str>) -> anyhow::Result<ReadCustomers> {
    let table = read_csv(path, CUSTOMER_COLUMNS, overrides)?;
    let columns = table.headers.join(", ");
    if !table.maps_any(&["name", "given_name", "family_name"]) {
        bail!(
            "{}: no column holds the customers' names (recognised: name, full name, customer name, contact, \
             or first name and last name); its columns are {columns}; name one with --map name=COLUMN",
            path.display()
        );
    }
    if default_owner.is_none() && !table.maps_any(&["owner"]) {
        bail!(
            "{}: no column names the customers' owner (recognised: owner, account manager, account owner, rep); \
             its columns are {columns}; give one with --owner PERSON or --map owner=COLUMN",
            path.display()
        );
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let unread = table.unread;
    for (line, mut f) in table.rows {
        if let Some(owner) = default_owner {
            let named = f.get("owner").is_some_and(|o| !o.trim().is_empty());
            if !named {
                f.insert("owner".into(), owner.to_owned());
            }
        }
        match customer_from(&f) {
            Ok(c) => out.push((line, c)),
            Err(problem) => problems.push(LineProblem { line, problem }),
        }
    }
    Ok((out, problems, unread))
}

fn customer_from(f: &BTreeMap<String, String>) -> Result<NewCustomer, String> {
    let classification = match opt(f.get("classification")) {
        Some(c) => Some(c.parse::<Classification>().map_err(|e| e.to_string())?),
        None => None,
    };
    let annual_value = match opt(f.get("annual_value")) {
        Some(v) => {
            let cleaned: String = v.chars().filter(|c| !matches!(c, ',' | ' ' | '_')).collect();
            Some(
                cleaned
                    .parse::<i64>()
                    .map_err(|_| format!("annual value {v:?} is not a whole number"))?,
            )
        }
        None => None,
    };
    let country = match opt(f.get("country")) {
        Some(c) => Some(model::normalize::country_code(&c).ok_or_else(|| {
            format!("country {c:?} is neither a two-letter ISO code (VN, GB) nor a country's name in English")
        })?),
        None => None,
    };
    Ok(NewCustomer {
        id: opt(f.get("id")).map(CustomerId),
        display_name: name(f),
        company: opt(f.get("company")).unwrap_or_default(),
        emails: list(f.get("email")),
        phones: list(f.get("phone")),
        addresses: addresses_with_parts(f),
        notes: opt(f.get("notes")).unwrap_or_default(),
        annual_value,
        bank_details: opt(f.get("bank_details")),
        country,
        owner: opt(f.get("owner")).map(PersonId),
        team: opt(f.get("team")).map(TeamId),
        territory: opt(f.get("territory")),
        classification,
        compartments: list(f.get("compartments")).into_iter().collect(),
    })
}

const PEOPLE_COLUMNS: &[(&str, &[&str])] = &[
    ("id", &["id", "personid", "employeeid"]),
    ("name", &["name", "fullname"]),
    ("email", &["email", "workemail"]),
    ("department", &["department", "dept"]),
    ("role", &["role"]),
    ("team", &["team"]),
    ("manager", &["manager", "managerid"]),
    ("clearance", &["clearance"]),
    ("compartments", &["compartments"]),
    ("status", &["status", "employmentstatus"]),
    ("notice_date", &["noticedate", "notice"]),
    ("last_day", &["lastday"]),
    ("confidentiality_signed", &["confidentialitysigned", "nda"]),
    ("noncompete_signed", &["noncompetesigned"]),
    ("noncompete_ends", &["noncompeteends"]),
];

/// People from a CSV file; any bad line fails the whole file.
pub fn people(path: &Path) -> anyhow::Result<(Vec<Person>, Vec<LineProblem>)> {
    let table = read_csv(path, PEOPLE_COLUMNS, &[])?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (line, f) in table.rows {
        match person_from(&f) {
            Ok(p) => out.push(p),
            Err(problem) => problems.push(LineProblem { line, problem }),
        }
    }
    Ok((out, problems))
}

fn person_from(f: &BTreeMap<String, String>) -> Result<Person, String> {
    let id = opt(f.get("id")).ok_or("no id")?;
    let name = opt(f.get("name")).ok_or("no name")?;
    let role: Role = opt(f.get("role"))
        .ok_or("no role")?
        .parse()
        .map_err(|e: model::ParseError| e.to_string())?;
    let clearance = match opt(f.get("clearance")) {
        Some(c) => c.parse().map_err(|e: model::ParseError| e.to_string())?,
        None => Classification::Internal,
    };
    let status = match opt(f.get("status")) {
        Some(s) => s.parse().map_err(|e: model::ParseError| e.to_string())?,
        None => EmploymentStatus::Active,
    };
    let mut agreements = Vec::new();
    if let Some(d) = opt(f.get("confidentiality_signed")) {
        agreements.push(Agreement {
            kind: AgreementKind::Confidentiality,
            signed_on: d,
            ends_on: None,
        });
    }
    if let Some(d) = opt(f.get("noncompete_signed")) {
        agreements.push(Agreement {
            kind: AgreementKind::NonCompete,
            signed_on: d,
            ends_on: opt(f.get("noncompete_ends")),
        });
    }
    Ok(Person {
        id: PersonId(id),
        name,
        work_email: opt(f.get("email")).unwrap_or_default(),
        department: opt(f.get("department")).unwrap_or_default(),
        role,
        team: opt(f.get("team")).map(TeamId),
        manager: opt(f.get("manager")).map(PersonId),
        clearance,
        compartments: list(f.get("compartments")).into_iter().collect(),
        status,
        notice_date: opt(f.get("notice_date")),
        last_day: opt(f.get("last_day")),
        agreements,
    })
}

#[cfg(test)]
mod tests {
    /// `customers import --help` names every column the reader recognises.
    #[test]
    fn import_help_names_every_column() {
        use clap::CommandFactory as _;
        let cli = crate::Cli::command();
        let import = cli
            .find_subcommand("customers")
            .and_then(|c| c.find_subcommand("import"))
            .and_then(|c| c.get_long_about())
            .map(ToString::to_string)
            .unwrap_or_default();
        for (field, _) in super::CUSTOMER_COLUMNS {
            assert!(
                import.contains(&field.replace('_', " ")),
                "{field} missing from:\n{import}"
            );
        }
    }
}
