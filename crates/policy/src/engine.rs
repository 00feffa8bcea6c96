//! The policy engine: loading, slicing and deciding.

use std::collections::BTreeSet;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::Hash;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision as CedarDecision, Entities, EntityTypeName, EntityUid, Policy,
    PolicyId, PolicySet, PrincipalConstraint, Request, ResourceConstraint, Schema, ValidationMode, Validator,
};
use miette::Diagnostic;

use crate::cedar_input::{CedarPrincipal, Names};
use crate::error::PolicyError;
use crate::model::{Action, Field, FieldAccess, Level, Principal, RequestContext, ResourceRef};

/// Entries kept per conversion cache before it is emptied (bounds memory on odd traffic).
/// Large enough to hold every person of a 10,000-employee company (a converted
/// principal is about a kilobyte), so steady traffic never rebuilds one.
const CACHE_LIMIT: usize = 16_384;

/// The Cedar schema every policy set is validated against.
pub const SCHEMA_TEXT: &str = include_str!("../policies/custodia.cedarschema");

/// The default policy set a company can use on day one.
pub const DEFAULT_POLICIES: &str = include_str!("../policies/default.cedar");

/// A policy that determined a decision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyReason {
    /// The policy's `@id` annotation.
    pub id: String,
    /// The policy's `@description` annotation, in plain words.
    pub description: String,
}

/// The answer to one request. Fails closed: `allowed` is false whenever `errors` is not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the access may go ahead.
    pub allowed: bool,
    /// The determining policies: the satisfied forbids of a denial, or the satisfied
    /// permits of an allowance. Empty for a default deny. Sorted by id.
    pub reasons: Vec<PolicyReason>,
    /// Evaluation or input errors; any error makes the decision a deny.
    pub errors: Vec<String>,
}

impl Decision {
    fn failed(error: &PolicyError) -> Self {
        Decision {
            allowed: false,
            reasons: Vec::new(),
            errors: vec![error.to_string()],
        }
    }
}

/// The policies that can apply to one action, indexed by principal scope.
#[derive(Debug, Default)]
struct ActionSlice {
    /// Policies whose principal scope is unconstrained (or only a type test).
    general: Option<PolicySet>,
    /// Policies with `principal == X` or `principal in X`, under `X`.
    by_scope_key: HashMap<EntityUid, PolicySet>,
    /// Whether a policy here names a customer or document, so that two records with the
    /// same attributes may get different decisions (disables memoising in bulk).
    names_records: bool,
    /// Ids of the people and teams the policies here name (`Person::"x"`, `Team::"y"`).
    named: HashSet<(EntityKind, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum EntityKind {
    Person,
    Team,
}

/// Decisions kept per policy set before the cache is emptied (bounds memory on odd
/// traffic): a few hundred bytes each, so at most some tens of megabytes.
const DECISION_CACHE_LIMIT: usize = 65_536;

/// An entity reference in a request, as far as a decision can tell it apart. Cedar
/// compares entities only for equality (`==`; and `in`, which looks up ancestors in the
/// request's entity store, and that store holds the principal alone), so an id matters
/// only when a policy names it; otherwise all that counts is which other references of
/// the same request it equals.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Ref {
    Absent,
    Named(String),
    /// Equal to the reference at this position (its own position when first seen).
    Same(u8),
}

/// A resource's attributes other than its references.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ResourceShape {
    Customer {
        territory: String,
        classification: Level,
        compartments: BTreeSet<String>,
    },
    Document {
        classification: Level,
        compartments: BTreeSet<String>,
    },
    System,
}

/// Everything a decision can depend on when no policy of the action names a customer or
/// document: two requests with equal keys get equal decisions, including the determining
/// policies. So decisions are cached under it across requests and across people with the
/// same role, clearance, compartments and status: a sales rep reading their own account
/// is one cached decision for every rep, not one per rep and account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DecisionKey {
    action: Action,
    role: String,
    department: String,
    clearance: Level,
    compartments: BTreeSet<String>,
    status: crate::model::EmploymentStatus,
    /// The principal, their manager, their team, the record's owner or custodian, and
    /// the record's team.
    refs: [Ref; 5],
    resource: ResourceShape,
    context: RequestContext,
}

