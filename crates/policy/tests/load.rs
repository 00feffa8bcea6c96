//! Loading, replacing and rejecting policy sets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{person, resource};
use policy::{Action, PolicyEngine, PolicyError, RequestContext, DEFAULT_POLICIES};

fn admins() -> Vec<policy::Principal> {
    vec![person("sam role=security_admin clearance=secret")]
}

/// The rep's own-account read, used to show which set is in force.
fn rep_can_read(engine: &PolicyEngine) -> bool {
    engine
        .authorize(
            &person("alice role=sales_rep team=west"),
            Action::CustomerRead,
            &resource("customer c1 owner=alice team=west"),
            &RequestContext::office_hours(),
        )
        .allowed
}

/// Asserts that a failed replace left the default set in force.
fn assert_default_still_in_force(engine: &PolicyEngine) {
    assert_eq!(engine.policy_text(), DEFAULT_POLICIES);
    assert!(rep_can_read(engine));
}

#[test]
fn default_set_loads_and_keeps_its_ids() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    assert!(engine.policy_count() >= 25, "{}", engine.policy_count());
    let d = engine.authorize(
        &person("alice role=sales_rep team=west"),
        Action::CustomerRead,
        &resource("customer c1 owner=alice team=west"),
        &RequestContext::office_hours(),
    );
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.reasons.len(), 1);
    assert_eq!(d.reasons[0].id, "rep-own-accounts");
    assert!(d.reasons[0].description.contains("sales rep"));
}

#[test]
fn syntax_error_reports_line_and_column_and_keeps_set() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let bad = "@id(\"ok\")\npermit (principal, action, resource);\n@id(\"broken\")\npermit (principal, action, resource) when { 1 + };\n";
    let err = engine.replace(bad, &admins()).unwrap_err();
    match &err {
        PolicyError::Syntax { line, column, .. } => {
            assert_eq!(*line, 4, "{err}");
            assert_eq!(*column, 49, "{err}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(err.to_string().contains("line 4, column 49"), "{err}");
    assert_default_still_in_force(&engine);
}

#[test]
fn schema_violation_is_rejected_with_location_and_keeps_set() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let bad = format!(
        "{DEFAULT_POLICIES}\n@id(\"uses-unknown-attribute\")\npermit (principal, action == Action::\"customer.read\", resource is Customer)\n  when {{ resource.favourite_colour == \"blue\" }};\n"
    );
    let first_new_line = DEFAULT_POLICIES.lines().count() + 2;
    let err = engine.replace(&bad, &admins()).unwrap_err();
    match &err {
        PolicyError::Schema {
            policy,
            line,
            column,
            message,
        } => {
            assert_eq!(policy, "uses-unknown-attribute");
            assert_eq!(*line, first_new_line + 2, "{err}");
            assert!(*column > 0, "{err}");
            assert!(message.contains("favourite_colour"), "{message}");
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
    assert_default_still_in_force(&engine);
}

#[test]
fn unknown_action_in_policy_is_a_schema_error() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let bad = "@id(\"x\")\npermit (principal, action == Action::\"customer.steal\", resource);\n";
    let err = engine.replace(bad, &admins()).unwrap_err();
    assert!(
        matches!(&err, PolicyError::Schema { policy, line: 2, .. } if policy == "x"),
        "{err:?}"
    );
    assert_default_still_in_force(&engine);
}

#[test]
fn unknown_action_name_is_a_clear_error() {
    let err = "customer.steal".parse::<Action>().unwrap_err();
    assert!(matches!(&err, PolicyError::UnknownName { kind: "action", found, .. } if found == "customer.steal"));
    assert!(err.to_string().contains("unknown action `customer.steal`"));
    for action in Action::ALL {
        assert_eq!(action.as_str().parse::<Action>().unwrap(), action);
    }
}

#[test]
fn lock_out_is_refused_and_keeps_set() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let without_admins: String = DEFAULT_POLICIES.replace(
        "Action::\"policy.replace\",\n    Action::\"keys.rotate\",\n    Action::\"person.update_status\",\n    Action::\"audit.read\",\n    Action::\"audit.export\",\n    Action::\"access.review\",\n    Action::\"sessions.revoke\",\n    Action::\"dlp.scan\"\n  ],\n  resource is System\n);",
        "Action::\"keys.rotate\"\n  ],\n  resource is System\n);",
    );
    assert_ne!(without_admins, DEFAULT_POLICIES, "the edit must apply");
    let err = engine.replace(&without_admins, &admins()).unwrap_err();
    assert_eq!(err, PolicyError::LockOut { admins: 1 });
    assert_default_still_in_force(&engine);

    let err = engine.replace(DEFAULT_POLICIES, &[]).unwrap_err();
    assert_eq!(err, PolicyError::NoAdminsGiven);
}

#[test]
fn departed_admins_do_not_count_against_lock_out() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let gone = vec![person("sam role=security_admin status=departed")];
    let err = engine.replace(DEFAULT_POLICIES, &gone).unwrap_err();
    assert_eq!(err, PolicyError::LockOut { admins: 1 });
}

