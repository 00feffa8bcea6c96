//! Exports over HTTP: files with neutralized cells, export controls by size
//! (justification, approval, fresh MFA, a hard limit), the approval queue,
//! and departing people.

use client::Export;
use gateway::{AccessContext, Actor, AuditQuery};

use super::*;

const EVIL: &str = r#"=HYPERLINK("http://evil","x")"#;

/// The default policy with the export thresholds lowered so that a few
/// records exercise them: justification above 1, approval above 2, fresh
/// MFA above 3, refused above 4 (the default's tiers, in the same order).
fn small_thresholds() -> String {
    let text = policy::DEFAULT_POLICIES;
    // Longest first: "> 5000" is a prefix of "> 50000".
    let lowered = text
        .replace("context.record_count > 50000", "context.record_count > 4")
        .replace("context.record_count > 1000", "context.record_count > 1")
        .replace("context.record_count > 2000", "context.record_count > 2")
        .replace("context.record_count > 5000", "context.record_count > 3");
    assert_eq!(lowered.matches("context.record_count > ").count(), 4);
    assert_ne!(lowered, text);
    lowered
}

fn operator() -> Actor {
    Actor::Operator { name: "test".into() }
}

/// The ledger's entries for `action`, read as the operator.
fn entries(s: &Server, action: &str) -> Vec<ledger::Entry> {
    let query = AuditQuery {
        action: Some(action.into()),
        ..Default::default()
    };
    s.gateway
        .audit_search(&operator(), &AccessContext::default(), &query, 100)
        .unwrap()
}

fn header<'a>(raw: &'a client::RawResponse, name: &str) -> &'a str {
    raw.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn file(export: Export) -> client::RawResponse {
    match export {
        Export::File(raw) => raw,
        Export::Queued { id } => panic!("expected a file, got queued export {id}"),
    }
}

#[tokio::test]
async fn an_export_is_a_file_with_formulas_neutralized_and_is_recorded_with_its_count() {
    let s = start().await;
    let mut evil = customer("C-9", "rep-a", "+84 915 666 777");
    evil.display_name = EVIL.into();
    s.gateway
        .import_customers(&operator(), &AccessContext::default(), vec![evil], false, &|_| {})
        .unwrap();
    let c = s.login("rep-a").await;
    let body = serde_json::json!({"format": "csv", "justification": "quarterly review"});
    let raw = file(c.export(&body).await.unwrap());
    assert_eq!(raw.status, 200);
    assert!(header(&raw, "content-type").starts_with("text/csv"));
    assert!(header(&raw, "content-disposition").starts_with("attachment"));
    let text = String::from_utf8(raw.body).unwrap();
    assert!(text.contains(r#"'=HYPERLINK"#), "{text}");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "rep-a owns C-1, C-3 and C-9");
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "unsafe cell {cell:?}");
        }
    }
    let recorded = entries(&s, "customer.export");
    let newest = recorded.first().unwrap();
    assert_eq!(newest.decision, ledger::Decision::Allow);
    assert_eq!(newest.record_count, 3);
    assert_eq!(newest.justification, "quarterly review");
    assert!(
        !format!("{newest:?}").contains("HYPERLINK"),
        "no plaintext in the ledger"
    );

    let xlsx = file(c.export(&serde_json::json!({"format": "xlsx"})).await.unwrap());
    assert_eq!(xlsx.status, 200);
    assert!(header(&xlsx, "content-type").contains("spreadsheetml"));
    assert!(xlsx.body.starts_with(b"PK"), "an XLSX is a zip");
}

#[tokio::test]
async fn support_may_not_export_and_the_refusal_is_recorded() {
    let s = start().await;
    // Support may read but not export: refused, and the refusal recorded.
    let c = s.login("support").await;
    check_error(c.export(&serde_json::json!({"format": "csv"})).await, 403, "denied");
    let recorded = entries(&s, "customer.export");
    assert_eq!(recorded.first().unwrap().decision, ledger::Decision::Deny);
}

#[tokio::test]
async fn departing_people_cannot_export() {
    let s = start().await;
    let c = s.login("rep-a").await;
    s.set_status("rep-a", EmploymentStatus::Departing);
    check_error(c.export(&serde_json::json!({"format": "csv"})).await, 403, "denied");
}

