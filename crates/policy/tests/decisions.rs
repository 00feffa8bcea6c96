//! Field access, explanations, access reviews, bulk decisions and failing closed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{person, resource};
use policy::{Action, Field, FieldAccess, PolicyEngine, RequestContext, ResourceRef, DEFAULT_POLICIES};

/// Field access on an account the person owns (team west), written out by hand:
/// C = clear, M = masked, H = hidden. Columns follow `Field::ALL`:
/// name company emails phones addresses notes deal_value bank_details.
const FIELD_TABLE: &str = "
sales_rep       C C C C C C C H
sales_manager   C C C C C C C H
support         C C M M M C H H
finance         C C M M C H C C
engineering     H H H H H H H H
hr              H H H H H H H H
security_admin  H H H H H H H H
executive       C C C C C C C H
";

fn check_field(engine: &PolicyEngine, role: &str, field: Field, expected: FieldAccess) {
    let who = person(&format!("me role={role} team=west clearance=secret"));
    let account = resource("customer c1 owner=me team=west classification=confidential");
    let ctx = RequestContext::office_hours();
    let got = engine.field_access(&who, &account, field, &ctx);
    assert_eq!(got, expected, "{role} {field:?}");
}

#[test]
fn field_access_matches_hand_written_table() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let mut checked = 0;
    for line in FIELD_TABLE.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let role = words.next().unwrap();
        let cells: Vec<&str> = words.collect();
        assert_eq!(cells.len(), Field::ALL.len());
        for (field, cell) in Field::ALL.into_iter().zip(cells) {
            let expected = match cell {
                "C" => FieldAccess::Clear,
                "M" => FieldAccess::Masked,
                "H" => FieldAccess::Hidden,
                other => panic!("bad cell {other}"),
            };
            check_field(&engine, role, field, expected);
            checked += 1;
        }
    }
    assert_eq!(checked, 64);
    // field_accesses gives the same answers in one call.
    let who = person("me role=support team=west clearance=secret");
    let account = resource("customer c1 owner=me team=west");
    let all = engine.field_accesses(&who, &account, &RequestContext::office_hours());
    assert_eq!(all.len(), 8);
    assert_eq!(all[2], (Field::Emails, FieldAccess::Masked));
    assert_eq!(all[7], (Field::BankDetails, FieldAccess::Hidden));
    // Not a customer: hidden.
    assert_eq!(
        engine.field_access(&who, &ResourceRef::System, Field::Name, &RequestContext::office_hours()),
        FieldAccess::Hidden
    );
}

#[test]
fn explain_names_decision_and_policies() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let ctx = RequestContext::office_hours();
    let rep = person("alice role=sales_rep team=west");
    let own = resource("customer c1 owner=alice team=west");
    let text = engine.explain(&rep, Action::CustomerRead, &own, &ctx);
    assert_eq!(
        text,
        "allowed: alice (sales_rep, active) may customer.read on customer c1; permitted by:\n  - rep-own-accounts: a sales rep may read, search, create, update and export the customer accounts they own"
    );

    let other = resource("customer c2 owner=bob team=east");
    let text = engine.explain(&rep, Action::CustomerRead, &other, &ctx);
    assert_eq!(
        text,
        "denied: alice (sales_rep, active) may not customer.read on customer c2; no policy permits this"
    );

    let night = RequestContext {
        hour: 22,
        trusted_network: false,
        ..ctx
    };
    let text = engine.explain(&rep, Action::CustomerExport, &own, &night);
    assert!(
        text.starts_with("denied: alice (sales_rep, active) may not customer.export on customer c1; forbidden by:\n"),
        "{text}"
    );
    assert!(
        text.contains("  - export-trusted-network-only: customer exports are refused from untrusted networks"),
        "{text}"
    );
    assert!(text.contains("  - export-working-hours: "), "{text}");

    let text = engine.explain(
        &rep,
        Action::CustomerReadFieldClear,
        &own,
        &ctx.with_field(Field::BankDetails),
    );
    assert!(
        text.contains("(field bank_details); forbidden by:\n  - sales-never-bank-details"),
        "{text}"
    );
}