#[test]
fn valid_replace_takes_effect() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let minimal = "@id(\"admins\")\n@description(\"admins replace policies\")\npermit (principal in Role::\"security_admin\", action == Action::\"policy.replace\", resource);\n";
    assert_eq!(engine.replace(minimal, &admins()).unwrap(), 1);
    assert_eq!(engine.policy_text(), minimal);
    assert!(!rep_can_read(&engine));
}

#[test]
fn missing_or_duplicate_id_is_rejected_with_location() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let no_id = "@id(\"a\")\npermit (principal, action == Action::\"policy.replace\", resource);\n\n  permit (principal, action == Action::\"policy.read\", resource);\n";
    let err = engine.replace(no_id, &admins()).unwrap_err();
    assert!(
        matches!(err, PolicyError::Annotation { line: 4, column: 3, .. }),
        "{err:?}"
    );
    let dup = "@id(\"a\")\npermit (principal, action == Action::\"policy.replace\", resource);\n@id(\"a\")\npermit (principal, action == Action::\"policy.replace\", resource);\n";
    let err = engine.replace(dup, &admins()).unwrap_err();
    assert!(
        matches!(err, PolicyError::Annotation { line: 3, column: 1, .. }),
        "{err:?}"
    );
    assert_default_still_in_force(&engine);
}

#[test]
fn every_default_policy_has_id_and_description() {
    let mut ids = 0;
    let mut descriptions = 0;
    for line in DEFAULT_POLICIES.lines() {
        ids += usize::from(line.starts_with("@id(\""));
        descriptions += usize::from(line.starts_with("@description(\""));
    }
    let policies = DEFAULT_POLICIES
        .lines()
        .filter(|l| l.starts_with("permit") || l.starts_with("forbid"))
        .count();
    assert_eq!(ids, policies);
    assert_eq!(descriptions, policies);
}

/// Runs `work` on a thread with the 2 MiB stack of tokio's threads, where the server
/// parses and evaluates policies: a stack overflow there aborts the whole process.
fn on_a_server_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(work)
        .unwrap()
        .join()
        .unwrap()
}

/// Found in review: 150 nested parentheses (375 bytes) overflowed the stack of the
/// server's thread in Cedar's recursive parser, and any signed-in user could send them
/// to `POST /v1/policy/validate`. Nesting is bounded before Cedar sees the text; long
/// flat chains, which Cedar reads without recursion, still load and evaluate.
#[test]
fn deep_nesting_is_refused_before_the_parser_and_long_chains_still_load() {
    let policy =
        |condition: String| format!("@id(\"deep\")\npermit (principal, action, resource) when {{ {condition} }};\n");
    for (name, condition) in [
        ("parentheses", format!("{}true{}", "(".repeat(150), ")".repeat(150))),
        ("sets", format!("{}1{} == [1]", "[".repeat(150), "]".repeat(150))),
        ("records", format!("{}1{} == 1", "{a: ".repeat(150), "}".repeat(150))),
        (
            "if",
            format!("{}true{}", "if true then ".repeat(2_000), " else false".repeat(2_000)),
        ),
    ] {
        let text = policy(condition);
        let err = on_a_server_thread(move || PolicyEngine::new(&text).err()).expect(name);
        assert!(matches!(err, PolicyError::TooDeep { limit: 32, .. }), "{name}: {err}");
    }
    // Brackets inside a string or a comment are text, not nesting.
    let quoted = format!(
        "// {}\n@id(\"quoted\")\npermit (principal, action, resource) when {{ principal.department != \"{}\" }};\n",
        "(".repeat(100),
        "[".repeat(100)
    );
    on_a_server_thread(move || PolicyEngine::new(&quoted).map(|e| e.policy_count())).unwrap();
    for (name, condition) in [
        ("conjunction", format!("{}true", "true && ".repeat(20_000))),
        ("disjunction", format!("{}true", "false || ".repeat(20_000))),
    ] {
        let text = policy(condition);
        let allowed = on_a_server_thread(move || rep_can_read(&PolicyEngine::new(&text).unwrap()));
        assert!(allowed, "{name}");
    }
}
