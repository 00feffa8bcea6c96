//! The gateway's invariants, on a real SQLite store: recorded before
//! released, an error is a deny, time is a parameter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use gateway::{
    AccessContext, Actor, AuditRecord, AuditResource, Gateway, GatewayError, Keyring, RecordError, Recorder, Ticket,
};
use model::{Classification, CustomerId, EmploymentStatus, ManualClock, NewCustomer, Person, PersonId, Role, TeamId};
use store::{SqliteStore, Store};

/// Keeps records, and fails on demand (a ledger whose disk died).
#[derive(Default)]
struct TestRecorder {
    records: Mutex<Vec<AuditRecord>>,
    fail: Mutex<bool>,
}

impl Recorder for TestRecorder {
    fn submit(&self, record: &AuditRecord) -> Result<Ticket, RecordError> {
        if *self.fail.lock().unwrap() {
            return Err(RecordError("disk I/O error".into()));
        }
        self.records.lock().unwrap().push(record.clone());
        Ok(Ticket::durable())
    }
}

fn person(id: &str, role: Role) -> Person {
    Person {
        id: PersonId(id.into()),
        name: id.into(),
        work_email: format!("{id}@corp.example"),
        department: "Sales".into(),
        role,
        team: Some(TeamId("t-1".into())),
        manager: None,
        clearance: Classification::Confidential,
        compartments: Default::default(),
        status: EmploymentStatus::Active,
        notice_date: None,
        last_day: None,
        agreements: vec![],
    }
}

fn setup(clock: ManualClock) -> (tempfile::TempDir, Gateway, Arc<TestRecorder>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path()).unwrap());
    let keys = Keyring::generate("test").unwrap();
    // UTC+7, as the demo company.
    Gateway::initialize(store.as_ref(), &keys, 420).unwrap();
    let recorder = Arc::new(TestRecorder::default());
    let gw = Gateway::open(store, keys, Arc::new(clock), recorder.clone()).unwrap();
    let op = Actor::Operator { name: "test".into() };
    let ctx = AccessContext::default();
    gw.import_people(
        &op,
        &ctx,
        &[person("rep", Role::SalesRep), person("other", Role::SalesRep)],
        &[],
    )
    .unwrap();
    let customer = NewCustomer {
        id: Some(CustomerId("C-1".into())),
        display_name: "Nguyễn Văn An".into(),
        emails: vec!["an@x.example".into()],
        owner: Some(PersonId("rep".into())),
        team: Some(TeamId("t-1".into())),
        classification: Some(Classification::Internal),
        ..Default::default()
    };
    gw.import_customers(&op, &ctx, vec![customer], false, &|_| {}).unwrap();
    (dir, gw, recorder)
}

fn rep() -> Actor {
    Actor::Person(PersonId("rep".into()))
}

#[test]
fn allows_and_denies_are_both_recorded_before_returning() {
    let (_dir, gw, rec) = setup(ManualClock::new(1_790_000_000_000));
    let before = rec.records.lock().unwrap().len();
    let view = gw
        .read_customer(&rep(), &AccessContext::default(), &CustomerId("C-1".into()))
        .unwrap();
    assert_eq!(view.text(model::CustomerField::Name).as_deref(), Some("Nguyễn Văn An"));
    let err = gw.read_customer(
        &Actor::Person(PersonId("other".into())),
        &AccessContext::default(),
        &CustomerId("C-1".into()),
    );
    assert!(matches!(err, Err(GatewayError::Denied { .. })));
    let records = rec.records.lock().unwrap();
    let new: Vec<&AuditRecord> = records[before..].iter().collect();
    assert_eq!(
        new.iter().map(|r| r.decision.as_str()).collect::<Vec<_>>(),
        ["allow", "deny"]
    );
    // The fields released are named; bank details were withheld from sales.
    assert_eq!(
        new[0].fields,
        [
            "name",
            "company",
            "emails",
            "phones",
            "addresses",
            "notes",
            "deal_value"
        ]
    );
    // No value, only ids, counts and field names.
    let text = format!("{new:?}");
    assert!(!text.contains("Nguyễn") && !text.contains("an@x.example"), "{text}");
}

#[test]
fn a_decision_that_cannot_be_recorded_releases_nothing() {
    let (_dir, gw, rec) = setup(ManualClock::new(1_790_000_000_000));
    *rec.fail.lock().unwrap() = true;
    let read = gw.read_customer(&rep(), &AccessContext::default(), &CustomerId("C-1".into()));
    assert!(matches!(read, Err(GatewayError::NotRecorded(_))), "{read:?}");
    let list = gw.list_customers(&rep(), &AccessContext::default(), None, 10);
    assert!(matches!(list, Err(GatewayError::NotRecorded(_))));
    let erase = gw.erase_customer(
        &Actor::Operator { name: "x".into() },
        &AccessContext::default(),
        &CustomerId("C-1".into()),
    );
    assert!(erase.is_err());
    *rec.fail.lock().unwrap() = false;
    assert!(
        gw.read_customer(&rep(), &AccessContext::default(), &CustomerId("C-1".into()))
            .is_ok(),
        "nothing was erased"
    );
}

/// A ledger over a memory store whose writes fail: decisions are queued
/// (submit succeeds) but never become durable.
struct QueuedButLost(ledger::Ledger<Arc<ledger::MemoryStore>>);

impl Recorder for QueuedButLost {
    fn submit(&self, record: &AuditRecord) -> Result<Ticket, RecordError> {
        Recorder::submit(&self.0, record)
    }
}