impl DecisionKey {
    /// The key of a request, or `None` when a policy of the action names a record (then
    /// records with equal attributes may be decided differently).
    fn of(
        principal: &Principal,
        action: Action,
        resource: &ResourceRef,
        ctx: &RequestContext,
        slice: &ActionSlice,
    ) -> Option<DecisionKey> {
        if slice.names_records {
            return None;
        }
        let (owner, team, shape) = match resource {
            ResourceRef::Customer(c) => (
                Some(c.owner.as_str()),
                c.team.as_deref(),
                ResourceShape::Customer {
                    territory: c.territory.clone(),
                    classification: c.classification,
                    compartments: c.compartments.clone(),
                },
            ),
            ResourceRef::Document(d) => (
                Some(d.custodian.as_str()),
                None,
                ResourceShape::Document {
                    classification: d.classification,
                    compartments: d.compartments.clone(),
                },
            ),
            ResourceRef::System => (None, None, ResourceShape::System),
        };
        let raw = [
            Some((EntityKind::Person, principal.id.as_str())),
            principal.manager.as_deref().map(|m| (EntityKind::Person, m)),
            principal.team.as_deref().map(|t| (EntityKind::Team, t)),
            owner.map(|o| (EntityKind::Person, o)),
            team.map(|t| (EntityKind::Team, t)),
        ];
        let refs = std::array::from_fn(|i| match raw.get(i).copied().flatten() {
            None => Ref::Absent,
            Some((kind, id)) if slice.named.contains(&(kind, id.to_string())) => Ref::Named(id.to_string()),
            Some(found) => {
                let first = raw.iter().position(|other| *other == Some(found)).unwrap_or(i);
                Ref::Same(u8::try_from(first).unwrap_or(u8::MAX))
            }
        });
        Some(DecisionKey {
            action,
            role: principal.role.clone(),
            department: principal.department.clone(),
            clearance: principal.clearance,
            compartments: principal.compartments.clone(),
            status: principal.status,
            refs,
            resource: shape,
            context: *ctx,
        })
    }
}

/// The decisions made under one policy set; dropped with the set when it is replaced.
struct DecisionCache(Mutex<HashMap<DecisionKey, Decision>>);

impl DecisionCache {
    fn get(&self, key: &DecisionKey) -> Option<Decision> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    fn insert(&self, key: DecisionKey, decision: Decision) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= DECISION_CACHE_LIMIT {
            map.clear();
        }
        map.insert(key, decision);
    }
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.0.lock().map_or(0, |m| m.len());
        write!(f, "DecisionCache({len} decisions)")
    }
}

/// A small map from inputs to their Cedar form; emptied when full.
struct ConversionCache<K, V>(Mutex<HashMap<K, V>>);

impl<K: Eq + Hash, V: Clone> ConversionCache<K, V> {
    fn new() -> Self {
        ConversionCache(Mutex::new(HashMap::new()))
    }

    fn get_or_try(&self, key: &K, build: impl FnOnce() -> Result<V, PolicyError>) -> Result<V, PolicyError>
    where
        K: Clone,
    {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = map.get(key) {
            return Ok(v.clone());
        }
        drop(map);
        let value = build()?;
        map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_LIMIT {
            map.clear();
        }
        map.insert(key.clone(), value.clone());
        Ok(value)
    }
}

/// A policy set that passed [`PolicyEngine::check_replacement`], not yet in force.
#[derive(Debug)]
pub struct Replacement(CompiledSet);

/// A validated policy set, sliced for evaluation.
#[derive(Debug)]
struct CompiledSet {
    text: String,
    /// The whole set, unsliced (the slices must agree with it).
    all: PolicySet,
    reasons: HashMap<PolicyId, PolicyReason>,
    slices: Vec<ActionSlice>,
    decisions: DecisionCache,
}

