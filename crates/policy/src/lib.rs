//! custodia's policy engine: the single data gateway asks it before every access.
//!
//! Built on [Cedar](https://www.cedarpolicy.com/). The schema (`policies/custodia.cedarschema`,
//! [`SCHEMA_TEXT`]) declares `Person`, `Role`, `Team`, `Customer`, `Document`,
//! `Compartment` and `System`; the default policies (`policies/default.cedar`,
//! [`DEFAULT_POLICIES`]) are a day-one set a company can adapt.
//!
//! # Public API
//!
//! - [`PolicyEngine::new`] / [`PolicyEngine::with_default_policies`]: load a schema-validated set.
//! - [`PolicyEngine::replace`]: swap in a new set unless it is invalid or locks out every
//!   given security admin; the set in force stays on any error.
//! - [`PolicyEngine::authorize`] -> [`Decision`]: fails closed (any error denies).
//! - [`PolicyEngine::authorize_many`]: one decision per record, for search and export.
//! - [`PolicyEngine::field_access`] / [`PolicyEngine::field_accesses`] -> [`FieldAccess`].
//! - [`PolicyEngine::explain`]: the decision in words.
//! - [`PolicyEngine::allowed_actions`] / [`PolicyEngine::who_can`]: access reviews.
//! - [`run_cases`]: `policy test`, checking a file of expected decisions.
//! - [`synthetic_policies`]: generated policies for scale tests and `custodia bench`.
//!
//! Inputs are plain types ([`Principal`], [`ResourceRef`], [`Action`], [`RequestContext`]);
//! each request carries the principal's and the resource's attributes, so no entity store
//! is kept. At load time the set is sliced by action, resource type and principal scope
//! (`principal == X` / `principal in X`), so a decision evaluates only the policies that
//! can apply to it. The Cedar form of principals and contexts is cached (bounded), and so
//! are decisions, per policy set, under a key holding every attribute Cedar can observe
//! with people's and teams' ids replaced by which references of the request they equal
//! (ids a policy names are kept; nothing is cached when a policy names a record). One
//! cached decision thus serves every rep reading their own account. Cedar evaluation allocates heavily: the gateway binary should use
//! mimalloc as its global allocator (the bench does).

mod cases;
mod cedar_input;
mod engine;
mod error;
mod model;
mod synthetic;

pub use cases::{
    parse_cases, parse_context, parse_principal, parse_resource, run_cases, Case, CaseFailure, CaseReport,
};
pub use engine::{Decision, PolicyEngine, PolicyReason, Replacement, DEFAULT_POLICIES, SCHEMA_TEXT};
pub use error::PolicyError;
pub use model::{
    Action, CustomerRecord, DocumentRecord, EmploymentStatus, Field, FieldAccess, Level, Principal, RequestContext,
    ResourceKind, ResourceRef,
};
pub use synthetic::synthetic_policies;