#[test]
fn a_held_read_is_released_only_once_its_allow_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path()).unwrap());
    let keys = Keyring::generate("test").unwrap();
    Gateway::initialize(store.as_ref(), &keys, 0).unwrap();
    let op = Actor::Operator { name: "test".into() };
    let ctx = AccessContext::default();
    let setup = Gateway::open(
        Arc::clone(&store),
        Keyring::from_text(&keys.to_text(), "test").unwrap(),
        Arc::new(ManualClock::new(1_790_000_000_000)),
        Arc::new(TestRecorder::default()),
    )
    .unwrap();
    setup
        .import_people(&op, &ctx, &[person("rep", Role::SalesRep)], &[])
        .unwrap();
    let customer = NewCustomer {
        id: Some(CustomerId("C-1".into())),
        display_name: "Nguyễn Văn An".into(),
        owner: Some(PersonId("rep".into())),
        classification: Some(Classification::Internal),
        ..Default::default()
    };
    setup
        .import_customers(&op, &ctx, vec![customer], false, &|_| {})
        .unwrap();

    let ledger_store = Arc::new(ledger::MemoryStore::new());
    let ledger = ledger::Ledger::open(
        Arc::clone(&ledger_store),
        ledger::SigningKey::generate("test").unwrap(),
        Arc::new(ManualClock::new(1_790_000_000_000)),
        ledger::LedgerConfig::new("test"),
        Vec::new(),
    )
    .unwrap();
    let gw = Gateway::open(
        store,
        keys,
        Arc::new(ManualClock::new(1_790_000_000_000)),
        Arc::new(QueuedButLost(ledger)),
    )
    .unwrap();
    let id = CustomerId("C-1".into());
    // The ledger takes the entry: the view comes out once it is durable.
    let view = gw.read_customer_held(&rep(), &ctx, &id).wait().unwrap();
    assert_eq!(view.text(model::CustomerField::Name).as_deref(), Some("Nguyễn Văn An"));
    assert_eq!(ledger_store.state().entries.len(), 1);
    // The allow is queued, but its group commit fails: nothing is released.
    ledger_store.state().fail_after = Some((0, "disk I/O error".into()));
    let lost = gw.read_customer_held(&rep(), &ctx, &id).wait();
    assert!(matches!(lost, Err(GatewayError::NotRecorded(_))), "{lost:?}");
    assert_eq!(ledger_store.state().entries.len(), 1);
}

#[test]
fn the_gateway_decides_on_the_holder_read_with_the_credential() {
    let (_dir, gw, _rec) = setup(ManualClock::new(1_790_000_000_000));
    let id = CustomerId("C-1".into());
    let holder = |p: Person| AccessContext {
        holder: Some(Arc::new(gateway::Holder {
            person: p,
            generation: None,
        })),
        ..AccessContext::default()
    };
    // The store says active; the credential check read them as departed
    // (e.g. the status changed between requests): that read decides.
    let mut departed = person("rep", Role::SalesRep);
    departed.status = EmploymentStatus::Departed;
    let read = gw.read_customer(&rep(), &holder(departed), &id);
    assert!(matches!(read, Err(GatewayError::Denied { .. })), "{read:?}");
    // A holder that is not the actor is ignored: the store is read.
    let mut someone_else = person("other", Role::SalesRep);
    someone_else.status = EmploymentStatus::Departed;
    assert!(gw.read_customer(&rep(), &holder(someone_else), &id).is_ok());
    assert!(gw
        .read_customer(&rep(), &holder(person("rep", Role::SalesRep)), &id)
        .is_ok());
}

#[test]
fn working_hours_follow_the_injected_clock() {
    // 2026-11-24 (a Tuesday) 03:00 UTC = 10:00 in UTC+7: exports allowed by time.
    let clock = ManualClock::new(1_795_662_000_000 + 3 * 3_600_000 - (1_795_662_000_000 % 86_400_000));
    let (_dir, gw, _rec) = setup(clock.clone());
    let ctx = AccessContext {
        trusted_network: true,
        mfa_fresh: true,
        justification: Some("renewal".into()),
        ..Default::default()
    };
    let explain = |gw: &Gateway| {
        gw.explain(
            &Actor::Operator { name: "t".into() },
            &ctx,
            &PersonId("rep".into()),
            "customer.export",
            "C-1",
        )
        .unwrap()
    };
    let day = explain(&gw);
    assert!(!day.text.contains("export-working-hours"), "{}", day.text);
    // 14:00 UTC = 21:00 local: the working-hours rule forbids it.
    clock.advance_ms(11 * 3_600_000);
    let night = explain(&gw);
    assert!(
        !night.allowed && night.text.contains("export-working-hours"),
        "{}",
        night.text
    );
}

/// A TOTP secret opens only for its person, under one data key per person
/// that survives key rotation; Debug never shows it.
#[test]
fn totp_secrets_open_only_for_their_person_and_across_rotations() {
    let (_dir, gw, _) = setup(ManualClock::new(1_750_000_000_000));
    let (rep, other) = (PersonId("rep".into()), PersonId("other".into()));
    let secret = b"12345678901234567890";
    let sealed = gw.seal_totp_secret(&rep, secret).unwrap();
    assert!(!sealed.windows(secret.len()).any(|w| w == secret));
    let again = gw.seal_totp_secret(&rep, secret).unwrap();
    assert_ne!(sealed, again, "a fresh nonce each time");
    assert!(matches!(
        gw.open_totp_secret(&other, &sealed),
        Err(GatewayError::NotFound { .. })
    ));
    gw.seal_totp_secret(&other, b"another secret").unwrap();
    assert!(
        matches!(gw.open_totp_secret(&other, &sealed), Err(GatewayError::Crypto(_))),
        "another person's key and name do not open it"
    );
    let op = Actor::Operator { name: "test".into() };
    gw.rotate_keys(&op, &AccessContext::default(), &|_: &Keyring| Ok(()))
        .unwrap();
    let opened = gw.open_totp_secret(&rep, &sealed).unwrap();
    assert_eq!(opened.expose(), secret);
    assert_eq!(format!("{opened:?}"), "TotpSecret(redacted)");
}