/// Cedar-backed policy engine. Cheap to share (`&self` everywhere); `replace` swaps the
/// set in force atomically, and a failed load leaves it untouched.
pub struct PolicyEngine {
    names: Names,
    schema: Schema,
    validator: Validator,
    authorizer: Authorizer,
    active: RwLock<Arc<CompiledSet>>,
    principals: ConversionCache<Principal, Arc<CedarPrincipal>>,
    contexts: ConversionCache<RequestContext, Context>,
    /// Whether decisions are cached (see [`DecisionKey`]); on unless turned off.
    cache_decisions: AtomicBool,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("policy_count", &self.policy_count())
            .finish_non_exhaustive()
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Line and column of the first labelled span of a Cedar diagnostic, `(0, 0)` if none.
fn diagnostic_location(text: &str, diagnostic: &dyn Diagnostic) -> (usize, usize) {
    diagnostic
        .labels()
        .and_then(|mut labels| labels.next())
        .map_or((0, 0), |label| line_column(text, label.offset()))
}

/// The resource type a resource scope pins the policy to, if any.
fn scoped_resource_type(constraint: &ResourceConstraint) -> Option<EntityTypeName> {
    match constraint {
        ResourceConstraint::Eq(uid) => Some(uid.type_name().clone()),
        ResourceConstraint::Is(ty) | ResourceConstraint::IsIn(ty, _) => Some(ty.clone()),
        ResourceConstraint::Any | ResourceConstraint::In(_) => None,
    }
}

/// The entity a principal scope names (`principal == X`, `principal in X`), if any.
fn principal_scope_key(constraint: &PrincipalConstraint) -> Option<EntityUid> {
    match constraint {
        PrincipalConstraint::Eq(uid) | PrincipalConstraint::In(uid) | PrincipalConstraint::IsIn(_, uid) => {
            Some(uid.clone())
        }
        PrincipalConstraint::Any | PrincipalConstraint::Is(_) => None,
    }
}

fn add_to(set: &mut PolicySet, policy: &Policy) -> Result<(), PolicyError> {
    set.add(policy.clone())
        .map_err(|e| PolicyError::Internal(format!("slicing policy `{}`: {e}", policy.id())))
}

impl PolicyEngine {
    /// An engine with the default policy set in force.
    pub fn with_default_policies() -> Result<Self, PolicyError> {
        Self::new(DEFAULT_POLICIES)
    }

    /// An engine with `policy_text` in force, after parsing and validating it against
    /// [`SCHEMA_TEXT`]. Every policy needs a unique `@id("...")` annotation and should
    /// have a `@description("...")`.
    pub fn new(policy_text: &str) -> Result<Self, PolicyError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(SCHEMA_TEXT).map_err(|e| PolicyError::Internal(format!("schema: {e}")))?;
        let names = Names::new()?;
        let validator = Validator::new(schema.clone());
        let compiled = compile(policy_text, &validator, &names)?;
        Ok(PolicyEngine {
            names,
            schema,
            validator,
            authorizer: Authorizer::new(),
            active: RwLock::new(Arc::new(compiled)),
            principals: ConversionCache::new(),
            contexts: ConversionCache::new(),
            cache_decisions: AtomicBool::new(true),
        })
    }

    /// The schema policies are validated against.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The principal as Cedar sees it; cached, since a person makes many requests.
    fn cedar_principal(&self, principal: &Principal) -> Result<Arc<CedarPrincipal>, PolicyError> {
        self.principals
            .get_or_try(principal, || self.names.principal(principal).map(Arc::new))
    }

    /// The Cedar context; cached, since contexts repeat (the field only counts for field
    /// actions).
    fn cedar_context(&self, action: Action, ctx: &RequestContext) -> Result<Context, PolicyError> {
        let key = RequestContext {
            field: if action.is_field_action() { ctx.field } else { None },
            ..*ctx
        };
        self.contexts.get_or_try(&key, || self.names.context(action, &key))
    }

