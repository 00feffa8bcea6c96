//! Activity events for the risk engine: `POST /v1/events` (JSON lines from endpoint,
//! mail, proxy and HR connectors) and, in process, the gateway's own vault accesses.
//!
//! Events carry ids and counts only, never customer fields, so this route does not pass
//! the gateway: its handler gets [`EventsState`] (the risk engine, and the ledger only to
//! record each feed) and nothing else. Only security admins may feed events; a session
//! of anyone else gets 403. Either way the feed is recorded, and accepted events reach
//! the engine only once it is durable.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use gateway::{Action, AuditRecord, AuditResource, Gateway, RecordError, Recorder, Ticket};
use model::{CustomerId, Role};
use risk::{ActivitySink, Event, EventKind, HrEvent, RiskEngine};
use store::Store;

use crate::auth::Caller;
use crate::blocking;
use crate::error::ApiError;

/// The largest `POST /v1/events` body: split bigger batches into several requests.
pub const MAX_EVENTS_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Roles allowed to feed activity events.
pub const EVENT_FEEDER_ROLES: &[Role] = &[Role::SecurityAdmin];
/// A bulk read (list or search) of at least this many records counts as an export.
pub const EXPORT_MIN_RECORDS: u64 = 50;

/// The risk engine and where its state is kept.
pub struct RiskState {
    engine: Arc<RiskEngine>,
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for RiskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskState").finish_non_exhaustive()
    }
}

impl RiskState {
    /// The engine over the state saved in `store` (blob `risk/state`), or an empty one
    /// for a company `utc_offset_minutes` from UTC.
    pub fn open(store: Arc<dyn Store>, utc_offset_minutes: i32) -> Result<RiskState, RiskStateError> {
        let engine = match store.get_blob(risk::STATE_BLOB)? {
            Some(bytes) => RiskEngine::from_state_bytes(&bytes)?,
            None => RiskEngine::new(utc_offset_minutes),
        };
        Ok(RiskState {
            engine: Arc::new(engine),
            store,
        })
    }

    /// The engine events go into.
    pub fn engine(&self) -> &Arc<RiskEngine> {
        &self.engine
    }

    /// Saves the state in the store if events arrived since the last save.
    pub fn save_if_changed(&self) -> Result<bool, RiskStateError> {
        if !self.engine.is_dirty() {
            return Ok(false);
        }
        self.store.put_blob(risk::STATE_BLOB, &self.engine.state_bytes())?;
        Ok(true)
    }
}

impl RiskState {
    /// Scores everything so far and queues the alerts not yet forwarded (or escalated
    /// since) on `forwarder`, which sends them from its own thread; the alerts are then
    /// marked as forwarded in the store (blob `risk/forwarded`). Returns how many.
    pub fn forward_new_alerts(&self, forwarder: &risk::Forwarder) -> Result<usize, RiskStateError> {
        let report = self.engine.score(&risk::ScoringConfig::default())?;
        let mut log = match self.store.get_blob(risk::FORWARDED_BLOB)? {
            Some(bytes) => risk::ForwardLog::from_bytes(&bytes)?,
            None => risk::ForwardLog::default(),
        };
        let fresh: Vec<risk::Alert> = log.take_new(&report.alerts).into_iter().cloned().collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        for alert in &fresh {
            forwarder.submit(alert.clone());
        }
        self.store.put_blob(risk::FORWARDED_BLOB, &log.to_bytes())?;
        Ok(fresh.len())
    }
}

/// Why the risk state could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum RiskStateError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Risk(#[from] risk::RiskError),
}

/// What the events route is given: the risk engine, if enabled, and the ledger.
#[derive(Clone)]
pub struct EventsState {
    pub(crate) risk: Option<Arc<RiskState>>,
    pub(crate) ledger: EventsLedger,
}

/// The one thing the events route may do with the gateway: record a feed. It gives no
/// way to the vault.
#[derive(Clone)]
pub(crate) struct EventsLedger(pub(crate) Arc<Gateway>);

impl EventsLedger {
    fn record(&self, caller: &Caller, allowed: bool, events: u64, reason: &str) -> Result<(), ApiError> {
        self.0
            .record_events_feed(&caller.person, &caller.access, allowed, events, reason)
            .map_err(ApiError::from)
    }
}