#[test]
fn the_default_policy_requires_a_second_factor_of_admins_finance_and_executives() {
    let (_dir, gw, _) = setup(ManualClock::new(1_750_000_000_000));
    for (role, required) in [
        (Role::SalesRep, false),
        (Role::SalesManager, false),
        (Role::Support, false),
        (Role::Engineering, false),
        (Role::Hr, false),
        (Role::Finance, true),
        (Role::SecurityAdmin, true),
        (Role::Executive, true),
    ] {
        let p = person("someone", role);
        assert_eq!(
            gw.mfa_required(&p, None, &AccessContext::default()).unwrap(),
            required,
            "{role:?}"
        );
    }
}

/// Holds the first `customer.create` record until released, as a slow group
/// commit would: the record's data key is sealed, not yet stored.
#[derive(Default)]
struct HoldingRecorder {
    entered: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    release: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl Recorder for HoldingRecorder {
    fn submit(&self, record: &AuditRecord) -> Result<Ticket, RecordError> {
        if record.action == "customer.create" {
            if let Some(entered) = self.entered.lock().unwrap().take() {
                entered.send(()).unwrap();
                let release = self.release.lock().unwrap().take().unwrap();
                release.recv().unwrap();
            }
        }
        Ok(Ticket::durable())
    }
}

#[test]
fn a_key_rotation_waits_for_a_record_sealed_under_the_old_key_to_be_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path()).unwrap());
    let keys = Keyring::generate("test").unwrap();
    Gateway::initialize(store.as_ref(), &keys, 0).unwrap();
    let recorder = Arc::new(HoldingRecorder::default());
    let gw = Gateway::open(store, keys, Arc::new(ManualClock::new(0)), recorder.clone()).unwrap();
    let op = Actor::Operator { name: "test".into() };
    let ctx = AccessContext::default();
    gw.import_people(&op, &ctx, &[person("rep", Role::SalesRep)], &[])
        .unwrap();
    let (entered_tx, entered) = std::sync::mpsc::channel();
    let (release, release_rx) = std::sync::mpsc::channel();
    *recorder.entered.lock().unwrap() = Some(entered_tx);
    *recorder.release.lock().unwrap() = Some(release_rx);
    let id = CustomerId("C-2".into());
    let row = NewCustomer {
        id: Some(id.clone()),
        display_name: "Trần Thị Bình".into(),
        owner: Some(PersonId("rep".into())),
        classification: Some(Classification::Internal),
        ..Default::default()
    };
    std::thread::scope(|s| {
        let create = s.spawn(|| gw.create_customer(&op, &ctx, row));
        entered.recv().unwrap(); // sealed under version 1, held before it is stored
        let (rotated_tx, rotated) = std::sync::mpsc::channel();
        let (gw, op, ctx) = (&gw, &op, &ctx);
        let rotation = s.spawn(move || {
            let result = gw.rotate_keys(op, ctx, &|_| Ok(()));
            rotated_tx.send(()).unwrap();
            result
        });
        let finished_early = rotated.recv_timeout(std::time::Duration::from_millis(500)).is_ok();
        release.send(()).unwrap();
        create.join().unwrap().unwrap();
        assert!(
            !finished_early,
            "the rotation finished while a key wrapped under the old version was not stored yet"
        );
        let (version, rewrapped) = rotation.join().unwrap().unwrap();
        assert_eq!((version, rewrapped), (2, 1), "the new customer's key is rewrapped");
    });
    let view = gw.read_customer(&op, &ctx, &id).unwrap();
    assert_eq!(view.id, id);
}

/// Decisions are remembered by a record's attributes only while no policy names a
/// record. Found in review: the check searched the text for `Customer::"`, so a forbid
/// written `Customer :: "C-2"` (as Cedar accepts it) was bypassed for C-2 once C-1, of
/// the same owner, team and class, had been read.
#[test]
fn a_policy_naming_a_record_in_any_spelling_is_enforced_after_a_like_record_is_read() {
    let (_dir, gw, _rec) = setup(ManualClock::new(1_790_000_000_000));
    let op = Actor::Operator { name: "test".into() };
    let ctx = AccessContext::default();
    let twin = NewCustomer {
        id: Some(CustomerId("C-2".into())),
        display_name: "Trần Thị Bình".into(),
        emails: vec!["binh@x.example".into()],
        owner: Some(PersonId("rep".into())),
        team: Some(TeamId("t-1".into())),
        classification: Some(Classification::Internal),
        ..Default::default()
    };
    gw.import_customers(&op, &ctx, vec![twin], false, &|_| {}).unwrap();
    let people = [
        person("rep", Role::SalesRep),
        person("other", Role::SalesRep),
        person("sec", Role::SecurityAdmin),
    ];
    gw.import_people(&op, &ctx, &people, &[]).unwrap();
    let text = format!(
        "{}\n@id(\"not-c2\")\nforbid (principal, action, resource == Customer :: \"C-2\");\n",
        policy::DEFAULT_POLICIES
    );
    gw.replace_policy(&op, &ctx, &text).unwrap();
    for _ in 0..2 {
        gw.read_customer(&rep(), &ctx, &CustomerId("C-1".into())).unwrap();
        let err = gw.read_customer(&rep(), &ctx, &CustomerId("C-2".into()));
        assert!(matches!(err, Err(GatewayError::Denied { .. })), "{err:?}");
    }
}

