//! Who is asking, for what, and the decision: the gateway's side of the
//! Cedar policy engine.

use std::collections::HashMap;
use std::sync::Arc;

use model::{Compartments, CustomerMeta, DocumentMeta, Person, PersonId};
use serde::Serialize;

use crate::audit::{AuditRecord, AuditResource, Held};
use crate::{Gateway, GatewayError};

pub use policy::Action;

/// The authenticated caller. The server turns a session into an `Actor`;
/// the CLI acts as the local operator (who holds the key file) or, with
/// `--as`, as a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The operator at the machine holding the key file: the installation's
    /// root. Everything it does is still recorded.
    Operator {
        name: String,
    },
    Person(PersonId),
}

impl Actor {
    /// The id recorded in the ledger.
    pub fn audit_id(&self) -> String {
        match self {
            Actor::Operator { name } => format!("operator:{name}"),
            Actor::Person(id) => format!("person:{id}"),
        }
    }
}

/// Where a request comes from and what it claims, as recorded and as
/// policy sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccessContext {
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    pub device: Option<String>,
    pub justification: Option<String>,
    /// The caller completed multi-factor authentication recently.
    pub mfa_fresh: bool,
    /// The request comes from a network the company trusts.
    pub trusted_network: bool,
    /// The caller's person record, read with their credential in this
    /// request (the server's check), so the gateway need not read it again.
    #[serde(skip)]
    pub holder: Option<Arc<Holder>>,
}

/// A person as the store had them at this request's credential check, with
/// the [`crate::GENERATION_SETTING`] read in the same query: the gateway
/// adopts that generation (policy and keys) and decides on this record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub person: Person,
    pub generation: Option<String>,
}

/// An authorization outcome with the reasons that determined it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// Policy ids (or built-in rule names) that determined the outcome.
    pub reasons: Vec<String>,
}

impl Decision {
    pub fn allow(reason: &str) -> Decision {
        Decision {
            allowed: true,
            reasons: vec![reason.to_owned()],
        }
    }
    pub fn deny(reason: &str) -> Decision {
        Decision {
            allowed: false,
            reasons: vec![reason.to_owned()],
        }
    }
    fn from_policy(d: policy::Decision) -> Decision {
        let mut reasons: Vec<String> = d.reasons.into_iter().map(|r| r.id).collect();
        if !d.errors.is_empty() {
            reasons.push("error:policy-evaluation".into());
        }
        if reasons.is_empty() {
            reasons.push("no-policy-permits".into());
        }
        Decision {
            allowed: d.allowed && d.errors.is_empty(),
            reasons,
        }
    }
}

/// The caller as policy sees them.
pub(crate) enum Subject {
    Operator,
    Person(Box<policy::Principal>),
}

/// `p` as policy sees them, with their employment status on today's calendar
/// ([`Gateway::employment_status`]).
pub(crate) fn principal(p: &Person, status: model::EmploymentStatus) -> policy::Principal {
    policy::Principal {
        id: p.id.to_string(),
        role: p.role.as_str().to_owned(),
        department: p.department.clone(),
        team: p.team.as_ref().map(|t| t.to_string()),
        clearance: level(p.clearance),
        compartments: p.compartments.clone(),
        status: match status {
            model::EmploymentStatus::Active => policy::EmploymentStatus::Active,
            model::EmploymentStatus::Departing => policy::EmploymentStatus::Departing,
            model::EmploymentStatus::Departed => policy::EmploymentStatus::Departed,
        },
        manager: p.manager.as_ref().map(|m| m.to_string()),
    }
}

fn level(c: model::Classification) -> policy::Level {
    match c {
        model::Classification::Public => policy::Level::Public,
        model::Classification::Internal => policy::Level::Internal,
        model::Classification::Confidential => policy::Level::Confidential,
        model::Classification::Secret => policy::Level::Secret,
    }
}

pub(crate) fn customer_resource(m: &CustomerMeta) -> policy::ResourceRef {
    policy::ResourceRef::Customer(policy::CustomerRecord {
        id: m.id.to_string(),
        owner: m.owner.to_string(),
        team: m.team.as_ref().map(|t| t.to_string()),
        territory: m.territory.clone().unwrap_or_default(),
        classification: level(m.classification),
        compartments: m.compartments.clone(),
    })
}

pub(crate) fn document_resource(m: &DocumentMeta) -> policy::ResourceRef {
    policy::ResourceRef::Document(policy::DocumentRecord {
        id: m.id.to_string(),
        custodian: m.custodian.to_string(),
        classification: level(m.classification),
        compartments: m.compartments.clone(),
    })
}

