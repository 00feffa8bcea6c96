//! The vault's entities. Plaintext customer fields appear here only as
//! *input* ([`NewCustomer`]); what comes back out of the vault is built by the
//! gateway alone.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UnixMillis;

/// The reason a value in the model could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: expected one of {expected}, found {found:?}")]
pub struct ParseError {
    pub what: &'static str,
    pub expected: &'static str,
    pub found: String,
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }
    };
}

string_id!(
    /// A customer's id, as the company knows it (e.g. `C-000123`).
    CustomerId
);
string_id!(
    /// A person's id (an employee number or directory name, e.g. `p-0042`).
    PersonId
);
string_id!(
    /// A classified document's id.
    DocumentId
);
string_id!(
    /// A sales team, support group or department unit.
    TeamId
);

/// How sensitive a record is. Ordered: `Public < Internal < Confidential < Secret`;
/// a person's clearance must be at least a resource's classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    Public,
    Internal,
    Confidential,
    Secret,
}

impl Classification {
    pub const ALL: [Classification; 4] = [
        Classification::Public,
        Classification::Internal,
        Classification::Confidential,
        Classification::Secret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Public => "public",
            Classification::Internal => "internal",
            Classification::Confidential => "confidential",
            Classification::Secret => "secret",
        }
    }

    /// The level as a number, `0` (public) to `3` (secret).
    pub fn level(self) -> u8 {
        self as u8
    }

    pub fn from_level(level: u8) -> Option<Classification> {
        Classification::ALL.get(usize::from(level)).copied()
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Classification {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Classification::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseError {
                what: "classification",
                expected: "public, internal, confidential, secret",
                found: s.to_owned(),
            })
    }
}

/// Whether a person still works here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmploymentStatus {
    Active,
    /// Has given notice (or been given it) and has not yet left.
    Departing,
    Departed,
}

impl EmploymentStatus {
    pub const ALL: [EmploymentStatus; 3] = [
        EmploymentStatus::Active,
        EmploymentStatus::Departing,
        EmploymentStatus::Departed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmploymentStatus::Active => "active",
            EmploymentStatus::Departing => "departing",
            EmploymentStatus::Departed => "departed",
        }
    }
}

impl fmt::Display for EmploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EmploymentStatus {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EmploymentStatus::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseError {
                what: "employment status",
                expected: "active, departing, departed",
                found: s.to_owned(),
            })
    }
}

/// The role catalogue. Policies grant by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SalesRep,
    SalesManager,
    Support,
    Finance,
    Engineering,
    Hr,
    SecurityAdmin,
    Executive,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::SalesRep,
        Role::SalesManager,
        Role::Support,
        Role::Finance,
        Role::Engineering,
        Role::Hr,
        Role::SecurityAdmin,
        Role::Executive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SalesRep => "sales_rep",
            Role::SalesManager => "sales_manager",
            Role::Support => "support",
            Role::Finance => "finance",
            Role::Engineering => "engineering",
            Role::Hr => "hr",
            Role::SecurityAdmin => "security_admin",
            Role::Executive => "executive",
        }
    }

    /// What the role is for, in words, for the role catalogue.
    pub fn description(self) -> &'static str {
        match self {
            Role::SalesRep => "works their own customer accounts",
            Role::SalesManager => "leads a sales team and sees the team's accounts",
            Role::Support => "helps customers; sees contact details masked, read only",
            Role::Finance => "sees deal values and bank details for billing",
            Role::Engineering => "builds the product; works with designs and source code",
            Role::Hr => "manages people, notices and departures",
            Role::SecurityAdmin => "administers policy, keys and the audit ledger",
            Role::Executive => "runs the company; broad read access, no bank details",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace(['-', ' '], "_");
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| ParseError {
                what: "role",
                expected: "sales_rep, sales_manager, support, finance, engineering, hr, security_admin, executive",
                found: s.to_owned(),
            })
    }
}

/// Need-to-know tags. A resource tagged with compartments is visible only to
/// a person holding all of them.
pub type Compartments = BTreeSet<String>;

/// A signed agreement (confidentiality, non-compete) with its date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub kind: AgreementKind,
    /// ISO date the agreement was signed, e.g. `2024-03-01`.
    pub signed_on: String,
    /// ISO date it ends, if it does (non-competes usually do).
    pub ends_on: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    Confidentiality,
    NonCompete,
}

/// An employee. People are directory data the employer holds to decide
/// access; they are stored in clear so that authentication and policy work
/// without a key (customer fields and document bodies are what is sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub work_email: String,
    pub department: String,
    pub role: Role,
    pub team: Option<TeamId>,
    pub manager: Option<PersonId>,
    pub clearance: Classification,
    pub compartments: Compartments,
    pub status: EmploymentStatus,
    /// ISO date notice was given, for departing and departed people.
    pub notice_date: Option<String>,
    /// ISO date of the last working day.
    pub last_day: Option<String>,
    pub agreements: Vec<Agreement>,
}

impl Person {
    /// Their employment status on the company's calendar day `local_day` (days since
    /// 1970-01-01): a departing person whose last working day is before it has left,
    /// whether or not anyone has recorded it yet. The stored status is what HR said;
    /// the last day is when it ends.
    pub fn status_on(&self, local_day: i64) -> EmploymentStatus {
        let last = self.last_day.as_deref().and_then(day_number);
        match (self.status, last) {
            (EmploymentStatus::Departing, Some(last)) if last < local_day => EmploymentStatus::Departed,
            (status, _) => status,
        }
    }
}

