//! Invariants of scoring on arbitrary event streams.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use risk::time::DAY_MS;
use risk::{Aggregator, CopyDirection, Event, EventKind, ScoringConfig, WebCategory};

fn kind(k: u8, n: u64) -> EventKind {
    match k {
        0 => EventKind::Logon {
            pc: format!("PC-{}", n % 4),
        },
        1 => EventKind::DeviceConnect { pc: "PC-1".to_string() },
        2 => EventKind::FileCopy {
            pc: "PC-1".to_string(),
            direction: CopyDirection::ToRemovable,
            files: n,
        },
        3 => EventKind::Email {
            internal: 1,
            external: (n % 3) as u32,
            personal: (n % 2) as u32,
            attachments: (n % 4) as u32,
            bytes: n,
        },
        4 => EventKind::WebVisit {
            category: if n.is_multiple_of(2) {
                WebCategory::JobSite
            } else {
                WebCategory::CloudStorage
            },
            upload: n.is_multiple_of(3),
        },
        5 => EventKind::VaultExport {
            records: n,
            customers: n / 10,
            own_account: !n.is_multiple_of(5),
        },
        6 => EventKind::FileDelete {
            pc: "PC-1".to_string(),
            files: n,
        },
        _ => EventKind::DlpScan {
            matches: (n % 3) as u32,
            blocked: false,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scores_are_bounded_explained_and_alerts_deduplicated(
        events in prop::collection::vec((0u8..6, 0i64..150, 0i64..24, 0u8..8, 0u64..500), 1..400)
    ) {
        let mut agg = Aggregator::new(0);
        for (user, day, hour, k, n) in &events {
            agg.add_event(&Event {
                ts_ms: (14_000 + day) * DAY_MS + hour * 3_600_000,
                user: format!("u{user}"),
                kind: kind(*k, *n),
            });
        }
        let report = agg.score(&ScoringConfig::default());
        for s in &report.users {
            prop_assert!((0.0..=100.0).contains(&s.score), "{s:?}");
            if s.score >= 30.0 {
                prop_assert!(!s.reasons.is_empty(), "{s:?}");
            }
            if let Some(first) = s.first_alert {
                prop_assert!(report.alerts.iter().any(|a| a.user == s.user && a.day == first));
            }
        }
        // Alerts of one person never overlap: each new one fires on a later day.
        let mut last: std::collections::HashMap<&str, i32> = Default::default();
        for a in &report.alerts {
            if let Some(prev) = last.insert(a.user.as_str(), a.day) {
                prop_assert!(a.day > prev);
            }
            prop_assert!(a.score >= ScoringConfig::default().alert_threshold);
        }
    }
}

/// `events` scored, with the people in order of their names.
fn scored(events: &[Event]) -> risk::ScoreReport {
    let mut agg = Aggregator::new(0);
    for e in events {
        agg.add_event(e);
    }
    let mut report = agg.score(&ScoringConfig::default());
    report.users.sort_by(|a, b| a.user.cmp(&b.user));
    report
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The aggregation numbers people in the order it first sees them, which is the order
    /// events arrive in; the scores must not depend on it.
    #[test]
    fn scores_do_not_depend_on_the_order_people_were_first_seen(
        events in prop::collection::vec((0u8..6, 0i64..60, 0i64..24, 0u8..8, 0u64..500), 1..400)
    ) {
        let mut events: Vec<Event> = events
            .iter()
            .map(|(user, day, hour, k, n)| Event {
                ts_ms: (14_000 + day) * DAY_MS + hour * 3_600_000,
                user: format!("u{user}"),
                kind: kind(*k, *n),
            })
            .collect();
        let forwards = scored(&events);
        events.reverse();
        prop_assert_eq!(forwards, scored(&events));
    }
}

/// A person is compared with their peers' earlier days, whoever the aggregation happened to
/// see first (found in review: the demo, whose vault accesses reach the ledger in another
/// order each run, showed a peers' usual of 2 in one run and 3 in another, read while the
/// day's values were still coming in).
#[test]
fn peers_are_compared_as_of_their_earlier_days_whoever_was_seen_first() {
    let export = |user: String, day: i64, customers: u64| Event {
        ts_ms: (14_000 + day) * DAY_MS + 10 * 3_600_000,
        user,
        kind: EventKind::VaultExport {
            records: customers,
            customers,
            own_account: true,
        },
    };
    // Forty colleagues touch 1 or 9 customers a day for two days, then one more touches 100.
    let mut events = Vec::new();
    for day in 0..2 {
        for i in 0..40u64 {
            events.push(export(format!("u{i:02}"), day, if i < 20 { 1 } else { 9 }));
        }
    }
    events.push(export("z".into(), 2, 100));
    let u00_first = scored(&events);
    events.reverse();
    let z_first = scored(&events);
    assert_eq!(u00_first, z_first);
    // Against all forty of the days before (20 ones and 20 nines), not against the first
    // thirty values of a day still being scored.
    let z = u00_first.users.iter().find(|s| s.user == "z").unwrap();
    assert!(
        z.reasons
            .iter()
            .any(|r| r.starts_with("touched 100 customers") && r.ends_with("their peers' usual 9")),
        "{:?}",
        z.reasons
    );
}
