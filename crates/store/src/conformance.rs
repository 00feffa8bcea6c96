//! The store contract as tests. Every backend runs all of them through
//! [`conformance_tests!`](crate::conformance_tests), e.g.
//! `store::conformance_tests!(|| SqliteStore::create(dir))`.
//!
//! Each check takes an empty store and panics (it is test code) on the first
//! contract violation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use model::{
    Classification, CustomerField, CustomerId, CustomerMeta, DocumentId, DocumentKind, DocumentMeta, EmploymentStatus,
    Person, PersonId, Role, Team, TeamId,
};

use crate::{
    ApiTokenRecord, AuthStore, BootstrapIssue, BootstrapOutcome, CustomerFilter, CustomerToOpen, ExportState, KeyOwner,
    LoginFailures, LookupKind, PendingExport, SealedCustomer, SealedDocument, SessionRecord, Store, StoreError,
    StoredKey,
};

/// A sealed customer with recognisable fake ciphertext.
pub fn sample_customer(id: &str, owner: &str) -> SealedCustomer {
    SealedCustomer {
        meta: CustomerMeta {
            id: CustomerId(id.into()),
            owner: PersonId(owner.into()),
            team: Some(TeamId("t-north".into())),
            territory: Some("VN-North".into()),
            country: Some("VN".into()),
            classification: Classification::Confidential,
            compartments: BTreeSet::from(["apac".to_string()]),
            created_ms: 1_000,
            updated_ms: 2_000,
        },
        key: StoredKey {
            kek_version: 1,
            sealed: format!("key-of-{id}").into_bytes(),
        },
        fields: vec![
            (CustomerField::Name, format!("name-ct-{id}").into_bytes()),
            (CustomerField::Emails, vec![0, 1, 2, 255]),
            (CustomerField::BankDetails, Vec::new()),
        ],
        lookups: vec![
            (LookupKind::Email, lookup_hash(id, 1)),
            (LookupKind::Phone, lookup_hash(id, 2)),
        ],
    }
}

fn lookup_hash(id: &str, salt: u8) -> [u8; 16] {
    let mut h = [salt; 16];
    for (i, b) in id.bytes().enumerate() {
        h[i % 16] ^= b;
    }
    h
}

pub fn sample_person(id: &str, role: Role) -> Person {
    Person {
        id: PersonId(id.into()),
        name: format!("Person {id}"),
        work_email: format!("{id}@example.com"),
        department: "Sales".into(),
        role,
        team: Some(TeamId("t-north".into())),
        manager: None,
        clearance: Classification::Confidential,
        compartments: BTreeSet::from(["apac".to_string()]),
        status: EmploymentStatus::Active,
        notice_date: None,
        last_day: None,
        agreements: vec![],
    }
}

