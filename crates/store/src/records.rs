use std::fmt;

use model::{CustomerField, CustomerMeta, DocumentMeta, PersonId, UnixMillis};

use crate::StoreError;

/// A data key as the store keeps it: sealed under a key-encryption key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kek_version: u32,
    pub sealed: Vec<u8>,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredKey(kek v{}, {} bytes)", self.kek_version, self.sealed.len())
    }
}

/// Whose data key a wrapped key is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyOwner {
    Customer(String),
    Document(String),
    /// A person's TOTP secrets (the id is the person's).
    Totp(String),
}

impl KeyOwner {
    pub(crate) fn split(&self) -> (&'static str, &str) {
        match self {
            KeyOwner::Customer(id) => ("customer", id),
            KeyOwner::Document(id) => ("document", id),
            KeyOwner::Totp(id) => ("totp", id),
        }
    }
    pub(crate) fn join(kind: &str, id: String) -> Result<KeyOwner, StoreError> {
        match kind {
            "customer" => Ok(KeyOwner::Customer(id)),
            "document" => Ok(KeyOwner::Document(id)),
            "totp" => Ok(KeyOwner::Totp(id)),
            other => Err(StoreError::Corrupt {
                what: "key owner".into(),
                problem: format!("unknown kind {other:?}"),
            }),
        }
    }
}

/// Which blind index a lookup hash belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    Email,
    Phone,
}

impl LookupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LookupKind::Email => "email",
            LookupKind::Phone => "phone",
        }
    }
}

/// A customer as stored: metadata in clear, each sensitive field sealed
/// separately, the data key wrapped, and blind-index hashes.
#[derive(Clone, PartialEq)]
pub struct SealedCustomer {
    pub meta: CustomerMeta,
    pub key: StoredKey,
    pub fields: Vec<(CustomerField, Vec<u8>)>,
    pub lookups: Vec<(LookupKind, [u8; 16])>,
}

impl fmt::Debug for SealedCustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedCustomer")
            .field("meta", &self.meta)
            .field("fields", &self.fields.len())
            .finish_non_exhaustive()
    }
}

/// What opening a customer reads: a [`SealedCustomer`] but its blind-index
/// hashes, which only searches use (through `Store::find_customers`). A read
/// that opens one customer loads this, one row, not the row and its lookups.
#[derive(Clone, PartialEq)]
pub struct CustomerToOpen {
    pub meta: CustomerMeta,
    pub key: StoredKey,
    pub fields: Vec<(CustomerField, Vec<u8>)>,
}

impl From<SealedCustomer> for CustomerToOpen {
    fn from(sealed: SealedCustomer) -> Self {
        CustomerToOpen {
            meta: sealed.meta,
            key: sealed.key,
            fields: sealed.fields,
        }
    }
}

impl fmt::Debug for CustomerToOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerToOpen")
            .field("meta", &self.meta)
            .field("fields", &self.fields.len())
            .finish_non_exhaustive()
    }
}

/// Encodes sealed fields as `tag(u8) len(u32 BE) bytes` repeated.
pub(crate) fn encode_fields(fields: &[(CustomerField, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|(_, b)| b.len() + 5).sum());
    for (field, bytes) in fields {
        out.push(field_tag(*field));
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

pub(crate) fn decode_fields(mut raw: &[u8]) -> Result<Vec<(CustomerField, Vec<u8>)>, StoreError> {
    let corrupt = |p: &str| StoreError::Corrupt {
        what: "customer fields".into(),
        problem: p.into(),
    };
    let mut out = Vec::new();
    while let Some((&tag, rest)) = raw.split_first() {
        let field = CustomerField::ALL
            .into_iter()
            .find(|f| field_tag(*f) == tag)
            .ok_or_else(|| corrupt("unknown field tag"))?;
        let (len, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| corrupt("truncated length"))?;
        let len = u32::from_be_bytes(*len) as usize;
        let bytes = rest.get(..len).ok_or_else(|| corrupt("truncated value"))?;
        out.push((field, bytes.to_vec()));
        raw = &rest[len..];
    }
    Ok(out)
}

fn field_tag(f: CustomerField) -> u8 {
    match f {
        CustomerField::Name => 1,
        CustomerField::Company => 2,
        CustomerField::Emails => 3,
        CustomerField::Phones => 4,
        CustomerField::Addresses => 5,
        CustomerField::Notes => 6,
        CustomerField::DealValue => 7,
        CustomerField::BankDetails => 8,
    }
}

/// A document as stored: metadata in clear, the body sealed.
#[derive(Clone, PartialEq)]
pub struct SealedDocument {
    pub meta: DocumentMeta,
    pub key: StoredKey,
    pub body: Vec<u8>,
}

impl fmt::Debug for SealedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedDocument")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

/// A version of the policy set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    pub version: u64,
    pub text: String,
    pub author: PersonId,
    pub at: UnixMillis,
}

/// Where a queued export stands. It moves `Pending` → `Approved` or
/// `Rejected`, and `Approved` → `Downloaded` (once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportState {
    Pending,
    Approved,
    Rejected,
    Downloaded,
}

impl ExportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Pending => "pending",
            ExportState::Approved => "approved",
            ExportState::Rejected => "rejected",
            ExportState::Downloaded => "downloaded",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<ExportState, StoreError> {
        match s {
            "pending" => Ok(ExportState::Pending),
            "approved" => Ok(ExportState::Approved),
            "rejected" => Ok(ExportState::Rejected),
            "downloaded" => Ok(ExportState::Downloaded),
            other => Err(StoreError::Corrupt {
                what: "export state".into(),
                problem: format!("unknown state {other:?}"),
            }),
        }
    }
}

/// An export that waits for a manager's approval. It holds what to export
/// (the filter, as JSON the gateway wrote) and who asked, never customer data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingExport {
    pub id: String,
    pub requester: PersonId,
    /// The selection, as JSON (ids and limits only).
    pub filter: String,
    /// `csv` or `xlsx`.
    pub format: String,
    pub justification: String,
    pub created_ms: UnixMillis,
    pub state: ExportState,
    pub decided_by: Option<PersonId>,
    pub decided_ms: Option<UnixMillis>,
}
