//! Errors of the policy engine.

use thiserror::Error;

/// Everything that can go wrong when loading policies or reading requests and cases.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The policy text is not valid Cedar.
    #[error("policy syntax error at line {line}, column {column}: {message}; fix the policy text and load it again (the set in force is unchanged)")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A policy does not fit the schema (unknown attribute, wrong type, unknown action...).
    #[error("policy `{policy}` does not fit the schema at line {line}, column {column}: {message}; fix the policy and load it again (the set in force is unchanged)")]
    Schema {
        /// The policy's `@id`, or Cedar's own id if it has none.
        policy: String,
        /// 1-based line (0 if Cedar gave no location).
        line: usize,
        /// 1-based column (0 if Cedar gave no location).
        column: usize,
        /// What the validator said.
        message: String,
    },
    /// Brackets nest deeper than the engine reads (its parser recurses per level).
    #[error("policy at line {line}, column {column}: brackets nest more than {limit} deep; write the condition flatter (the set in force is unchanged)")]
    TooDeep {
        /// 1-based line of the bracket past the limit.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The deepest nesting read.
        limit: usize,
    },
    /// A policy lacks the `@id` annotation, or two policies share one.
    #[error("policy at line {line}, column {column}: {message}")]
    Annotation {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// Templates are not supported by this engine.
    #[error("the policy set contains {count} template(s); expected only static policies: write each linked policy out in full")]
    TemplatesUnsupported {
        /// How many templates were found.
        count: usize,
    },
    /// The new set would leave no given security admin able to replace policies.
    #[error("the new policy set would lock out every security admin: none of the {admins} given admin(s) would be allowed policy.replace under normal conditions; keep a policy that permits them (the set in force is unchanged)")]
    LockOut {
        /// How many admins were checked.
        admins: usize,
    },
    /// `replace` was called without any admin to check the lock-out against.
    #[error("no security admins were given to check the new policy set against; pass the current security admins so a lock-out can be detected")]
    NoAdminsGiven,
    /// A name (action, field, level, status) is not one this engine knows.
    #[error("unknown {kind} `{found}`; expected {expected}")]
    UnknownName {
        /// What kind of name.
        kind: &'static str,
        /// The name found.
        found: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// The resource does not fit the action (e.g. a document for `customer.read`).
    #[error(
        "action `{action}` applies to a {expected} resource, found {found}; pass the resource the action is about"
    )]
    ResourceMismatch {
        /// The action asked for.
        action: &'static str,
        /// The resource type the action applies to.
        expected: &'static str,
        /// What was passed.
        found: String,
    },
    /// The request context is out of range or incomplete.
    #[error("invalid request context: {0}")]
    InvalidContext(String),
    /// A line of a cases file could not be read.
    #[error("cases file line {line}: {message}")]
    CaseSyntax {
        /// 1-based line.
        line: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// Cedar refused to build something the engine constructs itself (schema, entity, request).
    #[error(
        "the policy engine could not build its cedar input: {0}; this is a bug in the policy crate, please report it"
    )]
    Internal(String),
}
