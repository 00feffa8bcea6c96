//! Second factor, API tokens, per-address throttling, authentication events
//! in the ledger and first-run bootstrap, end to end.

use super::*;

/// Adds an active person with [`PASSWORD`] to the running installation.
fn add_person(s: &Server, id: &str, role: Role) {
    let mut p = sample_person(id, role);
    p.team = None;
    p.compartments = Default::default();
    s.store.upsert_people(&[p]).unwrap();
    server::set_password(s.store.as_ref(), &PersonId(id.into()), PASSWORD).unwrap();
}

#[tokio::test]
async fn a_security_admin_with_totp_may_act_as_admin_only_while_the_factor_is_fresh() {
    let s = start().await;
    let sec = s.login("sec").await;
    let entries = sec.audit(None, Some("auth.login"), None, Some(100)).await.unwrap();
    assert!(!entries.as_array().unwrap().is_empty(), "logins are in the ledger");
    // 16 minutes on, the session lives but its second factor is stale.
    s.clock.advance_ms(16 * 60_000);
    check_error(sec.audit(None, None, None, Some(10)).await, 403, "denied");
    let code = s.code("sec").unwrap();
    let fresh = sec.step_up(Some(&code), None).await.unwrap();
    assert!(fresh["mfa_fresh_until_ms"].as_i64().unwrap() > s.clock.now_ms());
    sec.audit(None, None, None, Some(10)).await.unwrap();
    // The same code again is refused (and counts as a failure).
    check_error(sec.step_up(Some(&code), None).await, 422, "wrong_code");
    // Without their code a person enrolled in TOTP cannot log in at all, and the
    // answer is a wrong password's: it does not confirm the password.
    check_error(s.client().login("sec", PASSWORD).await, 401, "unauthenticated");
}

