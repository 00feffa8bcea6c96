//! Invariants of the default policies, checked on random requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use policy::{
    Action, CustomerRecord, DocumentRecord, EmploymentStatus, Field, Level, PolicyEngine, Principal, RequestContext,
    ResourceRef,
};
use proptest::prelude::*;

fn engine() -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| PolicyEngine::with_default_policies().unwrap())
}

const COMPARTMENTS: [&str; 3] = ["alpha", "beta", "gamma"];

fn tags() -> impl Strategy<Value = BTreeSet<String>> {
    prop::collection::btree_set(prop::sample::select(COMPARTMENTS.to_vec()), 0..=3)
        .prop_map(|s| s.into_iter().map(str::to_string).collect())
}

fn level() -> impl Strategy<Value = Level> {
    prop::sample::select(Level::ALL.to_vec())
}

fn person_id() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["ann", "ben", "cat"]).prop_map(str::to_string)
}

fn team() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(vec!["west", "east"]).prop_map(str::to_string))
}

fn principal(status: impl Strategy<Value = EmploymentStatus>) -> impl Strategy<Value = Principal> {
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
            "intern",
        ]),
        team(),
        level(),
        tags(),
        status,
    )
        .prop_map(|(id, role, team, clearance, compartments, status)| Principal {
            id,
            role: role.to_string(),
            department: "dept".into(),
            team,
            clearance,
            compartments,
            status,
            manager: None,
        })
}

fn any_status() -> impl Strategy<Value = EmploymentStatus> {
    prop::sample::select(EmploymentStatus::ALL.to_vec())
}

/// A customer or document (the resources that carry classification and compartments).
fn record() -> impl Strategy<Value = ResourceRef> {
    prop_oneof![
        (person_id(), team(), level(), tags()).prop_map(|(owner, team, classification, compartments)| {
            ResourceRef::Customer(CustomerRecord {
                id: "c1".into(),
                owner,
                team,
                territory: "emea".into(),
                classification,
                compartments,
            })
        }),
        (person_id(), level(), tags()).prop_map(|(custodian, classification, compartments)| {
            ResourceRef::Document(DocumentRecord {
                id: "d1".into(),
                custodian,
                classification,
                compartments,
            })
        }),
    ]
}

fn context() -> impl Strategy<Value = RequestContext> {
    (
        0u8..24,
        1u8..=7,
        any::<bool>(),
        0u64..5000,
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(Field::ALL.to_vec()),
        any::<bool>(),
    )
        .prop_map(
            |(hour, weekday, trusted_network, record_count, mfa_fresh, justification, field, approved)| {
                RequestContext {
                    hour,
                    weekday,
                    trusted_network,
                    record_count,
                    mfa_fresh,
                    justification,
                    approved,
                    field: Some(field),
                }
            },
        )
}

/// An action that fits the resource.
fn fitting_action(resource: &ResourceRef, pick: usize) -> Action {
    let fitting: Vec<Action> = Action::ALL
        .into_iter()
        .filter(|a| a.resource_kind() == resource.kind())
        .collect();
    fitting[pick % fitting.len()]
}

fn with_compartment(resource: &ResourceRef, tag: &str) -> ResourceRef {
    let mut wider = resource.clone();
    match &mut wider {
        ResourceRef::Customer(c) => {
            c.compartments.insert(tag.to_string());
        }
        ResourceRef::Document(d) => {
            d.compartments.insert(tag.to_string());
        }
        ResourceRef::System => {}
    }
    wider
}

