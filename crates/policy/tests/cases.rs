//! `policy test`: the cases file format and its report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use policy::{run_cases, PolicyEngine, PolicyError};

const DEFAULT_CASES: &str = include_str!("default_cases.txt");

#[test]
fn default_cases_pass() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let report = run_cases(&engine, DEFAULT_CASES).unwrap();
    assert!(report.passed(), "{report}");
    assert!(report.total >= 50, "{}", report.total);
    assert!(report.to_string().ends_with(" passed, 0 failed"));
}

#[test]
fn failing_cases_are_reported_with_line_numbers() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let cases = "# comment\n\
        allow | alice role=sales_rep | customer.read | customer c1 owner=alice |\n\
        \n\
        allow | alice role=sales_rep | customer.read | customer c2 owner=bob |\n\
        deny  | fred role=finance | customer.export | customer c1 owner=alice | hour=12\n";
    let report = run_cases(&engine, cases).unwrap();
    assert_eq!(report.total, 3);
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![4, 5]);
    let text = report.to_string();
    assert!(
        text.contains("line 4: expected allow, but denied: alice (sales_rep, active) may not customer.read on customer c2; no policy permits this"),
        "{text}"
    );
    assert!(text.contains("line 5: expected deny, but allowed"), "{text}");
    assert!(text.contains("finance-accounts"), "{text}");
    assert!(text.ends_with("1 passed, 2 failed"), "{text}");
}

#[test]
fn unreadable_lines_name_the_line() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    for (text, line, needle) in [
        (
            "maybe | a role=r | customer.read | customer c owner=a",
            1,
            "expected allow or deny",
        ),
        (
            "\nallow | a role=r | customer.steal | customer c owner=a",
            2,
            "unknown action `customer.steal`",
        ),
        ("allow | a | customer.read | customer c owner=a", 1, "expected role="),
        (
            "allow | a role=r clearance=top | customer.read | customer c owner=a",
            1,
            "unknown level `top`",
        ),
        ("allow | a role=r | customer.read | customer c", 1, "expected owner="),
        (
            "allow | a role=r | customer.read | planet p",
            1,
            "expected a resource kind",
        ),
        (
            "allow | a role=r | customer.read | customer c owner=a | mfa=maybe",
            1,
            "expected mfa=yes or mfa=no",
        ),
        (
            "allow | a role=r | customer.read | customer c owner=a | colour=red",
            1,
            "unknown context key `colour`",
        ),
        ("allow | a role=r | customer.read", 1, "found 3 column(s)"),
        (
            "allow | a role=r hat=x | customer.read | system",
            1,
            "unknown principal key `hat`",
        ),
    ] {
        match run_cases(&engine, text) {
            Err(PolicyError::CaseSyntax { line: l, message }) => {
                assert_eq!(l, line, "{text}");
                assert!(message.contains(needle), "{text}: {message}");
            }
            other => panic!("{text}: expected a case syntax error, got {other:?}"),
        }
    }
}
