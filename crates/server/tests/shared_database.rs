//! Two servers on one PostgreSQL database (see `store::testing`), as behind
//! a load balancer: a session revoked on one, or a person who leaves, is
//! refused by the other at its next request; both servers append to one
//! ledger that verifies; the bootstrap code the first server printed stays
//! the one code when the second starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gateway::{AccessContext, Actor, Gateway, Keyring};
use ledger::{Ledger, LedgerConfig, SigningKey};
use model::{Clock, EmploymentStatus, ManualClock, PersonId, Role, SharedClock};
use server::{AppState, AuthBackend};
use store::conformance::sample_person;
use store::testing::fresh_database;
use store::{PostgresStore, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "a long enough passphrase";
const ORIGIN: &str = "custodia/shared-test";

struct Instance {
    state: AppState,
    gateway: Arc<Gateway>,
    ledger: Arc<Ledger<Arc<dyn Store>>>,
}

/// One `custodia serve` as the CLI builds it, with its own connection pool
/// and its own ledger committer over the shared database.
fn instance(url: &str, keys: &Keyring, clock: &ManualClock) -> Instance {
    instance_with_key_file(url, keys, clock, None)
}

/// An instance that re-reads `key_file` (shared by all instances, as a mounted
/// secret would be) when another instance rotated keys.
fn instance_with_key_file(
    url: &str,
    keys: &Keyring,
    clock: &ManualClock,
    key_file: Option<&std::path::Path>,
) -> Instance {
    let pg = Arc::new(PostgresStore::connect(url).unwrap());
    let store: Arc<dyn Store> = pg.clone();
    let auth: Arc<dyn AuthBackend> = pg;
    let shared: SharedClock = Arc::new(clock.clone());
    let ledger = Arc::new(
        Ledger::open(
            Arc::clone(&store),
            SigningKey::from_seed(ORIGIN, &[5; 32]).unwrap(),
            Arc::clone(&shared),
            LedgerConfig::new(ORIGIN),
            Vec::new(),
        )
        .unwrap(),
    );
    let keys = Keyring::from_text(&keys.to_text(), "test").unwrap();
    let mut gateway = Gateway::open(store, keys, Arc::clone(&shared), ledger.clone()).unwrap();
    if let Some(path) = key_file {
        let path = path.to_owned();
        gateway = gateway.with_keyring_source(Box::new(move || Keyring::load(&path)));
    }
    let gateway = Arc::new(gateway);
    Instance {
        state: AppState::new(Arc::clone(&gateway), auth, shared),
        gateway,
        ledger,
    }
}

/// A minimal HTTP/1.1 exchange, so one session token can be presented to
/// either server (as a load balancer would route it).
async fn http(base: &str, method: &str, path: &str, cookie: Option<&str>, body: Option<&str>) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(base).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {base}\r\nConnection: close\r\n");
    if let Some(token) = cookie {
        request.push_str(&format!("Cookie: {}={token}\r\n", server::SESSION_COOKIE));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

async fn login(base: &str, person: &str) -> String {
    let body = serde_json::json!({"person": person, "password": PASSWORD}).to_string();
    let (status, text) = http(base, "POST", "/v1/auth/login", None, Some(&body)).await;
    assert_eq!(status, 200, "{text}");
    let prefix = format!("{}=", server::SESSION_COOKIE);
    text.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
        .filter_map(|v| v.split(';').next())
        .find_map(|pair| pair.strip_prefix(&prefix).map(str::to_owned))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| panic!("no session cookie in {text}"))
}

#[test]
fn revocation_and_departure_on_one_server_are_honoured_by_the_other() {
    let db = fresh_database();
    let keys = Keyring::generate("shared").unwrap();
    let clock = ManualClock::new(1_750_000_000_000);
    {
        let setup = PostgresStore::connect(db.url()).unwrap();
        Gateway::initialize(&setup, &keys, 0).unwrap();
    }
    // Built outside the async runtime: the synchronous PostgreSQL client
    // runs its own, and the server calls the store from blocking threads.
    let (a, b) = (instance(db.url(), &keys, &clock), instance(db.url(), &keys, &clock));
    let people = [
        sample_person("rep-a", Role::SalesRep),
        sample_person("rep-b", Role::SalesRep),
    ];
    let operator = Actor::Operator { name: "test".into() };
    a.gateway
        .import_people(&operator, &AccessContext::default(), &people, &[])
        .unwrap();
    let auth = PostgresStore::connect(db.url()).unwrap();
    for p in &people {
        server::set_password(&auth, &p.id, PASSWORD).unwrap();
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut bases = Vec::new();
        for state in [a.state.clone(), b.state.clone()] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            bases.push(listener.local_addr().unwrap().to_string());
            tokio::spawn(server::serve(listener, state));
        }
        let (on_a, on_b) = (bases[0].as_str(), bases[1].as_str());

        // a session made on A works on B
        let token = login(on_a, "rep-a").await;
        let (status, text) = http(on_b, "GET", "/v1/customers", Some(&token), None).await;
        assert_eq!(status, 200, "{text}");
        // logged out (revoked) on A: refused by B at its next request
        let (status, text) = http(on_a, "POST", "/v1/auth/logout", Some(&token), None).await;
        assert!((200..300).contains(&status), "{text}");
        let (status, text) = http(on_b, "GET", "/v1/customers", Some(&token), None).await;
        assert_eq!(status, 401, "B still accepts a session revoked on A: {text}");

        // rep-b leaves, recorded through B: A refuses their session next time
        let token_b = login(on_a, "rep-b").await;
        let (status, _) = http(on_a, "GET", "/v1/customers", Some(&token_b), None).await;
        assert_eq!(status, 200);
        let gw = Arc::clone(&b.gateway);
        tokio::task::spawn_blocking(move || {
            gw.set_person_status(
                &Actor::Operator { name: "hr".into() },
                &AccessContext::default(),
                &PersonId("rep-b".into()),
                EmploymentStatus::Departed,
                None,
                None,
            )
        })
        .await
        .unwrap()
        .unwrap();
        let (status, text) = http(on_a, "GET", "/v1/customers", Some(&token_b), None).await;
        assert!(
            status == 401 || status == 403,
            "A still serves a person who left on B: {status} {text}"
        );
    });

    // both servers recorded into one ledger that verifies
    a.ledger.checkpoint_now().unwrap();
    b.ledger.checkpoint_now().unwrap();
    let vk = SigningKey::from_seed(ORIGIN, &[5; 32]).unwrap().verifying_key();
    let report = ledger::verify(a.ledger.store(), &vk, None);
    assert!(report.is_ok(), "{:?}", report.findings);
    assert!(report.entries_checked >= 4, "{}", report.entries_checked);
}