    fn snapshot(&self) -> Arc<CompiledSet> {
        // A poisoned lock still holds a complete set: `replace` swaps the Arc in one step.
        match self.active.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The text of the policy set in force (for `policy.read`).
    pub fn policy_text(&self) -> String {
        self.snapshot().text.clone()
    }

    /// Whether a policy in force names a customer or document (`Customer::"C-1"`, in
    /// any spelling Cedar accepts), so that two records with equal attributes may be
    /// decided differently and decisions must not be remembered by attributes alone.
    pub fn names_records(&self) -> bool {
        self.snapshot().slices.iter().any(|slice| slice.names_records)
    }

    /// How many policies are in force.
    pub fn policy_count(&self) -> usize {
        self.snapshot().all.num_of_policies()
    }

    /// Validates `new_text` and puts it in force, unless it would leave none of
    /// `security_admins` allowed `policy.replace` under normal conditions
    /// ([`RequestContext::office_hours`]). On any error the set in force is unchanged.
    /// Returns the number of policies now in force.
    pub fn replace(&self, new_text: &str, security_admins: &[Principal]) -> Result<usize, PolicyError> {
        let checked = self.check_replacement(new_text, security_admins)?;
        Ok(self.put_in_force(checked))
    }

    /// The checks of [`PolicyEngine::replace`] without putting the set in
    /// force, so that a caller can record the change first and then
    /// [`PolicyEngine::put_in_force`] it.
    pub fn check_replacement(&self, new_text: &str, security_admins: &[Principal]) -> Result<Replacement, PolicyError> {
        let compiled = compile(new_text, &self.validator, &self.names)?;
        if security_admins.is_empty() {
            return Err(PolicyError::NoAdminsGiven);
        }
        let ctx = RequestContext::office_hours();
        let still_in = security_admins.iter().any(|admin| {
            self.decide_in(&compiled, admin, Action::PolicyReplace, &ResourceRef::System, &ctx)
                .allowed
        });
        if !still_in {
            return Err(PolicyError::LockOut {
                admins: security_admins.len(),
            });
        }
        Ok(Replacement(compiled))
    }

    /// Puts a checked set in force; returns its number of policies.
    pub fn put_in_force(&self, Replacement(compiled): Replacement) -> usize {
        let count = compiled.all.num_of_policies();
        let new = Arc::new(compiled);
        match self.active.write() {
            Ok(mut guard) => *guard = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
        count
    }

    /// Puts `text` in force after validating it, without the lock-out check of
    /// [`PolicyEngine::replace`]: for a set another instance already checked and stored.
    /// On any error the set in force is unchanged.
    pub fn adopt(&self, text: &str) -> Result<usize, PolicyError> {
        let compiled = compile(text, &self.validator, &self.names)?;
        Ok(self.put_in_force(Replacement(compiled)))
    }

    /// Decides one request. Fails closed: an input or evaluation error is a deny.
    pub fn authorize(
        &self,
        principal: &Principal,
        action: Action,
        resource: &ResourceRef,
        ctx: &RequestContext,
    ) -> Decision {
        self.decide_in(&self.snapshot(), principal, action, resource, ctx)
    }

    /// Decides `action` on every resource (for search and export results), one decision
    /// per resource in the same order, all against the same policy set. Set
    /// `ctx.record_count` to the size of the whole request.
    pub fn authorize_many(
        &self,
        principal: &Principal,
        action: Action,
        resources: &[ResourceRef],
        ctx: &RequestContext,
    ) -> Vec<Decision> {
        let set = self.snapshot();
        resources
            .iter()
            .map(|r| self.decide_in(&set, principal, action, r, ctx))
            .collect()
    }

    /// How `field` of a customer may be shown: `Clear` if `customer.read_field_clear` is
    /// allowed, else `Masked` if `customer.read_field_masked` is, else `Hidden` (also for
    /// a resource that is not a customer).
    pub fn field_access(
        &self,
        principal: &Principal,
        customer: &ResourceRef,
        field: Field,
        ctx: &RequestContext,
    ) -> FieldAccess {
        self.field_access_in(&self.snapshot(), principal, customer, field, ctx)
    }

    /// [`PolicyEngine::field_access`] for every field, in [`Field::ALL`] order.
    pub fn field_accesses(
        &self,
        principal: &Principal,
        customer: &ResourceRef,
        ctx: &RequestContext,
    ) -> Vec<(Field, FieldAccess)> {
        let set = self.snapshot();
        Field::ALL
            .iter()
            .map(|&f| (f, self.field_access_in(&set, principal, customer, f, ctx)))
            .collect()
    }

    fn field_access_in(
        &self,
        set: &CompiledSet,
        principal: &Principal,
        customer: &ResourceRef,
        field: Field,
        ctx: &RequestContext,
    ) -> FieldAccess {
        let ctx = ctx.with_field(field);
        if self
            .decide_in(set, principal, Action::CustomerReadFieldClear, customer, &ctx)
            .allowed
        {
            FieldAccess::Clear
        } else if self
            .decide_in(set, principal, Action::CustomerReadFieldMasked, customer, &ctx)
            .allowed
        {
            FieldAccess::Masked
        } else {
            FieldAccess::Hidden
        }
    }

    /// What `principal` could do to `resource` under normal conditions
    /// ([`RequestContext::office_hours`]), for access reviews. A field action counts if
    /// it is allowed for at least one field. Obligations ([`Action::is_permission`]) are
    /// not listed.
    pub fn allowed_actions(&self, principal: &Principal, resource: &ResourceRef) -> Vec<Action> {
        let set = self.snapshot();
        let Ok(p) = self.cedar_principal(principal) else {
            return Vec::new();
        };
        Action::ALL
            .into_iter()
            .filter(|&a| a.resource_kind() == resource.kind() && a.is_permission())
            .filter(|&a| self.allowed_normally(&set, &p, a, resource))
            .collect()
    }

    /// Which of `people` could do `action` to `resource` under normal conditions, for
    /// access reviews.
    pub fn who_can<'p>(&self, people: &'p [Principal], action: Action, resource: &ResourceRef) -> Vec<&'p Principal> {
        let set = self.snapshot();
        people
            .iter()
            .filter(|person| {
                self.names
                    .principal(person)
                    .is_ok_and(|p| self.allowed_normally(&set, &p, action, resource))
            })
            .collect()
    }