fn is_json_lines(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/x-ndjson" | "application/jsonl" | "application/json-lines" | "application/json"
    )
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the events body exceeds {MAX_EVENTS_BODY_BYTES} bytes (8 MiB); split it into several requests"),
    )
}

/// `POST /v1/events`: JSON lines, one event per line. Malformed lines are counted and
/// reported with their line numbers; the valid ones are kept.
pub(crate) async fn ingest(
    State(state): State<EventsState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !EVENT_FEEDER_ROLES.contains(&caller.role) {
        // A refusal is a decision too; the answer is a deny whether or not it is recorded.
        let (ledger, caller) = (state.ledger.clone(), caller.clone());
        blocking(move || {
            if let Err(e) = ledger.record(&caller, false, 0, "builtin:not-an-event-feeder") {
                tracing::error!(error = %e, "a refused events feed could not be recorded");
            }
            Ok(())
        })
        .await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "denied",
            "only security admins may feed activity events",
        ));
    }
    let Some(risk) = state.risk else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_enabled",
            "risk analytics are not enabled on this server",
        ));
    };
    if !is_json_lines(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send events as application/x-ndjson: one JSON event per line",
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_EVENTS_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_EVENTS_BODY_BYTES).await.map_err(|e| {
        // A chunked body over the limit is only found while reading it.
        let mut cause: Option<&dyn std::error::Error> = Some(&e);
        while let Some(c) = cause {
            if c.to_string().contains("length limit") {
                return too_large();
            }
            cause = c.source();
        }
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read",
        )
    })?;
    let ledger = state.ledger;
    blocking(move || {
        let (events, report) = risk::parse_json_lines(&bytes);
        // Recorded before the engine takes them: events change whose risk is raised, and
        // a feed the ledger cannot show must not (found in review: feeds were in the
        // server log only, so whoever held an events token reshaped risk unseen).
        ledger.record(&caller, true, report.accepted, "builtin:event-feeder")?;
        risk.engine().add_events(&events);
        risk.save_if_changed().map_err(|e| ApiError::internal(&e))?;
        tracing::info!(
            person = %caller.person,
            accepted = report.accepted,
            rejected = report.rejected_count,
            "activity events ingested"
        );
        let errors: Vec<serde_json::Value> = report
            .rejected
            .iter()
            .map(|(line, reason)| serde_json::json!({"line": line, "reason": reason}))
            .collect();
        Ok(Json(serde_json::json!({
            "accepted": report.accepted,
            "rejected": report.rejected_count,
            "errors": errors,
        })))
    })
    .await
}

/// A [`Recorder`] that records through the ledger first and then hands the gateway's
/// allowed vault accesses (reads, searches, exports with record counts, document
/// downloads) to the risk engine as activity events, in process.
pub struct RiskRecorder {
    inner: Arc<dyn Recorder>,
    sink: Arc<dyn ActivitySink>,
    owners: OwnerIndex,
}

impl RiskRecorder {
    /// Wraps `inner` (the ledger); `store` tells whose accounts customers are.
    pub fn new(inner: Arc<dyn Recorder>, sink: Arc<dyn ActivitySink>, store: Arc<dyn Store>) -> RiskRecorder {
        RiskRecorder {
            inner,
            sink,
            owners: OwnerIndex {
                store,
                owners: RwLock::new(HashMap::new()),
            },
        }
    }
}

impl Recorder for RiskRecorder {
    fn submit(&self, record: &AuditRecord) -> Result<Ticket, RecordError> {
        let ticket = self.inner.submit(record)?;
        self.owners.forget_changed(record);
        if record.actor.starts_with("person:") && record.decision == "allow" {
            self.owners.load_missing(&record.resources);
        }
        let events = activity_events(record, &|id| self.owners.owner_of(id));
        if events.is_empty() {
            return Ok(ticket);
        }
        // Durable first: an event the ledger did not take never reaches the engine.
        let sink = Arc::clone(&self.sink);
        Ok(ticket.then(move || {
            for event in events {
                sink.record_activity(event);
            }
        }))
    }
}

