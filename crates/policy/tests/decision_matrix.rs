//! Checks the default policies against the hand-written table in `decision_matrix.txt`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashSet};

use policy::{
    Action, CustomerRecord, DocumentRecord, EmploymentStatus, Field, Level, PolicyEngine, Principal, RequestContext,
    ResourceKind, ResourceRef,
};

const MATRIX: &str = include_str!("decision_matrix.txt");
const ROLES: [&str; 8] = [
    "sales_rep",
    "sales_manager",
    "support",
    "finance",
    "engineering",
    "hr",
    "security_admin",
    "executive",
];

/// One situation a block of the table holds for.
#[derive(Debug, Clone, Copy)]
struct Situation<'a> {
    status: EmploymentStatus,
    account: &'a str,
    classification: Level,
    compartments: &'a str,
}

fn principal(role: &str, status: EmploymentStatus) -> Principal {
    Principal {
        id: "me".into(),
        role: role.into(),
        department: "anything".into(),
        team: Some("west".into()),
        clearance: Level::Confidential,
        compartments: BTreeSet::from(["deal-x".to_string()]),
        status,
        manager: Some("boss".into()),
    }
}

fn resource(kind: ResourceKind, s: Situation<'_>) -> ResourceRef {
    let (owner, team) = match s.account {
        "own" => ("me", "west"),
        "team" => ("colleague", "west"),
        "other" => ("stranger", "east"),
        other => panic!("unknown account relation {other}"),
    };
    let compartments: BTreeSet<String> = match s.compartments {
        "none" => BTreeSet::new(),
        "held" => ["deal-x"].map(String::from).into(),
        "missing" => ["deal-x", "merger-y"].map(String::from).into(),
        other => panic!("unknown compartment situation {other}"),
    };
    match kind {
        ResourceKind::Customer => ResourceRef::Customer(CustomerRecord {
            id: "c1".into(),
            owner: owner.into(),
            team: Some(team.into()),
            territory: "emea".into(),
            classification: s.classification,
            compartments,
        }),
        ResourceKind::Document => ResourceRef::Document(DocumentRecord {
            id: "d1".into(),
            custodian: owner.into(),
            classification: s.classification,
            compartments,
        }),
        ResourceKind::System => ResourceRef::System,
    }
}

/// Decides one cell and returns a description of the mismatch, if any.
fn check(
    engine: &PolicyEngine,
    line: usize,
    row: &str,
    role: &str,
    s: Situation<'_>,
    expected: bool,
) -> Option<String> {
    let (action, field) = match row.split_once(':') {
        Some((a, f)) => (a, Some(f.parse::<Field>().unwrap())),
        None => (row, None),
    };
    let action: Action = action.parse().unwrap();
    let ctx = RequestContext {
        field,
        ..RequestContext::office_hours()
    };
    let who = principal(role, s.status);
    let what = resource(action.resource_kind(), s);
    let decision = engine.authorize(&who, action, &what, &ctx);
    assert!(decision.errors.is_empty(), "line {line}: {decision:?}");
    (decision.allowed != expected).then(|| {
        format!(
            "line {line} {row} role={role} {s:?}: expected {}; {}",
            if expected { "allow" } else { "deny" },
            engine.explain(&who, action, &what, &ctx)
        )
    })
}

fn list<'a>(header: &'a str, key: &str) -> Vec<&'a str> {
    header
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or_else(|| panic!("header `{header}` lacks {key}="))
        .split(',')
        .collect()
}

#[test]
fn default_policies_match_hand_written_matrix() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let mut situations: Vec<Situation<'_>> = Vec::new();
    let mut failures = Vec::new();
    let mut cells = 0;
    let mut seen_rows = HashSet::new();
    let mut seen = (HashSet::new(), HashSet::new(), HashSet::new(), HashSet::new());
    for (i, line) in MATRIX.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("action ") {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            situations.clear();
            for status in list(header, "status") {
                for account in list(header, "account") {
                    for class in list(header, "classification") {
                        for compartments in list(header, "compartments") {
                            let s = Situation {
                                status: status.parse().unwrap(),
                                account,
                                classification: class.parse().unwrap(),
                                compartments,
                            };
                            seen.0.insert(status);
                            seen.1.insert(account);
                            seen.2.insert(class);
                            seen.3.insert(compartments);
                            situations.push(s);
                        }
                    }
                }
            }
            continue;
        }
        let mut words = line.split_whitespace();
        let row = words.next().unwrap();
        let expected: Vec<bool> = words
            .map(|w| match w {
                "A" => true,
                "D" => false,
                other => panic!("line {line_no}: expected A or D, found {other}"),
            })
            .collect();
        assert_eq!(expected.len(), ROLES.len(), "line {line_no}: one cell per role");
        assert!(!situations.is_empty(), "line {line_no}: row before any header");
        seen_rows.insert(row.split(':').next().unwrap().to_string());
        for s in &situations {
            for (role, &allow) in ROLES.iter().zip(&expected) {
                cells += 1;
                failures.extend(check(&engine, line_no, row, role, *s, allow));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The table covers every action, status, relation, level and compartment situation.
    for action in Action::ALL {
        assert!(seen_rows.contains(action.as_str()), "{action} not in the matrix");
    }
    assert_eq!(seen.0.len(), 3);
    assert_eq!(seen.1.len(), 3);
    assert_eq!(seen.2.len(), 4);
    assert_eq!(seen.3.len(), 3);
    assert!(cells > 20_000, "{cells}");
}