#[test]
fn a_policy_change_that_cannot_be_recorded_is_neither_in_force_nor_stored() {
    let (_dir, gw, rec) = setup(ManualClock::new(1_790_000_000_000));
    let (op, ctx) = (Actor::Operator { name: "test".into() }, AccessContext::default());
    // Someone must keep the right to change policy, or the change is refused for that.
    gw.import_people(&op, &ctx, &[person("sec", Role::SecurityAdmin)], &[])
        .unwrap();
    let before = gw.policy_text(&op, &ctx).unwrap();
    let no_reads = format!(
        "{}\n@id(\"no-reads\")\n@description(\"nobody reads customers\")\n\
         forbid (principal, action == Action::\"customer.read\", resource);\n",
        policy::DEFAULT_POLICIES
    );
    *rec.fail.lock().unwrap() = true;
    let replaced = gw.replace_policy(&op, &ctx, &no_reads);
    assert!(matches!(replaced, Err(GatewayError::NotRecorded(_))), "{replaced:?}");
    *rec.fail.lock().unwrap() = false;
    assert_eq!(
        gw.policy_text(&op, &ctx).unwrap(),
        before,
        "neither in force nor stored"
    );
    gw.read_customer(&rep(), &ctx, &CustomerId("C-1".into())).unwrap();
    // Recorded, the same change takes effect.
    gw.replace_policy(&op, &ctx, &no_reads).unwrap();
    let read = gw.read_customer(&rep(), &ctx, &CustomerId("C-1".into()));
    assert!(matches!(read, Err(GatewayError::Denied { .. })), "{read:?}");
}

#[test]
fn imports_that_cannot_be_recorded_write_nothing() {
    let (_dir, gw, rec) = setup(ManualClock::new(1_790_000_000_000));
    let (op, ctx) = (Actor::Operator { name: "test".into() }, AccessContext::default());
    *rec.fail.lock().unwrap() = true;
    let people = gw.import_people(&op, &ctx, &[person("new", Role::SalesRep)], &[]);
    assert!(matches!(people, Err(GatewayError::NotRecorded(_))), "{people:?}");
    let customer = NewCustomer {
        id: Some(CustomerId("C-2".into())),
        display_name: "Trần Thị Bình".into(),
        owner: Some(PersonId("rep".into())),
        team: Some(TeamId("t-1".into())),
        classification: Some(Classification::Internal),
        ..Default::default()
    };
    let customers = gw.import_customers(&op, &ctx, vec![customer], false, &|_| {});
    assert!(matches!(customers, Err(GatewayError::NotRecorded(_))), "{customers:?}");
    *rec.fail.lock().unwrap() = false;
    let ids: Vec<String> = gw.list_people(&op, &ctx).unwrap().into_iter().map(|p| p.id.0).collect();
    assert!(!ids.contains(&"new".to_owned()), "{ids:?}");
    let read = gw.read_customer(&rep(), &ctx, &CustomerId("C-2".into()));
    assert!(matches!(read, Err(GatewayError::NotFound { .. })), "{read:?}");
}

#[test]
fn login_names_find_their_person_by_id_email_or_email_user() {
    let (_dir, gw, _) = setup(ManualClock::new(1_000));
    let op = Actor::Operator { name: "test".into() };
    let mut lan = person("p-lan", Role::SalesRep);
    lan.work_email = "Lan.Tran@corp.example".into();
    let mut twin = person("p-lan-sub", Role::SalesRep);
    twin.work_email = "lan.tran@subsidiary.example".into();
    let mut binh = person("p-binh", Role::Support);
    binh.work_email = "binh.le@corp.example".into();
    gw.import_people(&op, &AccessContext::default(), &[lan, twin, binh], &[])
        .unwrap();
    let check = |login: &str, expected: Option<&str>| {
        let found = match gw.person_by_login(login).unwrap() {
            gateway::LoginMatch::Person(p) => Some(p.id.0),
            gateway::LoginMatch::Unknown => None,
            gateway::LoginMatch::Ambiguous => Some("ambiguous".into()),
        };
        assert_eq!(found.as_deref(), expected, "{login:?}");
    };
    check("p-binh", Some("p-binh"));
    check("binh.le", Some("p-binh"));
    check("BINH.LE", Some("p-binh"));
    check("CORP\\binh.le", Some("p-binh"));
    check("WinNT://CORP/binh.le", Some("p-binh"));
    // A Kerberos realm is no email domain: the user part decides.
    check("binh.le@CORP.EXAMPLE.LOCAL", Some("p-binh"));
    // Two people share the user part: the whole email tells them apart, the user part
    // alone names nobody in particular.
    check("lan.tran@corp.example", Some("p-lan"));
    check("lan.tran@subsidiary.example", Some("p-lan-sub"));
    check("lan.tran", Some("ambiguous"));
    check("lan.tran@realm.example", Some("ambiguous"));
    check("nobody", None);
    check("", None);
    check("CORP\\", None);
    check("binh%", None);
}

#[test]
fn a_departing_persons_access_ends_with_their_last_day_though_nobody_records_it() {
    // The company is at UTC+7: its 5 December ends at 2026-12-05T17:00Z.
    let day_ms = |iso: &str| model::day_number(iso).unwrap() * 86_400_000;
    let clock = ManualClock::new(day_ms("2026-12-01"));
    let (_dir, gw, rec) = setup(clock.clone());
    let op = Actor::Operator { name: "hr".into() };
    gw.set_person_status(
        &op,
        &AccessContext::default(),
        &PersonId("rep".into()),
        EmploymentStatus::Departing,
        Some("2026-11-20".into()),
        Some("2026-12-05".into()),
    )
    .unwrap();
    let read = || gw.read_customer(&rep(), &AccessContext::default(), &CustomerId("C-1".into()));
    let rep_person = || {
        gw.person(&op, &AccessContext::default(), &PersonId("rep".into()))
            .unwrap()
    };
    // The last working day itself, late in the evening local time: still departing.
    clock.set(day_ms("2026-12-05") + (16 * 60 + 59) * 60_000);
    assert!(read().is_ok());
    assert_eq!(gw.employment_status(&rep_person()), EmploymentStatus::Departing);
    // Midnight in the company's time zone: departed, and denied as such.
    clock.set(day_ms("2026-12-05") + 17 * 60 * 60_000);
    assert_eq!(gw.employment_status(&rep_person()), EmploymentStatus::Departed);
    assert!(
        matches!(read(), Err(GatewayError::Denied { .. })),
        "{:?}",
        read().map(|_| ())
    );
    let denial = rec.records.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (denial.actor.as_str(), denial.decision.as_str()),
        ("person:rep", "deny")
    );
    // The record still says departing: the calendar decided, not an edit.
    assert_eq!(rep_person().status, EmploymentStatus::Departing);
}