    fn allowed_normally(&self, set: &CompiledSet, p: &CedarPrincipal, action: Action, resource: &ResourceRef) -> bool {
        let ctx = RequestContext::office_hours();
        if action.is_field_action() {
            Field::ALL
                .iter()
                .any(|&f| self.decide_cedar(set, p, action, resource, &ctx.with_field(f)).allowed)
        } else {
            self.decide_cedar(set, p, action, resource, &ctx).allowed
        }
    }

    /// The decision in words: who, what, on what, allowed or denied, and the determining
    /// policies (or "no policy permits this" for a default deny).
    pub fn explain(
        &self,
        principal: &Principal,
        action: Action,
        resource: &ResourceRef,
        ctx: &RequestContext,
    ) -> String {
        let decision = self.authorize(principal, action, resource, ctx);
        let field = match (action.is_field_action(), ctx.field) {
            (true, Some(f)) => format!(" (field {})", f.as_str()),
            _ => String::new(),
        };
        let who = format!("{} ({}, {})", principal.id, principal.role, principal.status.as_str());
        let mut text = if decision.allowed {
            format!("allowed: {who} may {action} on {}{field}", resource.label())
        } else {
            format!("denied: {who} may not {action} on {}{field}", resource.label())
        };
        if !decision.errors.is_empty() {
            text.push_str("; the request could not be evaluated, so access fails closed:");
            for e in &decision.errors {
                let _ = write!(text, "\n  - error: {e}");
            }
        } else if decision.reasons.is_empty() {
            text.push_str("; no policy permits this");
        } else {
            text.push_str(if decision.allowed {
                "; permitted by:"
            } else {
                "; forbidden by:"
            });
        }
        for r in &decision.reasons {
            let _ = write!(text, "\n  - {}: {}", r.id, r.description);
        }
        text
    }

    fn decide_in(
        &self,
        set: &CompiledSet,
        principal: &Principal,
        action: Action,
        resource: &ResourceRef,
        ctx: &RequestContext,
    ) -> Decision {
        // The field only counts for field actions; dropping it otherwise lets one cached
        // decision serve every field.
        let ctx = RequestContext {
            field: if action.is_field_action() { ctx.field } else { None },
            ..*ctx
        };
        let key = set
            .slices
            .get(action.index())
            .filter(|_| self.cache_decisions.load(Ordering::Relaxed))
            .and_then(|slice| DecisionKey::of(principal, action, resource, &ctx, slice));
        if let Some(decision) = key.as_ref().and_then(|k| set.decisions.get(k)) {
            return decision;
        }
        let decision = match self.cedar_principal(principal) {
            Ok(p) => self.decide_cedar(set, &p, action, resource, &ctx),
            Err(e) => Decision::failed(&e),
        };
        if let Some(key) = key.filter(|_| decision.errors.is_empty()) {
            set.decisions.insert(key, decision.clone());
        }
        decision
    }

    /// Turns the decision cache on or off (it is on by default): off, every decision is
    /// evaluated by Cedar, which the benchmark uses to show the uncached cost.
    pub fn set_decision_cache(&self, enabled: bool) {
        self.cache_decisions.store(enabled, Ordering::Relaxed);
    }

    fn decide_cedar(
        &self,
        set: &CompiledSet,
        principal: &CedarPrincipal,
        action: Action,
        resource: &ResourceRef,
        ctx: &RequestContext,
    ) -> Decision {
        match self.cedar_context(action, ctx) {
            Ok(context) => self.decide_with(set, principal, action, resource, context),
            Err(e) => Decision::failed(&e),
        }
    }

    fn decide_with(
        &self,
        set: &CompiledSet,
        principal: &CedarPrincipal,
        action: Action,
        resource: &ResourceRef,
        context: Context,
    ) -> Decision {
        let (request, entities) = match self.names.request_in(principal, action, resource, context) {
            Ok(built) => built,
            Err(e) => return Decision::failed(&e),
        };
        let Some(slice) = set.slices.get(action.index()) else {
            return Decision::failed(&PolicyError::Internal(format!("no slice for {action}")));
        };
        let parts = slice
            .general
            .iter()
            .chain(principal.scope_keys.iter().filter_map(|k| slice.by_scope_key.get(k)));
        self.combine(set, parts, &request, &entities)
    }

