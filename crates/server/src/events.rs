//! Activity events for the risk engine: `POST /v1/events` (JSON lines from endpoint,
//! mail, proxy and HR connectors), and the audit ledger's entries, which the engine
//! follows ([`RiskState::catch_up`]): vault accesses, DLP verdicts and status changes
//! reach risk analytics from whichever process recorded them.
//!
//! Events carry ids and counts only, never customer fields, so this route does not pass
//! the gateway: its handler gets [`EventsState`] (the risk engine, and the ledger only to
//! record each feed) and nothing else. Only security admins may feed events; a session
//! of anyone else gets 403. Either way the feed is recorded, and accepted events reach
//! the engine only once it is durable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use gateway::{Action, Gateway};
use ledger::{Entry, ResourceId};
use model::{CustomerId, Role};
use risk::{Event, EventKind, HrEvent, RiskEngine};
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

/// Entries read from the ledger per store query while catching up.
const FOLLOW_BATCH: usize = 1024;

/// The risk engine, where its state is kept, and how far it has read the ledger.
pub struct RiskState {
    engine: Arc<RiskEngine>,
    store: Arc<dyn Store>,
    /// Held while reading the ledger, so two readers never take one entry twice.
    owners: Mutex<OwnerIndex>,
}

impl std::fmt::Debug for RiskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskState").finish_non_exhaustive()
    }
}

impl RiskState {
    /// The engine over the state saved in `store` (blob `risk/state`), or an empty one
    /// for a company `utc_offset_minutes` from UTC. A state that never read the ledger
    /// (new, or made by `custodia risk import-cert` or `ingest`) reads it from its first
    /// entry; one saved before the engine followed the ledger (format version 1, when
    /// the server handed the engine its own accesses) resumes at the ledger's end.
    pub fn open(store: Arc<dyn Store>, utc_offset_minutes: i32) -> Result<RiskState, RiskStateError> {
        let engine = match store.get_blob(risk::STATE_BLOB)? {
            Some(bytes) => RiskEngine::from_state_bytes(&bytes)?,
            None => RiskEngine::new(utc_offset_minutes),
        };
        if engine.ledger_next().is_none() && engine.predates_ledger_positions() {
            engine.set_ledger_next(store.size()?);
        }
        Ok(RiskState {
            engine: Arc::new(engine),
            owners: Mutex::new(OwnerIndex {
                store: Arc::clone(&store),
                owners: HashMap::new(),
            }),
            store,
        })
    }

    /// The engine events go into.
    pub fn engine(&self) -> &Arc<RiskEngine> {
        &self.engine
    }

    /// Reads into the engine the activity of the ledger entries recorded since the last
    /// call, by this process or any other on the same store (`custodia scan --as`, an
    /// HR import from the command line, another server): allowed vault accesses,
    /// what people sent through DLP, status changes.
    ///
    /// Only what the ledger's store holds reaches the engine. It reads entries once
    /// committed, which with SQLite may be a few milliseconds before they are flushed
    /// to disk. An entry that cannot be decoded (a damaged row, or a format of a newer
    /// version) is passed over and reported, so one does not stop risk analytics; the
    /// ledger's verification names it too. Batches are read one at a time under a
    /// lock, each from the position the engine holds then, so readers in one process
    /// never take an entry twice.
    pub fn catch_up(&self) -> Result<CatchUp, RiskStateError> {
        let mut read = CatchUp::default();
        let mut first = true;
        loop {
            let mut owners = self.owners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let next = self.engine.ledger_next().unwrap_or(0);
            if std::mem::take(&mut first) {
                // Under the lock: no reader of this process moves the position meanwhile.
                let size = self.store.size()?;
                if next > size {
                    // The ledger holds fewer entries than were read: it lost its last
                    // ones (a crash before they were flushed) or was restored from an
                    // older copy. What is written at those indexes from now on is new.
                    tracing::warn!(
                        position = next,
                        ledger_size = size,
                        "risk: the ledger is shorter than what was read; reading on from its end"
                    );
                    self.engine.set_ledger_next(size);
                    read.rewound = true;
                    continue;
                }
            }
            let Some(batch) = self.next_batch(&mut owners, next)? else {
                return Ok(read);
            };
            self.engine.add_ledger_events(&batch.events, batch.next);
            read.entries += batch.next - next;
            read.unreadable.extend(batch.unreadable);
        }
    }