#[tokio::test]
async fn export_controls_by_size_justification_mfa_and_a_hard_limit() {
    let s = start_with_policy(Some(small_thresholds())).await;
    let rows = vec![
        customer("C-4", "rep-a", "+84 916 000 001"),
        customer("C-5", "rep-a", "+84 916 000 002"),
        customer("C-6", "rep-a", "+84 916 000 003"),
    ];
    s.gateway
        .import_customers(&operator(), &AccessContext::default(), rows, false, &|_| {})
        .unwrap();
    let c = s.login("rep-a").await;
    let export = |limit: usize, justification: Option<&str>| serde_json::json!({"filter": {"limit": limit}, "format": "csv", "justification": justification});
    assert_eq!(file(c.export(&export(1, None)).await.unwrap()).status, 200);
    match c.export(&export(2, None)).await {
        Err(ClientError::Api {
            status: 403, message, ..
        }) => {
            assert!(message.contains("export-large-needs-justification"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(file(c.export(&export(2, Some("renewals"))).await.unwrap()).status, 200);
    match c.export(&export(4, Some("renewals"))).await {
        Err(ClientError::Api {
            status: 403, message, ..
        }) => {
            assert!(message.contains("export-large-needs-fresh-mfa"), "{message}");
        }
        other => panic!("expected a refusal for lack of MFA, got {other:?}"),
    }
    match c.export(&export(5, Some("renewals"))).await {
        Err(ClientError::Api {
            status: 403, message, ..
        }) => {
            assert!(message.contains("export-too-large"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let refused = entries(&s, "customer.export");
    let newest = refused.first().unwrap();
    assert_eq!((newest.decision, newest.record_count), (ledger::Decision::Deny, 5));
    assert_eq!(newest.justification, "renewals");
}

/// Gives rep-a a third account, so that exporting all of theirs needs approval.
fn third_account(s: &Server) {
    let row = customer("C-7", "rep-a", "+84 917 000 007");
    s.gateway
        .import_customers(&operator(), &AccessContext::default(), vec![row], false, &|_| {})
        .unwrap();
}

#[tokio::test]
async fn an_export_waits_for_the_managers_approval_and_is_downloaded_once() {
    let s = start_with_policy(Some(small_thresholds())).await;
    third_account(&s);
    let rep = s.login("rep-a").await;
    let body = serde_json::json!({"filter": {"owner": "rep-a"}, "format": "csv", "justification": "territory plan"});
    let Export::Queued { id } = rep.export(&body).await.unwrap() else {
        panic!("three records need approval");
    };
    // Nobody downloads before the approval; nobody approves their own.
    check_error(rep.download_export(&id).await, 403, "denied");
    check_error(rep.approve_export(&id).await, 403, "denied");
    let other = s.login("rep-b").await;
    check_error(other.approve_export(&id).await, 403, "denied");
    assert!(other.pending_exports().await.unwrap()["exports"]
        .as_array()
        .unwrap()
        .is_empty());

    let mgr = s.login("mgr").await;
    let pending = mgr.pending_exports().await.unwrap();
    assert_eq!(pending["exports"][0]["id"], id.as_str());
    assert_eq!(pending["exports"][0]["justification"], "territory plan");
    let approved = mgr.approve_export(&id).await.unwrap();
    assert_eq!(approved["export"]["state"], "approved");
    check_error(mgr.reject_export(&id).await, 403, "denied");

    check_error(other.download_export(&id).await, 404, "not_found");
    let raw = rep.download_export(&id).await.unwrap();
    assert!(header(&raw, "content-disposition").starts_with("attachment"));
    let rows = csv::Reader::from_reader(raw.body.as_slice()).records().count();
    assert_eq!(rows, 3, "rep-a owns C-1, C-3 and C-7");
    check_error(rep.download_export(&id).await, 403, "denied");

    let approvals = entries(&s, "export.approve");
    assert!(approvals
        .iter()
        .any(|e| e.decision == ledger::Decision::Allow && e.actor == "person:mgr"));
    assert!(approvals
        .iter()
        .any(|e| e.decision == ledger::Decision::Deny && e.actor == "person:rep-a"));
}

#[tokio::test]
async fn a_rejected_export_or_a_requester_now_departing_gets_nothing() {
    let s = start_with_policy(Some(small_thresholds())).await;
    third_account(&s);
    let rep = s.login("rep-a").await;
    let mgr = s.login("mgr").await;
    let body = serde_json::json!({"format": "xlsx", "justification": "plan"});
    let Export::Queued { id: rejected } = rep.export(&body).await.unwrap() else {
        panic!("queued expected");
    };
    assert_eq!(
        mgr.reject_export(&rejected).await.unwrap()["export"]["state"],
        "rejected"
    );
    check_error(rep.download_export(&rejected).await, 403, "denied");
    assert_eq!(entries(&s, "export.reject").len(), 1);

    let Export::Queued { id } = rep.export(&body).await.unwrap() else {
        panic!("queued expected");
    };
    mgr.approve_export(&id).await.unwrap();
    s.set_status("rep-a", EmploymentStatus::Departing);
    check_error(rep.download_export(&id).await, 403, "denied");
}

#[tokio::test]
async fn bad_export_requests_are_4xx() {
    let s = start().await;
    let c = s.login("rep-a").await;
    let cases: &[(&str, u16)] = &[
        (r#"{"format":"pdf"}"#, 422),
        (r#"{"format":"csv","colour":"red"}"#, 422),
        (r#"{"format":"csv","filter":{"limit":0}}"#, 422),
        (r#"{"format":"csv","justification":"a\u0000b"}"#, 422),
        (r#"{"format":"csv""#, 400),
    ];
    for (body, status) in cases {
        let r = c
            .raw(
                Method::POST,
                "/v1/exports",
                Some("application/json"),
                body.as_bytes().to_vec(),
            )
            .await
            .unwrap();
        assert_eq!(r.status, *status, "{body}: {}", String::from_utf8_lossy(&r.body));
    }
    let r = c
        .raw(Method::POST, "/v1/exports", Some("text/plain"), b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status, 415);
    check_error(c.download_export("X-nope").await, 404, "not_found");
    check_error(c.approve_export("X-nope").await, 404, "not_found");
}