#[test]
fn no_one_but_the_operator_can_leave_the_company_without_a_security_admin() {
    let (_dir, gw, recorder) = setup(ManualClock::new(1_790_000_000_000));
    let op = Actor::Operator { name: "test".into() };
    let (ctx, hr) = with_hr_and_one_security_admin(&gw);
    let depart = |actor: &Actor, who: &str| {
        gw.set_person_status(
            actor,
            &ctx,
            &PersonId(who.into()),
            EmploymentStatus::Departed,
            None,
            Some("2026-01-31".into()),
        )
    };
    // HR records an ordinary departure.
    depart(&hr, "other").unwrap();
    // Not the only security admin's, by status or by an import that demotes them.
    let refused = depart(&hr, "sec").unwrap_err();
    assert!(refused.to_string().contains("no security admin"), "{refused}");
    let mut demoted = person("sec", Role::SalesRep);
    demoted.status = EmploymentStatus::Active;
    let refused = gw.import_people(&hr, &ctx, &[demoted], &[]).unwrap_err();
    assert!(refused.to_string().contains("no security admin"), "{refused}");
    // Both attempts are in the ledger as denials naming whom they named, without the
    // status asked for (which risk analytics would take for a departure).
    let denials: Vec<AuditRecord> = recorder
        .records
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.action == "person.update_status" && r.decision == "deny")
        .cloned()
        .collect();
    assert_eq!(denials.len(), 2, "{denials:?}");
    for denial in &denials {
        assert_eq!(denial.actor, "person:hr", "{denial:?}");
        assert_eq!(denial.reasons, ["builtin:keeps-a-security-admin"], "{denial:?}");
        assert_eq!(denial.resources, [AuditResource::Person("sec".into())], "{denial:?}");
        assert!(denial.fields.is_empty(), "{denial:?}");
    }
    let sec = gw.person(&op, &ctx, &PersonId("sec".into())).unwrap();
    assert_eq!((sec.role, sec.status), (Role::SecurityAdmin, EmploymentStatus::Active));
    // With a second admin appointed, the first may leave; the operator always may.
    gw.import_people(&op, &ctx, &[person("sec2", Role::SecurityAdmin)], &[])
        .unwrap();
    depart(&hr, "sec").unwrap();
    depart(&op, "sec2").unwrap();
}

#[test]
fn a_last_day_that_is_no_date_is_refused_and_nothing_is_written() {
    let (_dir, gw, _) = setup(ManualClock::new(1_790_000_000_000));
    let op = Actor::Operator { name: "hr".into() };
    let ctx = AccessContext::default();
    for bad in ["2026-99-99", "2026-02-30", "31/12/2026", "soon"] {
        let refused = gw
            .set_person_status(
                &op,
                &ctx,
                &PersonId("rep".into()),
                EmploymentStatus::Departing,
                None,
                Some(bad.into()),
            )
            .unwrap_err();
        assert!(refused.to_string().contains("is not a date"), "{bad}: {refused}");
        let mut imported = person("rep", Role::SalesRep);
        imported.notice_date = Some(bad.into());
        assert!(gw.import_people(&op, &ctx, &[imported], &[]).is_err(), "{bad}");
    }
    let rep = gw.person(&op, &ctx, &PersonId("rep".into())).unwrap();
    assert_eq!(
        (rep.status, rep.last_day, rep.notice_date),
        (EmploymentStatus::Active, None, None)
    );
}

/// A status change, a review or a revocation of sessions for a person who does not
/// exist is refused on the record, as the erasure of a missing customer is: every
/// decision is in the ledger, and a refusal that cannot be recorded is answered as
/// unrecorded.
#[test]
fn a_change_of_a_person_who_does_not_exist_is_refused_on_the_record() {
    let (_dir, gw, rec) = setup(ManualClock::new(1_790_000_000_000));
    let op = Actor::Operator { name: "hr".into() };
    let ctx = AccessContext::default();
    let ghost = PersonId("ghost".into());
    type Attempt<'a> = &'a dyn Fn() -> Result<(), GatewayError>;
    let attempts: [(&str, Attempt); 3] = [
        ("person.update_status", &|| {
            gw.set_person_status(&op, &ctx, &ghost, EmploymentStatus::Departed, None, None)
                .map(drop)
        }),
        ("access.review", &|| gw.person(&op, &ctx, &ghost).map(drop)),
        ("sessions.revoke", &|| gw.authorize_sessions_revoke(&op, &ctx, &ghost)),
    ];
    for (action, attempt) in attempts {
        let before = rec.records.lock().unwrap().len();
        let refused = attempt();
        assert!(
            matches!(&refused, Err(GatewayError::NotFound { kind: "person", id }) if id == "ghost"),
            "{action}: {refused:?}"
        );
        let records = rec.records.lock().unwrap()[before..].to_vec();
        assert_eq!(records.len(), 1, "{action}: {records:?}");
        let denial = &records[0];
        assert_eq!(
            (denial.actor.as_str(), denial.action.as_str(), denial.decision.as_str()),
            ("operator:hr", action, "deny"),
            "{denial:?}"
        );
        assert_eq!(denial.reasons, ["not-found"], "{denial:?}");
        assert_eq!(denial.resources, [AuditResource::Person("ghost".into())], "{denial:?}");
        // No status asked for: risk analytics hears of no departure.
        assert!(denial.fields.is_empty(), "{denial:?}");
        // A refusal the ledger cannot take is no answer of not found.
        *rec.fail.lock().unwrap() = true;
        let unrecorded = attempt();
        *rec.fail.lock().unwrap() = false;
        assert!(
            matches!(unrecorded, Err(GatewayError::NotRecorded(_))),
            "{action}: {unrecorded:?}"
        );
    }
    let ids: Vec<String> = gw.list_people(&op, &ctx).unwrap().into_iter().map(|p| p.id.0).collect();
    assert!(!ids.contains(&"ghost".to_owned()), "{ids:?}");
}