/// What a memoized decision depends on: everything but the record's id,
/// which no policy in force names (checked when the set is loaded).
#[derive(Clone, PartialEq, Eq, Hash)]
struct MemoKey {
    principal: policy::Principal,
    action: Option<Action>,
    owner: String,
    team: Option<String>,
    territory: String,
    classification: u8,
    compartments: Compartments,
    context: policy::RequestContext,
}

/// Decisions and field accesses for records with equal attributes are
/// equal unless a policy names a record: remembering them keeps bulk reads
/// fast. Keyed by the full principal, so a status change misses at once.
#[derive(Default)]
pub(crate) struct DecisionMemo {
    enabled: bool,
    decisions: HashMap<MemoKey, Decision>,
    fields: HashMap<MemoKey, Vec<(policy::Field, policy::FieldAccess)>>,
}

const MEMO_LIMIT: usize = 100_000;

impl DecisionMemo {
    /// An empty memo for the set in force in `engine`, off when a policy names a
    /// record. Read from the parsed policies: a search of the text for `Customer::"`
    /// missed `Customer :: "C-30"`, and a forbid written so was bypassed for every
    /// record with the attributes of one decided before it (found in review).
    pub(crate) fn for_policy(engine: &policy::PolicyEngine) -> DecisionMemo {
        DecisionMemo {
            enabled: !engine.names_records(),
            ..Default::default()
        }
    }
}

fn memo_key(
    p: &policy::Principal,
    action: Option<Action>,
    resource: &policy::ResourceRef,
    ctx: &policy::RequestContext,
) -> Option<MemoKey> {
    let (owner, team, territory, classification, compartments) = match resource {
        policy::ResourceRef::Customer(c) => (
            c.owner.clone(),
            c.team.clone(),
            c.territory.clone(),
            c.classification.rank(),
            &c.compartments,
        ),
        policy::ResourceRef::Document(d) => (
            d.custodian.clone(),
            None,
            String::new(),
            d.classification.rank(),
            &d.compartments,
        ),
        policy::ResourceRef::System => return None,
    };
    Some(MemoKey {
        principal: p.clone(),
        action,
        owner,
        team,
        territory,
        classification: u8::try_from(classification).unwrap_or(u8::MAX),
        compartments: compartments.clone(),
        context: *ctx,
    })
}

impl Gateway {
    /// Resolves the actor to the subject policy decides on, reading the
    /// person afresh so a status change applies to the very next request, after
    /// bringing policy and keys up to date with the store.
    pub(crate) fn subject(&self, actor: &Actor, ctx: &AccessContext) -> Result<Subject, GatewayError> {
        // The server read the person and the generation with the caller's
        // credential a moment ago, in this request: decide on that read.
        if let (Actor::Person(id), Some(holder)) = (actor, &ctx.holder) {
            if holder.person.id == *id {
                self.refresh_to(holder.generation.clone())?;
                return Ok(Subject::Person(Box::new(self.principal_of(&holder.person))));
            }
        }
        // Every request starts here, so a change made by another instance applies now.
        self.refresh()?;
        match actor {
            Actor::Operator { .. } => Ok(Subject::Operator),
            Actor::Person(id) => match self.store.get_person(id)? {
                Some(p) => Ok(Subject::Person(Box::new(self.principal_of(&p)))),
                None => Err(GatewayError::UnknownPerson(id.to_string())),
            },
        }
    }

    /// `p`'s employment status today, on the company's calendar by the injected
    /// clock: a departing person is departed once their last working day is over,
    /// though nobody has recorded it yet.
    pub fn employment_status(&self, p: &Person) -> model::EmploymentStatus {
        let local_ms = self.clock.now_ms() + i64::from(self.timezone_offset_minutes) * 60_000;
        p.status_on(local_ms.div_euclid(86_400_000))
    }

    /// `p` as policy sees them today.
    pub(crate) fn principal_of(&self, p: &Person) -> policy::Principal {
        principal(p, self.employment_status(p))
    }

    /// The request context policy sees: the company's local hour and
    /// weekday from the injected clock, and the caller's claims.
    pub(crate) fn request_context(&self, ctx: &AccessContext, record_count: u64) -> policy::RequestContext {
        let local_ms = self.clock.now_ms() + i64::from(self.timezone_offset_minutes) * 60_000;
        let days = local_ms.div_euclid(86_400_000);
        let hour = local_ms.rem_euclid(86_400_000) / 3_600_000;
        // 1970-01-01 was a Thursday (weekday 4, Monday = 1).
        let weekday = (days + 3).rem_euclid(7) + 1;
        policy::RequestContext {
            hour: u8::try_from(hour).unwrap_or(0),
            weekday: u8::try_from(weekday).unwrap_or(1),
            trusted_network: ctx.trusted_network,
            record_count,
            mfa_fresh: ctx.mfa_fresh,
            justification: ctx.justification.as_ref().is_some_and(|j| !j.trim().is_empty()),
            // Only an approved queued export sets this, in `export.rs`.
            approved: false,
            field: None,
        }
    }