pub fn customers_round_trip(store: &dyn Store) {
    let a = sample_customer("C-1", "p-1");
    let b = sample_customer("C-2", "p-2");
    store.insert_customers(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(store.get_customer(&a.meta.id).unwrap().as_ref(), Some(&a));
    assert_eq!(
        store
            .get_customers(&[b.meta.id.clone(), CustomerId("nope".into())])
            .unwrap(),
        vec![b.clone()]
    );
    assert_eq!(store.get_customer(&CustomerId("nope".into())).unwrap(), None);
    // what a read opens is the stored customer but its lookups
    assert_eq!(
        store.get_customer_to_open(&a.meta.id).unwrap(),
        Some(CustomerToOpen::from(a.clone()))
    );
    assert_eq!(store.get_customer_to_open(&CustomerId("nope".into())).unwrap(), None);
    assert_eq!(store.count_customers().unwrap(), 2);
}

pub fn duplicate_customer_writes_nothing(store: &dyn Store) {
    store.insert_customers(&[sample_customer("C-1", "p-1")]).unwrap();
    let batch = [sample_customer("C-5", "p-1"), sample_customer("C-1", "p-1")];
    match store.insert_customers(&batch) {
        Err(StoreError::DuplicateCustomer(id)) => assert_eq!(id.0, "C-1"),
        other => panic!("expected a duplicate error, got {other:?}"),
    }
    assert_eq!(
        store.get_customer(&CustomerId("C-5".into())).unwrap(),
        None,
        "the batch must be all or nothing"
    );
    let repeated = [sample_customer("C-7", "p-1"), sample_customer("C-7", "p-1")];
    assert!(matches!(
        store.insert_customers(&repeated),
        Err(StoreError::DuplicateCustomer(_))
    ));
    assert_eq!(store.count_customers().unwrap(), 1);
}

pub fn batched_insert_is_one_transaction(store: &dyn Store) {
    let batches = || {
        vec![
            Ok(vec![sample_customer("C-1", "p-1"), sample_customer("C-2", "p-1")]),
            Ok(vec![sample_customer("C-3", "p-2")]),
        ]
    };
    // A cancelled stream writes nothing, even the batches before it.
    let mut cancelled = batches().into_iter().chain([Err(StoreError::Cancelled)]);
    assert!(matches!(
        store.insert_customer_batches(&mut cancelled),
        Err(StoreError::Cancelled)
    ));
    assert_eq!(store.count_customers().unwrap(), 0);
    assert_eq!(store.insert_customer_batches(&mut batches().into_iter()).unwrap(), 3);
    assert_eq!(store.count_customers().unwrap(), 3);
    assert_eq!(
        store.find_customers(LookupKind::Phone, &lookup_hash("C-3", 2)).unwrap(),
        vec![CustomerId("C-3".into())]
    );
    // A duplicate in a later batch names the id and writes nothing.
    let mut dup = vec![
        Ok(vec![sample_customer("C-4", "p-1")]),
        Ok(vec![sample_customer("C-2", "p-1")]),
    ]
    .into_iter();
    match store.insert_customer_batches(&mut dup) {
        Err(StoreError::DuplicateCustomer(id)) => assert_eq!(id.0, "C-2"),
        other => panic!("expected a duplicate error, got {other:?}"),
    }
    assert_eq!(store.get_customer(&CustomerId("C-4".into())).unwrap(), None);
}

pub fn blind_index_lookup(store: &dyn Store) {
    store
        .insert_customers(&[sample_customer("C-1", "p-1"), sample_customer("C-2", "p-1")])
        .unwrap();
    assert_eq!(
        store.find_customers(LookupKind::Email, &lookup_hash("C-2", 1)).unwrap(),
        vec![CustomerId("C-2".into())]
    );
    assert!(
        store
            .find_customers(LookupKind::Phone, &lookup_hash("C-2", 1))
            .unwrap()
            .is_empty(),
        "kinds are separate"
    );
}

pub fn metas_filter_and_paginate(store: &dyn Store) {
    let rows: Vec<_> = (0..10)
        .map(|i| sample_customer(&format!("C-{i:02}"), if i % 2 == 0 { "p-even" } else { "p-odd" }))
        .collect();
    store.insert_customers(&rows).unwrap();
    let page = store
        .customer_metas(&CustomerFilter {
            limit: Some(3),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        page.iter().map(|m| m.id.0.as_str()).collect::<Vec<_>>(),
        ["C-00", "C-01", "C-02"]
    );
    let next = store
        .customer_metas(&CustomerFilter {
            after: Some(page[2].id.clone()),
            limit: Some(3),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(next[0].id.0, "C-03");
    let even = store
        .customer_metas(&CustomerFilter {
            owner: Some(PersonId("p-even".into())),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(even.len(), 5);
    assert!(even.iter().all(|m| m.owner.0 == "p-even"));
    assert_eq!(even[0], rows[0].meta);

    // The same pages with what opening reads.
    let to_open = |after: Option<&str>, owner: Option<&str>, limit: Option<usize>| {
        store
            .customers_to_open(&CustomerFilter {
                after: after.map(|a| CustomerId(a.into())),
                owner: owner.map(|o| PersonId(o.into())),
                limit,
            })
            .unwrap()
    };
    assert_eq!(
        to_open(None, None, Some(3)),
        rows[..3].iter().cloned().map(CustomerToOpen::from).collect::<Vec<_>>()
    );
    assert_eq!(
        to_open(Some("C-07"), None, None),
        rows[8..].iter().cloned().map(CustomerToOpen::from).collect::<Vec<_>>()
    );
    let odd = to_open(Some("C-02"), Some("p-odd"), Some(2));
    assert_eq!(
        odd.iter().map(|c| c.meta.id.0.as_str()).collect::<Vec<_>>(),
        ["C-03", "C-05"]
    );
    assert!(to_open(Some("C-09"), None, None).is_empty());
}

pub fn update_and_erase(store: &dyn Store) {
    let mut a = sample_customer("C-1", "p-1");
    store.insert_customers(&[a.clone()]).unwrap();
    a.meta.owner = PersonId("p-9".into());
    a.lookups = vec![(LookupKind::Email, [7; 16])];
    store.update_customer(&a).unwrap();
    assert_eq!(store.get_customer(&a.meta.id).unwrap().unwrap().meta.owner.0, "p-9");
    assert_eq!(
        store.get_customer_to_open(&a.meta.id).unwrap(),
        Some(CustomerToOpen::from(a.clone()))
    );
    assert!(
        store
            .find_customers(LookupKind::Email, &lookup_hash("C-1", 1))
            .unwrap()
            .is_empty(),
        "old lookups are gone"
    );
    assert_eq!(store.find_customers(LookupKind::Email, &[7; 16]).unwrap().len(), 1);
    assert!(matches!(
        store.update_customer(&sample_customer("C-404", "p")),
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.erase_customer(&a.meta.id).unwrap());
    assert!(!store.erase_customer(&a.meta.id).unwrap());
    assert_eq!(store.get_customer(&a.meta.id).unwrap(), None);
    assert_eq!(store.get_customer_to_open(&a.meta.id).unwrap(), None);
    assert!(store.find_customers(LookupKind::Email, &[7; 16]).unwrap().is_empty());
    assert!(
        store.wrapped_keys(None, 100).unwrap().is_empty(),
        "the data key is destroyed"
    );
}

pub fn people_and_teams(store: &dyn Store) {
    let mut p = sample_person("p-1", Role::SalesRep);
    store
        .upsert_people(&[p.clone(), sample_person("p-0", Role::Finance)])
        .unwrap();
    assert_eq!(store.get_person(&p.id).unwrap().as_ref(), Some(&p));
    p.status = EmploymentStatus::Departing;
    p.last_day = Some("2026-12-01".into());
    store.upsert_people(&[p.clone()]).unwrap();
    assert_eq!(
        store.get_person(&p.id).unwrap().unwrap().status,
        EmploymentStatus::Departing
    );
    assert_eq!(
        store
            .list_people()
            .unwrap()
            .iter()
            .map(|p| p.id.0.as_str())
            .collect::<Vec<_>>(),
        ["p-0", "p-1"]
    );
    let team = Team {
        id: TeamId("t-1".into()),
        name: "North".into(),
        department: "Sales".into(),
        territory: None,
        lead: Some(p.id),
    };
    store.upsert_teams(std::slice::from_ref(&team)).unwrap();
    assert_eq!(store.list_teams().unwrap(), vec![team]);
}

/// [`Store::update_people`] hands its change everyone in id order and writes what
/// the change returns, people and teams, departed people losing their credentials;
/// a change that fails writes nothing and its error comes back.
pub fn update_people_writes_what_its_change_returns<S: Store + AuthStore>(store: &S) {
    let (rep, hr) = (sample_person("p-2", Role::SalesRep), sample_person("p-1", Role::Hr));
    store.upsert_people(&[rep.clone(), hr.clone()]).unwrap();
    let session = sample_session("s-1", "p-2", 10);
    store.insert_session(&session).unwrap();
    let mut departed = rep.clone();
    departed.status = EmploymentStatus::Departed;
    departed.last_day = Some("2026-01-31".into());
    let team = Team {
        id: TeamId("t-9".into()),
        name: "South".into(),
        department: "Sales".into(),
        territory: None,
        lead: Some(hr.id.clone()),
    };
    let mut seen = Vec::new();
    store
        .update_people(&mut |before| {
            seen = before.to_vec();
            Ok(crate::PeopleWrite {
                people: vec![departed.clone(), sample_person("p-3", Role::Finance)],
                teams: vec![team.clone()],
            })
        })
        .unwrap();
    assert_eq!(seen, [hr.clone(), rep], "everyone, in id order");
    assert_eq!(store.get_person(&departed.id).unwrap(), Some(departed.clone()));
    assert!(store.get_person(&PersonId("p-3".into())).unwrap().is_some());
    assert_eq!(store.list_teams().unwrap(), vec![team]);
    assert_eq!(revoked(store, &[&session], &[]), [true], "departed: credentials end");

    let refused = store.update_people(&mut |_| Err(StoreError::Cancelled)).unwrap_err();
    assert!(matches!(refused, StoreError::Cancelled), "{refused}");
    assert_eq!(
        store.get_person(&hr.id).unwrap(),
        Some(hr),
        "a failed change writes nothing"
    );
}

/// While one [`Store::update_people`] is between its read and its commit, another
/// (through `other`: the same store, or a second handle on the same database as a
/// second process has) waits, and then reads what the first wrote: a check made on
/// the read still holds at the write, and no change is lost.
pub fn people_updates_exclude_each_other(store: &dyn Store, other: &dyn Store) {
    use std::sync::mpsc;
    store.upsert_people(&[sample_person("p-1", Role::SalesRep)]).unwrap();
    let (first_in, first_entered) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let (second_in, second_entered) = mpsc::channel();
    std::thread::scope(|s| {
        // Owned here, so that a failed assertion drops it and the first update ends
        // instead of waiting for its release for ever.
        let release = release;
        let first = s.spawn(move || {
            store.update_people(&mut |before| {
                first_in.send(()).unwrap();
                released.recv().unwrap();
                let mut p = before[0].clone();
                p.name = "renamed by the first".into();
                Ok(crate::PeopleWrite {
                    people: vec![p],
                    teams: vec![],
                })
            })
        });
        first_entered.recv().unwrap();
        let second = s.spawn(move || {
            other.update_people(&mut |before| {
                second_in.send(before[0].name.clone()).unwrap();
                let mut p = before[0].clone();
                p.department = "moved by the second".into();
                Ok(crate::PeopleWrite {
                    people: vec![p],
                    teams: vec![],
                })
            })
        });
        assert!(
            second_entered
                .recv_timeout(std::time::Duration::from_millis(300))
                .is_err(),
            "a second update read people while the first was between its read and its commit"
        );
        release.send(()).unwrap();
        assert_eq!(
            second_entered.recv().unwrap(),
            "renamed by the first",
            "the second reads what the first wrote"
        );
        first.join().unwrap().unwrap();
        second.join().unwrap().unwrap();
    });
    let p = store.get_person(&PersonId("p-1".into())).unwrap().unwrap();
    assert_eq!(
        (p.name.as_str(), p.department.as_str()),
        ("renamed by the first", "moved by the second"),
        "neither change is lost"
    );
}

pub fn people_by_email_user(store: &dyn Store) {
    let mut lan = sample_person("p-lan", Role::SalesRep);
    lan.work_email = "Lan.Tran@corp.example".into();
    let mut other = sample_person("p-lan2", Role::Engineering);
    other.work_email = "lan.tran@subsidiary.example".into();
    let mut wild = sample_person("p-wild", Role::Engineering);
    wild.work_email = "l%n_tran@corp.example".into();
    let mut nested = sample_person("p-nested", Role::Engineering);
    nested.work_email = "lan.tran@x@corp.example".into();
    store.upsert_people(&[lan, other, wild, nested]).unwrap();
    let ids = |user: &str| -> Vec<String> {
        store
            .people_by_email_user(user)
            .unwrap()
            .into_iter()
            .map(|p| p.id.0)
            .collect()
    };
    assert_eq!(ids("lan.tran"), ["p-lan", "p-lan2"]);
    assert_eq!(ids("LAN.TRAN"), ["p-lan", "p-lan2"]);
    // LIKE's wildcards in a name match only themselves.
    assert_eq!(ids("l%n_tran"), ["p-wild"]);
    assert!(ids("l_n.tran").is_empty());
    assert!(ids("lan").is_empty());
    assert_eq!(ids("lan.tran@x"), ["p-nested"]);
    assert!(ids("").is_empty());
}

pub fn customer_numbers_are_never_handed_out_twice(store: &dyn Store) {
    store
        .insert_customers(&[
            sample_customer("C-0000007", "p"),
            sample_customer("C-12", "p"),
            sample_customer("X-99", "p"),
        ])
        .unwrap();
    // Past every stored C-<number>, not only past the count.
    assert_eq!(store.reserve_customer_numbers(2).unwrap(), 13);
    assert_eq!(store.reserve_customer_numbers(1).unwrap(), 15);
    // An erased customer's number is not handed out again.
    store.erase_customer(&CustomerId("C-12".into())).unwrap();
    assert_eq!(store.reserve_customer_numbers(0).unwrap(), 16);
    assert_eq!(store.reserve_customer_numbers(1).unwrap(), 16);
    // Reservations at the same time never share a number.
    let mut all: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    (0..20)
                        .map(|_| store.reserve_customer_numbers(1).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    all.sort_unstable();
    all.dedup();
    assert_eq!(all, (17..97).collect::<Vec<_>>());
}

pub fn documents(store: &dyn Store) {
    let doc = SealedDocument {
        meta: DocumentMeta {
            id: DocumentId("D-1".into()),
            title: "Price list 2027".into(),
            file_name: "prices.xlsx".into(),
            kind: DocumentKind::PriceList,
            custodian: PersonId("p-1".into()),
            classification: Classification::Secret,
            compartments: BTreeSet::from(["pricing".to_string()]),
            size: 1234,
            content_sha256: "ab".repeat(32),
            created_ms: 5,
        },
        key: StoredKey {
            kek_version: 1,
            sealed: vec![9; 40],
        },
        body: vec![1, 2, 3],
    };
    store.insert_document(&doc).unwrap();
    assert!(matches!(
        store.insert_document(&doc),
        Err(StoreError::DuplicateDocument(_))
    ));
    assert_eq!(store.get_document(&doc.meta.id).unwrap().as_ref(), Some(&doc));
    assert_eq!(store.list_documents().unwrap(), vec![doc.meta.clone()]);
}

pub fn key_rewrap_pages(store: &dyn Store) {
    let rows: Vec<_> = (0..5).map(|i| sample_customer(&format!("C-{i}"), "p")).collect();
    store.insert_customers(&rows).unwrap();
    let first = store.wrapped_keys(None, 2).unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.wrapped_keys(Some(&first[1].0), 10).unwrap();
    assert_eq!(rest.len(), 3);
    assert_eq!(rest[0].0, KeyOwner::Customer("C-2".into()));
    let new: Vec<_> = first
        .iter()
        .map(|(o, _)| {
            (
                o.clone(),
                StoredKey {
                    kek_version: 2,
                    sealed: vec![2; 8],
                },
            )
        })
        .collect();
    store.replace_wrapped_keys(&new).unwrap();
    let c0 = store.get_customer(&CustomerId("C-0".into())).unwrap().unwrap();
    assert_eq!(
        c0.key,
        StoredKey {
            kek_version: 2,
            sealed: vec![2; 8]
        }
    );
    assert_eq!(
        store
            .get_customer(&CustomerId("C-4".into()))
            .unwrap()
            .unwrap()
            .key
            .kek_version,
        1
    );
}

pub fn settings_and_policy(store: &dyn Store) {
    assert_eq!(store.get_setting("x").unwrap(), None);
    store.put_setting("x", "1").unwrap();
    store.put_setting("x", "2").unwrap();
    assert_eq!(store.get_setting("x").unwrap().as_deref(), Some("2"));
    assert_eq!(store.current_policy().unwrap(), None);
    let v1 = store
        .put_policy("permit(principal, action, resource);", &PersonId("p-1".into()), 10)
        .unwrap();
    let v2 = store
        .put_policy("forbid(principal, action, resource);", &PersonId("p-2".into()), 20)
        .unwrap();
    assert!(v2 > v1);
    let current = store.current_policy().unwrap().unwrap();
    assert_eq!(
        (current.version, current.author.0.as_str(), current.at),
        (v2, "p-2", 20)
    );
}

pub fn blobs(store: &dyn Store) {
    assert_eq!(store.get_blob("risk").unwrap(), None);
    store.put_blob("risk", &[0, 1, 2, 255]).unwrap();
    store.put_blob("risk", &[9; 100_000]).unwrap();
    assert_eq!(store.get_blob("risk").unwrap(), Some(vec![9; 100_000]));
}

pub fn ledger_contract(store: &dyn Store) {
    ledger::check_contract(store).unwrap();
}

fn sample_session(id: &str, person: &str, created_ms: i64) -> SessionRecord {
    let mut token_hash = [0u8; 32];
    for (i, b) in id.bytes().enumerate() {
        token_hash[i % 32] ^= b;
    }
    SessionRecord {
        id: id.into(),
        token_hash,
        person: PersonId(person.into()),
        created_ms,
        last_seen_ms: created_ms,
        expires_ms: created_ms + 1_000,
        idle_timeout_ms: 100,
        revoked: false,
        mfa_ms: 0,
    }
}

pub fn credentials(store: &dyn AuthStore) {
    let p = PersonId("p-1".into());
    assert_eq!(store.credential(&p).unwrap(), None);
    store.set_credential(&p, "$argon2id$first").unwrap();
    store.set_credential(&p, "$argon2id$second").unwrap();
    assert_eq!(store.credential(&p).unwrap().as_deref(), Some("$argon2id$second"));
    assert_eq!(store.credential(&PersonId("p-2".into())).unwrap(), None);
}

pub fn sessions_lifecycle(store: &dyn AuthStore) {
    let a = sample_session("s-a", "p-1", 10);
    let b = sample_session("s-b", "p-1", 20);
    let other = sample_session("s-c", "p-2", 15);
    for s in [&a, &b, &other] {
        store.insert_session(s).unwrap();
    }
    assert!(
        store.insert_session(&a).is_err(),
        "a duplicate session id must be refused"
    );
    assert_eq!(store.session_by_token(&a.token_hash).unwrap(), Some(a.clone()));
    assert_eq!(store.session_by_token(&[7; 32]).unwrap(), None);
    let mine: Vec<String> = store
        .sessions_of(&a.person)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(mine, ["s-a", "s-b"]);
    store.touch_session("s-a", 50).unwrap();
    store.touch_session("s-a", 40).unwrap();
    assert_eq!(
        store.session_by_token(&a.token_hash).unwrap().unwrap().last_seen_ms,
        50,
        "last seen never moves back"
    );
    assert!(store.revoke_session("s-a").unwrap());
    assert!(!store.revoke_session("s-missing").unwrap());
    assert!(store.session_by_token(&a.token_hash).unwrap().unwrap().revoked);
    assert!(!store.session_by_token(&b.token_hash).unwrap().unwrap().revoked);
}

pub fn revocation_epoch_and_login_failures(store: &dyn AuthStore) {
    let p = PersonId("p-1".into());
    assert_eq!(store.sessions_valid_after(&p).unwrap(), 0);
    store.revoke_sessions_before(&p, 500).unwrap();
    store.revoke_sessions_before(&p, 300).unwrap();
    assert_eq!(
        store.sessions_valid_after(&p).unwrap(),
        500,
        "the epoch never moves back"
    );
    assert_eq!(store.sessions_valid_after(&PersonId("p-2".into())).unwrap(), 0);
    assert_eq!(store.login_failures(&p).unwrap(), LoginFailures::default());
    assert!(store.count_login_attempt(&p, LoginFailures::default(), 10).unwrap());
    let one = LoginFailures { count: 1, last_ms: 10 };
    assert_eq!(store.login_failures(&p).unwrap(), one);
    assert!(store.count_login_attempt(&p, one, 20).unwrap());
    assert_eq!(
        store.login_failures(&p).unwrap(),
        LoginFailures { count: 2, last_ms: 20 }
    );
    store.clear_login_failures(&p).unwrap();
    assert_eq!(store.login_failures(&p).unwrap().count, 0);
    assert_eq!(
        store.sessions_valid_after(&p).unwrap(),
        500,
        "clearing failures keeps the epoch"
    );
}

/// Attempts that read the same count are counted once: the others must read
/// again, and see the count the first one left.
pub fn login_attempts_count_once_per_reading(store: &dyn AuthStore) {
    let p = PersonId("nobody-by-this-name".into());
    let seen = store.login_failures(&p).unwrap();
    assert!(store.count_login_attempt(&p, seen, 10).unwrap());
    assert!(
        !store.count_login_attempt(&p, seen, 11).unwrap(),
        "a second attempt on the same reading of a new name"
    );
    let seen = store.login_failures(&p).unwrap();
    assert_eq!(seen, LoginFailures { count: 1, last_ms: 10 });
    assert!(store.count_login_attempt(&p, seen, 12).unwrap());
    assert!(!store.count_login_attempt(&p, seen, 13).unwrap());
    assert_eq!(store.login_failures(&p).unwrap().count, 2);
    store.clear_login_failures(&p).unwrap();
    let cleared = store.login_failures(&p).unwrap();
    assert!(store.count_login_attempt(&p, cleared, 14).unwrap());
    assert!(!store.count_login_attempt(&p, cleared, 15).unwrap());
    assert_eq!(
        store.login_failures(&p).unwrap(),
        LoginFailures { count: 1, last_ms: 14 }
    );
}

fn sample_token(id: &str, person: &str, hash: u8) -> ApiTokenRecord {
    ApiTokenRecord {
        id: id.into(),
        token_hash: [hash; 32],
        person: PersonId(person.into()),
        name: "ci".into(),
        scopes: vec!["read".into()],
        created_ms: 10,
        expires_ms: 1_000,
        revoked: false,
    }
}

/// Which of these sessions and tokens are revoked, in order.
fn revoked(store: &dyn AuthStore, sessions: &[&SessionRecord], tokens: &[&ApiTokenRecord]) -> Vec<bool> {
    let s = sessions
        .iter()
        .map(|s| store.session_by_token(&s.token_hash).unwrap().unwrap().revoked);
    let t = tokens
        .iter()
        .map(|t| store.api_token_by_hash(&t.token_hash).unwrap().unwrap().revoked);
    s.chain(t).collect()
}

pub fn revoking_credentials_keeps_only_the_named_session(store: &dyn AuthStore) {
    let (a, b) = (sample_session("s-a", "p-1", 10), sample_session("s-b", "p-1", 20));
    let other = sample_session("s-other", "p-2", 10);
    let (t, other_t) = (sample_token("t-a", "p-1", 201), sample_token("t-other", "p-2", 202));
    for s in [&a, &b, &other] {
        store.insert_session(s).unwrap();
    }
    store.insert_api_token(&t).unwrap();
    store.insert_api_token(&other_t).unwrap();
    store.revoke_credentials(&a.person, Some("s-b")).unwrap();
    assert_eq!(
        revoked(store, &[&a, &b, &other], &[&t, &other_t]),
        [true, false, false, true, false]
    );
    store.revoke_credentials(&a.person, None).unwrap();
    assert_eq!(
        revoked(store, &[&a, &b, &other], &[&t, &other_t]),
        [true, true, false, true, false]
    );
}

/// Writing a person as departed revokes what they hold, so that a later
/// change of status does not bring it back; other statuses revoke nothing.
pub fn writing_a_person_departed_revokes_their_credentials<S: Store + AuthStore>(store: &S) {
    let mut leaver = sample_person("p-1", Role::SalesRep);
    let stays = sample_person("p-2", Role::SalesRep);
    store.upsert_people(&[leaver.clone(), stays.clone()]).unwrap();
    let (s1, s2) = (sample_session("s-1", "p-1", 10), sample_session("s-2", "p-2", 10));
    let (t1, t2) = (sample_token("t-1", "p-1", 211), sample_token("t-2", "p-2", 212));
    store.insert_session(&s1).unwrap();
    store.insert_session(&s2).unwrap();
    store.insert_api_token(&t1).unwrap();
    store.insert_api_token(&t2).unwrap();
    leaver.status = model::EmploymentStatus::Departing;
    store.upsert_people(&[leaver.clone(), stays.clone()]).unwrap();
    assert_eq!(revoked(store, &[&s1, &s2], &[&t1, &t2]), [false; 4]);
    leaver.status = model::EmploymentStatus::Departed;
    store.upsert_people(&[leaver.clone(), stays]).unwrap();
    leaver.status = model::EmploymentStatus::Departing;
    store.upsert_people(&[leaver]).unwrap();
    assert_eq!(revoked(store, &[&s1, &s2], &[&t1, &t2]), [true, false, true, false]);
}

pub fn session_mfa_time(store: &dyn AuthStore) {
    let s = sample_session("s-m", "p-1", 10);
    store.insert_session(&s).unwrap();
    assert_eq!(store.session_by_token(&s.token_hash).unwrap().unwrap().mfa_ms, 0);
    store.set_session_mfa("s-m", 70).unwrap();
    store.set_session_mfa("s-m", 60).unwrap();
    assert_eq!(
        store.session_by_token(&s.token_hash).unwrap().unwrap().mfa_ms,
        70,
        "the MFA time never moves back"
    );
}

pub fn totp_enrollment_steps_and_recovery_codes(store: &dyn AuthStore) {
    let p = PersonId("p-1".into());
    assert!(!store.totp(&p).unwrap().enrolled());
    assert!(!store.use_totp_step(&p, 5).unwrap(), "no secret, no step accepted");
    assert!(!store.confirm_totp(&p, 5, &[]).unwrap(), "nothing pending to confirm");
    assert!(store.set_pending_totp(&p, b"first-secret").unwrap());
    assert!(store.set_pending_totp(&p, b"second-secret").unwrap());
    let t = store.totp(&p).unwrap();
    assert_eq!(
        (t.secret.as_slice(), t.pending.as_slice()),
        (&b""[..], &b"second-secret"[..])
    );
    assert!(!t.enrolled());
    assert!(t.sealed, "secrets handed in now are sealed ones");
    assert!(store.unsealed_totp().unwrap().is_empty());
    assert!(
        !store.seal_totp(&p, &t, b"x", b"y").unwrap(),
        "a sealed row is never sealed again"
    );
    assert!(store.confirm_totp(&p, 100, &[[1; 32], [2; 32]]).unwrap());
    let t = store.totp(&p).unwrap();
    assert!(t.enrolled());
    assert_eq!(
        (t.secret.as_slice(), t.pending.len(), t.last_step),
        (&b"second-secret"[..], 0, 100)
    );
    // A code's step is accepted once, and never an earlier one.
    assert!(!store.use_totp_step(&p, 100).unwrap());
    assert!(!store.use_totp_step(&p, 99).unwrap());
    assert!(store.use_totp_step(&p, 101).unwrap());
    assert!(!store.use_totp_step(&p, 101).unwrap());
    assert_eq!(store.recovery_codes_left(&p).unwrap(), 2);
    assert!(store.use_recovery_code(&p, &[1; 32]).unwrap());
    assert!(
        !store.use_recovery_code(&p, &[1; 32]).unwrap(),
        "a recovery code is spent once"
    );
    assert!(!store.use_recovery_code(&PersonId("p-2".into()), &[2; 32]).unwrap());
    assert_eq!(store.recovery_codes_left(&p).unwrap(), 1);
    // Re-enrolling: the new pending secret leaves the confirmed one in force
    // until confirmed, and confirming replaces the recovery codes.
    assert!(store.set_pending_totp(&p, b"third-secret").unwrap());
    assert_eq!(store.totp(&p).unwrap().secret, b"second-secret");
    assert!(
        !store.confirm_totp(&p, 101, &[[3; 32]]).unwrap(),
        "a used step confirms nothing"
    );
    assert!(store.confirm_totp(&p, 102, &[[3; 32]]).unwrap());
    assert_eq!(store.totp(&p).unwrap().secret, b"third-secret");
    assert!(!store.use_recovery_code(&p, &[2; 32]).unwrap(), "old codes are gone");
    assert_eq!(store.recovery_codes_left(&p).unwrap(), 1);
}

pub fn api_tokens(store: &dyn AuthStore) {
    let token = |id: &str, person: &str, created_ms: i64| ApiTokenRecord {
        id: id.into(),
        token_hash: [id.len() as u8 + created_ms as u8; 32],
        person: PersonId(person.into()),
        name: format!("name of {id}"),
        scopes: vec!["read".into(), "events".into()],
        created_ms,
        expires_ms: created_ms + 1_000,
        revoked: false,
    };
    let a = token("t-a", "p-1", 10);
    let b = token("t-b", "p-1", 20);
    let other = token("t-c", "p-2", 30);
    for t in [&a, &b, &other] {
        store.insert_api_token(t).unwrap();
    }
    assert!(
        store.insert_api_token(&a).is_err(),
        "a duplicate token id must be refused"
    );
    assert_eq!(store.api_token_by_hash(&a.token_hash).unwrap(), Some(a.clone()));
    assert_eq!(store.api_token_by_hash(&[0; 32]).unwrap(), None);
    let mine: Vec<String> = store
        .api_tokens_of(&a.person)
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(mine, ["t-a", "t-b"]);
    assert!(
        !store.revoke_api_token(&a.person, "t-c").unwrap(),
        "another person's token is not revoked"
    );
    assert!(store.revoke_api_token(&a.person, "t-a").unwrap());
    assert!(store.api_token_by_hash(&a.token_hash).unwrap().unwrap().revoked);
    assert!(!store.api_token_by_hash(&other.token_hash).unwrap().unwrap().revoked);
}

/// The one-read credential checks agree with the three reads they replace,
/// for a holder with a revocation epoch, one never revoked, and one removed.
pub fn credentials_with_their_holder<S: Store + AuthStore>(store: &S) {
    let mut rep = sample_person("p-1", Role::SalesRep);
    rep.status = model::EmploymentStatus::Departing;
    store.upsert_people(&[rep.clone()]).unwrap();
    store
        .upsert_people(&[sample_person("p-2", Role::SalesManager)])
        .unwrap();
    store.revoke_sessions_before(&rep.id, 5).unwrap();
    let none_yet = sample_session("s-early", "p-1", 9);
    store.insert_session(&none_yet).unwrap();
    assert_eq!(
        store
            .session_with_holder(&none_yet.token_hash)
            .unwrap()
            .unwrap()
            .generation,
        None
    );
    store.put_setting(crate::GENERATION_SETTING, "g-7").unwrap();
    for (i, person) in ["p-1", "p-2", "p-gone"].into_iter().enumerate() {
        let session = sample_session(&format!("s-{person}"), person, 10 + i as i64);
        store.insert_session(&session).unwrap();
        let token = sample_token(&format!("t-{person}"), person, 100 + i as u8);
        store.insert_api_token(&token).unwrap();
        let holder = |id: &PersonId| (store.sessions_valid_after(id).unwrap(), store.get_person(id).unwrap());
        let found = store.session_with_holder(&session.token_hash).unwrap().unwrap();
        assert_eq!(found.credential, session);
        assert_eq!(found.generation.as_deref(), Some("g-7"));
        assert_eq!(
            (found.sessions_valid_after, found.person),
            holder(&session.person),
            "{person}"
        );
        let found = store.api_token_with_holder(&token.token_hash).unwrap().unwrap();
        assert_eq!(found.credential, token);
        assert_eq!(found.generation.as_deref(), Some("g-7"));
        assert_eq!(
            (found.sessions_valid_after, found.person),
            holder(&token.person),
            "{person}"
        );
    }
    let first = store
        .session_with_holder(&sample_session("s-p-1", "p-1", 10).token_hash)
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.sessions_valid_after, first.person.map(|p| p.status)),
        (5, Some(model::EmploymentStatus::Departing))
    );
    assert_eq!(store.session_with_holder(&[7; 32]).unwrap(), None);
    assert_eq!(store.api_token_with_holder(&[7; 32]).unwrap(), None);
}

pub fn address_failures_restart_after_a_quiet_period(store: &dyn AuthStore) {
    assert_eq!(store.address_failures("10.0.0.1").unwrap(), LoginFailures::default());
    store.record_address_failure("10.0.0.1", 10, 0).unwrap();
    let f = store.record_address_failure("10.0.0.1", 20, 0).unwrap();
    assert_eq!(f, LoginFailures { count: 2, last_ms: 20 });
    assert_eq!(store.address_failures("10.0.0.1").unwrap(), f);
    assert_eq!(store.address_failures("10.0.0.2").unwrap().count, 0);
    // The last failure (20) is before the window start (25): the count restarts.
    let f = store.record_address_failure("10.0.0.1", 30, 25).unwrap();
    assert_eq!(f, LoginFailures { count: 1, last_ms: 30 });
}

pub fn bootstrap_code_is_spent_once(store: &dyn AuthStore) {
    let admin = PersonId("p-admin".into());
    let (t0, ttl) = (1_000, 3_600_000);
    assert!(!store.any_credential().unwrap());
    assert_eq!(
        store.put_bootstrap_code(&[1; 32], t0, t0 + ttl, false).unwrap(),
        BootstrapIssue::Issued
    );
    // A second server starting meanwhile keeps the first code.
    assert_eq!(
        store.put_bootstrap_code(&[2; 32], t0 + 5, t0 + 5 + ttl, false).unwrap(),
        BootstrapIssue::Pending {
            issued_ms: t0,
            expires_ms: t0 + ttl
        }
    );
    assert_eq!(
        store
            .consume_bootstrap_code(&[2; 32], &admin, "$argon2id$x", t0 + 10)
            .unwrap(),
        BootstrapOutcome::UnknownCode,
        "a code that was not kept is void"
    );
    // A check reads the code without spending it.
    assert_eq!(
        store.check_bootstrap_code(&[2; 32], t0 + 10).unwrap(),
        BootstrapOutcome::UnknownCode
    );
    for _ in 0..2 {
        assert_eq!(
            store.check_bootstrap_code(&[1; 32], t0 + 10).unwrap(),
            BootstrapOutcome::Done
        );
    }
    assert_eq!(
        store.check_bootstrap_code(&[1; 32], t0 + ttl).unwrap(),
        BootstrapOutcome::Expired
    );
    assert!(!store.any_credential().unwrap());
    // An expired code gives way to a new one; the expired one is refused.
    let later = t0 + ttl;
    assert_eq!(
        store.put_bootstrap_code(&[3; 32], later, later + ttl, false).unwrap(),
        BootstrapIssue::Issued
    );
    assert_eq!(
        store
            .consume_bootstrap_code(&[1; 32], &admin, "$argon2id$x", later)
            .unwrap(),
        BootstrapOutcome::UnknownCode
    );
    // An explicit new code replaces an unexpired one.
    assert_eq!(
        store
            .put_bootstrap_code(&[4; 32], later + 1, later + 1 + ttl, true)
            .unwrap(),
        BootstrapIssue::Issued
    );
    assert_eq!(
        store
            .consume_bootstrap_code(&[3; 32], &admin, "$argon2id$x", later + 2)
            .unwrap(),
        BootstrapOutcome::UnknownCode,
        "a replaced code is void"
    );
    assert_eq!(
        store
            .consume_bootstrap_code(&[4; 32], &admin, "$argon2id$x", later + 1 + ttl)
            .unwrap(),
        BootstrapOutcome::Expired,
        "a code is refused from its expiry on"
    );
    assert_eq!(
        store
            .consume_bootstrap_code(&[4; 32], &admin, "$argon2id$x", later + 2)
            .unwrap(),
        BootstrapOutcome::UnknownCode,
        "an expired code is deleted when tried"
    );
    assert!(!store.any_credential().unwrap());
    let now = later + 2 * ttl;
    assert_eq!(
        store.put_bootstrap_code(&[5; 32], now, now + ttl, false).unwrap(),
        BootstrapIssue::Issued
    );
    assert_eq!(
        store
            .consume_bootstrap_code(&[5; 32], &admin, "$argon2id$x", now)
            .unwrap(),
        BootstrapOutcome::Done
    );
    assert_eq!(store.credential(&admin).unwrap().as_deref(), Some("$argon2id$x"));
    assert!(store.any_credential().unwrap());
    assert_eq!(
        store
            .consume_bootstrap_code(&[5; 32], &admin, "$argon2id$y", now)
            .unwrap(),
        BootstrapOutcome::AlreadyBootstrapped
    );
    assert_eq!(
        store.check_bootstrap_code(&[5; 32], now).unwrap(),
        BootstrapOutcome::AlreadyBootstrapped
    );
    assert_eq!(
        store.put_bootstrap_code(&[6; 32], now, now + ttl, true).unwrap(),
        BootstrapIssue::Over,
        "once anyone has a credential, no code is issued"
    );
    assert_eq!(
        store
            .consume_bootstrap_code(&[6; 32], &PersonId("p-other".into()), "$argon2id$z", now)
            .unwrap(),
        BootstrapOutcome::AlreadyBootstrapped,
        "once anyone has a credential, no code works"
    );
    assert_eq!(store.credential(&admin).unwrap().as_deref(), Some("$argon2id$x"));
}

/// Keys kept apart from a record (a person's TOTP key): stored once, found
/// by owner, and rewrapped by key rotation with every other key.
pub fn standalone_wrapped_keys(store: &dyn Store) {
    let owner = KeyOwner::Totp("p-1".into());
    assert_eq!(store.wrapped_key(&owner).unwrap(), None);
    let first = StoredKey {
        kek_version: 1,
        sealed: vec![1; 8],
    };
    assert!(store.insert_wrapped_key(&owner, &first).unwrap());
    let second = StoredKey {
        kek_version: 1,
        sealed: vec![9; 8],
    };
    assert!(
        !store.insert_wrapped_key(&owner, &second).unwrap(),
        "the first key stays: data sealed under it must still open"
    );
    assert_eq!(store.wrapped_key(&owner).unwrap(), Some(first));
    store.insert_customers(&[sample_customer("C-1", "p")]).unwrap();
    let all = store.wrapped_keys(None, 10).unwrap();
    let owners: Vec<&KeyOwner> = all.iter().map(|(o, _)| o).collect();
    assert_eq!(owners, [&KeyOwner::Customer("C-1".into()), &owner]);
    let rewrapped = StoredKey {
        kek_version: 2,
        sealed: vec![2; 8],
    };
    store
        .replace_wrapped_keys(&[(owner.clone(), rewrapped.clone())])
        .unwrap();
    assert_eq!(store.wrapped_key(&owner).unwrap(), Some(rewrapped));
    assert_eq!(store.wrapped_key(&KeyOwner::Totp("p-2".into())).unwrap(), None);
}

pub fn pending_exports(store: &dyn Store) {
    let export = |id: &str, created_ms: i64| PendingExport {
        id: id.into(),
        requester: PersonId("p-1".into()),
        filter: r#"{"owner":null,"limit":5000}"#.into(),
        format: "csv".into(),
        justification: "quarterly review".into(),
        created_ms,
        state: ExportState::Pending,
        decided_by: None,
        decided_ms: None,
    };
    let (a, b) = (export("x-a", 20), export("x-b", 10));
    store.insert_pending_export(&a).unwrap();
    store.insert_pending_export(&b).unwrap();
    assert!(
        store.insert_pending_export(&a).is_err(),
        "a duplicate export id must be refused"
    );
    assert_eq!(store.get_pending_export("x-a").unwrap(), Some(a.clone()));
    assert_eq!(store.get_pending_export("x-missing").unwrap(), None);
    let ids = |state| -> Vec<String> {
        store
            .pending_exports(state)
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(ids(ExportState::Pending), ["x-b", "x-a"], "oldest first");
    let boss = PersonId("boss".into());
    assert!(store
        .transition_export("x-a", ExportState::Pending, ExportState::Approved, Some(&boss), 30)
        .unwrap());
    assert!(
        !store
            .transition_export("x-a", ExportState::Pending, ExportState::Rejected, Some(&boss), 31)
            .unwrap(),
        "an export is decided once"
    );
    let approved = store.get_pending_export("x-a").unwrap().unwrap();
    assert_eq!(
        (approved.state, approved.decided_by, approved.decided_ms),
        (ExportState::Approved, Some(boss.clone()), Some(30))
    );
    assert!(store
        .transition_export("x-a", ExportState::Approved, ExportState::Downloaded, None, 40)
        .unwrap());
    assert!(
        !store
            .transition_export("x-a", ExportState::Approved, ExportState::Downloaded, None, 41)
            .unwrap(),
        "a download is single use"
    );
    let used = store.get_pending_export("x-a").unwrap().unwrap();
    assert_eq!(
        (used.state, used.decided_by, used.decided_ms),
        (ExportState::Downloaded, Some(boss), Some(30)),
        "using it up keeps who decided"
    );
    assert_eq!(ids(ExportState::Pending), ["x-b"]);
    assert!(!store
        .transition_export("x-missing", ExportState::Pending, ExportState::Approved, None, 50)
        .unwrap());
}

/// Generates one `#[test]` per conformance check for a backend. `$make` is
/// an expression producing a fresh, empty `impl Store` for each test
/// (it may keep a guard alive with `let`, e.g. a temporary directory).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            customers_round_trip, duplicate_customer_writes_nothing, batched_insert_is_one_transaction, blind_index_lookup, metas_filter_and_paginate,
            update_and_erase, people_and_teams, update_people_writes_what_its_change_returns, people_by_email_user, customer_numbers_are_never_handed_out_twice, documents, key_rewrap_pages, settings_and_policy, blobs, ledger_contract,
            credentials, sessions_lifecycle, revocation_epoch_and_login_failures, login_attempts_count_once_per_reading,
            revoking_credentials_keeps_only_the_named_session, writing_a_person_departed_revokes_their_credentials,
            session_mfa_time,
            totp_enrollment_steps_and_recovery_codes, api_tokens, credentials_with_their_holder,
            address_failures_restart_after_a_quiet_period,
            bootstrap_code_is_spent_once, standalone_wrapped_keys, pending_exports);

        #[test]
        fn people_updates_exclude_each_other() {
            let (_guard, store) = $make;
            $crate::conformance::people_updates_exclude_each_other(&store, &store);
        }
    };
    (@each $make:expr; $($check:ident),*) => {
        $(
            #[test]
            fn $check() {
                let (_guard, store) = $make;
                $crate::conformance::$check(&store);
            }
        )*
    };
}
