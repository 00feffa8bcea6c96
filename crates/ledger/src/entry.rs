//! Ledger entries and their canonical byte encoding.
//!
//! # Canonical encoding, version 1
//!
//! The leaf hash covers exactly these bytes, so the encoding never changes for
//! a given version. Integers are big-endian. A *string* is a `u32` byte length
//! followed by that many bytes of UTF-8. A *list* is a `u32` item count
//! followed by the items. Fields, in this fixed order:
//!
//! | # | field            | encoding                                                   |
//! |---|------------------|------------------------------------------------------------|
//! | 1 | version          | `u8`, always `0x01`                                        |
//! | 2 | index            | `u64`                                                      |
//! | 3 | time             | `i64`, Unix milliseconds                                   |
//! | 4 | actor            | string                                                     |
//! | 5 | action           | string                                                     |
//! | 6 | resources        | list of (`u8` kind: 0 customer, 1 document, 2 person, 3 policy, 4 other; string id) |
//! | 7 | decision         | `u8`: 0 allow, 1 deny, 2 error, 3 admin                    |
//! | 8 | policies         | list of string                                             |
//! | 9 | record count     | `u64`                                                      |
//! |10 | withheld count   | `u64`                                                      |
//! |11 | field names      | list of string                                             |
//! |12 | client address   | string (empty = unknown)                                   |
//! |13 | client user agent| string (empty = unknown)                                   |
//! |14 | client device    | string (empty = unknown)                                   |
//! |15 | justification    | string (empty = none given)                                |
//!
//! Decoding rejects an unknown version, a truncated field, invalid UTF-8,
//! unknown kind/decision codes and trailing bytes.
//!
//! Entries hold ids, counts and field names only: never plaintext customer data.

use model::UnixMillis;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The only encoding version this crate writes and reads.
pub const ENTRY_VERSION: u8 = 1;

/// What a resource id refers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ResourceId {
    /// A customer record.
    Customer(String),
    /// A document.
    Document(String),
    /// A person (employee, contractor).
    Person(String),
    /// A policy.
    Policy(String),
    /// Anything else.
    Other(String),
}

/// Outcome of the access decision that the entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Access granted.
    Allow,
    /// Access refused.
    Deny,
    /// The request failed (treated as a deny).
    Error,
    /// An administrative action.
    Admin,
}

/// Where a request came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientContext {
    /// Network address (empty = unknown).
    pub address: String,
    /// User agent (empty = unknown).
    pub user_agent: String,
    /// Device id (empty = unknown).
    pub device: String,
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Sequence number in the ledger; assigned by [`crate::Ledger::append`].
    pub index: u64,
    /// When the action happened.
    pub time: UnixMillis,
    /// Who acted (an id, never a name).
    pub actor: String,
    /// What was done, e.g. `customer.read`.
    pub action: String,
    /// What it was done to.
    pub resources: Vec<ResourceId>,
    /// The access decision.
    pub decision: Decision,
    /// Ids of the policies that determined the decision.
    pub policies: Vec<String>,
    /// Records returned.
    pub record_count: u64,
    /// Records withheld by policy.
    pub withheld_count: u64,
    /// Names (not values) of the fields returned.
    pub fields: Vec<String>,
    /// Where the request came from.
    pub client: ClientContext,
    /// Justification the actor gave (empty = none).
    pub justification: String,
}

/// Why bytes are not a valid canonical entry.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EntryError {
    /// Version byte unknown to this build.
    #[error("entry encoding version {found} is unknown (expected {ENTRY_VERSION}): upgrade custodia to read it")]
    UnknownVersion {
        /// The version byte found.
        found: u8,
    },
    /// The bytes end inside a field.
    #[error("entry is truncated in field {field}: needed {needed} more bytes, found {remaining}")]
    Truncated {
        /// Field being read.
        field: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes left.
        remaining: usize,
    },
    /// Bytes after the last field.
    #[error("entry has {count} trailing bytes after the last field: expected none, the record is corrupt")]
    TrailingBytes {
        /// Number of extra bytes.
        count: usize,
    },
    /// A string is not UTF-8.
    #[error("entry field {field} is not valid UTF-8: the record is corrupt")]
    InvalidUtf8 {
        /// Field being read.
        field: &'static str,
    },
    /// Unknown resource kind code.
    #[error("entry resource kind code {found} is unknown (expected 0..=4): the record is corrupt")]
    UnknownResourceKind {
        /// Code found.
        found: u8,
    },
    /// Unknown decision code.
    #[error("entry decision code {found} is unknown (expected 0..=3): the record is corrupt")]
    UnknownDecision {
        /// Code found.
        found: u8,
    },
    /// A field is longer than the encoding can hold.
    #[error("entry field {field} is longer than 4 GiB: shorten it")]
    TooLong {
        /// Field being written.
        field: &'static str,
    },
}

