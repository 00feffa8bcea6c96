//! Input types: what the gateway tells the engine about a request.
//!
//! These mirror the Cedar schema in `policies/custodia.cedarschema`; the lead maps
//! custodia's domain model onto them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::PolicyError;

/// Sensitivity level: a person's clearance or a record's classification.
/// Ordered `Public < Internal < Confidential < Secret` (Cedar sees 0..=3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// 0: anyone in the company.
    Public,
    /// 1: staff only.
    Internal,
    /// 2: need to know.
    Confidential,
    /// 3: named people only.
    Secret,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::Public, Level::Internal, Level::Confidential, Level::Secret];

    /// The lowercase name used in policies and case files.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Public => "public",
            Level::Internal => "internal",
            Level::Confidential => "confidential",
            Level::Secret => "secret",
        }
    }

    /// The number Cedar compares (`public = 0` .. `secret = 3`).
    pub fn rank(self) -> i64 {
        match self {
            Level::Public => 0,
            Level::Internal => 1,
            Level::Confidential => 2,
            Level::Secret => 3,
        }
    }
}

impl FromStr for Level {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| PolicyError::UnknownName {
                kind: "level",
                found: s.to_string(),
                expected: "public, internal, confidential or secret",
            })
    }
}

/// Where a person stands in their employment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmploymentStatus {
    /// Employed, no notice given.
    Active,
    /// Has given or received notice: may still work on their own accounts.
    Departing,
    /// Has left: gets nothing.
    Departed,
}

impl EmploymentStatus {
    /// Every status.
    pub const ALL: [EmploymentStatus; 3] = [
        EmploymentStatus::Active,
        EmploymentStatus::Departing,
        EmploymentStatus::Departed,
    ];

    /// The string policies compare `principal.status` with.
    pub fn as_str(self) -> &'static str {
        match self {
            EmploymentStatus::Active => "active",
            EmploymentStatus::Departing => "departing",
            EmploymentStatus::Departed => "departed",
        }
    }
}

impl FromStr for EmploymentStatus {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EmploymentStatus::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| PolicyError::UnknownName {
                kind: "employment status",
                found: s.to_string(),
                expected: "active, departing or departed",
            })
    }
}

/// The person asking. Becomes a Cedar `Person` that is a member of `Role::<role>`
/// and, if set, of `Team::<team>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// Stable person id.
    pub id: String,
    /// Role name, e.g. `sales_rep`, `security_admin`.
    pub role: String,
    /// Department name (free text, available to policies).
    pub department: String,
    /// Team id, if the person belongs to one.
    pub team: Option<String>,
    /// Highest classification the person may see.
    pub clearance: Level,
    /// Compartments (need-to-know tags) the person holds.
    pub compartments: BTreeSet<String>,
    /// Employment status.
    pub status: EmploymentStatus,
    /// Person id of their manager, if any.
    pub manager: Option<String>,
}

/// A customer record's access-relevant attributes (never its field values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    /// Customer id.
    pub id: String,
    /// Person id of the account owner.
    pub owner: String,
    /// Team id the account belongs to, if any.
    pub team: Option<String>,
    /// Sales territory.
    pub territory: String,
    /// Classification of the record.
    pub classification: Level,
    /// Compartments the record is tagged with: a reader must hold all of them.
    pub compartments: BTreeSet<String>,
}

/// A document's access-relevant attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    /// Document id.
    pub id: String,
    /// Person id of the custodian.
    pub custodian: String,
    /// Classification of the document.
    pub classification: Level,
    /// Compartments the document is tagged with.
    pub compartments: BTreeSet<String>,
}

/// What is being accessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    /// A customer record.
    Customer(CustomerRecord),
    /// A document (contract, trade secret...).
    Document(DocumentRecord),
    /// The system itself, for administrative actions.
    System,
}

/// The kind of resource an action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// [`ResourceRef::Customer`]
    Customer,
    /// [`ResourceRef::Document`]
    Document,
    /// [`ResourceRef::System`]
    System,
}

impl ResourceKind {
    /// The Cedar entity type name.
    pub fn type_name(self) -> &'static str {
        match self {
            ResourceKind::Customer => "Customer",
            ResourceKind::Document => "Document",
            ResourceKind::System => "System",
        }
    }
}

impl ResourceRef {
    /// Which kind of resource this is.
    pub fn kind(&self) -> ResourceKind {
        match self {
            ResourceRef::Customer(_) => ResourceKind::Customer,
            ResourceRef::Document(_) => ResourceKind::Document,
            ResourceRef::System => ResourceKind::System,
        }
    }

