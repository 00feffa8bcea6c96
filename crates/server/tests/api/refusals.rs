//! Refusals that tell nothing and leave a record: bad input from an admin, people and
//! ids that do not exist, logins and bootstrap codes that are wrong (each found in a
//! security review).

use base64::Engine as _;

use super::*;

/// The number of entries in the audit ledger.
fn ledger_size(s: &Server) -> u64 {
    ledger::LedgerStore::size(s.store.as_ref()).unwrap()
}

/// A sales rep (who may change nobody's status, read no audit log and run no access
/// review) sends admin requests with a malformed part. Each is refused, and each
/// refusal must be in the ledger, as the same request well formed is: an attempt on
/// an admin route is a decision. Found in review: the input is checked before the
/// gateway authorizes, so the answer is 4xx and nothing is recorded (the status
/// change with a bad date is the known case; these routes share it).
#[tokio::test]
async fn admin_requests_with_bad_input_are_refused_on_the_record() {
    let s = start().await;
    let rep = s.login("rep-a").await;
    // Well formed, the first is refused and recorded.
    let before = ledger_size(&s);
    check_error(rep.set_person_status("sec", "departed").await, 403, "denied");
    assert_eq!(ledger_size(&s), before + 1, "a refused status change is recorded");
    let long = "j".repeat(server::MAX_JUSTIFICATION_CHARS + 1);
    let erase = format!("/v1/customers/C-2?justification={long}");
    let cases: Vec<(Method, &str, &[u8])> = vec![
        (
            Method::POST,
            "/v1/people/sec/status",
            br#"{"status":"departing","last_day":"2026-02-30"}"#,
        ),
        (
            Method::POST,
            "/v1/people/sec/status",
            br#"{"status":"departed","notice_date":"tomorrow"}"#,
        ),
        (Method::GET, "/v1/access/unused?days=0", b""),
        (Method::GET, "/v1/audit?limit=0", b""),
        (
            Method::POST,
            "/v1/policy/explain",
            br#"{"person":"not an id","action":"customer.read","resource":"C-1"}"#,
        ),
        (Method::POST, "/v1/audit/evidence", br#"{"title":"line\nbreak"}"#),
        (Method::DELETE, erase.as_str(), b""),
    ];
    let mut unrecorded = Vec::new();
    for (method, path, body) in cases {
        let before = ledger_size(&s);
        let r = rep
            .raw(method.clone(), path, Some("application/json"), body.to_vec())
            .await
            .unwrap();
        assert!((400..500).contains(&r.status), "{method} {path}: {}", r.status);
        if ledger_size(&s) == before {
            let shown: String = path.chars().take(40).collect();
            unrecorded.push(format!("{method} {shown} -> {}", r.status));
        }
    }
    assert!(
        unrecorded.is_empty(),
        "refused admin requests with nothing in the ledger: {unrecorded:#?}"
    );
}

/// An access review of a person who does not exist answers 404, not 401 "no valid
/// session; log in": the caller's session is fine, and a client that believes the
/// 401 throws it away. Found in review: `GatewayError::UnknownPerson` (meant for a
/// caller who vanished) maps to 401, and `what_can`, `explain` and a document
/// upload naming an unknown custodian all return it.
#[tokio::test]
async fn an_unknown_person_named_in_a_request_is_not_found_not_unauthenticated() {
    let s = start().await;
    let sec = s.login("sec").await;
    check_error(sec.what_can("nobody").await, 404, "not_found");
    check_error(sec.explain("nobody", "customer.read", "C-1").await, 404, "not_found");
    let rep = s.login("rep-a").await;
    let r = rep
        .upload_document(&serde_json::json!({
            "title": "T", "file_name": "t.txt", "custodian": "nobody", "body_base64": ""
        }))
        .await;
    match r {
        Err(ClientError::Api { status, .. }) => assert_ne!(status, 401, "the session is valid"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The session still works after all three.
    rep.customers(None, None).await.unwrap();
}

/// Support may not create customers. Its attempt to create one with an id that is
/// taken must be refused as any attempt is (403, in the ledger), and must not tell
/// whether the id is taken. Found in review: `Gateway::create_customer` checks the
/// row and looks the id up before it authorizes, so the answer is 409 "conflict"
/// for a taken id and 201-or-403 for a free one, and the 409 is not recorded.
#[tokio::test]
async fn creating_a_customer_is_authorized_before_the_id_is_looked_up() {
    let s = start().await;
    let support = s.login("support").await;
    let before = ledger_size(&s);
    let taken = support
        .create_customer(&serde_json::json!({"id": "C-2", "name": "Probe"}))
        .await;
    let after_taken = ledger_size(&s);
    let free = support
        .create_customer(&serde_json::json!({"id": "C-999", "name": "Probe"}))
        .await;
    check_error(free, 403, "denied");
    check_error(taken, 403, "denied");
    assert_eq!(after_taken, before + 1, "the refusal is recorded");
}

/// Numbers given to documents uploaded without an id must not collide with an id
/// someone chose. Found in review: `add_document` names a new document
/// `D-{count + 1}` (the bug fixed for customers), so one upload with the explicit id
/// `D-00002` makes every later upload without an id, which includes every raw
/// upload, fail with "already exists", for everyone, for good.
#[tokio::test]
async fn an_explicit_document_id_does_not_block_later_uploads() {
    let s = start().await;
    let rep = s.login("rep-a").await;
    let body = base64::engine::general_purpose::STANDARD.encode(b"x");
    rep.upload_document(&serde_json::json!({
        "id": "D-00002", "title": "Mine", "file_name": "m.txt", "body_base64": body
    }))
    .await
    .unwrap();
    let other = s.login("rep-b").await;
    for _ in 0..2 {
        other
            .upload_document_bytes("notes.txt", b"later upload".to_vec())
            .await
            .expect("an upload without an id gets a free one");
    }
}

/// During bootstrap, anyone may call `POST /v1/bootstrap`. Without the code it must
/// not tell who the active security admins are, and each refusal is in the ledger.
/// Found in review: the person is checked before the code, so a wrong code with a
/// non-admin answers 422 "invalid" (unrecorded) and with an admin 403 (recorded).
#[tokio::test]
async fn bootstrap_without_the_code_tells_nothing_about_people() {
    let s = start_with(false).await;
    let _code = match server::issue_bootstrap_code(s.store.as_ref(), s.clock.now_ms(), false).unwrap() {
        server::BootstrapCode::Issued { code, .. } => code,
        other => panic!("expected a new code, got {other:?}"),
    };
    let c = s.client();
    let mut answers = Vec::new();
    for person in ["sec", "rep-a", "nobody"] {
        let before = ledger_size(&s);
        let r = c.bootstrap("a wrong code", person, PASSWORD).await;
        let (status, code) = match r {
            Err(ClientError::Api { status, code, .. }) => (status, code),
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(ledger_size(&s), before + 1, "{person}: the refusal is recorded");
        answers.push((status, code));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
}

/// `DELETE /v1/people/{id}/sessions` ends every session the person holds. Found in
/// review: it only moves the person's `sessions_valid_after` to the revoking
/// server's `now` and keeps every session created after that instant, by the clock
/// of whichever server created it; with several servers on one database, a session
/// made on a server whose clock runs ahead survives its revocation (here, a clock 5 s
/// ahead). Marking the rows revoked, as a password change does, has no such window.
#[tokio::test]
async fn a_revoked_session_does_not_survive_a_clock_that_runs_ahead() {
    let s = start().await;
    let sec = s.login("sec").await;
    let rep = s.login("rep-a").await;
    let created = s.clock.now_ms();
    // The revoking server's clock is 5 s behind the one that made the session.
    s.clock.set(created - 5_000);
    sec.revoke_person_sessions("rep-a").await.unwrap();
    s.clock.set(created + 1_000);
    check_error(rep.customers(None, None).await, 401, "unauthenticated");
}

/// A login of someone enrolled in TOTP sends the password and the code together, so
/// nothing obliges the server to say which of the two was wrong. Found in review: a
/// right password without a code (or with a wrong one) answers `mfa_required` or
/// `wrong_code`, a wrong password `unauthenticated`: whoever tries leaked passwords
/// against the accounts the policy guards with a second factor (security admins,
/// finance, executives) learns which password is right without the second factor.
#[tokio::test]
async fn a_login_without_the_second_factor_does_not_confirm_the_password() {
    let s = start().await;
    let mut c = s.client();
    let wrong_password = c.login("sec", "not the password at all").await;
    let right_password = c.login("sec", PASSWORD).await;
    let wrong_code = c.login_with_code("sec", PASSWORD, Some("000000"), None).await;
    let shape = |r: Result<serde_json::Value, ClientError>| match r {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let answers = [shape(wrong_password), shape(right_password), shape(wrong_code)];
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "the answers tell a right password from a wrong one: {answers:?}"
    );
}

/// People type their password into the name field now and then. Found in review:
/// every login counts its attempt under the name as typed (`count_attempt`, so that
/// unknown names are throttled too), which writes the name in clear to the store's
/// `auth_people` table, where it stays: a password typed as a name is kept in clear
/// for whoever reads the database. The ledger, by contrast, records such an attempt
/// as anonymous for this very reason.
#[tokio::test]
async fn a_password_typed_as_the_name_is_not_kept_in_clear() {
    let s = start().await;
    let mut c = s.client();
    let typed = "Tr0ub4dor&3-my-real-password";
    check_error(c.login(typed, "whatever was typed next").await, 401, "unauthenticated");
    let conn = rusqlite::Connection::open(s.store.path()).unwrap();
    let kept: i64 = conn
        .query_row("SELECT COUNT(*) FROM auth_people WHERE person = ?1", [typed], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kept, 0, "the name typed at login is stored in clear");
}