/// Customer id → owner id, from the store's metadata (no plaintext), filled
/// as records name customers: the ones not known yet are read in one batch,
/// never the whole vault (which, with a million customers, would hold a
/// request's task for a second). An owner is set when a customer is created,
/// so the records that create, update or erase customers drop the ids they
/// name, and a bulk import (one record naming none) drops them all.
struct OwnerIndex {
    store: Arc<dyn Store>,
    owners: RwLock<HashMap<String, String>>,
}

impl OwnerIndex {
    fn forget_changed(&self, record: &AuditRecord) {
        let action = record.action.as_str();
        if ![Action::CustomerCreate, Action::CustomerUpdate, Action::CustomerErase]
            .iter()
            .any(|a| a.as_str() == action)
        {
            return;
        }
        let mut owners = self.owners.write().unwrap_or_else(|p| p.into_inner());
        let mut named = false;
        for resource in &record.resources {
            if let AuditResource::Customer(id) = resource {
                owners.remove(id);
                named = true;
            }
        }
        if !named {
            owners.clear();
        }
    }

    fn load_missing(&self, resources: &[AuditResource]) {
        let mut missing: Vec<CustomerId> = {
            let owners = self.owners.read().unwrap_or_else(|p| p.into_inner());
            resources
                .iter()
                .filter_map(|r| match r {
                    AuditResource::Customer(id) if !owners.contains_key(id) => Some(CustomerId(id.clone())),
                    _ => None,
                })
                .collect()
        };
        if missing.is_empty() {
            return;
        }
        missing.sort();
        missing.dedup();
        match self.store.get_customers(&missing) {
            Ok(found) => {
                let mut owners = self.owners.write().unwrap_or_else(|p| p.into_inner());
                owners.extend(found.into_iter().map(|c| (c.meta.id.0, c.meta.owner.0)));
            }
            Err(e) => tracing::warn!(error = %e, "risk: cannot read customer owners"),
        }
    }

    fn owner_of(&self, id: &str) -> Option<String> {
        let owners = self.owners.read().unwrap_or_else(|p| p.into_inner());
        owners.get(id).cloned()
    }
}

