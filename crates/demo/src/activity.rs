//! Ninety days of the demo company's activity, as a deterministic plan: vault accesses
//! that the CLI performs through the gateway (so they are authorized, recorded in the
//! ledger and reach the risk engine from there), HR events, and endpoint, mail and web
//! events that a real installation would receive from its connectors.
//!
//! The cast: one departing salesperson exports their accounts after hours in the week
//! before giving notice, after weeks of job-site and competitor browsing, then copies
//! files to a thumb drive, mails attachments to a personal address and deletes the
//! copies; another departing salesperson takes nothing; a third person left earlier;
//! sales managers export their own accounts every week (legitimate bulk use); an engineer
//! uses USB drives all the time; the security admin works nights.

use model::{Classification, CustomerId, DocumentId, EmploymentStatus, NewCustomer, Person, PersonId, Role};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use risk::time::{days_from_civil, DAY_MS};
use risk::{CopyDirection, Event, EventKind, HrEvent, WebCategory};

use crate::Company;

/// Days of activity.
pub const ACTIVITY_DAYS: i32 = 90;
/// The company's offset from UTC in minutes (Vietnam, UTC+7).
pub const UTC_OFFSET_MINUTES: i32 = 420;
/// Local time of the working day's vault accesses, in minutes after midnight.
pub const MORNING_MINUTES: i64 = 9 * 60 + 30;
/// Local time of after-hours vault accesses.
pub const EVENING_MINUTES: i64 = 21 * 60 + 10;
/// The customer list document the thief takes.
pub const CUSTOMER_LIST_DOCUMENT: &str = "D-00001";
/// The contract template engineers download as a matter of course.
pub const CONTRACT_TEMPLATE_DOCUMENT: &str = "D-00004";
/// The price list finance downloads.
pub const PRICE_LIST_DOCUMENT: &str = "D-00003";

/// The last day of the activity (the demo's "today").
pub fn last_activity_day() -> i32 {
    days_from_civil(2026, 11, 30)
}

/// The first day of the activity.
pub fn first_activity_day() -> i32 {
    last_activity_day() - (ACTIVITY_DAYS - 1)
}

/// Unix milliseconds of a local time on a day.
pub fn local_ms(day: i32, minutes: i64) -> i64 {
    i64::from(day) * DAY_MS + (minutes - i64::from(UTC_OFFSET_MINUTES)) * 60_000
}

/// A vault access performed through the gateway as a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultAction {
    /// Read one customer.
    Read(CustomerId),
    /// Search by a customer's email (an exact blind-index lookup).
    SearchEmail(String),
    /// List (export) the person's own accounts, up to `limit`.
    ListOwn {
        /// Most records returned.
        limit: usize,
    },
    /// Download a document.
    Download(DocumentId),
}

/// An HR status change made through the gateway on a day, before that day's activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// Who.
    pub person: PersonId,
    /// New status.
    pub status: EmploymentStatus,
    /// Notice date (ISO), if any.
    pub notice_date: Option<String>,
    /// Last day (ISO), if any.
    pub last_day: Option<String>,
}

/// One day of the plan.
#[derive(Debug, Clone, Default)]
pub struct DayPlan {
    /// Days since 1970-01-01.
    pub day: i32,
    /// Status changes, made first.
    pub status_changes: Vec<StatusChange>,
    /// Vault accesses in working hours ([`MORNING_MINUTES`]).
    pub working_hours: Vec<(PersonId, VaultAction)>,
    /// Vault accesses after hours ([`EVENING_MINUTES`]).
    pub after_hours: Vec<(PersonId, VaultAction)>,
    /// HR, endpoint, mail and web events (never vault accesses: those come from the gateway).
    pub events: Vec<Event>,
}

/// Who plays which part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cast {
    /// The departing salesperson who exports their accounts before leaving.
    pub thief: PersonId,
    /// The departing salesperson who takes nothing.
    pub clean_leaver: PersonId,
    /// The salesperson who left earlier.
    pub departed: PersonId,
}

/// The plan: the cast and one [`DayPlan`] per day.
#[derive(Debug, Clone)]
pub struct ActivityPlan {
    /// Who plays which part.
    pub cast: Cast,
    /// Days in order.
    pub days: Vec<DayPlan>,
}

impl ActivityPlan {
    /// Vault accesses in the plan.
    pub fn vault_actions(&self) -> usize {
        self.days
            .iter()
            .map(|d| d.working_hours.len() + d.after_hours.len())
            .sum()
    }

