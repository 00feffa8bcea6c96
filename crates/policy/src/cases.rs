//! `policy test`: expected decisions written in a plain text file, checked against an engine.
//!
//! # Format
//!
//! One case per line, five columns separated by `|` (the last one may be left out);
//! blank lines and lines starting with `#` are ignored:
//!
//! ```text
//! expect | principal                                  | action        | resource                                   | context
//! allow  | alice role=sales_rep team=west clearance=internal | customer.read | customer c1 owner=alice classification=internal | hour=10
//! deny   | bob role=support status=departed            | customer.read | customer c1 owner=alice                    |
//! ```
//!
//! - `expect`: `allow` or `deny`.
//! - principal: an id, then `key=value` words: `role=` (required), `dept=`, `team=`,
//!   `clearance=` (public|internal|confidential|secret, default public),
//!   `compartments=a,b` (default none), `status=` (active|departing|departed, default
//!   active), `manager=`.
//! - action: a Cedar action id such as `customer.read` or `policy.replace`.
//! - resource: `system`, or `customer ID` with `owner=` (required), `team=`,
//!   `territory=`, `classification=` (default public), `compartments=`; or `document ID`
//!   with `custodian=` (required), `classification=`, `compartments=`.
//! - context: `key=value` words changing [`RequestContext::office_hours`]: `hour=`,
//!   `weekday=` (1 = monday), `network=trusted|untrusted`, `records=`, `mfa=yes|no`,
//!   `justification=yes|no`, `approved=yes|no`, `field=` (required for the field actions).

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use crate::engine::PolicyEngine;
use crate::error::PolicyError;
use crate::model::{
    Action, CustomerRecord, DocumentRecord, EmploymentStatus, Level, Principal, RequestContext, ResourceRef,
};

/// One expected decision read from a cases file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// 1-based line in the file.
    pub line: usize,
    /// Whether the case expects `allow`.
    pub expect_allow: bool,
    /// Who asks.
    pub principal: Principal,
    /// What they ask to do.
    pub action: Action,
    /// On what.
    pub resource: ResourceRef,
    /// Under which circumstances.
    pub context: RequestContext,
}

/// A case whose decision differs from the expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFailure {
    /// 1-based line in the file.
    pub line: usize,
    /// Whether the case expected `allow`.
    pub expected_allow: bool,
    /// The engine's explanation of what it decided.
    pub explanation: String,
}

/// The outcome of checking a cases file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReport {
    /// How many cases were checked.
    pub total: usize,
    /// The cases that did not get the expected decision, in file order.
    pub failures: Vec<CaseFailure>,
}

impl CaseReport {
    /// Whether every case got the expected decision.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for CaseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            let expected = if failure.expected_allow { "allow" } else { "deny" };
            writeln!(
                f,
                "line {}: expected {expected}, but {}",
                failure.line, failure.explanation
            )?;
        }
        write!(
            f,
            "{} passed, {} failed",
            self.total - self.failures.len(),
            self.failures.len()
        )
    }
}

/// Checks every case of `cases_text` against `engine` and reports the ones that fail.
/// A line that cannot be read is an error naming the line.
pub fn run_cases(engine: &PolicyEngine, cases_text: &str) -> Result<CaseReport, PolicyError> {
    let cases = parse_cases(cases_text)?;
    let failures = cases
        .iter()
        .filter_map(|case| {
            let decision = engine.authorize(&case.principal, case.action, &case.resource, &case.context);
            (decision.allowed != case.expect_allow).then(|| CaseFailure {
                line: case.line,
                expected_allow: case.expect_allow,
                explanation: engine.explain(&case.principal, case.action, &case.resource, &case.context),
            })
        })
        .collect();
    Ok(CaseReport {
        total: cases.len(),
        failures,
    })
}

/// Reads every case of a cases file (format in the module docs).
pub fn parse_cases(text: &str) -> Result<Vec<Case>, PolicyError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .map(|(i, l)| parse_case(i + 1, l))
        .collect()
}

fn parse_case(line: usize, text: &str) -> Result<Case, PolicyError> {
    let err = |message: String| PolicyError::CaseSyntax { line, message };
    let columns: Vec<&str> = text.split('|').map(str::trim).collect();
    let [expect, principal, action, resource, rest @ ..] = columns.as_slice() else {
        return Err(err(format!(
            "expected `expect | principal | action | resource | context`, found {} column(s)",
            columns.len()
        )));
    };
    let expect_allow = match *expect {
        "allow" => true,
        "deny" => false,
        other => return Err(err(format!("expected allow or deny, found `{other}`"))),
    };
    let context = match rest {
        [] => RequestContext::office_hours(),
        [ctx] => parse_context(ctx).map_err(err)?,
        _ => return Err(err("expected at most five `|`-separated columns".to_string())),
    };
    Ok(Case {
        line,
        expect_allow,
        principal: parse_principal(principal).map_err(err)?,
        action: action.parse().map_err(|e: PolicyError| err(e.to_string()))?,
        resource: parse_resource(resource).map_err(err)?,
        context,
    })
}