#[test]
fn customers_given_no_id_get_one_never_used_before_even_after_an_erasure() {
    let (_dir, gw, _) = setup(ManualClock::new(1_790_000_000_000));
    let op = Actor::Operator { name: "test".into() };
    let ctx = AccessContext {
        justification: Some("customer asked to be forgotten".into()),
        ..AccessContext::default()
    };
    let unnamed = |n: u32| NewCustomer {
        display_name: format!("Customer {n}"),
        emails: vec![format!("c{n}@x.example")],
        owner: Some(PersonId("rep".into())),
        classification: Some(Classification::Internal),
        ..Default::default()
    };
    let create = |n| gw.create_customer(&op, &ctx, unnamed(n)).unwrap().id.0;
    assert_eq!(create(1), "C-0000002");
    assert_eq!(create(2), "C-0000003");
    gw.erase_customer(&op, &ctx, &CustomerId("C-0000002".into())).unwrap();
    // Before, the next id was the count plus one: C-0000003 again, refused as taken.
    assert_eq!(create(3), "C-0000004");
    let report = gw
        .import_customers(&op, &ctx, vec![unnamed(4), unnamed(5)], false, &|_| {})
        .unwrap();
    assert_eq!(report.imported, 2);
    let ids: Vec<String> = gw
        .list_customers(&op, &ctx, None, 100)
        .unwrap()
        .records
        .into_iter()
        .map(|c| c.id.0)
        .collect();
    assert_eq!(ids, ["C-0000003", "C-0000004", "C-0000005", "C-0000006", "C-1"]);
}

#[test]
fn a_new_customer_cannot_be_given_to_someone_who_has_left() {
    let (_dir, gw, _) = setup(ManualClock::new(1_790_000_000_000));
    let op = Actor::Operator { name: "test".into() };
    let ctx = AccessContext::default();
    gw.set_person_status(
        &op,
        &ctx,
        &PersonId("other".into()),
        EmploymentStatus::Departed,
        None,
        None,
    )
    .unwrap();
    let owned_by = |owner: &str| NewCustomer {
        display_name: "New Account".into(),
        owner: Some(PersonId(owner.into())),
        classification: Some(Classification::Internal),
        ..Default::default()
    };
    let refused = gw.create_customer(&op, &ctx, owned_by("other")).unwrap_err();
    assert!(refused.to_string().contains("has left"), "{refused}");
    assert!(gw
        .import_customers(&op, &ctx, vec![owned_by("other")], false, &|_| {})
        .is_err());
    gw.create_customer(&op, &ctx, owned_by("rep")).unwrap();
    // An existing account of someone who left can still be corrected.
    let c1 = CustomerId("C-1".into());
    gw.set_person_status(
        &op,
        &ctx,
        &PersonId("rep".into()),
        EmploymentStatus::Departed,
        None,
        None,
    )
    .unwrap();
    let patch = gateway::CustomerPatch {
        notes: Some("moved office".into()),
        ..Default::default()
    };
    gw.update_customer(&op, &ctx, &c1, patch).unwrap();
}

#[test]
fn no_one_but_the_operator_can_schedule_the_last_security_admins_departure() {
    // The calendar departs a departing person after their last day: a notice with a
    // last day is a departure that only waits for midnight.
    let day_ms = |iso: &str| model::day_number(iso).unwrap() * 86_400_000;
    let clock = ManualClock::new(day_ms("2026-12-01"));
    let (_dir, gw, _) = setup(clock.clone());
    let op = Actor::Operator { name: "test".into() };
    let (ctx, hr) = with_hr_and_one_security_admin(&gw);
    let refused = gw
        .set_person_status(
            &hr,
            &ctx,
            &PersonId("sec".into()),
            EmploymentStatus::Departing,
            None,
            Some("2026-12-01".into()),
        )
        .unwrap_err();
    assert!(refused.to_string().contains("no security admin"), "{refused}");
    // Nor by naming the admin twice in one import, departed last.
    let mut departed = person("sec", Role::SecurityAdmin);
    departed.status = EmploymentStatus::Departed;
    let refused = gw
        .import_people(&hr, &ctx, &[person("sec", Role::SecurityAdmin), departed], &[])
        .unwrap_err();
    assert!(refused.to_string().contains("no security admin"), "{refused}");
    clock.set(day_ms("2026-12-03"));
    let sec = gw.person(&op, &ctx, &PersonId("sec".into())).unwrap();
    assert_eq!(gw.employment_status(&sec), EmploymentStatus::Active);
    // A notice without a last day leaves them at work until someone records more.
    gw.set_person_status(
        &hr,
        &ctx,
        &PersonId("sec".into()),
        EmploymentStatus::Departing,
        Some("2026-12-03".into()),
        None,
    )
    .unwrap();
}