    /// HR, endpoint, mail and web events in the plan.
    pub fn other_events(&self) -> usize {
        self.days.iter().map(|d| d.events.len()).sum()
    }
}

fn iso_day(text: Option<&str>) -> Option<i32> {
    risk::time::parse_iso_date(text?)
}

fn person_index(company: &Company, id: &PersonId) -> usize {
    company.people.iter().position(|p| &p.id == id).unwrap_or(0)
}

/// The departing salespeople and the one who left, as [`crate::company`] made them: the
/// first departing one (earliest notice) is the thief.
pub fn cast(company: &Company) -> Option<Cast> {
    let mut departing: Vec<&Person> = company
        .people
        .iter()
        .filter(|p| p.status == EmploymentStatus::Departing && p.role == Role::SalesRep)
        .collect();
    departing.sort_by(|a, b| a.notice_date.cmp(&b.notice_date));
    let departed = company.people.iter().find(|p| p.status == EmploymentStatus::Departed)?;
    Some(Cast {
        thief: departing.first()?.id.clone(),
        clean_leaver: departing.get(1)?.id.clone(),
        departed: departed.id.clone(),
    })
}

/// The people as they were on the first day: everyone active, no notices yet.
pub fn people_at_start(company: &Company) -> Vec<Person> {
    company
        .people
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p.status = EmploymentStatus::Active;
            p.notice_date = None;
            p.last_day = None;
            p
        })
        .collect()
}

struct Ctx<'a> {
    customers: &'a [NewCustomer],
    /// Customer indices per owner id.
    owned: std::collections::HashMap<&'a str, Vec<usize>>,
    /// Customers support works on (no secret or compartmented accounts).
    supported: Vec<usize>,
}

fn event(user: &PersonId, day: i32, minutes: i64, kind: EventKind) -> Event {
    Event {
        ts_ms: local_ms(day, minutes),
        user: user.0.clone(),
        kind,
    }
}

/// Plans the 90 days. The same seed and company give the same plan.
pub fn activity(seed: u64, company: &Company, customers: &[NewCustomer]) -> Option<ActivityPlan> {
    let cast = cast(company)?;
    let mut owned: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, c) in customers.iter().enumerate() {
        if let Some(owner) = &c.owner {
            owned.entry(owner.as_str()).or_default().push(i);
        }
    }
    let supported = customers
        .iter()
        .enumerate()
        .filter(|(_, c)| c.compartments.is_empty() && c.classification != Some(Classification::Secret))
        .map(|(i, _)| i)
        .collect();
    let ctx = Ctx {
        customers,
        owned,
        supported,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xac71_7e5d);
    let first = first_activity_day();
    let thief = company.people.get(person_index(company, &cast.thief))?;
    let thief_notice = iso_day(thief.notice_date.as_deref())?;
    let engineer_usb = company.by_role(Role::Engineering).nth(5).map(|p| p.id.clone());
    let night_admin = company.by_role(Role::SecurityAdmin).next().map(|p| p.id.clone());

    let mut days = Vec::with_capacity(ACTIVITY_DAYS as usize);
    for day in first..first + ACTIVITY_DAYS {
        let weekday = risk::time::weekday(day);
        let working = weekday < 5;
        let mut plan = DayPlan {
            day,
            ..DayPlan::default()
        };
        for p in &company.people {
            let notice = iso_day(p.notice_date.as_deref());
            let last = iso_day(p.last_day.as_deref());
            if notice == Some(day) {
                plan.status_changes.push(StatusChange {
                    person: p.id.clone(),
                    status: EmploymentStatus::Departing,
                    notice_date: p.notice_date.clone(),
                    last_day: p.last_day.clone(),
                });
                let last_day_ms = last.map(|l| local_ms(l, 17 * 60));
                plan.events.push(event(
                    &p.id,
                    day,
                    8 * 60,
                    EventKind::Hr(HrEvent::ResignationNotice { last_day_ms }),
                ));
            }
            if last.is_some_and(|l| l + 1 == day) && p.status == EmploymentStatus::Departed {
                plan.status_changes.push(StatusChange {
                    person: p.id.clone(),
                    status: EmploymentStatus::Departed,
                    notice_date: None,
                    last_day: None,
                });
            }
            if last.is_some_and(|l| l < day) {
                continue; // gone
            }
            if last == Some(day) && p.status == EmploymentStatus::Departed {
                plan.events
                    .push(event(&p.id, day, 17 * 60, EventKind::Hr(HrEvent::LastDay)));
            }
            if !working {
                continue;
            }
            routine(&ctx, &mut rng, &mut plan, p, day);
            if Some(&p.id) == engineer_usb.as_ref() {
                // A heavy, legitimate USB user: firmware images to test rigs, every day.
                let pc = format!("PC-{}", p.id);
                plan.events
                    .push(event(&p.id, day, 10 * 60, EventKind::DeviceConnect { pc: pc.clone() }));
                plan.events.push(event(
                    &p.id,
                    day,
                    10 * 60 + 5,
                    EventKind::FileCopy {
                        pc,
                        direction: CopyDirection::ToRemovable,
                        files: rng.gen_range(20..60),
                    },
                ));
            }
            if Some(&p.id) == night_admin.as_ref() {
                let pc = format!("PC-{}", p.id);
                plan.events.push(event(&p.id, day, 23 * 60, EventKind::Logon { pc }));
            }
        }
        thief_days(&ctx, &mut rng, &mut plan, thief, thief_notice);
        days.push(plan);
    }
    Some(ActivityPlan { cast, days })
}