/// Splits `id key=value key=value` into the id and the pairs.
fn words(spec: &str) -> Result<(Option<&str>, HashMap<&str, &str>), String> {
    let mut id = None;
    let mut pairs = HashMap::new();
    for word in spec.split_whitespace() {
        match word.split_once('=') {
            Some((k, v)) => {
                if pairs.insert(k, v).is_some() {
                    return Err(format!("`{k}=` given twice"));
                }
            }
            None if id.is_none() => id = Some(word),
            None => return Err(format!("expected key=value, found `{word}`")),
        }
    }
    Ok((id, pairs))
}

fn take<'a>(pairs: &mut HashMap<&str, &'a str>, key: &str) -> Option<&'a str> {
    pairs.remove(key)
}

fn finish(pairs: HashMap<&str, &str>, what: &str) -> Result<(), String> {
    match pairs.keys().next() {
        Some(k) => Err(format!("unknown {what} key `{k}`")),
        None => Ok(()),
    }
}

fn tags(list: Option<&str>) -> BTreeSet<String> {
    list.map(|l| {
        l.split(',')
            .filter(|t| !t.is_empty() && *t != "-")
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

fn level(value: Option<&str>) -> Result<Level, String> {
    value.map_or(Ok(Level::Public), |v| v.parse().map_err(|e: PolicyError| e.to_string()))
}

/// Reads a principal spec: `ID role=R [dept=] [team=] [clearance=] [compartments=a,b]
/// [status=] [manager=]`.
pub fn parse_principal(spec: &str) -> Result<Principal, String> {
    let (id, mut pairs) = words(spec)?;
    let id = id.ok_or("expected a principal id first")?;
    let role = take(&mut pairs, "role").ok_or("expected role=... for the principal")?;
    let principal = Principal {
        id: id.to_string(),
        role: role.to_string(),
        department: take(&mut pairs, "dept").unwrap_or_default().to_string(),
        team: take(&mut pairs, "team").map(str::to_string),
        clearance: level(take(&mut pairs, "clearance"))?,
        compartments: tags(take(&mut pairs, "compartments")),
        status: take(&mut pairs, "status").map_or(Ok(EmploymentStatus::Active), |s| {
            s.parse().map_err(|e: PolicyError| e.to_string())
        })?,
        manager: take(&mut pairs, "manager").map(str::to_string),
    };
    finish(pairs, "principal")?;
    Ok(principal)
}

/// Reads a resource spec: `system`, `customer ID owner=...` or `document ID custodian=...`.
pub fn parse_resource(spec: &str) -> Result<ResourceRef, String> {
    let mut parts = spec.splitn(2, char::is_whitespace);
    let kind = parts.next().unwrap_or_default();
    let (id, mut pairs) = words(parts.next().unwrap_or_default())?;
    let resource = match kind {
        "system" => ResourceRef::System,
        "customer" => ResourceRef::Customer(CustomerRecord {
            id: id.ok_or("expected a customer id after `customer`")?.to_string(),
            owner: take(&mut pairs, "owner")
                .ok_or("expected owner=... for a customer")?
                .to_string(),
            team: take(&mut pairs, "team").map(str::to_string),
            territory: take(&mut pairs, "territory").unwrap_or_default().to_string(),
            classification: level(take(&mut pairs, "classification"))?,
            compartments: tags(take(&mut pairs, "compartments")),
        }),
        "document" => ResourceRef::Document(DocumentRecord {
            id: id.ok_or("expected a document id after `document`")?.to_string(),
            custodian: take(&mut pairs, "custodian")
                .ok_or("expected custodian=... for a document")?
                .to_string(),
            classification: level(take(&mut pairs, "classification"))?,
            compartments: tags(take(&mut pairs, "compartments")),
        }),
        other => {
            return Err(format!(
                "expected a resource kind (system, customer or document), found `{other}`"
            ))
        }
    };
    finish(pairs, "resource")?;
    Ok(resource)
}

fn yes_no(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(format!("expected {key}=yes or {key}=no, found `{other}`")),
    }
}

/// Reads a context spec: `key=value` words changing [`RequestContext::office_hours`].
pub fn parse_context(spec: &str) -> Result<RequestContext, String> {
    let (stray, pairs) = words(spec)?;
    if let Some(word) = stray {
        return Err(format!("expected key=value in the context, found `{word}`"));
    }
    let mut ctx = RequestContext::office_hours();
    for (key, value) in pairs {
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("expected a number for {key}=, found `{value}`"))
        };
        let small = || number().and_then(|n| u8::try_from(n).map_err(|_| format!("{key}={n} is too large")));
        match key {
            "hour" => ctx.hour = small()?,
            "weekday" => ctx.weekday = small()?,
            "records" => ctx.record_count = number()?,
            "network" => {
                ctx.trusted_network = match value {
                    "trusted" => true,
                    "untrusted" => false,
                    other => {
                        return Err(format!(
                            "expected network=trusted or network=untrusted, found `{other}`"
                        ))
                    }
                }
            }
            "mfa" => ctx.mfa_fresh = yes_no(key, value)?,
            "justification" => ctx.justification = yes_no(key, value)?,
            "approved" => ctx.approved = yes_no(key, value)?,
            "field" => ctx.field = Some(value.parse().map_err(|e: PolicyError| e.to_string())?),
            other => return Err(format!("unknown context key `{other}`")),
        }
    }
    Ok(ctx)
}