    /// Evaluates each part and combines the answers as Cedar would over their union
    /// (any satisfied forbid denies; else any satisfied permit allows), except that any
    /// error denies.
    fn combine<'s>(
        &self,
        set: &CompiledSet,
        parts: impl Iterator<Item = &'s PolicySet>,
        request: &Request,
        entities: &Entities,
    ) -> Decision {
        let mut forbids: Vec<&PolicyId> = Vec::new();
        let mut permits: Vec<&PolicyId> = Vec::new();
        let mut errors = Vec::new();
        let responses: Vec<_> = parts
            .map(|part| self.authorizer.is_authorized(request, part, entities))
            .collect();
        for response in &responses {
            let diagnostics = response.diagnostics();
            errors.extend(diagnostics.errors().map(|e| e.to_string()));
            match response.decision() {
                CedarDecision::Deny => forbids.extend(diagnostics.reason()),
                CedarDecision::Allow => permits.extend(diagnostics.reason()),
            }
        }
        let allowed = errors.is_empty() && forbids.is_empty() && !permits.is_empty();
        let determining = if !forbids.is_empty() {
            forbids
        } else if allowed {
            permits
        } else {
            Vec::new()
        };
        let mut reasons: Vec<PolicyReason> = determining
            .into_iter()
            .map(|id| {
                set.reasons.get(id).cloned().unwrap_or_else(|| PolicyReason {
                    id: id.to_string(),
                    description: String::new(),
                })
            })
            .collect();
        reasons.sort();
        Decision {
            allowed,
            reasons,
            errors,
        }
    }
}

/// How deep a policy's conditions may nest: brackets (`(`, `[`, `{`) and `if`s. Cedar's
/// parser and evaluator recurse once per level, and 150 parentheses (or 2,000 `if`s)
/// overflowed the 2 MiB stack of a server thread, aborting the process (found in
/// review); real policies nest a few levels.
const MAX_NESTING: usize = 32;

/// Refuses a text whose conditions nest deeper than [`MAX_NESTING`] before Cedar parses
/// it. Brackets are counted outside string literals and comments; an `if` counts to
/// the end of its policy, as its `else` branch can hold the next one.
fn check_nesting(text: &str) -> Result<(), PolicyError> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let (mut brackets, mut conditionals) = (0usize, 0usize);
    let (mut line, mut column) = (1, 0);
    let mut after_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        column += 1;
        match c {
            '\n' => (line, column) = (line + 1, 0),
            '"' => {
                // A string literal: up to the next unescaped quote.
                while let Some(c) = chars.next() {
                    column += 1;
                    match c {
                        '\\' => {
                            chars.next();
                            column += 1;
                        }
                        '"' => break,
                        '\n' => (line, column) = (line + 1, 0),
                        _ => {}
                    }
                }
            }
            '/' if chars.as_str().starts_with('/') => {
                // A comment: to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        (line, column) = (line + 1, 0);
                        break;
                    }
                }
            }
            '(' | '[' | '{' => brackets += 1,
            ')' | ']' | '}' => brackets = brackets.saturating_sub(1),
            ';' => conditionals = 0,
            'i' if !after_word
                && chars.as_str().starts_with('f')
                && !chars.as_str().chars().nth(1).is_some_and(is_word) =>
            {
                conditionals += 1
            }
            _ => {}
        }
        if brackets + conditionals > MAX_NESTING {
            return Err(PolicyError::TooDeep {
                line,
                column,
                limit: MAX_NESTING,
            });
        }
        after_word = is_word(c);
    }
    Ok(())
}