#[test]
fn errors_fail_closed() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let ctx = RequestContext::office_hours();
    let fin = person("fred role=finance");
    let account = resource("customer c1 owner=alice");
    // A field action without a field.
    let d = engine.authorize(&fin, Action::CustomerReadFieldClear, &account, &ctx);
    assert!(!d.allowed);
    assert!(d.errors[0].contains("found no field"), "{d:?}");
    // A resource that does not fit the action.
    let d = engine.authorize(&fin, Action::CustomerRead, &ResourceRef::System, &ctx);
    assert!(!d.allowed);
    assert!(
        d.errors[0].contains("applies to a Customer resource, found the system"),
        "{d:?}"
    );
    // Out-of-range time.
    let d = engine.authorize(
        &fin,
        Action::CustomerRead,
        &account,
        &RequestContext { hour: 24, ..ctx },
    );
    assert!(!d.allowed);
    assert!(d.errors[0].contains("hour 0..=23"), "{d:?}");
    let text = engine.explain(
        &fin,
        Action::CustomerRead,
        &account,
        &RequestContext { weekday: 0, ..ctx },
    );
    assert!(
        text.contains("could not be evaluated, so access fails closed"),
        "{text}"
    );
    // The same requests in range are allowed, so the errors above caused the denials.
    assert!(engine.authorize(&fin, Action::CustomerRead, &account, &ctx).allowed);
}

#[test]
fn runtime_evaluation_error_denies_even_when_a_permit_holds() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let admin = person("sam role=security_admin");
    // A permit that always holds, plus one whose condition errors at run time (overflow).
    let text = "@id(\"admins\")\npermit (principal in Role::\"security_admin\", action == Action::\"policy.replace\", resource);\n\
        @id(\"everyone-reads\")\npermit (principal, action == Action::\"customer.read\", resource);\n\
        @id(\"overflows\")\npermit (principal, action == Action::\"customer.read\", resource is Customer) when { resource.classification + 9223372036854775807 > 0 };\n";
    engine.replace(text, &[admin]).unwrap();
    let d = engine.authorize(
        &person("x role=anyone"),
        Action::CustomerRead,
        &resource("customer c1 owner=y classification=internal"),
        &RequestContext::office_hours(),
    );
    assert!(!d.allowed, "{d:?}");
    assert_eq!(d.errors.len(), 1, "{d:?}");
    assert!(d.errors[0].contains("overflows"), "{d:?}");
    // Without the overflow (classification public = 0) the same request is allowed.
    let d = engine.authorize(
        &person("x role=anyone"),
        Action::CustomerRead,
        &resource("customer c1 owner=y classification=public"),
        &RequestContext::office_hours(),
    );
    assert!(d.allowed, "{d:?}");
}

#[test]
fn access_reviews_list_what_and_who() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let support = person("sue role=support clearance=internal");
    let account = resource("customer c1 owner=alice team=west classification=internal");
    assert_eq!(
        engine.allowed_actions(&support, &account),
        vec![
            Action::CustomerRead,
            Action::CustomerReadFieldClear,
            Action::CustomerReadFieldMasked,
            Action::CustomerSearch
        ]
    );
    let hr = person("hana role=hr");
    assert_eq!(
        engine.allowed_actions(&hr, &ResourceRef::System),
        vec![Action::PersonUpdateStatus, Action::AccessReview]
    );
    let people = vec![
        person("alice role=sales_rep team=west clearance=internal"),
        person("bob role=sales_rep team=west clearance=internal"),
        person("mona role=sales_manager team=west clearance=internal"),
        person("mark role=sales_manager team=east clearance=internal"),
        person("fred role=finance clearance=public"),
        person("gina role=finance clearance=confidential status=departed"),
        person("xena role=executive clearance=secret"),
    ];
    let ids: Vec<&str> = engine
        .who_can(&people, Action::CustomerRead, &account)
        .into_iter()
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(ids, vec!["alice", "mona", "xena"]);
}

