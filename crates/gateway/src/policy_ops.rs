//! Policy administration and access reviews through the gateway: read,
//! validate, replace (an admin action, refused if it would lock out every
//! security admin), explain, who-can, what-can and unused permissions.

use std::collections::{BTreeMap, BTreeSet};

use model::{CustomerId, DocumentId, EmploymentStatus, PersonId, Role};
use serde::Serialize;
use sha2::Digest as _;
use store::CustomerFilter;

use crate::access::{customer_resource, document_resource, DecisionMemo};
use crate::audit::{AuditRecord, AuditResource};
use crate::{AccessContext, Action, Actor, AuditQuery, Gateway, GatewayError};

/// What one person may do, for an access review.
#[derive(Debug, Clone, Serialize)]
pub struct WhatCan {
    pub person: PersonId,
    pub status: EmploymentStatus,
    /// Actions on the installation (admin actions).
    pub system: Vec<String>,
    /// For each customer action, how many customers it is allowed on.
    pub customers: BTreeMap<String, u64>,
    pub customers_total: u64,
    /// Documents and the actions allowed on each.
    pub documents: BTreeMap<String, Vec<String>>,
}

/// A person who may act on a resource.
#[derive(Debug, Clone, Serialize)]
pub struct WhoCan {
    pub person: PersonId,
    pub name: String,
    pub role: Role,
    pub status: EmploymentStatus,
    pub actions: Vec<String>,
}

/// A decision explained in words.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub allowed: bool,
    pub text: String,
}

const CUSTOMER_ACTIONS: [Action; 6] = [
    Action::CustomerRead,
    Action::CustomerSearch,
    Action::CustomerExport,
    Action::CustomerUpdate,
    Action::CustomerReassign,
    Action::CustomerErase,
];

impl Gateway {
    /// The policy text in force and its stored version (none for the default set).
    pub fn policy_text(&self, actor: &Actor, ctx: &AccessContext) -> Result<(String, Option<u64>), GatewayError> {
        self.authorize_admin(actor, Action::PolicyRead, ctx)?;
        let version = self.store.current_policy()?.map(|p| p.version);
        self.record(&AuditRecord::admin(self.clock.now_ms(), actor, Action::PolicyRead, ctx))?;
        Ok((self.policy.policy_text(), version))
    }

    /// Checks a policy set against the schema without putting it in force;
    /// returns the number of policies.
    pub fn validate_policy(text: &str) -> Result<usize, GatewayError> {
        policy::PolicyEngine::new(text)
            .map(|e| e.policy_count())
            .map_err(GatewayError::Policy)
    }

    /// [`Gateway::validate_policy`] for a caller who may read the policy: the parser
    /// is work anyone else has no reason to give the server (found in review: nested
    /// brackets sent by an engineer overflowed its stack).
    pub fn validate_policy_as(&self, actor: &Actor, ctx: &AccessContext, text: &str) -> Result<usize, GatewayError> {
        self.authorize_admin(actor, Action::PolicyRead, ctx)?;
        let mut r = AuditRecord::admin(self.clock.now_ms(), actor, Action::PolicyRead, ctx);
        r.reasons = vec!["validate".into()];
        self.record(&r)?;
        Self::validate_policy(text)
    }

    /// Runs a file of policy test cases against the set in force.
    pub fn test_policy(&self, cases: &str) -> Result<policy::CaseReport, GatewayError> {
        policy::run_cases(&self.policy, cases).map_err(GatewayError::Policy)
    }

