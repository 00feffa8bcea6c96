//! What the gateway hands back: decrypted, masked views. Only the gateway
//! builds these from stored records.

use std::collections::BTreeMap;
use std::fmt;

use model::{Classification, Compartments, CustomerField, CustomerId, PersonId, TeamId, UnixMillis};
use serde::Serialize;

/// A customer as one caller may see it: metadata, the fields they may see
/// in clear, masked values for fields they may see only masked, and the
/// names of fields withheld entirely.
#[derive(Clone, PartialEq, Serialize)]
pub struct CustomerView {
    pub id: CustomerId,
    pub owner: PersonId,
    pub team: Option<TeamId>,
    pub territory: Option<String>,
    pub country: Option<String>,
    pub classification: Classification,
    pub compartments: Compartments,
    pub created_ms: UnixMillis,
    pub updated_ms: UnixMillis,
    /// Field values, in clear or masked (see `masked`).
    pub fields: BTreeMap<CustomerField, serde_json::Value>,
    pub masked: Vec<CustomerField>,
    pub hidden: Vec<CustomerField>,
}

impl CustomerView {
    /// A field's value as text (lists joined with `; `), if visible.
    pub fn text(&self, field: CustomerField) -> Option<String> {
        self.fields.get(&field).map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("; "),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        })
    }
}

impl fmt::Debug for CustomerView {
    // Field values never reach Debug output (invariant 3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerView")
            .field("id", &self.id)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("masked", &self.masked)
            .field("hidden", &self.hidden)
            .finish_non_exhaustive()
    }
}

/// Records withheld from a bulk result, counted by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Withheld {
    pub count: u64,
    pub by_reason: BTreeMap<String, u64>,
}

impl Withheld {
    pub(crate) fn add(&mut self, reasons: &[String]) {
        self.count += 1;
        let key = if reasons.is_empty() {
            "no policy permits".to_owned()
        } else {
            reasons.join(", ")
        };
        *self.by_reason.entry(key).or_default() += 1;
    }
}

/// A bulk result (list, search, export): what the caller may see, and how
/// many records were withheld and why.
#[derive(Debug, Clone, Serialize)]
pub struct Bulk<T> {
    pub records: Vec<T>,
    pub withheld: Withheld,
}