    fn memo(&self) -> Option<std::sync::MutexGuard<'_, DecisionMemo>> {
        self.memo.lock().ok()
    }

    /// The policy decision for one resource. Fail closed: anything that is
    /// not an explicit allow is a deny.
    pub(crate) fn decide(
        &self,
        subject: &Subject,
        action: Action,
        resource: &policy::ResourceRef,
        ctx: &policy::RequestContext,
    ) -> Decision {
        let p = match subject {
            Subject::Operator => return Decision::allow("builtin:operator-holds-the-key"),
            Subject::Person(p) => p,
        };
        let key = memo_key(p, Some(action), resource, ctx);
        if let (Some(key), Some(memo)) = (&key, self.memo()) {
            if memo.enabled {
                if let Some(d) = memo.decisions.get(key) {
                    return d.clone();
                }
            }
        }
        let decision = Decision::from_policy(self.policy.authorize(p, action, resource, ctx));
        if let (Some(key), Some(mut memo)) = (key, self.memo()) {
            if memo.enabled {
                if memo.decisions.len() > MEMO_LIMIT {
                    memo.decisions.clear();
                }
                memo.decisions.insert(key, decision.clone());
            }
        }
        decision
    }

    /// How each customer field may be shown to the subject.
    pub(crate) fn field_accesses(
        &self,
        subject: &Subject,
        resource: &policy::ResourceRef,
        ctx: &policy::RequestContext,
    ) -> Vec<(policy::Field, policy::FieldAccess)> {
        let p = match subject {
            Subject::Operator => {
                return policy::Field::ALL
                    .iter()
                    .map(|f| (*f, policy::FieldAccess::Clear))
                    .collect()
            }
            Subject::Person(p) => p,
        };
        let key = memo_key(p, None, resource, ctx);
        if let (Some(key), Some(memo)) = (&key, self.memo()) {
            if memo.enabled {
                if let Some(f) = memo.fields.get(key) {
                    return f.clone();
                }
            }
        }
        let fields = self.policy.field_accesses(p, resource, ctx);
        if let (Some(key), Some(mut memo)) = (key, self.memo()) {
            if memo.enabled {
                if memo.fields.len() > MEMO_LIMIT {
                    memo.fields.clear();
                }
                memo.fields.insert(key, fields.clone());
            }
        }
        fields
    }

    /// Authorizes an action on the installation itself (not on a record) and
    /// records a denial; an allow is recorded by the caller with its result.
    pub(crate) fn authorize_admin(
        &self,
        actor: &Actor,
        action: Action,
        ctx: &AccessContext,
    ) -> Result<Subject, GatewayError> {
        let subject = self.subject(actor, ctx);
        let decision = match &subject {
            Ok(s) => self.decide(s, action, &policy::ResourceRef::System, &self.request_context(ctx, 1)),
            Err(e) => Decision::deny(&format!("error:{}", error_code(e))),
        };
        if !decision.allowed {
            return Err(self.deny_decided(
                actor,
                ctx,
                action,
                &decision,
                vec![AuditResource::System],
                "the installation",
            ));
        }
        subject
    }

    /// Refuses, on the record, a request for `action` whose input the caller found
    /// invalid before asking for it (a date that is no date, a number out of range,
    /// text too long). Authorized first, as the request would be: a caller who may
    /// not ask is refused by policy, recorded, and that refusal returned. Otherwise
    /// the refusal is recorded as a deny with the reason `invalid-input` (no input
    /// value in the record) and `Ok(())` returned: the caller then answers its own
    /// error. `action` is decided on the installation, or on `customer` when given
    /// (a customer that does not exist is refused as not found, recorded).
    pub fn refuse_invalid(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        action: Action,
        customer: Option<&model::CustomerId>,
    ) -> Result<(), GatewayError> {
        let Some(id) = customer else {
            self.authorize_admin(actor, action, ctx)?;
            return self.record_refusal(actor, ctx, action, vec![AuditResource::System], "invalid-input");
        };
        let resource = AuditResource::Customer(id.to_string());
        let subject = self.subject(actor, ctx).map_err(|e| {
            self.deny_with(
                actor,
                ctx,
                action,
                vec![AuditResource::System],
                &format!("error:{}", error_code(&e)),
                e,
            )
        })?;
        let Some(stored) = self.store.get_customer(id)? else {
            return Err(self.deny_missing(actor, ctx, action, resource));
        };
        let decision = self.decide(
            &subject,
            action,
            &customer_resource(&stored.meta),
            &self.request_context(ctx, 1),
        );
        if !decision.allowed {
            return Err(self.deny_decided(actor, ctx, action, &decision, vec![resource], &format!("customer {id}")));
        }
        self.record_refusal(actor, ctx, action, vec![resource], "invalid-input")
    }

    /// Records the policy's deny of `action` on `resources` and gives the error to
    /// answer: denied on `what`, or the failure to record it.
    pub(crate) fn deny_decided(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        action: Action,
        decision: &Decision,
        resources: Vec<AuditResource>,
        what: &str,
    ) -> GatewayError {
        let record = AuditRecord::decision(self.clock.now_ms(), actor, action, ctx, decision, resources);
        match self.record(&record) {
            Ok(()) => denied(action, what, decision),
            Err(not_recorded) => not_recorded,
        }
    }

    /// Records a refusal of `action` on `resources` for `reason` (a short code such
    /// as `invalid-input`, never an input value) and returns `error`, or the failure
    /// to record it: a request refused after it was authorized, for what it asks,
    /// is on the record as any refusal is.
    pub(crate) fn deny_with(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        action: Action,
        resources: Vec<AuditResource>,
        reason: &str,
        error: GatewayError,
    ) -> GatewayError {
        match self.record_refusal(actor, ctx, action, resources, reason) {
            Ok(()) => error,
            Err(not_recorded) => not_recorded,
        }
    }

    /// Records a deny of `action` on `resources` for `reason` (see [`Gateway::deny_with`]).
    fn record_refusal(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        action: Action,
        resources: Vec<AuditResource>,
        reason: &str,
    ) -> Result<(), GatewayError> {
        self.record(&AuditRecord::decision(
            self.clock.now_ms(),
            actor,
            action,
            ctx,
            &Decision::deny(reason),
            resources,
        ))
    }

    /// Records that `action` was refused because `resource` does not exist,
    /// and gives the error to answer: not found, or the recording's failure.
    pub(crate) fn deny_missing(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        action: Action,
        resource: AuditResource,
    ) -> GatewayError {
        let (kind, id) = match &resource {
            AuditResource::Customer(id) => ("customer", id.clone()),
            AuditResource::Document(id) => ("document", id.clone()),
            AuditResource::Person(id) => ("person", id.clone()),
            other => ("record", format!("{other:?}")),
        };
        let record = AuditRecord::decision(
            self.clock.now_ms(),
            actor,
            action,
            ctx,
            &Decision::deny("not-found"),
            vec![resource],
        );
        match self.record(&record) {
            Ok(()) => GatewayError::NotFound { kind, id },
            Err(not_recorded) => not_recorded,
        }
    }

    /// Records an audit record durably; failure to record is a deny.
    pub(crate) fn record(&self, record: &AuditRecord) -> Result<(), GatewayError> {
        self.recorder
            .record(record)
            .map_err(|e| GatewayError::NotRecorded(e.to_string()))
    }

    /// Records all of `records`, submitted together so they share group commits rather
    /// than waiting for one flush each (found in review: an import changing many
    /// people held the people's write lock for a flush per person).
    pub(crate) fn record_all(&self, records: &[AuditRecord]) -> Result<(), GatewayError> {
        let not_recorded = |e: crate::RecordError| GatewayError::NotRecorded(e.to_string());
        let tickets = records
            .iter()
            .map(|record| self.recorder.submit(record).map_err(not_recorded))
            .collect::<Result<Vec<_>, _>>()?;
        for ticket in tickets {
            ticket.wait().map_err(not_recorded)?;
        }
        Ok(())
    }

    /// Queues `record` and holds `outcome` until the record is durable.
    pub(crate) fn hold<T>(&self, record: &AuditRecord, outcome: Result<T, GatewayError>) -> Held<T> {
        match self.recorder.submit(record) {
            Ok(ticket) => Held::on(ticket, outcome),
            Err(e) => Held::not_recorded(GatewayError::NotRecorded(e.to_string())),
        }
    }
}

pub(crate) fn denied(action: Action, resource: &str, decision: &Decision) -> GatewayError {
    GatewayError::Denied {
        action: action.to_string(),
        resource: resource.to_owned(),
        reason: decision.reasons.join(", "),
    }
}

/// A short code for an error, fit for the ledger (no values).
pub(crate) fn error_code(e: &GatewayError) -> &'static str {
    match e {
        GatewayError::UnknownPerson(_) => "unknown-person",
        GatewayError::NotFound { .. } => "not-found",
        GatewayError::Crypto(_) => "crypto",
        GatewayError::Store(_) => "store",
        _ => "internal",
    }
}
