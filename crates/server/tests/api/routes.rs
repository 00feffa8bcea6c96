//! The write, review and documentation routes over HTTP, allowed and denied,
//! and the OpenAPI contract.

use std::collections::BTreeSet;

use base64::Engine as _;

use super::*;

#[tokio::test]
async fn a_rep_creates_updates_their_customers_and_injection_strings_are_just_text() {
    let s = start().await;
    let c = s.login("rep-a").await;
    let sql = "Robert'); DROP TABLE customers;--";
    let html = "<script>alert(1)</script>";
    let created = c
        .create_customer(&serde_json::json!({
            "id": "C-100", "name": sql, "company": html, "emails": ["bobby@example.com"],
            "phones": ["+84 918 123 456"], "country": "VN"
        }))
        .await
        .unwrap();
    assert_eq!(created["id"], "C-100");
    assert_eq!(created["owner"], "rep-a");
    let read = c.customer("C-100").await.unwrap();
    assert_eq!(read["fields"]["name"], sql);
    assert_eq!(read["fields"]["company"], html);
    assert_eq!(s.store.count_customers().unwrap(), 4, "the table is still there");

    // Another rep's account: neither created nor updated.
    check_error(
        c.create_customer(&serde_json::json!({"name": "X", "owner": "rep-b"}))
            .await,
        403,
        "denied",
    );
    check_error(
        c.update_customer("C-2", &serde_json::json!({"notes": "mine now"}))
            .await,
        403,
        "denied",
    );
    check_error(
        c.update_customer("C-404", &serde_json::json!({"notes": "x"})).await,
        404,
        "not_found",
    );
    check_error(
        c.create_customer(&serde_json::json!({"id": "C-100", "name": "again"}))
            .await,
        409,
        "conflict",
    );

    let updated = c
        .update_customer(
            "C-100",
            &serde_json::json!({"notes": "renewal in May", "company": "Acme"}),
        )
        .await
        .unwrap();
    assert_eq!(updated["fields"]["notes"], "renewal in May");
    assert_eq!(updated["fields"]["name"], sql, "fields not in the patch are kept");
    assert_eq!(updated["fields"]["phones"][0], "+84918123456");

    // Bad input: nothing stored.
    let bad: &[(&[u8], u16)] = &[
        (b"{\"name\":", 400),
        (br#"{"name":"X","colour":"red"}"#, 422),
        (br#"{"name":"a\u0007b"}"#, 422),
        (br#"{"name":"X","emails":["not an email"]}"#, 422),
        (br#"{"name":"X","id":"../C-1"}"#, 422),
        // A rep may create only customers they own: an owner who is no person is
        // refused by the policy before it is looked up.
        (br#"{"name":"X","owner":"nobody"}"#, 403),
    ];
    for (body, status) in bad {
        let r = c
            .raw(Method::POST, "/v1/customers", Some("application/json"), body.to_vec())
            .await
            .unwrap();
        assert_eq!(
            r.status,
            *status,
            "{}: {}",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(s.store.count_customers().unwrap(), 4, "nothing stored");
}

#[tokio::test]
async fn only_a_justified_security_admin_with_fresh_mfa_erases() {
    let s = start().await;
    let rep = s.login("rep-a").await;
    check_error(rep.erase_customer("C-1", Some("gdpr request")).await, 403, "denied");
    // A security admin's session does not claim fresh MFA yet (TOTP comes
    // separately), and the default policy's erasure needs a justification.
    let sec = s.login("sec").await;
    check_error(sec.erase_customer("C-1", None).await, 403, "denied");
    assert!(s
        .store
        .get_customer(&model::CustomerId("C-1".into()))
        .unwrap()
        .is_some());
    // Through the gateway with a justification the erasure happens.
    let ctx = AccessContext {
        justification: Some("gdpr request".into()),
        mfa_fresh: true,
        ..Default::default()
    };
    s.gateway
        .erase_customer(
            &Actor::Person(PersonId("sec".into())),
            &ctx,
            &model::CustomerId("C-1".into()),
        )
        .unwrap();
    check_error(rep.customer("C-1").await, 404, "not_found");
}

#[tokio::test]
async fn documents_are_uploaded_as_json_or_bytes_and_unsafe_names_store_nothing() {
    let s = start().await;
    let c = s.login("rep-a").await;
    let body = base64::engine::general_purpose::STANDARD.encode(b"price list v2");
    let meta = c
        .upload_document(&serde_json::json!({"title": "Prices", "file_name": "prices.txt", "body_base64": body}))
        .await
        .unwrap();
    assert_eq!(meta["custodian"], "rep-a");
    let id = meta["id"].as_str().unwrap().to_owned();
    assert_eq!(c.document_content(&id).await.unwrap(), b"price list v2");
    let raw = c
        .upload_document_bytes("notes.bin", b"\x00\x01raw".to_vec())
        .await
        .unwrap();
    assert_eq!(raw["file_name"], "notes.bin");
    // Another custodian's document: refused by policy.
    check_error(
        c.upload_document(&serde_json::json!({
            "title": "Theirs", "file_name": "t.txt", "custodian": "rep-b", "body_base64": ""
        }))
        .await,
        403,
        "denied",
    );
    let before = s.store.list_documents().unwrap().len();
    for name in [
        "../etc/passwd",
        "a/b.txt",
        "a\\b.txt",
        "x\u{0}y",
        "tab\there",
        "..",
        "evil..txt",
    ] {
        let r = c
            .upload_document(&serde_json::json!({"title": "T", "file_name": name, "body_base64": ""}))
            .await;
        check_error(r, 400, "bad_file_name");
        check_error(c.upload_document_bytes(name, b"x".to_vec()).await, 400, "bad_file_name");
    }
    let r = c
        .raw(Method::POST, "/v1/documents", Some("text/plain"), b"hello".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status, 415);
    let r = c
        .upload_document(&serde_json::json!({"title": "T", "file_name": "a.txt", "body_base64": "***"}))
        .await;
    check_error(r, 422, "invalid");
    assert_eq!(s.store.list_documents().unwrap().len(), before, "nothing stored");
}

#[tokio::test]
async fn people_policy_and_access_reviews_need_fresh_mfa_over_http() {
    let s = start().await;
    let sec = s.login("sec").await;
    // A login with a TOTP code is fresh: the reviews are allowed over HTTP...
    assert!(sec.people().await.unwrap()["people"].as_array().unwrap().len() >= 5);
    assert!(sec.policy().await.is_ok());
    assert!(sec.who_can("C-1").await.is_ok());
    assert!(sec.what_can("rep-a").await.is_ok());
    // ...until the factor is stale (the default policy's admin-needs-fresh-mfa).
    s.clock.advance_ms(server::MFA_FRESH_MS + 60_000);
    check_error(sec.people().await, 403, "denied");
    check_error(sec.person("rep-a").await, 403, "denied");
    check_error(sec.set_person_status("rep-a", "departing").await, 403, "denied");
    check_error(sec.policy().await, 403, "denied");
    check_error(sec.replace_policy(policy::DEFAULT_POLICIES).await, 403, "denied");
    check_error(sec.explain("rep-a", "customer.read", "C-1").await, 403, "denied");
    check_error(sec.who_can("C-1").await, 403, "denied");
    check_error(sec.what_can("rep-a").await, 403, "denied");
    check_error(sec.unused_access(Some(30)).await, 403, "denied");
    // Authorized before the input is checked: refused by policy, whatever the input.
    check_error(sec.unused_access(Some(0)).await, 403, "denied");
    // Fresh again, the bad input is refused as such, and on the record.
    let fresh = s.login("sec").await;
    let before = ledger::LedgerStore::size(s.store.as_ref()).unwrap();
    check_error(fresh.unused_access(Some(0)).await, 400, "bad_query");
    assert_eq!(ledger::LedgerStore::size(s.store.as_ref()).unwrap(), before + 1);
    let rep = s.login("rep-a").await;
    check_error(rep.people().await, 403, "denied");
    check_error(rep.set_person_status("rep-b", "departed").await, 403, "denied");
    let r = rep
        .raw(
            Method::POST,
            "/v1/people/rep-b/status",
            Some("application/json"),
            br#"{"status":"gone"}"#.to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    assert_eq!(
        s.store.get_person(&PersonId("rep-b".into())).unwrap().unwrap().status,
        EmploymentStatus::Active
    );
    // With fresh MFA (as TOTP will give), the same reviews are allowed.
    let ctx = AccessContext {
        mfa_fresh: true,
        ..Default::default()
    };
    let admin = Actor::Person(PersonId("sec".into()));
    assert!(!s.gateway.list_people(&admin, &ctx).unwrap().is_empty());
    assert!(s
        .gateway
        .who_can(&admin, &ctx, "C-1")
        .unwrap()
        .iter()
        .any(|w| w.person.as_str() == "rep-a"));
}

#[tokio::test]
async fn policies_are_validated_with_line_and_column() {
    let s = start().await;
    // Only for those who may read the policy: the parser is work no one else needs to
    // give the server (found in review: 150 nested parentheses from an engineer
    // overflowed its stack and took the process down).
    let rep = s.login("rep-a").await;
    check_error(rep.validate_policy(policy::DEFAULT_POLICIES).await, 403, "denied");
    let c = s.login("sec").await;
    let deep = format!(
        "@id(\"deep\")\npermit (principal, action, resource) when {{ {}true{} }};",
        "(".repeat(150),
        ")".repeat(150)
    );
    check_error(c.validate_policy(&deep).await, 422, "invalid_policy");
    assert!(c.health().await.is_ok());
    let ok = c.validate_policy(policy::DEFAULT_POLICIES).await.unwrap();
    assert_eq!(ok["valid"], true);
    assert!(ok["policies"].as_u64().unwrap() > 10);
    match c
        .validate_policy("permit (principal, action, resource) when { nonsense };")
        .await
    {
        Err(ClientError::Api { status, code, message }) => {
            assert_eq!((status, code.as_str()), (422, "invalid_policy"));
            assert!(!message.is_empty());
        }
        other => panic!("expected invalid_policy, got {other:?}"),
    }
}

#[tokio::test]
async fn audit_verification_and_evidence_need_fresh_mfa_over_http() {
    let s = start().await;
    let sec = s.login("sec").await;
    // Fresh from a TOTP login: verification and evidence over HTTP...
    assert_eq!(sec.verify_audit().await.unwrap()["ok"], true);
    assert!(sec
        .audit_evidence(&serde_json::json!({"title": "incident 0"}))
        .await
        .is_ok());
    // ...and refused once the factor is stale.
    s.clock.advance_ms(server::MFA_FRESH_MS + 60_000);
    check_error(sec.verify_audit().await, 403, "denied");
    check_error(
        sec.audit_evidence(&serde_json::json!({"title": "incident 1"})).await,
        403,
        "denied",
    );
    check_error(
        sec.audit_evidence(&serde_json::json!({"title": "x", "colour": 1}))
            .await,
        422,
        "invalid",
    );
    let ctx = AccessContext {
        mfa_fresh: true,
        ..Default::default()
    };
    let admin = Actor::Person(PersonId("sec".into()));
    let report = s.gateway.audit_verify_ledger(&admin, &ctx).unwrap();
    assert!(report.is_ok(), "{:?}", report.findings);
    assert!(report.entries_checked > 0);
    let query = gateway::AuditQuery::default();
    let (bundle, _) = s.gateway.audit_evidence(&admin, &ctx, &query, "incident 1").unwrap();
    assert!(!bundle.is_empty());
}

/// The (method, path) pairs of the OpenAPI document.
fn documented(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                let responses = op["responses"].as_object().unwrap();
                let error = responses
                    .iter()
                    .find(|(status, _)| status.starts_with('4'))
                    .unwrap_or_else(|| panic!("{method} {path} lists no error response"));
                let schema = &error.1["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ErrorBody",
                    "{method} {path}: the error response is not the error shape"
                );
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let s = start().await;
    let doc = s.client().openapi().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let served: BTreeSet<(String, String)> = server::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented(&doc), served);
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}