#[test]
fn a_policy_change_and_a_key_rotation_on_one_server_apply_on_the_other_at_once() {
    let db = fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("custodia.key");
    let keys = Keyring::generate("shared").unwrap();
    keys.save_new(&key_file).unwrap();
    let clock = ManualClock::new(1_750_000_000_000);
    {
        let setup = PostgresStore::connect(db.url()).unwrap();
        Gateway::initialize(&setup, &keys, 0).unwrap();
    }
    let a = instance_with_key_file(db.url(), &keys, &clock, Some(&key_file));
    let b = instance_with_key_file(db.url(), &keys, &clock, Some(&key_file));
    let operator = Actor::Operator { name: "test".into() };
    let ctx = AccessContext::default();
    a.gateway
        .import_people(
            &operator,
            &ctx,
            &[
                sample_person("rep-a", Role::SalesRep),
                sample_person("sec-1", Role::SecurityAdmin),
            ],
            &[],
        )
        .unwrap();
    let customer = model::NewCustomer {
        id: Some(model::CustomerId("C-1".into())),
        display_name: "Hoang Lan".into(),
        company: "Acme".into(),
        emails: vec!["lan@example.com".into()],
        phones: vec!["+84 912 345 678".into()],
        addresses: vec![],
        notes: String::new(),
        annual_value: None,
        bank_details: None,
        country: Some("VN".into()),
        owner: Some(PersonId("rep-a".into())),
        team: None,
        territory: None,
        classification: Some(model::Classification::Internal),
        compartments: Default::default(),
    };
    a.gateway
        .import_customers(&operator, &ctx, vec![customer], false, &|_| {})
        .unwrap();
    let auth = PostgresStore::connect(db.url()).unwrap();
    server::set_password(&auth, &PersonId("rep-a".into()), PASSWORD).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let on_b = listener.local_addr().unwrap().to_string();
        tokio::spawn(server::serve(listener, b.state.clone()));
        let token = login(&on_b, "rep-a").await;
        let read = || http(&on_b, "GET", "/v1/customers/C-1", Some(&token), None);
        let (status, text) = read().await;
        assert_eq!(status, 200, "{text}");

        // A freezes reps' reads: B refuses the very next one, and serves it again
        // as soon as A restores the default policies.
        let frozen = format!(
            "{}\n@id(\"freeze-reps\")\n@description(\"incident: reps may not read\")\n\
             forbid (principal in Role::\"sales_rep\", action == Action::\"customer.read\", resource);",
            policy::DEFAULT_POLICIES
        );
        for (text, want) in [(frozen, 403), (policy::DEFAULT_POLICIES.to_owned(), 200)] {
            let gw = Arc::clone(&a.gateway);
            let op = operator.clone();
            tokio::task::spawn_blocking(move || gw.replace_policy(&op, &AccessContext::default(), &text))
                .await
                .unwrap()
                .unwrap();
            let (status, body) = read().await;
            assert_eq!(status, want, "B after A's policy change: {body}");
        }

        // A rotates the key-encryption key and retires the old one: B, which
        // held only the old one, reloads the key file and still decrypts.
        let gw = Arc::clone(&a.gateway);
        let path = key_file.clone();
        let (version, rewrapped) = tokio::task::spawn_blocking(move || {
            gw.rotate_keys(&operator, &AccessContext::default(), &|k: &Keyring| {
                k.save_replace(&path)
            })
        })
        .await
        .unwrap()
        .unwrap();
        assert!(version > 1 && rewrapped >= 1, "v{version}, {rewrapped} keys");
        let (status, body) = read().await;
        assert_eq!(status, 200, "B after A's key rotation: {body}");
        assert!(body.contains("Hoang Lan"), "{body}");
    });
}