fn put_str(out: &mut Vec<u8>, field: &'static str, s: &str) -> Result<(), EntryError> {
    let len = u32::try_from(s.len()).map_err(|_| EntryError::TooLong { field })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn put_count(out: &mut Vec<u8>, field: &'static str, n: usize) -> Result<(), EntryError> {
    let len = u32::try_from(n).map_err(|_| EntryError::TooLong { field })?;
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

impl ResourceId {
    fn parts(&self) -> (u8, &str) {
        match self {
            ResourceId::Customer(s) => (0, s),
            ResourceId::Document(s) => (1, s),
            ResourceId::Person(s) => (2, s),
            ResourceId::Policy(s) => (3, s),
            ResourceId::Other(s) => (4, s),
        }
    }
}

impl Decision {
    fn code(self) -> u8 {
        match self {
            Decision::Allow => 0,
            Decision::Deny => 1,
            Decision::Error => 2,
            Decision::Admin => 3,
        }
    }
}

/// Cursor over input bytes that never panics.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, n: u64) -> Result<&'a [u8], EntryError> {
        let truncated = EntryError::Truncated {
            field,
            needed: n,
            remaining: self.rest.len(),
        };
        let n = usize::try_from(n).map_err(|_| truncated.clone())?;
        if n > self.rest.len() {
            return Err(truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], EntryError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(field, N as u64)?);
        Ok(a)
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, EntryError> {
        Ok(self.array::<1>(field)?[0])
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, EntryError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, EntryError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }
    fn str_ref(&mut self, field: &'static str) -> Result<&'a str, EntryError> {
        let len = self.u32(field)?;
        let bytes = self.take(field, u64::from(len))?;
        std::str::from_utf8(bytes).map_err(|_| EntryError::InvalidUtf8 { field })
    }
    fn str(&mut self, field: &'static str) -> Result<String, EntryError> {
        self.str_ref(field).map(str::to_owned)
    }
    /// Skips a string, checking that it is UTF-8. Entries hold ids and
    /// field names, nearly always ASCII, and checking a short string for
    /// ASCII costs a fraction of a full UTF-8 validation.
    fn skip_str(&mut self, field: &'static str) -> Result<(), EntryError> {
        let len = self.u32(field)?;
        let bytes = self.take(field, u64::from(len))?;
        if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
            Ok(())
        } else {
            Err(EntryError::InvalidUtf8 { field })
        }
    }
    /// Skips a list of strings, validating them, without allocating.
    fn skip_strs(&mut self, field: &'static str) -> Result<(), EntryError> {
        for _ in 0..self.u32(field)? {
            self.skip_str(field)?;
        }
        Ok(())
    }
    fn list<T>(
        &mut self,
        field: &'static str,
        mut item: impl FnMut(&mut Self) -> Result<T, EntryError>,
    ) -> Result<Vec<T>, EntryError> {
        let n = self.u32(field)?;
        // never trust the count for allocation: each item takes >= 4 bytes
        let mut out = Vec::with_capacity((n as usize).min(self.rest.len() / 4));
        for _ in 0..n {
            out.push(item(self)?);
        }
        Ok(out)
    }
}

impl Entry {
    /// The canonical bytes (see the module documentation).
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        let mut out = Vec::with_capacity(128);
        out.push(ENTRY_VERSION);
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        put_str(&mut out, "actor", &self.actor)?;
        put_str(&mut out, "action", &self.action)?;
        put_count(&mut out, "resources", self.resources.len())?;
        for r in &self.resources {
            let (kind, id) = r.parts();
            out.push(kind);
            put_str(&mut out, "resources", id)?;
        }
        out.push(self.decision.code());
        put_count(&mut out, "policies", self.policies.len())?;
        for p in &self.policies {
            put_str(&mut out, "policies", p)?;
        }
        out.extend_from_slice(&self.record_count.to_be_bytes());
        out.extend_from_slice(&self.withheld_count.to_be_bytes());
        put_count(&mut out, "fields", self.fields.len())?;
        for f in &self.fields {
            put_str(&mut out, "fields", f)?;
        }
        put_str(&mut out, "client.address", &self.client.address)?;
        put_str(&mut out, "client.user_agent", &self.client.user_agent)?;
        put_str(&mut out, "client.device", &self.client.device)?;
        put_str(&mut out, "justification", &self.justification)?;
        Ok(out)
    }

    /// Checks that `bytes` are a valid canonical entry, without allocating,
    /// and returns its index: what [`Entry::decode`] accepts, for fast
    /// verification passes.
    pub fn validate(bytes: &[u8]) -> Result<u64, EntryError> {
        let mut r = Reader { rest: bytes };
        let version = r.u8("version")?;
        if version != ENTRY_VERSION {
            return Err(EntryError::UnknownVersion { found: version });
        }
        let index = r.u64("index")?;
        r.take("time", 8)?;
        r.skip_str("actor")?;
        r.skip_str("action")?;
        for _ in 0..r.u32("resources")? {
            let kind = r.u8("resources")?;
            r.skip_str("resources")?;
            if kind > 4 {
                return Err(EntryError::UnknownResourceKind { found: kind });
            }
        }
        let decision = r.u8("decision")?;
        if decision > 3 {
            return Err(EntryError::UnknownDecision { found: decision });
        }
        r.skip_strs("policies")?;
        r.take("record_count", 8)?;
        r.take("withheld_count", 8)?;
        r.skip_strs("fields")?;
        for field in ["client.address", "client.user_agent", "client.device", "justification"] {
            r.skip_str(field)?;
        }
        if !r.rest.is_empty() {
            return Err(EntryError::TrailingBytes { count: r.rest.len() });
        }
        Ok(index)
    }

    /// Parses canonical bytes, rejecting anything [`Entry::encode`] would not produce.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        let mut r = Reader { rest: bytes };
        let version = r.u8("version")?;
        if version != ENTRY_VERSION {
            return Err(EntryError::UnknownVersion { found: version });
        }
        let index = r.u64("index")?;
        let time = i64::from_be_bytes(r.array("time")?);
        let actor = r.str("actor")?;
        let action = r.str("action")?;
        let resources = r.list("resources", |r| {
            let kind = r.u8("resources")?;
            let id = r.str("resources")?;
            Ok(match kind {
                0 => ResourceId::Customer(id),
                1 => ResourceId::Document(id),
                2 => ResourceId::Person(id),
                3 => ResourceId::Policy(id),
                4 => ResourceId::Other(id),
                found => return Err(EntryError::UnknownResourceKind { found }),
            })
        })?;
        let decision = match r.u8("decision")? {
            0 => Decision::Allow,
            1 => Decision::Deny,
            2 => Decision::Error,
            3 => Decision::Admin,
            found => return Err(EntryError::UnknownDecision { found }),
        };
        let policies = r.list("policies", |r| r.str("policies"))?;
        let record_count = r.u64("record_count")?;
        let withheld_count = r.u64("withheld_count")?;
        let fields = r.list("fields", |r| r.str("fields"))?;
        let client = ClientContext {
            address: r.str("client.address")?,
            user_agent: r.str("client.user_agent")?,
            device: r.str("client.device")?,
        };
        let justification = r.str("justification")?;
        if !r.rest.is_empty() {
            return Err(EntryError::TrailingBytes { count: r.rest.len() });
        }
        Ok(Entry {
            index,
            time,
            actor,
            action,
            resources,
            decision,
            policies,
            record_count,
            withheld_count,
            fields,
            client,
            justification,
        })
    }
}