    /// The activity of the ledger entries from `next` on, at most [`FOLLOW_BATCH`] of
    /// them; `None` at the ledger's end.
    fn next_batch(&self, owners: &mut OwnerIndex, next: u64) -> Result<Option<Batch>, RiskStateError> {
        // Read first, then look owners up: the store is not asked again while it
        // streams the batch.
        let mut entries = Vec::new();
        let mut unreadable = Vec::new();
        let mut last = None;
        self.store.scan_entries(next, FOLLOW_BATCH, &mut |index, bytes, _| {
            last = Some(index);
            match Entry::decode(bytes) {
                Ok(entry) => entries.push(entry),
                Err(e) => unreadable.push((index, e.to_string())),
            }
        })?;
        let Some(last) = last else {
            return Ok(None);
        };
        // One lookup of the owners the batch needs: the entries that change customers
        // first drop the owners they name.
        for entry in &entries {
            owners.forget_changed(entry);
        }
        let named: Vec<&ResourceId> = entries
            .iter()
            .filter(|e| e.actor.starts_with("person:") && e.decision == ledger::Decision::Allow)
            .flat_map(|e| &e.resources)
            .collect();
        owners.load_missing(named);
        let events = entries
            .iter()
            .flat_map(|entry| activity_events(entry, &|id| owners.owner_of(id)))
            .collect();
        Ok(Some(Batch {
            events,
            next: last + 1,
            unreadable,
        }))
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

/// What one [`RiskState::catch_up`] read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Ledger entries read (passed-over ones included).
    pub entries: u64,
    /// Entries passed over because they could not be decoded: index and why.
    pub unreadable: Vec<(u64, String)>,
    /// Whether the position was past the ledger's end and moved back to it.
    pub rewound: bool,
}

/// One batch of [`RiskState::next_batch`].
struct Batch {
    events: Vec<Event>,
    /// The index after the last entry read.
    next: u64,
    unreadable: Vec<(u64, String)>,
}

impl RiskState {
    /// Scores everything so far and queues the alerts not yet forwarded (or escalated
    /// since) on `forwarder`, which sends them from its own thread; the alerts are then
    /// marked as forwarded in the store (blob `risk/forwarded`). Returns how many.
    pub fn forward_new_alerts(&self, forwarder: &risk::Forwarder) -> Result<usize, RiskStateError> {
        log_unreadable(&self.catch_up()?);
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
    #[error("the ledger cannot be read: {0}")]
    Ledger(#[from] ledger::StoreError),
}

/// Logs the entries a catch-up passed over.
pub fn log_unreadable(read: &CatchUp) {
    for (index, reason) in &read.unreadable {
        tracing::error!(index, reason = %reason, "risk: a ledger entry cannot be read and was passed over; `custodia audit verify` checks the ledger");
    }
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

/// Customer id → owner id, from the store's metadata (no plaintext), filled
/// as entries name customers: the ones not known yet are read in one batch,
/// never the whole vault (which, with a million customers, would take a
/// second). An owner is set when a customer is created, so the entries that
/// create, update or erase customers drop the ids they name, and a bulk import
/// (one entry naming none) drops them all.
struct OwnerIndex {
    store: Arc<dyn Store>,
    owners: HashMap<String, String>,
}

impl OwnerIndex {
    fn forget_changed(&mut self, entry: &Entry) {
        let action = entry.action.as_str();
        if ![Action::CustomerCreate, Action::CustomerUpdate, Action::CustomerErase]
            .iter()
            .any(|a| a.as_str() == action)
        {
            return;
        }
        let mut named = false;
        for resource in &entry.resources {
            if let ResourceId::Customer(id) = resource {
                self.owners.remove(id);
                named = true;
            }
        }
        if !named {
            self.owners.clear();
        }
    }

    fn load_missing<'e>(&mut self, resources: impl IntoIterator<Item = &'e ResourceId>) {
        let mut missing: Vec<CustomerId> = resources
            .into_iter()
            .filter_map(|r| match r {
                ResourceId::Customer(id) if !self.owners.contains_key(id) => Some(CustomerId(id.clone())),
                _ => None,
            })
            .collect();
        if missing.is_empty() {
            return;
        }
        missing.sort();
        missing.dedup();
        match self.store.get_customers(&missing) {
            Ok(found) => self
                .owners
                .extend(found.into_iter().map(|c| (c.meta.id.0, c.meta.owner.0))),
            Err(e) => tracing::warn!(error = %e, "risk: cannot read customer owners"),
        }
    }

    fn owner_of(&self, id: &str) -> Option<String> {
        self.owners.get(id).cloned()
    }
}

/// The activity events of one ledger entry: allowed vault accesses by a person, the
/// DLP verdicts on what a person sent (an upload through the proxy, a file scanned as
/// theirs), stopped or not, and status changes. Operators' actions, other admin
/// actions and other denials give none.
pub fn activity_events(record: &Entry, owner_of: &dyn Fn(&str) -> Option<String>) -> Vec<Event> {
    if record.action == Action::PersonUpdateStatus.as_str() {
        // A refused change (one that would leave no security admin) changed nobody.
        return match record.decision {
            ledger::Decision::Admin => status_events(record),
            _ => Vec::new(),
        };
    }
    let Some(user) = record.actor.strip_prefix("person:") else {
        return Vec::new();
    };
    if record.action.starts_with("dlp.scan.") {
        // Stopped because the index could not be brought up to date: nothing was
        // inspected, so nothing the person sent is known (icap's `dlp:index-not-current`).
        if record.policies.iter().any(|p| p == "dlp:index-not-current") {
            return Vec::new();
        }
        // The reasons are the verdict, the rules that applied (plain words, as the
        // DLP policy names them), then notes of the form `kind:detail`.
        let rules = record
            .policies
            .iter()
            .skip(1)
            .filter(|reason| !reason.contains(':'))
            .count();
        return vec![Event {
            ts_ms: record.time,
            user: user.to_string(),
            kind: EventKind::DlpScan {
                matches: u32::try_from(rules).unwrap_or(u32::MAX),
                blocked: record.decision == ledger::Decision::Deny,
            },
        }];
    }
    if record.decision != ledger::Decision::Allow {
        return Vec::new();
    }
    let customers: Vec<&str> = record
        .resources
        .iter()
        .filter_map(|r| match r {
            ResourceId::Customer(id) => Some(id.as_str()),
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
fn status_events(record: &Entry) -> Vec<Event> {
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
            ResourceId::Person(id) => Some(Event {
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
    use gateway::{AuditRecord, AuditResource};

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
        let read = activity_events(
            &record("person:rep-a", "customer.read", "allow", &["B1"]).to_entry(),
            &owner,
        );
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
            &record("person:rep-a", "customer.search", "allow", &["A1", "A2"]).to_entry(),
            &owner,
        );
        assert_eq!(small[0].kind, EventKind::VaultSearch { results: 2 });
        let ids: Vec<String> = (0..60).map(|i| format!("A{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let export = activity_events(
            &record("person:rep-a", "customer.search", "allow", &ids).to_entry(),
            &owner,
        );
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
            activity_events(&download.to_entry(), &owner)[0].kind,
            EventKind::DocumentDownload { .. }
        ));
        for r in [
            record("person:rep-a", "customer.read", "deny", &["B1"]),
            record("operator:root", "customer.read", "allow", &["B1"]),
            record("person:rep-a", "policy.replace", "admin", &[]),
        ] {
            assert!(activity_events(&r.to_entry(), &owner).is_empty(), "{r:?}");
        }
    }

    #[test]
    fn status_changes_are_hr_events_of_the_person_changed() {
        let change = |fields: &[&str]| {
            let mut r = record("operator:hr", "person.update_status", "admin", &[]);
            r.resources = vec![AuditResource::Person("rep-a".into())];
            r.fields = fields.iter().map(|f| f.to_string()).collect();
            activity_events(&r.to_entry(), &owner)
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
        assert!(activity_events(&import.to_entry(), &owner).is_empty());
        // A refused change changed nobody.
        let mut refused = record("person:hr", "person.update_status", "deny", &[]);
        refused.resources = vec![AuditResource::Person("rep-a".into())];
        refused.fields = vec!["status=departed".into()];
        assert!(activity_events(&refused.to_entry(), &owner).is_empty());
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
        let events = activity_events(&upload.to_entry(), &owner);
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
            activity_events(&clean.to_entry(), &owner)[0].kind,
            EventKind::DlpScan {
                matches: 0,
                blocked: false
            }
        );
        // An upload stopped uninspected tells nothing of what the person sent.
        let mut stale = record("person:rep-a", "dlp.scan.upload", "deny", &[]);
        stale.reasons = vec!["verdict:block".into(), "dlp:index-not-current".into()];
        assert!(activity_events(&stale.to_entry(), &owner).is_empty());
        // The proxy's own verdicts on people it could not name are nobody's activity.
        assert!(activity_events(
            &record("operator:icap", "dlp.scan.upload", "deny", &["A1"]).to_entry(),
            &owner
        )
        .is_empty());
        // Rules are told from notes by their plain names.
        for rule in dlp::Policy::default().rules {
            assert!(!rule.name.contains(':'), "{}", rule.name);
        }
    }

    type TestLedger = Arc<ledger::Ledger<Arc<dyn Store>>>;

    /// A store with a ledger that records into it, as `custodia serve` has.
    fn store_with_ledger(dir: &std::path::Path) -> (Arc<dyn Store>, TestLedger) {
        let store: Arc<dyn Store> = Arc::new(store::SqliteStore::create(dir).unwrap());
        (Arc::clone(&store), ledger_over(store))
    }

    fn ledger_over(store: Arc<dyn Store>) -> TestLedger {
        let signing = ledger::SigningKey::from_seed("custodia/test", &[7; 32]).unwrap();
        let origin = signing.name().to_owned();
        let clock: model::SharedClock = Arc::new(model::ManualClock::new(1_000));
        Arc::new(ledger::Ledger::open(store, signing, clock, ledger::LedgerConfig::new(&origin), Vec::new()).unwrap())
    }

    fn append(ledger: &ledger::Ledger<Arc<dyn Store>>, actor: &str, action: &str, customers: &[&str]) {
        gateway::Recorder::record(ledger, &record(actor, action, "allow", customers)).unwrap();
    }

    /// Appends entries to a ledger and reads each back into events, as the engine does.
    struct Follow {
        risk: RiskState,
        ledger: TestLedger,
        next: u64,
    }

    impl Follow {
        fn submit(&mut self, actor: &str, action: &str, customers: &[&str]) -> Vec<Event> {
            append(&self.ledger, actor, action, customers);
            let mut owners = self.risk.owners.lock().unwrap();
            let batch = self.risk.next_batch(&mut owners, self.next).unwrap().unwrap();
            assert_eq!(batch.next, self.next + 1, "one entry at a time");
            self.next = batch.next;
            batch.events
        }

        fn own_read(&mut self, customer: &str) -> bool {
            match self.submit("person:rep-a", "customer.read", &[customer]).as_slice() {
                [Event {
                    kind: EventKind::VaultRead { own_account, .. },
                    ..
                }] => *own_account,
                other => panic!("not one read: {other:?}"),
            }
        }
    }

    #[test]
    fn owners_are_read_for_the_customers_named_and_forgotten_when_customers_change() {
        use store::conformance::sample_customer;
        let dir = tempfile::tempdir().unwrap();
        let (store, ledger) = store_with_ledger(dir.path());
        store.insert_customers(&[sample_customer("A1", "rep-a")]).unwrap();
        let risk = RiskState::open(Arc::clone(&store), 0).unwrap();
        let mut f = Follow { risk, ledger, next: 0 };
        assert!(f.own_read("A1"));
        assert!(!f.own_read("B9"), "an unknown customer is nobody's own");

        // Created after the first lookup: read when first named.
        store.insert_customers(&[sample_customer("A2", "rep-a")]).unwrap();
        assert!(f.own_read("A2"));

        // Erased and created again for another owner: the entries forget the old owner.
        f.submit("person:sec", "customer.erase", &["A1"]);
        store.erase_customer(&CustomerId("A1".into())).unwrap();
        store.insert_customers(&[sample_customer("A1", "rep-b")]).unwrap();
        f.submit("person:rep-b", "customer.create", &["A1"]);
        assert!(!f.own_read("A1"));

        // A bulk import names no customer: every owner is read again.
        store.erase_customer(&CustomerId("A2".into())).unwrap();
        store.insert_customers(&[sample_customer("A2", "rep-b")]).unwrap();
        assert!(f.own_read("A2"), "still the owner as first read");
        f.submit("operator:import", "customer.create", &[]);
        assert!(!f.own_read("A2"));
    }

    #[test]
    fn the_engine_reads_every_entry_once_whoever_wrote_it_and_resumes_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ledger) = store_with_ledger(dir.path());
        append(&ledger, "person:rep-a", "customer.read", &["A1"]);
        let risk = RiskState::open(Arc::clone(&store), 0).unwrap();
        assert_eq!(
            risk.catch_up().unwrap().entries,
            1,
            "a new engine reads the ledger from its start"
        );
        assert_eq!(risk.catch_up().unwrap().entries, 0, "and each entry once");
        assert_eq!(risk.engine().event_count(), 1);

        // Another process on the same data directory (`custodia scan --as`): its own
        // store connection, its own ledger writer.
        drop(ledger);
        let other: Arc<dyn Store> = Arc::new(store::SqliteStore::open(dir.path()).unwrap());
        let other_ledger = ledger_over(other);
        let mut upload = record("person:rep-b", "dlp.scan.usb", "deny", &[]);
        upload.reasons = vec!["verdict:block".into(), "customer record leaving".into()];
        gateway::Recorder::record(other_ledger.as_ref(), &upload).unwrap();
        append(&other_ledger, "operator:root", "customer.read", &["A1"]);
        assert_eq!(risk.catch_up().unwrap().entries, 2);
        assert_eq!(
            risk.engine().event_count(),
            2,
            "the operator's read is nobody's activity"
        );
        let scored = risk.engine().score(&risk::ScoringConfig::default()).unwrap();
        assert!(scored.users.iter().any(|u| u.user == "rep-b"), "{:?}", scored.users);

        // Saved and opened again: neither read twice nor skipped.
        assert!(risk.save_if_changed().unwrap());
        append(&other_ledger, "person:rep-a", "customer.read", &["A2"]);
        let reopened = RiskState::open(Arc::clone(&store), 0).unwrap();
        assert_eq!(reopened.engine().event_count(), 2);
        assert_eq!(reopened.catch_up().unwrap().entries, 1);
        assert_eq!(reopened.engine().event_count(), 3);
    }

    #[test]
    fn a_state_saved_before_the_engine_read_the_ledger_resumes_at_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ledger) = store_with_ledger(dir.path());
        for customer in ["A1", "A2", "A3"] {
            append(&ledger, "person:rep-a", "customer.read", &[customer]);
        }
        // Those reads reached the engine in process then, and were saved in format
        // version 1, without a ledger position: magic, version, offset, event and
        // rejected counts, no people, computers or logons.
        store
            .put_blob(risk::STATE_BLOB, b"CRSK\x01\x00\x00\x00\x00\x00\x00")
            .unwrap();
        let risk = RiskState::open(Arc::clone(&store), 0).unwrap();
        assert_eq!(risk.catch_up().unwrap().entries, 0, "already counted");
        append(&ledger, "person:rep-a", "customer.read", &["A4"]);
        assert_eq!(risk.catch_up().unwrap().entries, 1);
        assert_eq!(risk.engine().event_count(), 1);
    }