#[test]
fn a_status_changed_by_an_import_is_recorded_as_that_persons_change() {
    // The server turns `person.update_status` records naming a person into HR
    // events for risk analytics; an import that gives notice must name them too.
    let (_dir, gw, rec) = setup(ManualClock::new(1_790_000_000_000));
    let op = Actor::Operator { name: "hr".into() };
    let ctx = AccessContext::default();
    rec.records.lock().unwrap().clear();
    let mut leaving = person("rep", Role::SalesRep);
    leaving.status = EmploymentStatus::Departing;
    leaving.last_day = Some("2026-12-31".into());
    let mut gone = person("new", Role::SalesRep);
    gone.status = EmploymentStatus::Departed;
    // Unchanged and new-and-active people are no status change.
    gw.import_people(
        &op,
        &ctx,
        &[
            leaving,
            person("other", Role::SalesRep),
            gone,
            person("hire", Role::Support),
        ],
        &[],
    )
    .unwrap();
    let changes: Vec<(Vec<gateway::AuditResource>, Vec<String>)> = rec
        .records
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.action == "person.update_status" && r.resources != [gateway::AuditResource::System])
        .map(|r| (r.resources.clone(), r.fields.clone()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                vec![gateway::AuditResource::Person("rep".into())],
                vec!["status=departing".to_string(), "last_day=2026-12-31".to_string()]
            ),
            (
                vec![gateway::AuditResource::Person("new".into())],
                vec!["status=departed".to_string()]
            ),
        ]
    );
}

#[test]
fn a_withdrawn_notice_takes_its_last_day_with_it() {
    let day_ms = |iso: &str| model::day_number(iso).unwrap() * 86_400_000;
    let clock = ManualClock::new(day_ms("2026-03-01"));
    let (_dir, gw, _) = setup(clock.clone());
    let op = Actor::Operator { name: "hr".into() };
    let ctx = AccessContext::default();
    let set = |status, last_day: Option<&str>| {
        gw.set_person_status(
            &op,
            &ctx,
            &PersonId("rep".into()),
            status,
            None,
            last_day.map(str::to_owned),
        )
        .unwrap()
    };
    set(EmploymentStatus::Departing, Some("2026-03-31"));
    let back = set(EmploymentStatus::Active, None);
    assert_eq!((back.last_day, back.notice_date), (None, None));
    // Months later, notice again with no last day yet: still departing, not departed
    // by the old date.
    clock.set(day_ms("2026-09-01"));
    let again = set(EmploymentStatus::Departing, None);
    assert_eq!(gw.employment_status(&again), EmploymentStatus::Departing);
}

#[test]
fn a_made_up_customer_id_passes_over_numbers_taken_by_explicit_ids() {
    let (_dir, gw, _) = setup(ManualClock::new(1_790_000_000_000));
    let op = Actor::Operator { name: "test".into() };
    let ctx = AccessContext::default();
    let customer = |id: Option<&str>| NewCustomer {
        id: id.map(|id| CustomerId(id.into())),
        display_name: "Account".into(),
        owner: Some(PersonId("rep".into())),
        classification: Some(Classification::Internal),
        ..Default::default()
    };
    assert_eq!(gw.create_customer(&op, &ctx, customer(None)).unwrap().id.0, "C-0000002");
    gw.create_customer(&op, &ctx, customer(Some("C-0000003"))).unwrap();
    assert_eq!(gw.create_customer(&op, &ctx, customer(None)).unwrap().id.0, "C-0000004");
}

/// Adds HR's `hr` and the only security admin `sec`; returns a context in which
/// both may act (a fresh second factor, the office network) and HR as an actor.
fn with_hr_and_one_security_admin(gw: &Gateway) -> (AccessContext, Actor) {
    let ctx = AccessContext {
        mfa_fresh: true,
        trusted_network: true,
        ..AccessContext::default()
    };
    let op = Actor::Operator { name: "test".into() };
    gw.import_people(
        &op,
        &ctx,
        &[person("hr", Role::Hr), person("sec", Role::SecurityAdmin)],
        &[],
    )
    .unwrap();
    (ctx, Actor::Person(PersonId("hr".into())))
}

/// Holds each status change's record until a second one arrives or `patience`
/// passes, as two group commits in flight together would: two changes that both
/// passed the security-admin guard meet here before either is written.
struct Rendezvous {
    /// Off while the people are set up.
    armed: std::sync::atomic::AtomicBool,
    arrived: Mutex<u32>,
    met: std::sync::Condvar,
    patience: std::time::Duration,
}

impl Rendezvous {
    fn new(patience: std::time::Duration) -> Rendezvous {
        Rendezvous {
            armed: std::sync::atomic::AtomicBool::new(false),
            arrived: Mutex::new(0),
            met: std::sync::Condvar::new(),
            patience,
        }
    }
}

impl Recorder for Rendezvous {
    fn submit(&self, record: &AuditRecord) -> Result<Ticket, RecordError> {
        if self.armed.load(std::sync::atomic::Ordering::SeqCst) && record.action == "person.update_status" {
            let mut arrived = self.arrived.lock().unwrap();
            *arrived += 1;
            self.met.notify_all();
            let _ = self.met.wait_timeout_while(arrived, self.patience, |n| *n < 2).unwrap();
        }
        Ok(Ticket::durable())
    }
}

/// Two gateways (one per `store`, which may be one shared store or two handles on
/// one database, as two processes have) with HR `hr` and the security admins
/// `sec` and `sec2`, recording through one [`Rendezvous`].
fn two_security_admins(stores: [Arc<dyn Store>; 2]) -> ([Gateway; 2], AccessContext, Actor) {
    let keys = Keyring::generate("test").unwrap();
    Gateway::initialize(stores[0].as_ref(), &keys, 0).unwrap();
    let recorder = Arc::new(Rendezvous::new(std::time::Duration::from_secs(1)));
    let [a, b] = stores.map(|store| {
        let keys = Keyring::from_text(&keys.to_text(), "test").unwrap();
        Gateway::open(
            store,
            keys,
            Arc::new(ManualClock::new(1_790_000_000_000)),
            recorder.clone(),
        )
        .unwrap()
    });
    let (ctx, hr) = with_hr_and_one_security_admin(&a);
    let op = Actor::Operator { name: "test".into() };
    a.import_people(&op, &ctx, &[person("sec2", Role::SecurityAdmin)], &[])
        .unwrap();
    recorder.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    ([a, b], ctx, hr)
}