/// The activity events of one gateway decision: allowed vault accesses by a person,
/// and the DLP verdicts on what a person sent (an upload through the proxy, a file
/// scanned as theirs), stopped or not. Operators' actions, admin actions and other
/// denials give none.
pub fn activity_events(record: &AuditRecord, owner_of: &dyn Fn(&str) -> Option<String>) -> Vec<Event> {
    if record.action == Action::PersonUpdateStatus.as_str() {
        return status_events(record);
    }
    let Some(user) = record.actor.strip_prefix("person:") else {
        return Vec::new();
    };
    if record.action.starts_with("dlp.scan.") {
        // The reasons are the verdict, the rules that applied (plain words, as the
        // DLP policy names them), then notes of the form `kind:detail`.
        let rules = record
            .reasons
            .iter()
            .skip(1)
            .filter(|reason| !reason.contains(':'))
            .count();
        return vec![Event {
            ts_ms: record.time,
            user: user.to_string(),
            kind: EventKind::DlpScan {
                matches: u32::try_from(rules).unwrap_or(u32::MAX),
                blocked: record.decision == "deny",
            },
        }];
    }
    if record.decision != "allow" {
        return Vec::new();
    }
    let customers: Vec<&str> = record
        .resources
        .iter()
        .filter_map(|r| match r {
            AuditResource::Customer(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let own = |id: &str| owner_of(id).as_deref() == Some(user);
    let export = || {
        let mut distinct = customers.clone();
        distinct.sort_unstable();
        distinct.dedup();
        EventKind::VaultExport {
            records: record.record_count,
            customers: distinct.len() as u64,
            own_account: distinct.iter().all(|id| own(id)),
        }
    };
    let kinds = match record.action.as_str() {
        "customer.read" => customers
            .iter()
            .map(|id| EventKind::VaultRead {
                customer: Some((*id).to_string()),
                own_account: own(id),
            })
            .collect(),
        "customer.export" => vec![export()],
        "customer.search" if record.record_count >= EXPORT_MIN_RECORDS => vec![export()],
        "customer.search" => vec![EventKind::VaultSearch {
            results: record.record_count,
        }],
        "document.download" => vec![EventKind::DocumentDownload {
            customer: None,
            own_account: true,
        }],
        _ => Vec::new(),
    };
    kinds
        .into_iter()
        .map(|kind| Event {
            ts_ms: record.time,
            user: user.to_string(),
            kind,
        })
        .collect()
}

/// The HR events of a status change the gateway recorded (by HR, an operator or
/// an import naming the person): notice given, with the last day when known, or
/// the departure, for the person changed, whoever changed it.
fn status_events(record: &AuditRecord) -> Vec<Event> {
    let field = |name: &str| {
        record
            .fields
            .iter()
            .find_map(|f| f.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
    };
    let hr = match field("status") {
        Some("departing") => HrEvent::ResignationNotice {
            // Noon UTC of the last day: within that day in every time zone.
            last_day_ms: field("last_day")
                .and_then(model::day_number)
                .map(|day| day * 86_400_000 + 12 * 3_600_000),
        },
        Some("departed") => HrEvent::LastDay,
        _ => return Vec::new(),
    };
    record
        .resources
        .iter()
        .filter_map(|r| match r {
            AuditResource::Person(id) => Some(Event {
                ts_ms: record.time,
                user: id.clone(),
                kind: EventKind::Hr(hr.clone()),
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn record(actor: &str, action: &str, decision: &str, customers: &[&str]) -> AuditRecord {
        AuditRecord {
            time: 1_000,
            actor: actor.into(),
            action: action.into(),
            resources: customers.iter().map(|c| AuditResource::Customer((*c).into())).collect(),
            decision: decision.into(),
            reasons: vec![],
            record_count: customers.len() as u64,
            withheld_count: 0,
            fields: vec![],
            client_address: None,
            user_agent: None,
            device: None,
            justification: None,
        }
    }

    fn owner(id: &str) -> Option<String> {
        Some(if id.starts_with("A") { "rep-a" } else { "rep-b" }.to_string())
    }

    #[test]
    fn vault_accesses_become_events_and_the_rest_do_not() {
        let read = activity_events(&record("person:rep-a", "customer.read", "allow", &["B1"]), &owner);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].user, "rep-a");
        assert_eq!(
            read[0].kind,
            EventKind::VaultRead {
                customer: Some("B1".into()),
                own_account: false
            }
        );
        let small = activity_events(
            &record("person:rep-a", "customer.search", "allow", &["A1", "A2"]),
            &owner,
        );
        assert_eq!(small[0].kind, EventKind::VaultSearch { results: 2 });
        let ids: Vec<String> = (0..60).map(|i| format!("A{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let export = activity_events(&record("person:rep-a", "customer.search", "allow", &ids), &owner);
        assert_eq!(
            export[0].kind,
            EventKind::VaultExport {
                records: 60,
                customers: 60,
                own_account: true
            }
        );
        let mut download = record("person:rep-a", "document.download", "allow", &[]);
        download.resources = vec![AuditResource::Document("D-1".into())];
        assert!(matches!(
            activity_events(&download, &owner)[0].kind,
            EventKind::DocumentDownload { .. }
        ));
        for r in [
            record("person:rep-a", "customer.read", "deny", &["B1"]),
            record("operator:root", "customer.read", "allow", &["B1"]),
            record("person:rep-a", "policy.replace", "admin", &[]),
        ] {
            assert!(activity_events(&r, &owner).is_empty(), "{r:?}");
        }
    }

    #[test]
    fn status_changes_are_hr_events_of_the_person_changed() {
        let change = |fields: &[&str]| {
            let mut r = record("operator:hr", "person.update_status", "admin", &[]);
            r.resources = vec![AuditResource::Person("rep-a".into())];
            r.fields = fields.iter().map(|f| f.to_string()).collect();
            activity_events(&r, &owner)
        };
        let notice = change(&["status=departing", "last_day=2026-12-31"]);
        assert_eq!(notice.len(), 1);
        assert_eq!((notice[0].user.as_str(), notice[0].ts_ms), ("rep-a", 1_000));
        let last_day_ms = model::day_number("2026-12-31").unwrap() * 86_400_000 + 12 * 3_600_000;
        assert_eq!(
            notice[0].kind,
            EventKind::Hr(HrEvent::ResignationNotice {
                last_day_ms: Some(last_day_ms)
            })
        );
        assert_eq!(
            change(&["status=departing"])[0].kind,
            EventKind::Hr(HrEvent::ResignationNotice { last_day_ms: None })
        );
        assert_eq!(change(&["status=departed"])[0].kind, EventKind::Hr(HrEvent::LastDay));
        assert!(change(&["status=active"]).is_empty());
        // A bulk import names nobody: no event.
        let mut import = record("operator:hr", "person.update_status", "admin", &[]);
        import.fields = vec!["status=departing".into()];
        assert!(activity_events(&import, &owner).is_empty());
    }

    #[test]
    fn what_a_person_sends_is_an_event_stopped_or_not() {
        let mut upload = record("person:rep-a", "dlp.scan.upload", "deny", &["A1", "B1"]);
        upload.reasons = vec![
            "verdict:block".into(),
            "customer record leaving".into(),
            "departing with customer records".into(),
            "sender:unknown-name".into(),
        ];
        let events = activity_events(&upload, &owner);
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].user.as_str(), events[0].ts_ms), ("rep-a", 1_000));
        assert_eq!(
            events[0].kind,
            EventKind::DlpScan {
                matches: 2,
                blocked: true
            }
        );
        let mut clean = record("person:rep-a", "dlp.scan.file", "allow", &[]);
        clean.reasons = vec!["verdict:allow".into()];
        assert_eq!(
            activity_events(&clean, &owner)[0].kind,
            EventKind::DlpScan {
                matches: 0,
                blocked: false
            }
        );
        // The proxy's own verdicts on people it could not name are nobody's activity.
        assert!(activity_events(&record("operator:icap", "dlp.scan.upload", "deny", &["A1"]), &owner).is_empty());
        // Rules are told from notes by their plain names.
        for rule in dlp::Policy::default().rules {
            assert!(!rule.name.contains(':'), "{}", rule.name);
        }
    }

    struct Accept;
    impl Recorder for Accept {
        fn submit(&self, _: &AuditRecord) -> Result<Ticket, RecordError> {
            Ok(Ticket::durable())
        }
    }

    struct Collect(std::sync::Mutex<Vec<Event>>);
    impl ActivitySink for Collect {
        fn record_activity(&self, event: Event) {
            self.0.lock().unwrap().push(event);
        }
    }

    #[test]
    fn owners_are_read_for_the_customers_named_and_forgotten_when_customers_change() {
        use store::conformance::sample_customer;
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(store::SqliteStore::create(dir.path()).unwrap());
        store.insert_customers(&[sample_customer("A1", "rep-a")]).unwrap();
        let sink = Arc::new(Collect(std::sync::Mutex::new(Vec::new())));
        let recorder = RiskRecorder::new(Arc::new(Accept), sink.clone(), Arc::clone(&store));
        let submit = |actor: &str, action: &str, customers: &[&str]| {
            recorder
                .submit(&record(actor, action, "allow", customers))
                .unwrap()
                .wait()
                .unwrap();
        };
        let own_read = |customer: &str| {
            submit("person:rep-a", "customer.read", &[customer]);
            match sink.0.lock().unwrap().last().map(|e| e.kind.clone()) {
                Some(EventKind::VaultRead { own_account, .. }) => own_account,
                other => panic!("not a read: {other:?}"),
            }
        };
        assert!(own_read("A1"));
        assert!(!own_read("B9"), "an unknown customer is nobody's own");

        // Created after the first lookup: read when first named.
        store.insert_customers(&[sample_customer("A2", "rep-a")]).unwrap();
        assert!(own_read("A2"));

        // Erased and created again for another owner: the records forget the old owner.
        submit("person:sec", "customer.erase", &["A1"]);
        store.erase_customer(&CustomerId("A1".into())).unwrap();
        store.insert_customers(&[sample_customer("A1", "rep-b")]).unwrap();
        submit("person:rep-b", "customer.create", &["A1"]);
        assert!(!own_read("A1"));

        // A bulk import names no customer: every owner is read again.
        store.erase_customer(&CustomerId("A2".into())).unwrap();
        store.insert_customers(&[sample_customer("A2", "rep-b")]).unwrap();
        assert!(own_read("A2"), "still the owner as first read");
        submit("operator:import", "customer.create", &[]);
        assert!(!own_read("A2"));
    }
}