/// An ordinary working day of one person.
fn routine(ctx: &Ctx<'_>, rng: &mut ChaCha8Rng, plan: &mut DayPlan, p: &Person, day: i32) {
    let pc = format!("PC-{}", p.id);
    let start = 8 * 60 + rng.gen_range(0..45);
    plan.events
        .push(event(&p.id, day, start, EventKind::Logon { pc: pc.clone() }));
    plan.events.push(event(
        &p.id,
        day,
        17 * 60 + rng.gen_range(0..60),
        EventKind::Logoff { pc },
    ));
    for _ in 0..rng.gen_range(2..6) {
        let external = u32::from(rng.gen_bool(0.3));
        plan.events.push(event(
            &p.id,
            day,
            start + rng.gen_range(10..500),
            EventKind::Email {
                internal: rng.gen_range(1..4),
                external,
                personal: 0,
                attachments: u32::from(rng.gen_bool(0.2)),
                bytes: rng.gen_range(2_000..200_000),
            },
        ));
    }
    for _ in 0..rng.gen_range(3..10) {
        plan.events.push(event(
            &p.id,
            day,
            start + rng.gen_range(10..500),
            EventKind::WebVisit {
                category: WebCategory::Other,
                upload: false,
            },
        ));
    }
    let own = ctx.owned.get(p.id.as_str()).map_or(&[][..], Vec::as_slice);
    match p.role {
        Role::SalesRep | Role::SalesManager => {
            for _ in 0..rng.gen_range(1..4) {
                if let Some(&i) = own.choose(rng) {
                    if let Some(id) = ctx.customers.get(i).and_then(|c| c.id.clone()) {
                        plan.working_hours.push((p.id.clone(), VaultAction::Read(id)));
                    }
                }
            }
            if rng.gen_bool(0.3) {
                if let Some(email) = own
                    .choose(rng)
                    .and_then(|&i| ctx.customers.get(i))
                    .and_then(|c| c.emails.first())
                {
                    plan.working_hours
                        .push((p.id.clone(), VaultAction::SearchEmail(email.clone())));
                }
            }
            // Managers review their own book every morning: legitimate bulk use.
            if p.role == Role::SalesManager {
                plan.working_hours
                    .push((p.id.clone(), VaultAction::ListOwn { limit: 200 }));
            }
        }
        Role::Support => {
            for _ in 0..rng.gen_range(2..5) {
                if let Some(id) = ctx
                    .supported
                    .choose(rng)
                    .and_then(|&i| ctx.customers.get(i)?.id.clone())
                {
                    plan.working_hours.push((p.id.clone(), VaultAction::Read(id)));
                }
            }
        }
        // Engineers and finance download the documents their work needs.
        Role::Engineering | Role::Finance if rng.gen_bool(0.25) => {
            let doc = if p.role == Role::Finance {
                PRICE_LIST_DOCUMENT
            } else {
                CONTRACT_TEMPLATE_DOCUMENT
            };
            plan.working_hours
                .push((p.id.clone(), VaultAction::Download(DocumentId(doc.into()))));
        }
        _ => {}
    }
}