/// Departs `sec` through one gateway and `sec2` through the other at once; checks
/// that exactly one was refused and a security admin stays.
fn race_the_last_two_admins_out(gateways: &[Gateway; 2], ctx: &AccessContext, hr: &Actor) {
    let start = std::sync::Barrier::new(2);
    let outcomes: Vec<Result<Person, GatewayError>> = std::thread::scope(|s| {
        let racers: Vec<_> = gateways
            .iter()
            .zip(["sec", "sec2"])
            .map(|(gw, who)| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    gw.set_person_status(
                        hr,
                        ctx,
                        &PersonId(who.into()),
                        EmploymentStatus::Departing,
                        None,
                        Some("2026-01-31".into()),
                    )
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let refused: Vec<&GatewayError> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(refused.len(), 1, "exactly one refused: {outcomes:?}");
    assert!(refused[0].to_string().contains("no security admin"), "{}", refused[0]);
    let op = Actor::Operator { name: "test".into() };
    let staying: Vec<String> = gateways[0]
        .list_people(&op, ctx)
        .unwrap()
        .into_iter()
        .filter(|p| p.role == Role::SecurityAdmin && p.last_day.is_none())
        .map(|p| p.id.0)
        .collect();
    assert_eq!(staying.len(), 1, "one security admin stays: {staying:?}");
}

#[test]
fn two_concurrent_departures_cannot_leave_no_security_admin() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path()).unwrap());
    let (gateways, ctx, hr) = two_security_admins([Arc::clone(&store), store]);
    race_the_last_two_admins_out(&gateways, &ctx, &hr);
}

#[test]
fn two_processes_on_one_data_directory_cannot_leave_no_security_admin() {
    let dir = tempfile::tempdir().unwrap();
    let first: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path()).unwrap());
    let second: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let (gateways, ctx, hr) = two_security_admins([first, second]);
    race_the_last_two_admins_out(&gateways, &ctx, &hr);
}

#[test]
fn two_concurrent_changes_of_one_person_both_stay_written() {
    let dir = tempfile::tempdir().unwrap();
    let first: Arc<dyn Store> = Arc::new(SqliteStore::create(dir.path()).unwrap());
    let second: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let ([a, b], ctx, hr) = two_security_admins([first, second]);
    let sec = PersonId("sec".into());
    let start = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let notice = s.spawn(|| {
            start.wait();
            a.set_person_status(
                &hr,
                &ctx,
                &sec,
                EmploymentStatus::Departing,
                Some("2026-01-05".into()),
                None,
            )
        });
        let last_day = s.spawn(|| {
            start.wait();
            b.set_person_status(
                &hr,
                &ctx,
                &sec,
                EmploymentStatus::Departing,
                None,
                Some("2026-01-31".into()),
            )
        });
        notice.join().unwrap().unwrap();
        last_day.join().unwrap().unwrap();
    });
    let op = Actor::Operator { name: "test".into() };
    let sec = a.person(&op, &ctx, &sec).unwrap();
    assert_eq!(
        (sec.notice_date.as_deref(), sec.last_day.as_deref()),
        (Some("2026-01-05"), Some("2026-01-31")),
        "the later change was made on the earlier one, not on what both read"
    );
}

/// A status change the gateway refuses for a date that is no date (`custodia people set-status --last-day 2026-02-30`, or an
/// HR import with one) is a decision and must be in the ledger, as a refusal for
/// any other reason is. Found in a security review: `check_dates` fails inside
/// `change_people` with `GatewayError::Invalid`, which `record_if_lockout` passes on
/// unrecorded (the HTTP route's own check before the gateway is the known case).
#[test]
fn a_status_change_refused_for_a_bad_date_is_recorded() {
    let (_dir, gw, rec) = setup(ManualClock::new(1_750_000_000_000));
    let op = Actor::Operator { name: "hr".into() };
    let ctx = AccessContext::default();
    let before = rec.records.lock().unwrap().len();
    let refused = gw.set_person_status(
        &op,
        &ctx,
        &PersonId("rep".into()),
        EmploymentStatus::Departing,
        None,
        Some("2026-02-30".into()),
    );
    assert!(matches!(refused, Err(GatewayError::Invalid(_))), "{refused:?}");
    let mut bad = person("other", Role::SalesRep);
    bad.status = EmploymentStatus::Departing;
    bad.last_day = Some("2026-13-01".into());
    let refused = gw.import_people(&op, &ctx, &[bad], &[]);
    assert!(matches!(refused, Err(GatewayError::Invalid(_))), "{refused:?}");
    let records = rec.records.lock().unwrap();
    let refusals: Vec<&AuditRecord> = records[before..]
        .iter()
        .filter(|r| r.action == "person.update_status" && r.decision == "deny")
        .collect();
    assert_eq!(refusals.len(), 2, "recorded since: {:?}", &records[before..]);
}

/// A login name that is no person's is throttled under a keyed hash of it: the
/// same name gives the same key, another name or another installation's keyring
/// another, and the key holds nothing of the name.
#[test]
fn a_login_name_key_is_a_keyed_hash_that_holds_nothing_of_the_name() {
    let (_dir, gw, _rec) = setup(ManualClock::new(1_750_000_000_000));
    let (_other_dir, other, _) = setup(ManualClock::new(1_750_000_000_000));
    let typed = "Tr0ub4dor&3-my-real-password";
    let key = gw.login_name_key(typed).unwrap();
    assert_eq!(key, gw.login_name_key(typed).unwrap());
    assert_ne!(key, gw.login_name_key("Tr0ub4dor&3-my-real-passwore").unwrap());
    assert_ne!(key, other.login_name_key(typed).unwrap(), "keyed by the installation");
    assert!(key.0.starts_with("name#") && key.0.len() == 5 + 64, "{key}");
    assert!(!key.0.contains("Tr0ub"), "{key}");
}