#[test]
fn the_first_bootstrap_code_survives_a_second_server_start_and_is_spent_on_both() {
    let db = fresh_database();
    let keys = Keyring::generate("shared").unwrap();
    let clock = ManualClock::new(1_750_000_000_000);
    {
        let setup = PostgresStore::connect(db.url()).unwrap();
        Gateway::initialize(&setup, &keys, 0).unwrap();
    }
    let (a, b) = (instance(db.url(), &keys, &clock), instance(db.url(), &keys, &clock));
    a.gateway
        .import_people(
            &Actor::Operator { name: "test".into() },
            &AccessContext::default(),
            &[sample_person("sec-1", Role::SecurityAdmin)],
            &[],
        )
        .unwrap();
    // As `custodia serve` does at start: A issues the code, B (started later) keeps it.
    let auth = PostgresStore::connect(db.url()).unwrap();
    let code = match server::issue_bootstrap_code(&auth, clock.now_ms(), false).unwrap() {
        server::BootstrapCode::Issued { code, .. } => code,
        other => panic!("A issued no code: {other:?}"),
    };
    clock.advance_ms(5_000);
    let kept = server::issue_bootstrap_code(&auth, clock.now_ms(), false).unwrap();
    assert!(
        matches!(kept, server::BootstrapCode::AlreadyIssued { .. }),
        "B's start replaced A's code: {kept:?}"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut bases = Vec::new();
        for state in [a.state.clone(), b.state.clone()] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            bases.push(listener.local_addr().unwrap().to_string());
            tokio::spawn(server::serve(listener, state));
        }
        let body = serde_json::json!({"code": code, "person": "sec-1", "password": PASSWORD}).to_string();
        let (status, text) = http(&bases[1], "POST", "/v1/bootstrap", None, Some(&body)).await;
        assert_eq!(status, 200, "A's code on B: {text}");
        for base in &bases {
            let (status, text) = http(base, "POST", "/v1/bootstrap", None, Some(&body)).await;
            assert_eq!(status, 410, "a spent code on {base}: {text}");
        }
    });
    assert_eq!(
        server::issue_bootstrap_code(&auth, clock.now_ms(), false).unwrap(),
        server::BootstrapCode::Over
    );
}