/// The thief's extra activity: weeks of job hunting and talks with a competitor, then in
/// the week before the notice after-hours exports of their whole book, the customer
/// list, a thumb drive, mail to a personal address, cloud uploads and deleting the copies.
fn thief_days(ctx: &Ctx<'_>, rng: &mut ChaCha8Rng, plan: &mut DayPlan, thief: &Person, notice: i32) {
    let day = plan.day;
    let id = &thief.id;
    let pc = format!("PC-{id}");
    let working = risk::time::weekday(day) < 5;
    let before = notice - day;
    if (1..=21).contains(&before) && working {
        for _ in 0..rng.gen_range(2..6) {
            plan.events.push(event(
                id,
                day,
                12 * 60 + rng.gen_range(0..60),
                EventKind::WebVisit {
                    category: WebCategory::JobSite,
                    upload: false,
                },
            ));
        }
        if rng.gen_bool(0.5) {
            plan.events.push(event(
                id,
                day,
                13 * 60,
                EventKind::WebVisit {
                    category: WebCategory::Competitor,
                    upload: false,
                },
            ));
        }
    }
    if (1..=7).contains(&before) && working {
        let own = ctx.owned.get(id.as_str()).map_or(0, Vec::len);
        plan.after_hours
            .push((id.clone(), VaultAction::ListOwn { limit: own.max(1) }));
        plan.after_hours.push((
            id.clone(),
            VaultAction::Download(DocumentId(CUSTOMER_LIST_DOCUMENT.into())),
        ));
        plan.events.push(event(
            id,
            day,
            EVENING_MINUTES + 20,
            EventKind::Email {
                internal: 0,
                external: 0,
                personal: 1,
                attachments: 2,
                bytes: 3_500_000,
            },
        ));
    }
    if before == 4 || before == 3 {
        plan.events.push(event(
            id,
            day,
            EVENING_MINUTES + 30,
            EventKind::WebVisit {
                category: WebCategory::CloudStorage,
                upload: true,
            },
        ));
    }
    if before == 3 {
        plan.events.push(event(
            id,
            day,
            EVENING_MINUTES + 40,
            EventKind::DeviceConnect { pc: pc.clone() },
        ));
        plan.events.push(event(
            id,
            day,
            EVENING_MINUTES + 45,
            EventKind::FileCopy {
                pc: pc.clone(),
                direction: CopyDirection::ToRemovable,
                files: 240,
            },
        ));
    }
    if before == 2 {
        plan.events.push(event(
            id,
            day,
            EVENING_MINUTES,
            EventKind::FileDelete { pc, files: 230 },
        ));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_plan_is_deterministic_and_casts_two_departing_salespeople() {
        let company = crate::company(7);
        let customers = crate::customers(7, 600, &company);
        let a = activity(7, &company, &customers).unwrap();
        let b = activity(7, &company, &customers).unwrap();
        assert_eq!(a.days.len(), ACTIVITY_DAYS as usize);
        assert_eq!(a.vault_actions(), b.vault_actions());
        assert_eq!(a.days[40].events, b.days[40].events);
        assert_ne!(a.cast.thief, a.cast.clean_leaver);
        // The thief exports after hours before the notice; the clean leaver never does.
        let exports_by = |who: &PersonId| {
            a.days
                .iter()
                .flat_map(|d| d.after_hours.iter())
                .filter(|(p, a)| p == who && matches!(a, VaultAction::ListOwn { .. }))
                .count()
        };
        assert!(exports_by(&a.cast.thief) >= 4);
        assert_eq!(exports_by(&a.cast.clean_leaver), 0);
        // Everyone starts active; the HR changes arrive on their days.
        assert!(people_at_start(&company)
            .iter()
            .all(|p| p.status == EmploymentStatus::Active && p.notice_date.is_none()));
        let changes: Vec<_> = a.days.iter().flat_map(|d| d.status_changes.iter()).collect();
        assert_eq!(changes.len(), 4, "{changes:?}");
        // Activity events carry ids and counts only: their only text is person and
        // computer ids.
        for e in a.days.iter().flat_map(|d| d.events.iter()) {
            assert!(e.user.starts_with("p-"), "{e:?}");
            let pc = match &e.kind {
                EventKind::Logon { pc }
                | EventKind::Logoff { pc }
                | EventKind::DeviceConnect { pc }
                | EventKind::FileCopy { pc, .. }
                | EventKind::FileDelete { pc, .. } => Some(pc),
                EventKind::Email { .. } | EventKind::WebVisit { .. } | EventKind::Hr(_) => None,
                other => panic!("a vault access in the plan's events: {other:?}"),
            };
            assert!(pc.is_none_or(|pc| pc.starts_with("PC-p-")), "{e:?}");
        }
    }
}