    /// Puts a new policy set in force and stores it as a new version. Refused
    /// (and the set in force kept) when it does not validate or would leave
    /// no security admin able to change policy. Recorded before it is stored
    /// or in force: a change the ledger cannot show must not happen.
    pub fn replace_policy(&self, actor: &Actor, ctx: &AccessContext, text: &str) -> Result<u64, GatewayError> {
        self.authorize_admin(actor, Action::PolicyReplace, ctx)?;
        let admins: Vec<policy::Principal> = self
            .store
            .list_people()?
            .iter()
            .filter(|p| p.role == Role::SecurityAdmin && self.employment_status(p) != EmploymentStatus::Departed)
            .map(|p| self.principal_of(p))
            .collect();
        let now = self.clock.now_ms();
        let checked = match self.policy.check_replacement(text, &admins) {
            Ok(checked) => checked,
            Err(e) => {
                let mut r = AuditRecord::admin(now, actor, Action::PolicyReplace, ctx);
                r.decision = "error".into();
                r.reasons = vec!["rejected:invalid-or-lock-out".into()];
                self.record(&r)?;
                return Err(GatewayError::Policy(e));
            }
        };
        // Versions are dense on both backends, so the next one is known before
        // it is stored; the text's digest names the set even if another server
        // stores a version in between.
        let next = self.store.current_policy()?.map_or(1, |p| p.version + 1);
        let mut r = AuditRecord::admin(now, actor, Action::PolicyReplace, ctx);
        r.resources = vec![AuditResource::Policy(next.to_string())];
        r.fields = vec![format!(
            "sha256={}",
            crate::documents::hex(&sha2::Sha256::digest(text.as_bytes()))
        )];
        self.record(&r)?;
        let author = match actor {
            Actor::Person(p) => p.clone(),
            Actor::Operator { name } => PersonId(format!("operator:{name}")),
        };
        let version = self.store.put_policy(text, &author, now)?;
        self.policy.put_in_force(checked);
        if let Ok(mut memo) = self.memo.lock() {
            *memo = DecisionMemo::for_policy(&self.policy);
        }
        self.announce_change(&format!("policy:{version}"))?;
        Ok(version)
    }

    /// Resolves a resource id: a customer, a document, or `system`.
    fn resource_by_id(&self, id: &str) -> Result<policy::ResourceRef, GatewayError> {
        if id.eq_ignore_ascii_case("system") {
            return Ok(policy::ResourceRef::System);
        }
        if let Some(c) = self
            .store
            .get_customers(&[CustomerId(id.to_owned())])?
            .into_iter()
            .next()
        {
            return Ok(customer_resource(&c.meta));
        }
        if let Some(d) = self.store.get_document(&DocumentId(id.to_owned()))? {
            return Ok(document_resource(&d.meta));
        }
        Err(GatewayError::NotFound {
            kind: "customer or document",
            id: id.to_owned(),
        })
    }

    fn person_principal(&self, id: &PersonId) -> Result<(model::Person, policy::Principal), GatewayError> {
        let p = self
            .store
            .get_person(id)?
            // The person named in the request, not the caller: not found (the caller's
            // `UnknownPerson` is answered 401, which says their session is gone).
            .ok_or_else(|| GatewayError::NotFound {
                kind: "person",
                id: id.to_string(),
            })?;
        let pr = self.principal_of(&p);
        Ok((p, pr))
    }

    /// Why `subject` may or may not do `action` on `resource`, in words.
    pub fn explain(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        subject: &PersonId,
        action: &str,
        resource: &str,
    ) -> Result<Explanation, GatewayError> {
        self.authorize_admin(actor, Action::AccessReview, ctx)?;
        let action: Action = action.parse().map_err(GatewayError::Policy)?;
        let (_, pr) = self.person_principal(subject)?;
        let resource = self.resource_by_id(resource)?;
        let pctx = self.request_context(ctx, 1);
        let allowed = self.policy.authorize(&pr, action, &resource, &pctx).allowed;
        let text = self.policy.explain(&pr, action, &resource, &pctx);
        self.record(&AuditRecord::admin(
            self.clock.now_ms(),
            actor,
            Action::AccessReview,
            ctx,
        ))?;
        Ok(Explanation { allowed, text })
    }

