//! Decision latency with the default set and with 10,000 extra generated policies, and
//! `authorize_many` over 10,000 records.
//!
//! Run: `cargo bench --bench decide`. Besides criterion's own figures it prints p50/p99
//! per decision, the ratio 10k-extra / default, and the bulk time.
#![allow(clippy::expect_used)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use policy::{
    synthetic_policies, Action, CustomerRecord, EmploymentStatus, Field, Level, PolicyEngine, Principal,
    RequestContext, ResourceRef, DEFAULT_POLICIES,
};

fn person(id: &str, role: &str, team: &str) -> Principal {
    Principal {
        id: id.into(),
        role: role.into(),
        department: "sales".into(),
        team: Some(team.into()),
        clearance: Level::Confidential,
        compartments: BTreeSet::from(["alpha".to_string()]),
        status: EmploymentStatus::Active,
        manager: Some("boss".into()),
    }
}

fn customer(i: usize, owner: &str) -> ResourceRef {
    ResourceRef::Customer(CustomerRecord {
        id: format!("c{i}"),
        owner: owner.into(),
        team: Some("team1".into()),
        territory: format!("t{}", i % 50),
        classification: Level::Internal,
        compartments: if i.is_multiple_of(3) {
            BTreeSet::from(["alpha".to_string()])
        } else {
            BTreeSet::new()
        },
    })
}

/// A realistic mix of gateway requests (reads, field reads, exports, admin).
fn requests() -> Vec<(Principal, Action, ResourceRef, RequestContext)> {
    let ctx = RequestContext::office_hours();
    vec![
        (
            person("p4", "sales_rep", "team1"),
            Action::CustomerRead,
            customer(4, "p4"),
            ctx,
        ),
        (
            person("p8", "sales_manager", "team1"),
            Action::CustomerUpdate,
            customer(9, "p9"),
            ctx,
        ),
        (
            person("p12", "support", "team5"),
            Action::CustomerReadFieldMasked,
            customer(12, "p4"),
            ctx.with_field(Field::Emails),
        ),
        (
            person("p16", "finance", "team3"),
            Action::CustomerExport,
            customer(16, "p4"),
            RequestContext {
                record_count: 500,
                ..ctx
            },
        ),
        (
            person("p2", "sales_rep", "team2"),
            Action::CustomerRead,
            customer(7, "p4"),
            ctx,
        ),
        (
            person("p20", "security_admin", "team7"),
            Action::PolicyReplace,
            ResourceRef::System,
            ctx,
        ),
    ]
}

fn percentiles(engine: &PolicyEngine, rounds: usize) -> (Duration, Duration) {
    let reqs = requests();
    let mut times = Vec::with_capacity(rounds * reqs.len());
    for _ in 0..rounds {
        for (p, a, r, c) in &reqs {
            let start = Instant::now();
            black_box(engine.authorize(p, *a, r, c));
            times.push(start.elapsed());
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.50), at(0.99))
}

fn decide(c: &mut Criterion) {
    let default = PolicyEngine::with_default_policies().expect("default policies load");
    let load = Instant::now();
    let scaled_text = format!("{DEFAULT_POLICIES}\n{}", synthetic_policies(10_000));
    let scaled = PolicyEngine::new(&scaled_text).expect("scaled policies load");
    let load_time = load.elapsed();

    let (p, a, r, ctx) = requests().swap_remove(0);
    c.bench_function("authorize/default", |b| {
        b.iter(|| black_box(default.authorize(&p, a, &r, &ctx)))
    });
    c.bench_function("authorize/10k-extra", |b| {
        b.iter(|| black_box(scaled.authorize(&p, a, &r, &ctx)))
    });

    let records: Vec<ResourceRef> = (0..10_000).map(|i| customer(i, "p4")).collect();
    let bulk_ctx = RequestContext {
        record_count: 10_000,
        justification: true,
        ..ctx
    };
    c.bench_function("authorize_many/10k-records", |b| {
        b.iter(|| black_box(default.authorize_many(&p, Action::CustomerExport, &records, &bulk_ctx)))
    });

    let (d50, d99) = percentiles(&default, 3_000);
    let (s50, s99) = percentiles(&scaled, 3_000);
    let mut bulk: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            black_box(default.authorize_many(&p, Action::CustomerExport, &records, &bulk_ctx));
            start.elapsed()
        })
        .collect();
    bulk.sort();
    // Worst case for memoising: every record has its own territory.
    let distinct: Vec<ResourceRef> = (0..10_000)
        .map(|i| match customer(i, "p4") {
            ResourceRef::Customer(mut c) => {
                c.territory = format!("unique-{i}");
                ResourceRef::Customer(c)
            }
            other => other,
        })
        .collect();
    let start = Instant::now();
    black_box(default.authorize_many(&p, Action::CustomerExport, &distinct, &bulk_ctx));
    let distinct_time = start.elapsed();
    println!("\n== policy decide summary ==");
    println!(
        "default set ({} policies): p50 {:.2} us, p99 {:.2} us",
        default.policy_count(),
        micros(d50),
        micros(d99)
    );
    println!(
        "10k extra ({} policies, loaded in {:.2} s): p50 {:.2} us, p99 {:.2} us",
        scaled.policy_count(),
        load_time.as_secs_f64(),
        micros(s50),
        micros(s99)
    );
    println!(
        "ratio 10k-extra / default: p50 {:.2}x, p99 {:.2}x",
        micros(s50) / micros(d50),
        micros(s99) / micros(d99)
    );
    println!(
        "authorize_many 10,000 records (50 territories): median {:.2} ms",
        bulk[bulk.len() / 2].as_secs_f64() * 1e3
    );
    println!(
        "authorize_many 10,000 records (all distinct, no memo hits): {:.2} ms",
        distinct_time.as_secs_f64() * 1e3
    );
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = decide
}
criterion_main!(benches);
