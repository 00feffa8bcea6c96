//! The recording hook: every decision is handed to a [`Recorder`] (the
//! ledger) and must be durable before data leaves the gateway.

use model::UnixMillis;
use serde::Serialize;

use crate::access::{AccessContext, Action, Actor, Decision};

/// A resource named in an audit record: ids only, never values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AuditResource {
    Customer(String),
    Document(String),
    Person(String),
    Policy(String),
    /// A queued export, by its id.
    Export(String),
    System,
}

/// One decision or admin action, as the ledger records it. It holds ids,
/// counts and field names only: no plaintext customer data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub time: UnixMillis,
    pub actor: String,
    pub action: String,
    pub resources: Vec<AuditResource>,
    /// `allow`, `deny` or `admin`.
    pub decision: String,
    pub reasons: Vec<String>,
    pub record_count: u64,
    pub withheld_count: u64,
    pub fields: Vec<String>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    pub device: Option<String>,
    pub justification: Option<String>,
}

impl AuditRecord {
    pub(crate) fn decision(
        time: UnixMillis,
        actor: &Actor,
        action: Action,
        ctx: &AccessContext,
        decision: &Decision,
        resources: Vec<AuditResource>,
    ) -> AuditRecord {
        AuditRecord {
            time,
            actor: actor.audit_id(),
            action: action.to_string(),
            resources,
            decision: if decision.allowed { "allow" } else { "deny" }.to_owned(),
            reasons: decision.reasons.clone(),
            record_count: 0,
            withheld_count: 0,
            fields: Vec::new(),
            client_address: ctx.client_address.clone(),
            user_agent: ctx.user_agent.clone(),
            device: ctx.device.clone(),
            justification: ctx.justification.clone(),
        }
    }

    pub(crate) fn admin(time: UnixMillis, actor: &Actor, action: Action, ctx: &AccessContext) -> AuditRecord {
        let mut r = AuditRecord::decision(
            time,
            actor,
            action,
            ctx,
            &Decision::allow("admin-action"),
            vec![AuditResource::System],
        );
        r.decision = "admin".to_owned();
        r
    }

    pub(crate) fn with_count(mut self, n: u64) -> AuditRecord {
        self.record_count = n;
        self
    }
}

/// A failure to make a record durable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(pub String);

/// Where decisions go. `record` returns only once the record is durable.
pub trait Recorder: Send + Sync {
    fn record(&self, record: &AuditRecord) -> Result<(), RecordError>;
}

impl AuditRecord {
    /// The ledger entry for this record (its index is assigned on append).
    pub fn to_entry(&self) -> ledger::Entry {
        let resources = self
            .resources
            .iter()
            .map(|r| match r {
                AuditResource::Customer(id) => ledger::ResourceId::Customer(id.clone()),
                AuditResource::Document(id) => ledger::ResourceId::Document(id.clone()),
                AuditResource::Person(id) => ledger::ResourceId::Person(id.clone()),
                AuditResource::Policy(id) => ledger::ResourceId::Policy(id.clone()),
                AuditResource::Export(id) => ledger::ResourceId::Other(format!("export/{id}")),
                AuditResource::System => ledger::ResourceId::Other("system".into()),
            })
            .collect();
        let decision = match self.decision.as_str() {
            "allow" => ledger::Decision::Allow,
            "admin" => ledger::Decision::Admin,
            "error" => ledger::Decision::Error,
            _ => ledger::Decision::Deny,
        };
        ledger::Entry {
            index: 0,
            time: self.time,
            actor: self.actor.clone(),
            action: self.action.clone(),
            resources,
            decision,
            policies: self.reasons.clone(),
            record_count: self.record_count,
            withheld_count: self.withheld_count,
            fields: self.fields.clone(),
            client: ledger::ClientContext {
                address: self.client_address.clone().unwrap_or_default(),
                user_agent: self.user_agent.clone().unwrap_or_default(),
                device: self.device.clone().unwrap_or_default(),
            },
            justification: self.justification.clone().unwrap_or_default(),
        }
    }
}

/// The tamper-evident ledger records decisions: `record` returns once the
/// entry's group commit is durable.
impl<S: ledger::LedgerStore> Recorder for ledger::Ledger<S> {
    fn record(&self, record: &AuditRecord) -> Result<(), RecordError> {
        self.append(record.to_entry())
            .map(|_| ())
            .map_err(|e| RecordError(e.to_string()))
    }
}
