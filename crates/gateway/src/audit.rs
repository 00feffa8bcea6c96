//! The recording hook: every decision is handed to a [`Recorder`] (the
//! ledger) and must be durable before data leaves the gateway.

use model::UnixMillis;
use serde::Serialize;

use crate::access::{AccessContext, Action, Actor, Decision};
use crate::GatewayError;

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

/// Where decisions go. A record is queued with [`Recorder::submit`]; the
/// [`Ticket`] it returns resolves once the record is durable. `record` is
/// the same, waited for on the calling thread.
pub trait Recorder: Send + Sync {
    fn submit(&self, record: &AuditRecord) -> Result<Ticket, RecordError>;

    fn record(&self, record: &AuditRecord) -> Result<(), RecordError> {
        self.submit(record)?.wait()
    }
}

/// A record on its way to durability. Data a decision lets out is held until
/// its ticket resolves (see [`crate::Held`]); a ticket that fails means the
/// record is not durable, which is a deny.
#[must_use = "a record is durable only once its ticket resolves"]
pub struct Ticket {
    pending: Option<ledger::PendingAppend>,
    /// Run once the record is durable, in order (e.g. handing the access to
    /// risk analytics, which must never see what the ledger did not take).
    after: Vec<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("pending", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl Ticket {
    /// A ticket for a record the recorder already made durable.
    pub fn durable() -> Ticket {
        Ticket {
            pending: None,
            after: Vec::new(),
        }
    }

    /// A ticket that resolves when the ledger's group commit holding the entry is durable.
    pub fn ledger(pending: ledger::PendingAppend) -> Ticket {
        Ticket {
            pending: Some(pending),
            after: Vec::new(),
        }
    }

    /// Runs `f` once the record is durable (never if it is not).
    pub fn then(mut self, f: impl FnOnce() + Send + 'static) -> Ticket {
        self.after.push(Box::new(f));
        self
    }

    fn finish(self, outcome: Result<(), RecordError>) -> Result<(), RecordError> {
        outcome?;
        for f in self.after {
            f();
        }
        Ok(())
    }

    /// Blocks the calling thread until the record is durable.
    pub fn wait(mut self) -> Result<(), RecordError> {
        let outcome = match self.pending.take() {
            Some(p) => p.wait().map(|_| ()).map_err(|e| RecordError(e.to_string())),
            None => Ok(()),
        };
        self.finish(outcome)
    }

    /// Waits for durability on an async task, holding no thread meanwhile.
    pub async fn durable_async(mut self) -> Result<(), RecordError> {
        let outcome = match self.pending.take() {
            Some(p) => p.await.map(|_| ()).map_err(|e| RecordError(e.to_string())),
            None => Ok(()),
        };
        self.finish(outcome)
    }
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

/// The tamper-evident ledger records decisions: the ticket resolves once the
/// entry's group commit is durable.
impl<S: ledger::LedgerStore> Recorder for ledger::Ledger<S> {
    fn submit(&self, record: &AuditRecord) -> Result<Ticket, RecordError> {
        self.submit(record.to_entry())
            .map(Ticket::ledger)
            .map_err(|e| RecordError(e.to_string()))
    }
}

/// What a gateway call answers while its decision is on its way to the
/// ledger: the value, or the refusal, comes out only once the decision is
/// durable ([`Held::wait`] on a thread, [`Held::released`] on an async task).
/// If the decision cannot be made durable, that failure is the answer: a deny.
#[must_use = "a held answer is released only once its decision is durable"]
pub struct Held<T> {
    outcome: Result<T, GatewayError>,
    ticket: Option<Ticket>,
}

impl<T> Held<T> {
    /// An answer whose decision is recorded by `ticket`.
    pub(crate) fn on(ticket: Ticket, outcome: Result<T, GatewayError>) -> Held<T> {
        Held {
            outcome,
            ticket: Some(ticket),
        }
    }

    /// A failure to queue the decision at all.
    pub(crate) fn not_recorded(error: GatewayError) -> Held<T> {
        Held {
            outcome: Err(error),
            ticket: None,
        }
    }

    /// Blocks the calling thread until the decision is durable, then answers.
    pub fn wait(self) -> Result<T, GatewayError> {
        if let Some(ticket) = self.ticket {
            ticket.wait().map_err(not_recorded)?;
        }
        self.outcome
    }

    /// Awaits durability on an async task (holding no thread), then answers.
    pub async fn released(self) -> Result<T, GatewayError> {
        if let Some(ticket) = self.ticket {
            ticket.durable_async().await.map_err(not_recorded)?;
        }
        self.outcome
    }
}

fn not_recorded(e: RecordError) -> GatewayError {
    GatewayError::NotRecorded(e.to_string())
}