fn with_classification(resource: &ResourceRef, level: Level) -> ResourceRef {
    let mut raised = resource.clone();
    match &mut raised {
        ResourceRef::Customer(c) => c.classification = c.classification.max(level),
        ResourceRef::Document(d) => d.classification = d.classification.max(level),
        ResourceRef::System => {}
    }
    raised
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn departed_person_is_never_allowed_anything(
        p in principal(Just(EmploymentStatus::Departed)),
        r in prop_oneof![record(), Just(ResourceRef::System)],
        pick in 0usize..20,
        ctx in context(),
    ) {
        let action = fitting_action(&r, pick);
        let d = engine().authorize(&p, action, &r, &ctx);
        prop_assert!(!d.allowed, "{:?}", d);
        prop_assert!(d.reasons.iter().any(|r| r.id == "departed-gets-nothing"));
    }

    #[test]
    fn adding_a_compartment_never_widens_access(
        p in principal(any_status()),
        r in record(),
        pick in 0usize..20,
        tag in prop::sample::select(COMPARTMENTS.to_vec()),
        ctx in context(),
    ) {
        let action = fitting_action(&r, pick);
        let narrower = with_compartment(&r, tag);
        let before = engine().authorize(&p, action, &r, &ctx).allowed;
        let after = engine().authorize(&p, action, &narrower, &ctx).allowed;
        prop_assert!(before || !after, "{} on {:?} allowed only after adding {}", action, r, tag);
    }

    #[test]
    fn raising_classification_never_widens_access(
        p in principal(any_status()),
        r in record(),
        pick in 0usize..20,
        level in level(),
        ctx in context(),
    ) {
        let action = fitting_action(&r, pick);
        let raised = with_classification(&r, level);
        let before = engine().authorize(&p, action, &r, &ctx).allowed;
        let after = engine().authorize(&p, action, &raised, &ctx).allowed;
        prop_assert!(before || !after, "{} on {:?} allowed only after raising to {:?}", action, r, level);
    }

    /// Bulk decisions memoise records that a principal's policies cannot tell
    /// apart; they must still equal one decision per record, also when
    /// policies name people and teams or compare the owner to the manager.
    #[test]
    fn bulk_decisions_equal_single_decisions(
        p in principal(any_status()),
        manager in prop::option::of(person_id()),
        owners in prop::collection::vec((prop::sample::select(vec!["ann", "ben", "cat", "dan", "eve"]), team(), level(), tags()), 1..24),
        export in any::<bool>(),
        ctx in context(),
    ) {
        let p = Principal { manager, ..p };
        let records: Vec<ResourceRef> = owners
            .into_iter()
            .enumerate()
            .map(|(i, (owner, team, classification, compartments))| ResourceRef::Customer(CustomerRecord {
                id: format!("c{i}"),
                owner: owner.to_string(),
                team,
                territory: "emea".into(),
                classification,
                compartments,
            }))
            .collect();
        let action = if export { Action::CustomerExport } else { Action::CustomerRead };
        let engine = naming_engine();
        let bulk = engine.authorize_many(&p, action, &records, &ctx);
        for (record, decision) in records.iter().zip(&bulk) {
            prop_assert_eq!(decision, &engine.authorize(&p, action, record, &ctx), "{:?}", record);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Decisions are cached under a key that keeps people's and teams' ids only when a
    /// policy names them, and otherwise only which references of the request are equal.
    /// Whatever the cache already holds from earlier cases (it is shared by all cases),
    /// a cached decision must equal one evaluated by Cedar, reasons included.
    #[test]
    fn cached_decisions_equal_evaluated_decisions(
        requests in prop::collection::vec(
            (
                busy_principal(),
                prop::option::of(prop::sample::select(vec!["ann", "ben", "cat", "dan", "eve"])),
                prop::option::weighted(0.5, prop::sample::select(vec!["ann", "ben", "cat", "dan", "eve"])),
                record(),
                0usize..60,
                prop_oneof![Just(RequestContext::office_hours()), context()],
            ),
            1..8,
        ),
    ) {
        for (p, manager, owner, r, pick, ctx) in requests {
            let p = Principal { manager: manager.map(str::to_string), ..p };
            // No owner drawn: the principal owns it, which the default policies care most about.
            let owner = owner.map_or_else(|| p.id.clone(), str::to_string);
            let resource = match r {
                ResourceRef::Customer(c) => ResourceRef::Customer(CustomerRecord { owner, ..c }),
                ResourceRef::Document(d) => ResourceRef::Document(DocumentRecord { custodian: owner, ..d }),
                ResourceRef::System => ResourceRef::System,
            };
            let (resource, action) = match (pick, &resource) {
                (0..=29, ResourceRef::Customer(_)) => (resource, Action::CustomerExport),
                (30..=39, ResourceRef::Customer(_)) => (resource, Action::CustomerRead),
                (55.., _) => (ResourceRef::System, fitting_action(&ResourceRef::System, pick)),
                _ => {
                    let action = fitting_action(&resource, pick);
                    (resource, action)
                }
            };
            let evaluated = uncached_naming_engine().authorize(&p, action, &resource, &ctx);
            for _ in 0..2 {
                prop_assert_eq!(
                    &naming_engine().authorize(&p, action, &resource, &ctx),
                    &evaluated,
                    "{} by {:?} on {:?}", action, p, resource
                );
            }
            if let ResourceRef::Customer(_) = resource {
                let fields = naming_engine().field_accesses(&p, &resource, &ctx);
                prop_assert_eq!(fields, uncached_naming_engine().field_accesses(&p, &resource, &ctx));
            }
        }
    }
}

/// People of the roles the naming policies matter to, mostly active, with the ids and
/// teams those policies name.
fn busy_principal() -> impl Strategy<Value = Principal> {
    (
        prop::sample::select(vec!["ann", "ben", "cat", "dan", "eve"]),
        prop::sample::select(vec![
            "sales_rep",
            "sales_manager",
            "support",
            "finance",
            "security_admin",
        ]),
        team(),
        level(),
        tags(),
        prop_oneof![3 => Just(EmploymentStatus::Active), 1 => any_status()],
    )
        .prop_map(|(id, role, team, clearance, compartments, status)| Principal {
            id: id.to_string(),
            role: role.to_string(),
            department: "dept".into(),
            team,
            clearance,
            compartments,
            status,
            manager: None,
        })
}

fn uncached_naming_engine() -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let engine = PolicyEngine::new(&naming_engine().policy_text()).unwrap();
        engine.set_decision_cache(false);
        engine
    })
}

/// The default policies plus ones that name a person and a team and compare
/// a record's owner with the principal's manager.
fn naming_engine() -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let text = format!(
            "{}\n\
            @id(\"ben-frozen\")\nforbid (principal, action == Action::\"customer.export\", resource is Customer) when {{ resource.owner == Person::\"ben\" }};\n\
            @id(\"east-frozen\")\nforbid (principal, action == Action::\"customer.export\", resource is Customer) when {{ resource has team && resource.team == Team::\"east\" }};\n\
            @id(\"managers-accounts\")\npermit (principal, action in [Action::\"customer.read\", Action::\"customer.export\"], resource is Customer) when {{ principal has manager && resource.owner == principal.manager }};\n",
            policy::DEFAULT_POLICIES
        );
        PolicyEngine::new(&text).unwrap()
    })
}