/// Days since 1970-01-01 of an ISO date (`2026-12-31`), or None when it is not one.
pub fn day_number(iso: &str) -> Option<i64> {
    let date = time::Date::parse(iso.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
}

/// 1970-01-01 as a Julian day number.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// A team or territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub department: String,
    pub territory: Option<String>,
    pub lead: Option<PersonId>,
}

/// A customer as given to the vault (import, API create). Its sensitive
/// fields are sealed by the gateway before they reach the store.
#[derive(Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NewCustomer {
    pub id: Option<CustomerId>,
    pub display_name: String,
    pub company: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub addresses: Vec<String>,
    pub notes: String,
    /// Annual deal value in whole currency units.
    pub annual_value: Option<i64>,
    pub bank_details: Option<String>,
    /// ISO 3166 alpha-2 country, used to read national phone numbers.
    pub country: Option<String>,
    pub owner: Option<PersonId>,
    pub team: Option<TeamId>,
    pub territory: Option<String>,
    pub classification: Option<Classification>,
    pub compartments: Compartments,
}

impl fmt::Debug for NewCustomer {
    // Plaintext customer fields never reach Debug output (invariant 3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCustomer")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("classification", &self.classification)
            .finish_non_exhaustive()
    }
}

/// The customer metadata kept in clear: what policy needs to decide, and no
/// personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMeta {
    pub id: CustomerId,
    pub owner: PersonId,
    pub team: Option<TeamId>,
    pub territory: Option<String>,
    pub country: Option<String>,
    pub classification: Classification,
    pub compartments: Compartments,
    pub created_ms: UnixMillis,
    pub updated_ms: UnixMillis,
}

/// The sensitive customer fields, each sealed separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerField {
    Name,
    Company,
    Emails,
    Phones,
    Addresses,
    Notes,
    DealValue,
    BankDetails,
}

impl CustomerField {
    pub const ALL: [CustomerField; 8] = [
        CustomerField::Name,
        CustomerField::Company,
        CustomerField::Emails,
        CustomerField::Phones,
        CustomerField::Addresses,
        CustomerField::Notes,
        CustomerField::DealValue,
        CustomerField::BankDetails,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CustomerField::Name => "name",
            CustomerField::Company => "company",
            CustomerField::Emails => "emails",
            CustomerField::Phones => "phones",
            CustomerField::Addresses => "addresses",
            CustomerField::Notes => "notes",
            CustomerField::DealValue => "deal_value",
            CustomerField::BankDetails => "bank_details",
        }
    }
}

impl fmt::Display for CustomerField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CustomerField {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CustomerField::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| ParseError {
                what: "customer field",
                expected: "name, company, emails, phones, addresses, notes, deal_value, bank_details",
                found: s.to_owned(),
            })
    }
}

/// What kind of classified document a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    CustomerList,
    Design,
    Contract,
    SourceCode,
    PriceList,
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 6] = [
        DocumentKind::CustomerList,
        DocumentKind::Design,
        DocumentKind::Contract,
        DocumentKind::SourceCode,
        DocumentKind::PriceList,
        DocumentKind::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::CustomerList => "customer_list",
            DocumentKind::Design => "design",
            DocumentKind::Contract => "contract",
            DocumentKind::SourceCode => "source_code",
            DocumentKind::PriceList => "price_list",
            DocumentKind::Other => "other",
        }
    }
}

impl FromStr for DocumentKind {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace(['-', ' '], "_");
        DocumentKind::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| ParseError {
                what: "document kind",
                expected: "customer_list, design, contract, source_code, price_list, other",
                found: s.to_owned(),
            })
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified document's metadata, kept in clear. The title is metadata
/// too: titles are how people find documents and what reviews list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentMeta {
    pub id: DocumentId,
    pub title: String,
    pub file_name: String,
    pub kind: DocumentKind,
    pub custodian: PersonId,
    pub classification: Classification,
    pub compartments: Compartments,
    pub size: u64,
    /// SHA-256 of the plaintext body, hex.
    pub content_sha256: String,
    pub created_ms: UnixMillis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_count_days_from_1970() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("1970-01-02"), Some(1));
        assert_eq!(day_number("1969-12-31"), Some(-1));
        assert_eq!(day_number("2026-12-06"), Some(20_793));
        assert_eq!(day_number("2024-02-29"), Some(19_782));
        for bad in ["2026-99-99", "2025-02-29", "06/12/2026", "", "2026-12-6x"] {
            assert_eq!(day_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_departing_person_has_left_after_their_last_day() {
        let mut person = Person {
            id: PersonId("p-1".into()),
            name: "Lan".into(),
            work_email: "lan@corp.example".into(),
            department: "Sales".into(),
            role: Role::SalesRep,
            team: None,
            manager: None,
            clearance: Classification::Internal,
            compartments: Compartments::new(),
            status: EmploymentStatus::Departing,
            notice_date: Some("2026-11-01".into()),
            last_day: Some("2026-12-05".into()),
            agreements: vec![],
        };
        let day = |iso: &str| day_number(iso).unwrap_or_default();
        assert_eq!(person.status_on(day("2026-12-05")), EmploymentStatus::Departing);
        assert_eq!(person.status_on(day("2026-12-06")), EmploymentStatus::Departed);
        // A last day nobody can read changes nothing; neither does one for the active.
        person.last_day = Some("next friday".into());
        assert_eq!(person.status_on(day("2027-01-01")), EmploymentStatus::Departing);
        person.last_day = Some("2026-12-05".into());
        person.status = EmploymentStatus::Active;
        assert_eq!(person.status_on(day("2027-01-01")), EmploymentStatus::Active);
    }
}
