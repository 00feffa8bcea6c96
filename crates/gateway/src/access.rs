//! Who is asking, for what, and the decision.

use std::fmt;

use model::{Classification, Compartments, EmploymentStatus, Person, PersonId};
use serde::Serialize;

use crate::audit::{AuditRecord, AuditResource};
use crate::{Gateway, GatewayError};

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

/// Everything a caller may do to vault data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    CustomerRead,
    CustomerSearch,
    CustomerExport,
    CustomerCreate,
    CustomerUpdate,
    CustomerErase,
    CustomerReassign,
    DocumentView,
    DocumentDownload,
    DocumentUpload,
    PeopleRead,
    PeopleWrite,
    KeysRotate,
    PolicyRead,
    PolicyReplace,
    AuditRead,
    AuditVerify,
    AuditExport,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CustomerRead => "customer.read",
            Action::CustomerSearch => "customer.search",
            Action::CustomerExport => "customer.export",
            Action::CustomerCreate => "customer.create",
            Action::CustomerUpdate => "customer.update",
            Action::CustomerErase => "customer.erase",
            Action::CustomerReassign => "customer.reassign",
            Action::DocumentView => "document.view",
            Action::DocumentDownload => "document.download",
            Action::DocumentUpload => "document.upload",
            Action::PeopleRead => "people.read",
            Action::PeopleWrite => "people.write",
            Action::KeysRotate => "keys.rotate",
            Action::PolicyRead => "policy.read",
            Action::PolicyReplace => "policy.replace",
            Action::AuditRead => "audit.read",
            Action::AuditVerify => "audit.verify",
            Action::AuditExport => "audit.export",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
}

/// The caller as policy sees them.
pub(crate) enum Subject {
    Operator,
    Person(Box<Person>),
}

/// What a request touches, as policy sees it.
#[allow(dead_code)] // read once the Cedar engine decides for people
pub(crate) struct ResourceAttrs<'a> {
    pub kind: &'static str,
    pub id: &'a str,
    pub owner: Option<&'a PersonId>,
    pub classification: Classification,
    pub compartments: &'a Compartments,
}

impl Gateway {
    /// Resolves the actor to the subject policy decides on. An unknown
    /// person is an error (and so a deny).
    pub(crate) fn subject(&self, actor: &Actor) -> Result<Subject, GatewayError> {
        match actor {
            Actor::Operator { .. } => Ok(Subject::Operator),
            Actor::Person(id) => self
                .store
                .get_person(id)?
                .map(|p| Subject::Person(Box::new(p)))
                .ok_or_else(|| GatewayError::UnknownPerson(id.to_string())),
        }
    }

    /// The policy decision for one resource. Fail closed: anything that is
    /// not an explicit allow is a deny.
    pub(crate) fn decide(
        &self,
        subject: &Subject,
        action: Action,
        resource: Option<&ResourceAttrs<'_>>,
        _ctx: &AccessContext,
    ) -> Decision {
        match subject {
            Subject::Operator => Decision::allow("builtin:operator-holds-the-key"),
            Subject::Person(p) if p.status == EmploymentStatus::Departed => {
                Decision::deny("builtin:departed-gets-nothing")
            }
            Subject::Person(_) => {
                let _ = (action, resource);
                Decision::deny("builtin:no-policy-permits")
            }
        }
    }

    /// Authorizes an action that touches no single record and records it;
    /// a deny is returned as [`GatewayError::Denied`].
    pub(crate) fn authorize_admin(
        &self,
        actor: &Actor,
        action: Action,
        ctx: &AccessContext,
    ) -> Result<Subject, GatewayError> {
        let subject = self.subject(actor);
        let decision = match &subject {
            Ok(s) => self.decide(s, action, None, ctx),
            Err(e) => Decision::deny(&format!("error:{}", error_code(e))),
        };
        let now = self.clock.now_ms();
        if !decision.allowed {
            self.record(&AuditRecord::decision(
                now,
                actor,
                action,
                ctx,
                &decision,
                vec![AuditResource::System],
            ))?;
            return Err(denied(action, "the installation", &decision));
        }
        subject
    }

    /// Records an audit record durably; failure to record is a deny.
    pub(crate) fn record(&self, record: &AuditRecord) -> Result<(), GatewayError> {
        self.recorder
            .record(record)
            .map_err(|e| GatewayError::NotRecorded(e.to_string()))
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