#[test]
fn authorize_many_decides_each_record() {
    let engine = PolicyEngine::with_default_policies().unwrap();
    let rep = person("alice role=sales_rep team=west clearance=internal compartments=alpha");
    let records = vec![
        resource("customer c1 owner=alice"),
        resource("customer c2 owner=bob"),
        resource("customer c3 owner=alice classification=secret"),
        resource("customer c4 owner=alice compartments=alpha"),
        resource("customer c5 owner=alice compartments=alpha,beta"),
        ResourceRef::System,
    ];
    let ctx = RequestContext {
        record_count: records.len() as u64,
        ..RequestContext::office_hours()
    };
    let decisions = engine.authorize_many(&rep, Action::CustomerExport, &records, &ctx);
    let allowed: Vec<bool> = decisions.iter().map(|d| d.allowed).collect();
    assert_eq!(allowed, vec![true, false, false, true, false, false]);
    assert_eq!(decisions[2].reasons[0].id, "clearance-covers-customer");
    assert_eq!(decisions[4].reasons[0].id, "compartments-customer");
    assert!(!decisions[5].errors.is_empty());
    for (record, decision) in records.iter().zip(&decisions) {
        assert_eq!(decision, &engine.authorize(&rep, Action::CustomerExport, record, &ctx));
    }
}

#[test]
fn scoped_policies_apply_only_to_their_principals() {
    // Per-person and per-team policies are indexed by principal; check they still apply.
    let text = format!(
        "{DEFAULT_POLICIES}\n\
        @id(\"p-ann\")\npermit (principal == Person::\"ann\", action == Action::\"customer.read\", resource is Customer) when {{ resource.territory == \"nordics\" }};\n\
        @id(\"t-east\")\npermit (principal in Team::\"east\", action == Action::\"customer.update\", resource is Customer) when {{ resource.territory == \"nordics\" }};\n\
        @id(\"f-ann\")\nforbid (principal == Person::\"ann\", action == Action::\"customer.update\", resource);\n"
    );
    let engine = PolicyEngine::new(&text).unwrap();
    let nordic = resource("customer c1 owner=zed territory=nordics");
    let ctx = RequestContext::office_hours();
    let ann = person("ann role=engineering team=east");
    let bo = person("bo role=engineering team=east");
    let cy = person("cy role=engineering team=west");
    assert!(engine.authorize(&ann, Action::CustomerRead, &nordic, &ctx).allowed);
    assert!(!engine.authorize(&bo, Action::CustomerRead, &nordic, &ctx).allowed);
    assert!(engine.authorize(&bo, Action::CustomerUpdate, &nordic, &ctx).allowed);
    assert!(!engine.authorize(&cy, Action::CustomerUpdate, &nordic, &ctx).allowed);
    let d = engine.authorize(&ann, Action::CustomerUpdate, &nordic, &ctx);
    assert!(!d.allowed);
    assert_eq!(d.reasons[0].id, "f-ann");
}

#[test]
fn bulk_decisions_respect_policies_that_name_a_record() {
    // Two records with the same attributes; a policy names one of them by id.
    let text = format!(
        "{DEFAULT_POLICIES}\n@id(\"c2-frozen\")\nforbid (principal, action == Action::\"customer.export\", resource == Customer::\"c2\");\n"
    );
    let engine = PolicyEngine::new(&text).unwrap();
    let fin = person("fred role=finance");
    let records = vec![
        resource("customer c1 owner=alice territory=emea"),
        resource("customer c2 owner=alice territory=emea"),
        resource("customer c3 owner=alice territory=emea"),
    ];
    let ctx = RequestContext::office_hours();
    let allowed: Vec<bool> = engine
        .authorize_many(&fin, Action::CustomerExport, &records, &ctx)
        .iter()
        .map(|d| d.allowed)
        .collect();
    assert_eq!(allowed, vec![true, false, true]);
}