    /// Everyone who may act on a resource, and how (under normal conditions).
    pub fn who_can(&self, actor: &Actor, ctx: &AccessContext, resource: &str) -> Result<Vec<WhoCan>, GatewayError> {
        self.authorize_admin(actor, Action::AccessReview, ctx)?;
        let res = self.resource_by_id(resource)?;
        let mut out = Vec::new();
        for p in self.store.list_people()? {
            let actions = self.policy.allowed_actions(&self.principal_of(&p), &res);
            if !actions.is_empty() {
                out.push(WhoCan {
                    person: p.id.clone(),
                    name: p.name.clone(),
                    role: p.role,
                    status: self.employment_status(&p),
                    actions: actions.iter().map(|a| a.to_string()).collect(),
                });
            }
        }
        self.record(
            &AuditRecord::admin(self.clock.now_ms(), actor, Action::AccessReview, ctx).with_count(out.len() as u64),
        )?;
        Ok(out)
    }

    /// What a person may do across the vault (under normal conditions).
    pub fn what_can(&self, actor: &Actor, ctx: &AccessContext, person: &PersonId) -> Result<WhatCan, GatewayError> {
        self.authorize_admin(actor, Action::AccessReview, ctx)?;
        let out = self.what_can_inner(person)?;
        self.record(&AuditRecord::admin(
            self.clock.now_ms(),
            actor,
            Action::AccessReview,
            ctx,
        ))?;
        Ok(out)
    }

    fn what_can_inner(&self, person: &PersonId) -> Result<WhatCan, GatewayError> {
        let (p, pr) = self.person_principal(person)?;
        let subject = crate::access::Subject::Person(Box::new(pr.clone()));
        let office = policy::RequestContext::office_hours();
        let system = self
            .policy
            .allowed_actions(&pr, &policy::ResourceRef::System)
            .iter()
            .map(|a| a.to_string())
            .collect();
        let mut customers: BTreeMap<String, u64> = BTreeMap::new();
        let metas = self.store.customer_metas(&CustomerFilter::default())?;
        for meta in &metas {
            let res = customer_resource(meta);
            for action in CUSTOMER_ACTIONS {
                let ctx = policy::RequestContext {
                    justification: true,
                    ..office
                };
                if self.decide(&subject, action, &res, &ctx).allowed {
                    *customers.entry(action.to_string()).or_default() += 1;
                }
            }
        }
        let mut documents = BTreeMap::new();
        for doc in self.store.list_documents()? {
            let actions = self.policy.allowed_actions(&pr, &document_resource(&doc));
            if !actions.is_empty() {
                documents.insert(doc.id.to_string(), actions.iter().map(|a| a.to_string()).collect());
            }
        }
        Ok(WhatCan {
            status: self.employment_status(&p),
            person: p.id,
            system,
            customers,
            customers_total: metas.len() as u64,
            documents,
        })
    }

    /// Permissions each person holds but has not used in the last `days`
    /// days (by the ledger), for the access reviews the seeds call for.
    pub fn unused_access(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        days: u32,
    ) -> Result<Vec<(PersonId, Vec<String>)>, GatewayError> {
        self.authorize_admin(actor, Action::AccessReview, ctx)?;
        let since = self.clock.now_ms() - i64::from(days) * 86_400_000;
        // Only who did what is kept of each entry: a busy ledger's window of years
        // would not fit in memory whole (found in review).
        let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        self.for_each_ledger_entry(
            &AuditQuery {
                from: Some(since),
                decision: Some("allow".into()),
                ..Default::default()
            },
            &mut |e| {
                used.entry(e.actor).or_default().insert(e.action);
                true
            },
        )?;
        let mut out = Vec::new();
        for p in self.store.list_people()? {
            if self.employment_status(&p) == EmploymentStatus::Departed {
                continue;
            }
            let can = self.what_can_inner(&p.id)?;
            let held: BTreeSet<String> = can
                .system
                .iter()
                .cloned()
                .chain(can.customers.keys().cloned())
                .chain(can.documents.values().flatten().cloned())
                .collect();
            let mine = used.get(&format!("person:{}", p.id));
            let unused: Vec<String> = held
                .into_iter()
                .filter(|a| !mine.is_some_and(|u| u.contains(a)))
                .collect();
            if !unused.is_empty() {
                out.push((p.id, unused));
            }
        }
        self.record(
            &AuditRecord::admin(self.clock.now_ms(), actor, Action::AccessReview, ctx).with_count(out.len() as u64),
        )?;
        Ok(out)
    }
}