    #[test]
    fn a_state_first_saved_by_risk_ingest_still_reads_the_ledger_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ledger) = store_with_ledger(dir.path());
        let mut upload = record("person:rep-b", "dlp.scan.usb", "deny", &[]);
        upload.reasons = vec!["verdict:block".into(), "customer record leaving".into()];
        gateway::Recorder::record(ledger.as_ref(), &upload).unwrap();
        append(&ledger, "person:rep-a", "customer.read", &["A1"]);
        // What `risk_cmd::ingest` does: load_state_or_empty (none yet), add, save_state.
        let mut agg = risk::Aggregator::new(0);
        agg.add_event(&Event {
            ts_ms: 5_000,
            user: "rep-c".into(),
            kind: EventKind::VaultSearch { results: 1 },
        });
        store.put_blob(risk::STATE_BLOB, &agg.to_state_bytes()).unwrap();
        // What `risk scores` (followed_state) and `custodia serve` do next.
        let risk = RiskState::open(Arc::clone(&store), 0).unwrap();
        risk.catch_up().unwrap();
        assert_eq!(
            risk.engine().event_count(),
            3,
            "the USB verdict and the read recorded before the first ingest are lost"
        );
    }

    /// The saved position is past the ledger's end when the ledger lost its last
    /// entries (a crash before they were flushed, the state's database file being
    /// flushed) or was restored from an older copy: what is written at those indexes
    /// afterwards is read, not passed over.
    #[test]
    fn a_ledger_shorter_than_what_was_read_is_read_on_from_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ledger) = store_with_ledger(dir.path());
        let mut ahead = risk::Aggregator::new(0);
        ahead.set_ledger_next(5);
        store.put_blob(risk::STATE_BLOB, &ahead.to_state_bytes()).unwrap();
        append(&ledger, "person:rep-a", "customer.read", &["A1"]);
        let risk = RiskState::open(Arc::clone(&store), 0).unwrap();
        let read = risk.catch_up().unwrap();
        assert!(read.rewound, "{read:?}");
        assert_eq!(risk.engine().ledger_next(), Some(1));
        // The entry written at an index the state had counted as read.
        append(&ledger, "person:rep-a", "customer.read", &["A2"]);
        let read = risk.catch_up().unwrap();
        assert!(!read.rewound, "{read:?}");
        assert_eq!((read.entries, risk.engine().event_count()), (1, 1));
        assert_eq!(risk.engine().ledger_next(), Some(2));
    }

    /// One entry that does not decode (a damaged row, or an entry of a newer format
    /// written by a newer server on the same PostgreSQL database) stops the engine
    /// for good: every later `catch_up` fails at it, so nothing recorded after it is
    /// ever scored, `forward_new_alerts` (which catches up first, with `?`) forwards
    /// no alert any more, and `custodia risk scores` fails.
    #[test]
    fn one_unreadable_entry_does_not_stop_risk_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let (store, ledger) = store_with_ledger(dir.path());
        for customer in ["A1", "A2", "A3"] {
            append(&ledger, "person:rep-a", "customer.read", &[customer]);
        }
        let db = rusqlite::Connection::open(dir.path().join("ledger.db")).unwrap();
        db.execute("UPDATE ledger_entries SET bytes = x'ff' WHERE idx = 1", [])
            .unwrap();
        let risk = RiskState::open(Arc::clone(&store), 0).unwrap();
        let first = risk.catch_up().unwrap();
        assert_eq!(first.entries, 3);
        assert_eq!(
            first.unreadable.iter().map(|(index, _)| *index).collect::<Vec<_>>(),
            [1],
            "{first:?}"
        );
        append(&ledger, "person:rep-a", "customer.read", &["A4"]);
        let second = risk.catch_up().unwrap();
        assert_eq!((second.entries, second.unreadable.len()), (1, 0), "passed over once");
        assert_eq!(
            risk.engine().event_count(),
            3,
            "the entries recorded around and after the damaged one reach risk"
        );
    }
}