#[tokio::test]
async fn a_security_admin_without_totp_may_only_enroll() {
    let s = start().await;
    add_person(&s, "sec2", Role::SecurityAdmin);
    let mut c = s.client();
    c.login("sec2", PASSWORD).await.unwrap();
    check_error(
        c.audit(None, None, None, Some(10)).await,
        403,
        "mfa_enrollment_required",
    );
    check_error(c.post_events("").await, 403, "mfa_enrollment_required");
    check_error(c.tokens().await, 403, "mfa_enrollment_required");
    c.sessions().await.unwrap();
    check_error(c.totp_confirm("123456").await, 409, "no_pending_enrollment");
    let started = c.totp_enroll().await.unwrap();
    assert!(started["qr_svg"].as_str().unwrap().contains("<svg"));
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/custodia:sec2?"), "{uri}");
    let totp = totp_rs::Totp::from_url(uri).unwrap();
    let wrong = totp.generate(s.now_s() + 600).to_string();
    check_error(c.totp_confirm(&wrong).await, 422, "wrong_code");
    let confirmed = c.totp_confirm(&totp.generate(s.now_s()).to_string()).await.unwrap();
    let codes = confirmed["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), server::RECOVERY_CODES);
    // Enrolled and fresh: admin actions pass.
    c.audit(None, None, None, Some(10)).await.unwrap();
    let enrolled = c
        .audit(Some("sec2"), Some("auth.totp_enrolled"), None, Some(10))
        .await
        .unwrap();
    assert_eq!(enrolled.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_totp_code_is_accepted_once_and_wrong_codes_are_throttled() {
    let s = start().await;
    let code = s.code("sec").unwrap();
    s.client()
        .login_with_code("sec", PASSWORD, Some(&code), None)
        .await
        .unwrap();
    // Same code, same step: a replay.
    check_error(
        s.client().login_with_code("sec", PASSWORD, Some(&code), None).await,
        401,
        "unauthenticated",
    );
    // A code of an earlier step, still inside the skew window, is refused too.
    let totp = s.totp.lock().unwrap().get("sec").unwrap().clone();
    let earlier = totp.generate(s.now_s() - 30).to_string();
    s.clock.advance_ms(1_000);
    check_error(
        s.client().login_with_code("sec", PASSWORD, Some(&earlier), None).await,
        401,
        "unauthenticated",
    );
    check_error(
        s.client().login_with_code("sec", PASSWORD, Some("000000"), None).await,
        401,
        "unauthenticated",
    );
    // Three failures: the right password and a fresh code (of the next step,
    // inside the skew window) now wait, then pass.
    let fresh = totp.generate(s.now_s() + 30).to_string();
    check_error(
        s.client().login_with_code("sec", PASSWORD, Some(&fresh), None).await,
        429,
        "throttled",
    );
    s.clock.advance_ms(1_000);
    s.client()
        .login_with_code("sec", PASSWORD, Some(&fresh), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn recovery_codes_log_in_once_each() {
    let s = start().await;
    add_person(&s, "fin", Role::Finance);
    let (_, confirmed) = s.enroll("fin").await;
    let code = confirmed["recovery_codes"][0].as_str().unwrap().to_owned();
    s.clock.advance_ms(1_000);
    let mut c = s.client();
    c.login_with_code("fin", PASSWORD, None, Some(&code.to_uppercase()))
        .await
        .unwrap();
    check_error(
        s.client().login_with_code("fin", PASSWORD, None, Some(&code)).await,
        401,
        "unauthenticated",
    );
    let sec = s.login("sec").await;
    let used = sec
        .audit(Some("fin"), Some("auth.recovery_code_used"), None, Some(10))
        .await
        .unwrap();
    assert_eq!(used.as_array().unwrap().len(), 1);
    let text = used.to_string();
    assert!(
        !text.contains(&code) && !text.contains(PASSWORD),
        "no secret in the ledger"
    );
}

#[tokio::test]
async fn api_tokens_work_within_their_scopes_and_end_at_the_next_request() {
    let s = start().await;
    let rep = s.login("rep-a").await;
    check_error(rep.create_token("ci", &["admin"], 30).await, 422, "invalid");
    check_error(rep.create_token("ci", &["read"], 0).await, 422, "invalid");
    let created = rep.create_token("ci", &["read"], 1).await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with(server::TOKEN_PREFIX));
    let listed = rep.tokens().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&token), "listing shows no token");

    let bearer = Client::with_token(&s.base, &token).unwrap();
    bearer.customer("C-1").await.unwrap();
    check_error(bearer.post_events("").await, 403, "insufficient_scope");
    check_error(bearer.sessions().await, 403, "token_not_allowed");
    check_error(
        bearer.create_token("more", &["read"], 1).await,
        403,
        "token_not_allowed",
    );
    let forged = Client::with_token(&s.base, "cst_forged-token").unwrap();
    check_error(forged.customer("C-1").await, 401, "unauthenticated");

    // Expiry.
    s.clock.advance_ms(86_400_000);
    check_error(bearer.customer("C-1").await, 401, "unauthenticated");

    // Revocation of the token, of the person's sessions, and departure.
    let rep = s.login("rep-a").await;
    let t = rep.create_token("a", &["read"], 30).await.unwrap();
    let by_id = Client::with_token(&s.base, t["token"].as_str().unwrap()).unwrap();
    by_id.customer("C-1").await.unwrap();
    rep.revoke_token(t["id"].as_str().unwrap()).await.unwrap();
    check_error(by_id.customer("C-1").await, 401, "unauthenticated");
    check_error(rep.revoke_token("no-such-token").await, 404, "not_found");

    let t = rep.create_token("b", &["read"], 30).await.unwrap();
    let by_epoch = Client::with_token(&s.base, t["token"].as_str().unwrap()).unwrap();
    by_epoch.customer("C-1").await.unwrap();
    server::revoke_person_sessions(s.store.as_ref(), &PersonId("rep-a".into()), s.clock.now_ms()).unwrap();
    check_error(by_epoch.customer("C-1").await, 401, "unauthenticated");

    s.clock.advance_ms(1);
    let rep = s.login("rep-a").await;
    let t = rep.create_token("c", &["read"], 30).await.unwrap();
    let by_status = Client::with_token(&s.base, t["token"].as_str().unwrap()).unwrap();
    by_status.customer("C-1").await.unwrap();
    s.set_status("rep-a", EmploymentStatus::Departed);
    check_error(by_status.customer("C-1").await, 401, "unauthenticated");
}

#[tokio::test]
async fn tokens_of_people_with_totp_need_a_fresh_factor_and_are_never_fresh() {
    let s = start().await;
    let sec = s.login("sec").await;
    let t = sec.create_token("siem", &["read", "events"], 30).await.unwrap();
    let bearer = Client::with_token(&s.base, t["token"].as_str().unwrap()).unwrap();
    bearer.post_events("").await.unwrap();
    // Admin actions need a fresh second factor, which a token never is.
    check_error(bearer.audit(None, None, None, Some(10)).await, 403, "denied");
    s.clock.advance_ms(16 * 60_000);
    check_error(sec.create_token("late", &["read"], 30).await, 403, "mfa_required");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_source_address_too() {
    let s = start().await;
    let mut c = s.client();
    // Guessing across many names: no one person reaches their limit.
    for i in 0..10 {
        check_error(c.login(&format!("nobody-{i}"), PASSWORD).await, 401, "unauthenticated");
    }
    check_error(c.login("rep-a", PASSWORD).await, 429, "throttled");
    // The wait passes.
    s.clock.advance_ms(2_000);
    c.login("rep-a", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn authentication_events_reach_the_ledger_without_secrets() {
    let s = start().await;
    check_error(
        s.client().login("rep-a", "not the password at all").await,
        401,
        "unauthenticated",
    );
    // A name that is no person's is not recorded: it may be a mistyped password.
    check_error(
        s.client().login("my secret passphrase", PASSWORD).await,
        401,
        "unauthenticated",
    );
    let mut rep = s.login("rep-a").await;
    rep.change_password("rep-a", PASSWORD, "another long passphrase")
        .await
        .unwrap();
    rep.logout().await.unwrap();
    let sec = s.login("sec").await;
    let all = sec.audit(None, None, None, Some(1000)).await.unwrap();
    let actions: Vec<(String, String)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("auth.login", "person:rep-a"),
        ("auth.login", "anonymous"),
        ("auth.password_change", "person:rep-a"),
        ("auth.logout", "person:rep-a"),
        ("auth.totp_enrolled", "person:sec"),
    ] {
        assert!(
            actions.iter().any(|(a, p)| (a.as_str(), p.as_str()) == expected),
            "{expected:?} missing from {actions:?}"
        );
    }
    let text = all.to_string();
    for secret in [
        PASSWORD,
        "not the password at all",
        "my secret passphrase",
        "another long passphrase",
    ] {
        assert!(!text.contains(secret), "the ledger holds {secret:?}");
    }
}

/// Issues a bootstrap code as a server start does (`replace`: as `custodia bootstrap` does).
fn issue_code(s: &Server, replace: bool) -> String {
    match server::issue_bootstrap_code(s.store.as_ref(), s.clock.now_ms(), replace).unwrap() {
        server::BootstrapCode::Issued { code, .. } => code,
        other => panic!("expected a new code, got {other:?}"),
    }
}

#[tokio::test]
async fn the_first_admin_bootstraps_once() {
    let s = start_with(false).await;
    let code = issue_code(&s, false);
    let c = s.client();
    check_error(
        c.bootstrap("wrong code", "sec", PASSWORD).await,
        403,
        "bootstrap_refused",
    );
    check_error(c.bootstrap(&code, "rep-a", PASSWORD).await, 422, "invalid");
    check_error(c.bootstrap(&code, "sec", "short").await, 422, "invalid");
    c.bootstrap(&code, "sec", PASSWORD).await.unwrap();
    // Replay, and any later code, are refused: bootstrap is over.
    check_error(
        c.bootstrap(&code, "sec", "a different passphrase").await,
        410,
        "bootstrap_over",
    );
    assert_eq!(
        server::issue_bootstrap_code(s.store.as_ref(), s.clock.now_ms(), true).unwrap(),
        server::BootstrapCode::Over
    );
    let mut admin = s.client();
    admin.login("sec", PASSWORD).await.unwrap();
    // The admin's session can do nothing but enroll a second factor first.
    check_error(admin.post_events("").await, 403, "mfa_enrollment_required");
}

#[tokio::test]
async fn a_bootstrap_code_is_kept_by_later_starts_expires_and_can_be_replaced() {
    let s = start_with(false).await;
    let first = issue_code(&s, false);
    // Another start (or another server on the database) keeps the first code.
    s.clock.advance_ms(60_000);
    match server::issue_bootstrap_code(s.store.as_ref(), s.clock.now_ms(), false).unwrap() {
        server::BootstrapCode::AlreadyIssued { issued_ms, expires_ms } => {
            assert_eq!(issued_ms, START_MS);
            assert_eq!(expires_ms, START_MS + server::BOOTSTRAP_CODE_TTL_MS);
        }
        other => panic!("expected the first code kept, got {other:?}"),
    }
    // It expires; the next start issues a new one.
    s.clock.advance_ms(server::BOOTSTRAP_CODE_TTL_MS);
    let c = s.client();
    check_error(c.bootstrap(&first, "sec", PASSWORD).await, 403, "bootstrap_expired");
    let second = issue_code(&s, false);
    // The operator's `custodia bootstrap` voids an unexpired code.
    let third = issue_code(&s, true);
    check_error(c.bootstrap(&second, "sec", PASSWORD).await, 403, "bootstrap_refused");
    c.bootstrap(&third, "sec", PASSWORD).await.unwrap();
    check_error(c.bootstrap(&third, "sec", PASSWORD).await, 410, "bootstrap_over");
}

/// Decodes RFC 4648 base32 (the `secret` an enrollment answers).
fn base32(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut held, mut out) = (0u32, 0u32, Vec::new());
    for c in text.trim_end_matches('=').chars() {
        bits = (bits << 5) | ALPHABET.find(c).unwrap() as u32;
        held += 5;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    out
}

/// An authenticator for `secret` as the server configures it.
fn authenticator(secret: &[u8], person: &str) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret.to_vec())
        .with_issuer(Some(server::TOTP_ISSUER))
        .with_account_name(person.to_owned())
        .build()
        .unwrap()
}

/// Every byte the SQLite store keeps on disk: the database and its log.
fn database_bytes(s: &Server) -> Vec<u8> {
    let db = s.store.path().to_owned();
    let mut bytes = std::fs::read(&db).unwrap();
    let wal = db.with_file_name(format!("{}-wal", store::DB_FILE));
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The `totp` row of `person` as stored: (secret, pending, sealed).
fn totp_row(s: &Server, person: &str) -> (Vec<u8>, Vec<u8>, bool) {
    let conn = rusqlite::Connection::open(s.store.path()).unwrap();
    conn.query_row(
        "SELECT secret, pending, sealed FROM totp WHERE person = ?1",
        [person],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

fn rotate_keys(s: &Server) {
    let operator = Actor::Operator { name: "test".into() };
    let (version, _) = s
        .gateway
        .rotate_keys(&operator, &AccessContext::default(), &|_: &Keyring| Ok(()))
        .unwrap();
    // The person's TOTP key was rewrapped with the vault's keys.
    let conn = rusqlite::Connection::open(s.store.path()).unwrap();
    let versions: Vec<u32> = conn
        .prepare("SELECT kek_version FROM data_keys WHERE owner_kind = 'totp'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        !versions.is_empty() && versions.iter().all(|v| *v == version),
        "{versions:?}"
    );
}

#[tokio::test]
async fn totp_secrets_are_sealed_at_rest_and_work_across_key_rotations() {
    let s = start().await;
    add_person(&s, "fin", Role::Finance);
    let mut c = s.client();
    c.login("fin", PASSWORD).await.unwrap();
    let started = c.totp_enroll().await.unwrap();
    let secret = base32(started["secret"].as_str().unwrap());
    let from_uri = totp_rs::Totp::from_url(started["otpauth_uri"].as_str().unwrap()).unwrap();
    assert_eq!(
        authenticator(&secret, "fin").generate(s.now_s()),
        from_uri.generate(s.now_s()),
        "the decoded secret is the enrolled one"
    );
    let (_, pending, sealed) = totp_row(&s, "fin");
    assert!(sealed && !pending.is_empty() && !contains(&pending, &secret));
    assert!(
        !contains(&database_bytes(&s), &secret),
        "the secret is on disk in clear"
    );

    // A rotation between enrollment and confirmation, and one after.
    rotate_keys(&s);
    c.totp_confirm(&from_uri.generate(s.now_s()).to_string()).await.unwrap();
    let (stored, pending, _) = totp_row(&s, "fin");
    assert!(!stored.is_empty() && pending.is_empty() && !contains(&stored, &secret));
    rotate_keys(&s);
    s.clock.advance_ms(30_000);
    let code = from_uri.generate(s.now_s()).to_string();
    let mut again = s.client();
    again.login_with_code("fin", PASSWORD, Some(&code), None).await.unwrap();
    again.customers(None, None).await.unwrap();
    s.clock.advance_ms(30_000);
    let code = from_uri.generate(s.now_s()).to_string();
    again.step_up(Some(&code), None).await.unwrap();
    assert!(
        !contains(&database_bytes(&s), &secret),
        "the secret is on disk in clear"
    );
}

#[tokio::test]
async fn totp_secrets_stored_in_clear_are_sealed_at_start_and_at_first_use() {
    let s = start().await;
    add_person(&s, "fin", Role::Finance);
    add_person(&s, "exec", Role::Executive);
    // Rows as a version before sealing wrote them.
    let legacy = |person: &str, secret: &[u8]| {
        let conn = rusqlite::Connection::open(s.store.path()).unwrap();
        conn.execute(
            "INSERT INTO totp (person, secret, pending, last_step, sealed) VALUES (?1, ?2, x'', 0, 0)",
            rusqlite::params![person, secret],
        )
        .unwrap();
    };
    let (fin_secret, exec_secret) = (*b"fin-secret-in-clear!", *b"exec-secret-in-clear");
    legacy("fin", &fin_secret);
    assert!(
        contains(&database_bytes(&s), &fin_secret),
        "control: a secret in clear is found on disk"
    );
    assert_eq!(
        server::seal_stored_totp_secrets(&s.gateway, s.store.as_ref()).unwrap(),
        1
    );
    assert_eq!(
        server::seal_stored_totp_secrets(&s.gateway, s.store.as_ref()).unwrap(),
        0
    );
    let (stored, _, sealed) = totp_row(&s, "fin");
    assert!(sealed && !contains(&stored, &fin_secret));
    // A row in clear that appears later is sealed when first used.
    legacy("exec", &exec_secret);
    for (person, secret) in [("fin", &fin_secret), ("exec", &exec_secret)] {
        s.clock.advance_ms(30_000);
        let code = authenticator(secret, person).generate(s.now_s()).to_string();
        let mut c = s.client();
        c.login_with_code(person, PASSWORD, Some(&code), None).await.unwrap();
        c.customers(None, None).await.unwrap();
        let (stored, _, sealed) = totp_row(&s, person);
        assert!(sealed && !contains(&stored, secret), "{person}");
    }
}

#[tokio::test]
async fn the_policy_names_who_must_use_a_second_factor() {
    let s = start().await;
    add_person(&s, "fin", Role::Finance);
    let rep = s.login("rep-a").await;
    let fin = s.login("fin").await;
    rep.customers(None, None).await.unwrap();
    check_error(fin.customers(None, None).await, 403, "mfa_enrollment_required");
    let sec = s.login("sec").await;
    // Reps must now use a second factor; finance need not.
    let default = policy::DEFAULT_POLICIES;
    let start = default.find("@id(\"mfa-required-roles\")").unwrap();
    let end = start + default[start..].find("};").unwrap() + 2;
    let changed = format!(
        "{}@id(\"mfa-required-roles\")\n@description(\"incident: reps and security admins must use a second factor\")\n\
         permit (principal, action == Action::\"auth.require_mfa\", resource is System)\n\
         when {{ principal in [Role::\"sales_rep\", Role::\"security_admin\"] }};{}",
        &default[..start],
        &default[end..]
    );
    sec.replace_policy(&changed).await.unwrap();
    check_error(rep.customers(None, None).await, 403, "mfa_enrollment_required");
    check_error(
        s.login("rep-b").await.customers(None, None).await,
        403,
        "mfa_enrollment_required",
    );
    fin.customers(None, None).await.unwrap();
    // Back to the default: the demand on reps is lifted at their next request.
    sec.replace_policy(default).await.unwrap();
    rep.customers(None, None).await.unwrap();
    check_error(fin.customers(None, None).await, 403, "mfa_enrollment_required");
}

#[tokio::test]
async fn a_burst_of_wrong_step_up_codes_gets_only_the_free_attempts() {
    let s = start().await;
    let sec = Arc::new(s.login("sec").await);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let sec = Arc::clone(&sec);
        tasks.spawn(async move { sec.step_up(Some("000000"), None).await });
    }
    let mut checked = 0;
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Err(ClientError::Api { status: 422, .. }) => checked += 1,
            Err(ClientError::Api { status: 429, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(checked, 3, "only the attempts before backoff reach the code check");
}