    /// A short human label, e.g. `customer c-17`.
    pub fn label(&self) -> String {
        match self {
            ResourceRef::Customer(c) => format!("customer {}", c.id),
            ResourceRef::Document(d) => format!("document {}", d.id),
            ResourceRef::System => "the system".to_string(),
        }
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $kind:ident;)*) => {
        /// Every action the gateway asks about. `as_str` gives the Cedar action id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $(#[doc = $name] $variant,)* }

        impl Action {
            /// Every action, in schema order.
            pub const ALL: [Action; actions!(@count $($variant)*)] = [$(Action::$variant,)*];

            /// The Cedar action id, e.g. `customer.read`.
            pub fn as_str(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// The kind of resource this action applies to.
            pub fn resource_kind(self) -> ResourceKind {
                match self { $(Action::$variant => ResourceKind::$kind,)* }
            }
        }
    };
    (@count) => { 0 };
    (@count $head:ident $($tail:ident)*) => { 1 + actions!(@count $($tail)*) };
}

actions! {
    CustomerRead => "customer.read", Customer;
    CustomerReadFieldClear => "customer.read_field_clear", Customer;
    CustomerReadFieldMasked => "customer.read_field_masked", Customer;
    CustomerSearch => "customer.search", Customer;
    CustomerExport => "customer.export", Customer;
    CustomerCreate => "customer.create", Customer;
    CustomerUpdate => "customer.update", Customer;
    CustomerErase => "customer.erase", Customer;
    CustomerReassign => "customer.reassign", Customer;
    DocumentView => "document.view", Document;
    DocumentDownload => "document.download", Document;
    DocumentUpload => "document.upload", Document;
    PolicyRead => "policy.read", System;
    PolicyReplace => "policy.replace", System;
    KeysRotate => "keys.rotate", System;
    PersonUpdateStatus => "person.update_status", System;
    AuditRead => "audit.read", System;
    AuditExport => "audit.export", System;
    AccessReview => "access.review", System;
    SessionsRevoke => "sessions.revoke", System;
    DlpScan => "dlp.scan", System;
    AuthRequireMfa => "auth.require_mfa", System;
}

impl Action {
    /// Position in [`Action::ALL`]; used to index per-action policy slices.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Whether a permit grants something. `auth.require_mfa` is an obligation
    /// instead (a permit demands a second factor), so access reviews skip it.
    pub fn is_permission(self) -> bool {
        self != Action::AuthRequireMfa
    }

    /// Whether this action reads one named field (its context carries `field`).
    pub fn is_field_action(self) -> bool {
        matches!(self, Action::CustomerReadFieldClear | Action::CustomerReadFieldMasked)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| PolicyError::UnknownName {
                kind: "action",
                found: s.to_string(),
                expected: "one of the actions in the schema, e.g. customer.read or policy.replace",
            })
    }
}

/// A customer field the gateway may reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// Contact name.
    Name,
    /// Company name.
    Company,
    /// Email addresses.
    Emails,
    /// Phone numbers.
    Phones,
    /// Postal addresses.
    Addresses,
    /// Free-text notes.
    Notes,
    /// Deal value.
    DealValue,
    /// Bank details.
    BankDetails,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 8] = [
        Field::Name,
        Field::Company,
        Field::Emails,
        Field::Phones,
        Field::Addresses,
        Field::Notes,
        Field::DealValue,
        Field::BankDetails,
    ];

    /// The name policies compare `context.field` with.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Company => "company",
            Field::Emails => "emails",
            Field::Phones => "phones",
            Field::Addresses => "addresses",
            Field::Notes => "notes",
            Field::DealValue => "deal_value",
            Field::BankDetails => "bank_details",
        }
    }
}

impl FromStr for Field {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Field::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| PolicyError::UnknownName {
                kind: "field",
                found: s.to_string(),
                expected: "name, company, emails, phones, addresses, notes, deal_value or bank_details",
            })
    }
}

/// How a field may be shown to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldAccess {
    /// The real value.
    Clear,
    /// A masked value (e.g. `j***@example.com`).
    Masked,
    /// Not shown at all.
    Hidden,
}

/// Facts about the request that are not about the principal or the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestContext {
    /// Hour of day, 0..=23, in the company's timezone.
    pub hour: u8,
    /// Day of week, 1 (Monday) ..= 7 (Sunday), in the company's timezone.
    pub weekday: u8,
    /// Whether the request comes from a trusted network.
    pub trusted_network: bool,
    /// How many records the whole request touches (1 for a single read).
    pub record_count: u64,
    /// Whether the person passed multi-factor authentication recently.
    pub mfa_fresh: bool,
    /// Whether the person gave a written justification.
    pub justification: bool,
    /// Whether a manager approved the request (a queued export); the gateway sets it,
    /// never the caller.
    pub approved: bool,
    /// The field read, required for field actions, ignored otherwise.
    pub field: Option<Field>,
}

impl RequestContext {
    /// An ordinary request in good standing: Tuesday 10:00, trusted network, fresh MFA,
    /// justification given, approved, one record. Used to answer "what could this person do under
    /// normal conditions" (access reviews, the lock-out check).
    pub fn office_hours() -> Self {
        RequestContext {
            hour: 10,
            weekday: 2,
            trusted_network: true,
            record_count: 1,
            mfa_fresh: true,
            justification: true,
            approved: true,
            field: None,
        }
    }

    /// The same context reading `field`.
    pub fn with_field(self, field: Field) -> Self {
        RequestContext {
            field: Some(field),
            ..self
        }
    }
}