/// Parses, validates, checks annotations and slices a policy text.
fn compile(text: &str, validator: &Validator, names: &Names) -> Result<CompiledSet, PolicyError> {
    check_nesting(text)?;
    let parsed = PolicySet::from_str(text).map_err(|e| {
        let (line, column) = diagnostic_location(text, &e);
        PolicyError::Syntax {
            line,
            column,
            message: e.to_string(),
        }
    })?;
    let templates = parsed.num_of_templates();
    if templates > 0 {
        return Err(PolicyError::TemplatesUnsupported { count: templates });
    }
    let validation = validator.validate(&parsed, ValidationMode::Strict);
    if let Some(error) = validation.validation_errors().next() {
        let (line, column) = diagnostic_location(text, error);
        let policy = parsed
            .annotation(error.policy_id(), "id")
            .map_or_else(|| error.policy_id().to_string(), str::to_string);
        return Err(PolicyError::Schema {
            policy,
            line,
            column,
            message: error.to_string(),
        });
    }

    // Cedar numbers policies policy0, policy1... in source order; walk them in that order
    // so each policy's text can be located for annotation errors.
    let mut in_order: Vec<(usize, &Policy)> = parsed
        .policies()
        .map(|p| {
            let n = AsRef::<str>::as_ref(p.id())
                .strip_prefix("policy")
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            (n, p)
        })
        .collect();
    in_order.sort_by_key(|(n, _)| *n);

    let mut seen = HashSet::new();
    let mut search_from = 0;
    let mut renamed = Vec::with_capacity(in_order.len());
    let mut reasons = HashMap::with_capacity(in_order.len());
    for (_, policy) in in_order {
        let source = policy.to_string();
        let offset = text
            .get(search_from..)
            .and_then(|rest| rest.find(&source))
            .map_or(search_from, |i| search_from + i);
        search_from = offset + source.len().min(text.len().saturating_sub(offset));
        let annotation_error = |message: String| {
            let (line, column) = line_column(text, offset);
            PolicyError::Annotation { line, column, message }
        };
        let id = policy.annotation("id").ok_or_else(|| {
            annotation_error("expected an @id(\"...\") annotation naming the policy, found none; add one".to_string())
        })?;
        if id.trim().is_empty() || !seen.insert(id.to_string()) {
            return Err(annotation_error(format!(
                "expected a unique, non-empty @id, found `{id}` used before; rename it"
            )));
        }
        let description = policy
            .annotation("description")
            .unwrap_or("(no description)")
            .to_string();
        let policy_id = PolicyId::new(id);
        reasons.insert(
            policy_id.clone(),
            PolicyReason {
                id: id.to_string(),
                description,
            },
        );
        renamed.push(policy.new_id(policy_id));
    }

    let mut slices: Vec<ActionSlice> = Action::ALL.iter().map(|_| ActionSlice::default()).collect();
    for policy in &renamed {
        let actions: Vec<Action> = match policy.action_constraint() {
            ActionConstraint::Any => Action::ALL.to_vec(),
            ActionConstraint::Eq(uid) => names.action_of(&uid).into_iter().collect(),
            ActionConstraint::In(uids) => {
                let listed: Vec<Action> = uids.iter().filter_map(|u| names.action_of(u)).collect();
                if listed.len() == uids.len() {
                    listed
                } else {
                    // An action group: membership lives in the schema, so keep it everywhere.
                    Action::ALL.to_vec()
                }
            }
        };
        let resource_type = scoped_resource_type(&policy.resource_constraint());
        let literals = policy.entity_literals();
        let names_records = literals.iter().any(|uid| {
            let ty = uid.type_name().to_string();
            ty == "Customer" || ty == "Document"
        });
        let named: Vec<(EntityKind, String)> = literals
            .iter()
            .filter_map(|uid| {
                let kind = match uid.type_name().to_string().as_str() {
                    "Person" => EntityKind::Person,
                    "Team" => EntityKind::Team,
                    _ => return None,
                };
                Some((kind, uid.id().unescaped().to_string()))
            })
            .collect();
        let key = principal_scope_key(&policy.principal_constraint());
        for action in actions {
            if resource_type
                .as_ref()
                .is_some_and(|ty| ty.to_string() != action.resource_kind().type_name())
            {
                continue;
            }
            let Some(slice) = slices.get_mut(action.index()) else {
                continue;
            };
            slice.names_records |= names_records;
            slice.named.extend(named.iter().cloned());
            match &key {
                None => add_to(slice.general.get_or_insert_with(PolicySet::new), policy)?,
                Some(k) => add_to(slice.by_scope_key.entry(k.clone()).or_default(), policy)?,
            }
        }
    }
    let all = PolicySet::from_policies(renamed.iter().cloned())
        .map_err(|e| PolicyError::Internal(format!("renaming policies: {e}")))?;
    Ok(CompiledSet {
        text: text.to_string(),
        all,
        reasons,
        slices,
        decisions: DecisionCache(Mutex::new(HashMap::new())),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::model::{CustomerRecord, DocumentRecord, EmploymentStatus, Level};
    use crate::synthetic_policies;

    /// Built once: compiling the set in every proptest case would dominate the run.
    fn engine_with_extras() -> &'static PolicyEngine {
        static ENGINE: std::sync::OnceLock<PolicyEngine> = std::sync::OnceLock::new();
        ENGINE.get_or_init(|| PolicyEngine::new(&format!("{DEFAULT_POLICIES}\n{}", synthetic_policies(400))).unwrap())
    }

    fn level() -> impl Strategy<Value = Level> {
        prop::sample::select(Level::ALL.to_vec())
    }

    fn tags() -> impl Strategy<Value = BTreeSet<String>> {
        prop::collection::btree_set(prop::sample::select(vec!["a", "b"]), 0..=2)
            .prop_map(|s| s.into_iter().map(str::to_string).collect())
    }

    fn person_id() -> impl Strategy<Value = String> {
        (0usize..12).prop_map(|i| format!("p{i}"))
    }

    fn principal() -> impl Strategy<Value = Principal> {
        (
            person_id(),
            prop::sample::select(vec![
                "sales_rep",
                "sales_manager",
                "support",
                "finance",
                "engineering",
                "hr",
                "security_admin",
                "executive",
            ]),
            prop::option::of((0usize..5).prop_map(|t| format!("team{t}"))),
            level(),
            tags(),
            prop::sample::select(EmploymentStatus::ALL.to_vec()),
        )
            .prop_map(|(id, role, team, clearance, compartments, status)| Principal {
                id,
                role: role.to_string(),
                department: String::new(),
                team,
                clearance,
                compartments,
                status,
                manager: None,
            })
    }

    fn resource() -> impl Strategy<Value = ResourceRef> {
        prop_oneof![
            (
                person_id(),
                prop::option::of((0usize..5).prop_map(|t| format!("team{t}"))),
                (0usize..3).prop_map(|t| format!("t{t}")),
                level(),
                tags()
            )
                .prop_map(|(owner, team, territory, classification, compartments)| {
                    ResourceRef::Customer(CustomerRecord {
                        id: "c".into(),
                        owner,
                        team,
                        territory,
                        classification,
                        compartments,
                    })
                }),
            (person_id(), level(), tags()).prop_map(|(custodian, classification, compartments)| {
                ResourceRef::Document(DocumentRecord {
                    id: "d".into(),
                    custodian,
                    classification,
                    compartments,
                })
            }),
            Just(ResourceRef::System),
        ]
    }

    fn context() -> impl Strategy<Value = RequestContext> {
        (
            0u8..24,
            any::<bool>(),
            0u64..3000,
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(Field::ALL.to_vec()),
            any::<bool>(),
        )
            .prop_map(
                |(hour, trusted_network, record_count, mfa_fresh, justification, field, approved)| RequestContext {
                    hour,
                    weekday: 3,
                    trusted_network,
                    record_count,
                    mfa_fresh,
                    justification,
                    approved,
                    field: Some(field),
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Slicing is an optimisation only: the sliced decision equals Cedar's decision over
        /// the whole set, including the determining policies.
        #[test]
        fn slices_agree_with_the_whole_set(
            p in principal(),
            action in prop::sample::select(Action::ALL.to_vec()),
            r in resource(),
            ctx in context(),
        ) {
            let engine = engine_with_extras();
            let set = engine.snapshot();
            let sliced = engine.decide_in(&set, &p, action, &r, &ctx);
            let cedar_p = engine.names.principal(&p).unwrap();
            let whole = match engine.names.request(&cedar_p, action, &r, &ctx) {
                Ok((request, entities)) => {
                    engine.combine(&set, std::iter::once(&set.all), &request, &entities)
                }
                Err(e) => Decision::failed(&e),
            };
            prop_assert_eq!(sliced, whole);
        }
    }

    #[test]
    fn slices_hold_only_applicable_policies() {
        let engine = PolicyEngine::with_default_policies().unwrap();
        let set = engine.snapshot();
        let slice = &set.slices[Action::PolicyReplace.index()];
        let general: Vec<String> = slice
            .general
            .iter()
            .flat_map(|s| s.policies().map(|p| p.id().to_string()))
            .collect();
        // Customer- and document-typed forbids never reach an admin action.
        assert!(general.contains(&"departed-gets-nothing".to_string()));
        assert!(!general.iter().any(|id| id.starts_with("clearance")));
        assert!(!general.iter().any(|id| id.starts_with("export")));
        let admin_key: Vec<String> = slice.by_scope_key.keys().map(ToString::to_string).collect();
        assert_eq!(admin_key, vec![r#"Role::"security_admin""#.to_string()]);
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncdé\nxyz", 0), (1, 1));
        assert_eq!(line_column("ab\ncdé\nxyz", 3), (2, 1));
        assert_eq!(line_column("ab\ncdé\nxyz", 8), (3, 1));
        assert_eq!(line_column("ab\ncdé\nxyz", 100), (3, 4));
    }
}
