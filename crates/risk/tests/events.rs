//! JSON-lines events, departure context, explanations and alert formatting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use risk::time::{days_from_civil, DAY_MS};
use risk::{
    parse_event, read_json_lines, Aggregator, CopyDirection, Event, EventKind, HrEvent, ScoringConfig, WebCategory,
};

fn ms(y: i32, m: u32, d: u32, hour: i64) -> i64 {
    i64::from(days_from_civil(y, m, d)) * DAY_MS + hour * 3_600_000
}

#[test]
fn json_lines_round_trip_and_bad_lines_are_reported() {
    let events = vec![
        Event {
            ts_ms: ms(2024, 3, 1, 9),
            user: "u1".to_string(),
            kind: EventKind::VaultExport {
                records: 500,
                customers: 40,
                own_account: false,
            },
        },
        Event {
            ts_ms: ms(2024, 3, 1, 10),
            user: "u1".to_string(),
            kind: EventKind::FileCopy {
                pc: "PC-1".to_string(),
                direction: CopyDirection::ToRemovable,
                files: 12,
            },
        },
        Event {
            ts_ms: ms(2024, 3, 1, 11),
            user: "u1".to_string(),
            kind: EventKind::Hr(HrEvent::ResignationNotice {
                last_day_ms: Some(ms(2024, 3, 29, 0)),
            }),
        },
    ];
    let mut text = String::new();
    for e in &events {
        text.push_str(&serde_json::to_string(e).unwrap());
        text.push('\n');
    }
    text.push_str("{\"ts_ms\": 1, \"user\": \"u2\", \"type\": \"teleport\"}\n\nnot json\n");
    let mut got = Vec::new();
    let report = read_json_lines(text.as_bytes(), |e| got.push(e)).unwrap();
    assert_eq!(got, events);
    assert_eq!(report.accepted, 3);
    assert_eq!(report.rejected_count, 2);
    assert_eq!(report.rejected.iter().map(|r| r.0).collect::<Vec<_>>(), vec![4, 6]);
    let one = parse_event(r#"{"ts_ms":5,"user":"u","type":"web_visit","category":"job_site"}"#).unwrap();
    assert!(matches!(one.kind, EventKind::WebVisit { upload: false, .. }));
    assert!(parse_event(r#"{"user":"u","type":"logon","pc":"x"}"#).is_err());
}

/// Feeds `user`'s working days (Monday to Friday) from 1 January 2024 for
/// `days` calendar days, 09:00 each: a logon, then what `extra` gives for the
/// working day (1-based) and the calendar day (0-based).
fn working_days(agg: &mut Aggregator, user: &str, days: u32, extra: impl Fn(u32, u64) -> Vec<EventKind>) {
    timed_working_days(agg, user, days, |worked, d| {
        extra(worked, d).into_iter().map(|kind| (9 * 60, kind)).collect()
    });
}

/// [`working_days`] with the extra events at their minute of the day (the
/// logon stays at 09:00).
fn timed_working_days(agg: &mut Aggregator, user: &str, days: u32, extra: impl Fn(u32, u64) -> Vec<(i64, EventKind)>) {
    let start = days_from_civil(2024, 1, 1);
    let mut worked = 0;
    for d in 0..days as i32 {
        let day = start + d;
        if risk::time::weekday(day) >= 5 {
            continue;
        }
        worked += 1;
        let logon = EventKind::Logon {
            pc: format!("PC-{user}"),
        };
        for (minute, kind) in std::iter::once((9 * 60, logon)).chain(extra(worked, d as u64)) {
            agg.add_event(&Event {
                ts_ms: i64::from(day) * DAY_MS + minute * 60_000,
                user: user.to_string(),
                kind,
            });
        }
    }
}

/// A person with a steady baseline, then a burst on `burst_day` (1-based working day).
fn steady_person(agg: &mut Aggregator, user: &str, days: u32, burst_day: u32, records: u64) {
    working_days(agg, user, days, |worked, d| {
        vec![EventKind::VaultExport {
            records: if worked == burst_day { records } else { 20 + d % 7 },
            customers: 3,
            own_account: true,
        }]
    });
}

#[test]
fn export_burst_after_notice_is_explained_and_weighs_more() {
    let run = |notice: bool| {
        let mut agg = Aggregator::new(0);
        for u in ["a", "b", "c", "d"] {
            steady_person(&mut agg, u, 120, 0, 0);
        }
        steady_person(&mut agg, "thief", 120, 70, 4000);
        if notice {
            agg.add_event(&Event {
                ts_ms: ms(2024, 4, 1, 8),
                user: "thief".to_string(),
                kind: EventKind::Hr(HrEvent::ResignationNotice { last_day_ms: None }),
            });
        }
        agg.score(&ScoringConfig::default())
    };
    let plain = run(false);
    let noticed = run(true);
    let score = |r: &risk::ScoreReport, u: &str| r.users.iter().find(|s| s.user == u).unwrap().clone();
    let thief = score(&noticed, "thief");
    assert!(thief.score > score(&plain, "thief").score, "notice must weigh more");
    assert!(thief.score >= 50.0, "{thief:?}");
    assert!(
        thief.reasons[0].starts_with("exported 4000 vault records on"),
        "{:?}",
        thief.reasons
    );
    assert!(thief.reasons[0].contains("× their median of"), "{:?}", thief.reasons);
    assert!(thief.reasons.iter().any(|r| r.starts_with("gave notice on 1 Apr 2024")));
    assert_eq!(thief.watchlist_since, Some(days_from_civil(2024, 4, 1)));
    assert!(thief.first_alert.is_some());
    for u in ["a", "b", "c", "d"] {
        let s = score(&noticed, u);
        assert!(s.score < 20.0, "steady person scored {s:?}");
        assert!(s.first_alert.is_none());
    }
    // One open alert for the thief, formatted for SIEMs.
    let alerts: Vec<_> = noticed.alerts.iter().filter(|a| a.user == "thief").collect();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].to_syslog("h", 0).contains("person=\"thief\""));
}

#[test]
fn newcomer_heavy_exporter_is_not_flagged_against_peers() {
    let mut agg = Aggregator::new(0);
    for u in ["a", "b", "c", "d", "e"] {
        steady_person(&mut agg, u, 120, 0, 0);
    }
    // Joins later and always exports 10× the peers' volume.
    let start = days_from_civil(2024, 3, 1);
    for d in 0..40 {
        let day = start + d;
        if risk::time::weekday(day) >= 5 {
            continue;
        }
        agg.add_event(&Event {
            ts_ms: i64::from(day) * DAY_MS + 10 * 3_600_000,
            user: "new".to_string(),
            kind: EventKind::VaultExport {
                records: 240 + (d as u64 % 5) * 10,
                customers: 3,
                own_account: true,
            },
        });
    }
    let report = agg.score(&ScoringConfig::default());
    let newcomer = report.users.iter().find(|s| s.user == "new").unwrap();
    assert!(newcomer.first_alert.is_none(), "{newcomer:?}");
    assert!(newcomer.score < 50.0, "{newcomer:?}");
}

#[test]
fn collect_exfiltrate_delete_sequence_is_detected() {
    let mut agg = Aggregator::new(0);
    steady_person(&mut agg, "a", 90, 0, 0);
    steady_person(&mut agg, "b", 90, 0, 0);
    steady_person(&mut agg, "s", 90, 0, 0);
    let day = days_from_civil(2024, 3, 27);
    let at = |h: i64| i64::from(day) * DAY_MS + h * 3_600_000;
    for (ts, kind) in [
        (
            at(10),
            EventKind::FileCopy {
                pc: "PC-s".to_string(),
                direction: CopyDirection::ToRemovable,
                files: 300,
            },
        ),
        (
            at(12),
            EventKind::FileDelete {
                pc: "PC-s".to_string(),
                files: 300,
            },
        ),
    ] {
        agg.add_event(&Event {
            ts_ms: ts,
            user: "s".to_string(),
            kind,
        });
    }
    let report = agg.score(&ScoringConfig::default());
    let s = report.users.iter().find(|s| s.user == "s").unwrap();
    assert!(
        s.reasons.iter().any(|r| r.contains("deleted 300 files")),
        "{:?}",
        s.reasons
    );
}

#[test]
fn absurd_timestamps_are_rejected_not_scored() {
    let mut agg = Aggregator::new(0);
    for ts_ms in [i64::MAX, i64::MIN, -10_000_000_000_000] {
        agg.add_event(&Event {
            ts_ms,
            user: "x".to_string(),
            kind: EventKind::Logon { pc: "p".to_string() },
        });
    }
    assert_eq!(agg.rejected_events(), 3);
    assert_eq!(agg.event_count(), 0);
    let report = agg.score(&ScoringConfig::default());
    assert_eq!(report.days, 0);
    assert!(report.alerts.is_empty());
}

/// Logs on every working day and copies files to a USB drive on the given
/// working days (1-based).
fn usb_person(agg: &mut Aggregator, user: &str, days: u32, copy_days: &[u32]) {
    working_days(agg, user, days, |worked, _| {
        copy_days
            .contains(&worked)
            .then(|| EventKind::FileCopy {
                pc: format!("PC-{user}"),
                direction: CopyDirection::ToRemovable,
                files: 3,
            })
            .into_iter()
            .collect()
    });
}

#[test]
fn a_behaviour_back_after_months_counts_as_new_again() {
    let mut agg = Aggregator::new(0);
    for u in ["a", "b", "c"] {
        usb_person(&mut agg, u, 260, &[]);
    }
    // Both copied once in their second month; one again after about three
    // months, the other not until more than half a year later.
    usb_person(&mut agg, "habitual", 260, &[30, 100, 170]);
    usb_person(&mut agg, "returner", 260, &[30, 170]);
    let report = agg.score(&ScoringConfig::default());
    let score = |u: &str| report.users.iter().find(|s| s.user == u).unwrap().clone();
    let (returner, habitual) = (score("returner"), score("habitual"));
    assert!(
        returner
            .reasons
            .iter()
            .any(|r| r.starts_with("first time since ") && r.contains("removable drive")),
        "{:?}",
        returner.reasons
    );
    assert!(
        !habitual.reasons.iter().any(|r| r.starts_with("first time since ")),
        "{:?}",
        habitual.reasons
    );
    assert!(returner.score > habitual.score, "{returner:?} vs {habitual:?}");
}

/// Works 09:00–18:00 on working days from 1 January 2024; every fifth working day
/// visits a cloud storage site (in r4.2, a visit counts as an upload) during the day,
/// every 40th once just after hours at 19:30; and on each of `nights` (working days,
/// 1-based) comes back at 22:00 to upload four times.
fn cloud_person(agg: &mut Aggregator, user: &str, days: u32, nights: &[u32]) {
    let upload = || EventKind::WebVisit {
        category: WebCategory::CloudStorage,
        upload: true,
    };
    timed_working_days(agg, user, days, |worked, _| {
        let mut events = Vec::new();
        if worked % 5 == 0 {
            events.push((14 * 60, upload()));
        }
        if worked % 40 == 0 {
            events.push((19 * 60 + 30, upload()));
        }
        if nights.contains(&worked) {
            events.push((
                22 * 60,
                EventKind::Logon {
                    pc: format!("PC-{user}"),
                },
            ));
            events.extend((1..=4).map(|i| (22 * 60 + 5 * i, upload())));
        }
        events
    });
}

#[test]
fn after_hours_uploads_on_separate_nights_add_up_before_the_last_day() {
    let mut agg = Aggregator::new(0);
    for u in ["a", "b", "c"] {
        cloud_person(&mut agg, u, 300, &[]);
    }
    // Three nights of uploads within a week and a half, after ten months of the same habits.
    cloud_person(&mut agg, "leaver", 300, &[201, 203, 208]);
    let report = agg.score(&ScoringConfig::default());
    let score = |u: &str| report.users.iter().find(|s| s.user == u).unwrap().clone();
    let leaver = score("leaver");
    // Working days 201, 203 and 208 from Monday 1 January 2024.
    let (first, third) = (days_from_civil(2024, 10, 7), days_from_civil(2024, 10, 16));
    assert!(
        leaver.first_alert.is_some_and(|d| d > first && d <= third),
        "one night is not enough, three are: {leaver:?}"
    );
    assert!(
        leaver.reasons.iter().any(|r| r.starts_with(
            "moved data out after hours on 3 separate days between 7 Oct 2024 and 16 Oct 2024, \
             each time more than on any earlier day of their history"
        )),
        "{:?}",
        leaver.reasons
    );
    // The same habits without the nights: the first 19:30 upload is new once, then routine.
    for u in ["a", "b", "c"] {
        let s = score(u);
        assert!(s.first_alert.is_none() && s.score < leaver.score - 20.0, "{s:?}");
    }
}
