//! The DLP engine fed from the vault: the gateway decrypts identifying
//! fields and document bodies only to hand them to the index builders, which
//! keep keyed hashes and shingle hashes — never the plaintext.
//!
//! A [`DlpEngine`] follows the vault as it changes: every customer create,
//! update and erase and every document upload is in the ledger (by id; a bulk
//! import as one entry), and the ledger is shared by every server on one
//! database. Before each scan the engine reads the ledger entries appended
//! since it last looked and re-reads just those customers and documents —
//! adding, replacing or removing their keyed hashes and fingerprints — so a
//! change made through any server is in the index of all of them without a
//! rebuild.

use std::sync::{Mutex, RwLock};

use model::{CustomerField, CustomerId, DocumentId, UnixMillis};
use store::CustomerFilter;

use crate::access::Subject;
use crate::audit::{AuditRecord, AuditResource};
use crate::view::CustomerView;
use crate::{AccessContext, Action, Actor, Gateway, GatewayError};

/// Purpose string of the key the EDM index hashes with.
const EDM_KEY_PURPOSE: &str = "dlp-edm";
/// Purpose string of the key document fingerprints are hashed with.
const FINGERPRINT_KEY_PURPOSE: &str = "dlp-fingerprint";

fn texts(view: &CustomerView, field: CustomerField) -> Vec<String> {
    match view.fields.get(&field) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// The vault's fields an exact data match keys, beside the customer's id.
const EDM_FIELDS: [(CustomerField, dlp::FieldKind); 4] = [
    (CustomerField::Name, dlp::FieldKind::Name),
    (CustomerField::Emails, dlp::FieldKind::Email),
    (CustomerField::Phones, dlp::FieldKind::Phone),
    (CustomerField::Addresses, dlp::FieldKind::Address),
];

/// Customers read from the vault at a time to index them.
const INDEX_PAGE: usize = 4096;

/// Customers a thread decrypts at least, when a page is opened on several.
const OPEN_CHUNK: usize = 256;

/// One customer as the index takes it: its id, country and exact-data-match
/// fields in plaintext. No `Debug`, so the fields cannot reach a log.
struct EdmCustomer {
    id: String,
    country: Option<String>,
    fields: Vec<(dlp::FieldKind, String)>,
}

impl EdmCustomer {
    fn of(view: &CustomerView) -> Self {
        let mut fields = vec![(dlp::FieldKind::CustomerId, view.id.to_string())];
        for (field, kind) in EDM_FIELDS {
            fields.extend(texts(view, field).into_iter().map(|v| (kind, v)));
        }
        EdmCustomer {
            id: view.id.to_string(),
            country: view.country.clone(),
            fields,
        }
    }

    fn as_new(&self) -> dlp::NewCustomer<'_> {
        dlp::NewCustomer {
            id: &self.id,
            fields: self.fields.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            country: self.country.as_deref(),
        }
    }
}

/// A ledger entry is recorded before the write it allows reaches the store, so
/// a customer or document named by an entry this recent is read again at the
/// next refresh too: a scan that ran between the two still ends up with the
/// written state.
const RECHECK_MS: UnixMillis = 60_000;

/// The DLP engine of a running server: the inspector, kept current with the
/// vault by [`Gateway::refresh_dlp`] (which [`Gateway::scan_content`] calls).
pub struct DlpEngine {
    inspector: RwLock<dlp::Inspector>,
    follow: Mutex<Follow>,
}

/// How far the engine has read the ledger, and customers and documents to read again.
struct Follow {
    next_entry: u64,
    recheck: Vec<(CustomerId, UnixMillis)>,
    /// Allowed uploads not yet found in the store (recorded, not yet written).
    recheck_documents: Vec<(DocumentId, UnixMillis)>,
}

impl std::fmt::Debug for DlpEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DlpEngine").finish_non_exhaustive()
    }
}

impl DlpEngine {
    /// Inspects with the index as of the last refresh. Callers that must see
    /// the vault's latest changes call [`Gateway::refresh_dlp`] first.
    pub fn inspect(&self, bytes: &[u8], context: &dlp::ScanContext) -> dlp::ScanResult {
        self.inspect_parts_and_credentials(&[bytes], &[], context)
    }

    /// [`dlp::Inspector::inspect_parts_and_credentials`] with the index as of the
    /// last refresh.
    pub fn inspect_parts_and_credentials(
        &self,
        parts: &[&[u8]],
        credentials: &[&str],
        context: &dlp::ScanContext,
    ) -> dlp::ScanResult {
        // A poisoned lock means a refresh panicked mid-way; the index is still usable.
        let inspector = self.inspector.read().unwrap_or_else(|p| p.into_inner());
        inspector.inspect_parts_and_credentials(parts, credentials, context)
    }
}

impl Gateway {
    /// Builds a [`DlpEngine`] over the vault (see [`Gateway::dlp_inspector`])
    /// that follows later changes through the ledger.
    pub fn dlp_engine(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        rules: dlp::Policy,
    ) -> Result<DlpEngine, GatewayError> {
        // Changes that land while the index is built are read again at the first refresh.
        let next_entry =
            ledger::LedgerStore::size(self.store.as_ref()).map_err(|e| GatewayError::Internal(e.to_string()))?;
        let inspector = self.dlp_inspector(actor, ctx, rules)?;
        Ok(DlpEngine {
            inspector: RwLock::new(inspector),
            follow: Mutex::new(Follow {
                next_entry,
                recheck: Vec::new(),
                recheck_documents: Vec::new(),
            }),
        })
    }

    /// Brings `engine` up to date with the vault: reads the ledger entries
    /// appended since the last refresh (by this server or any other on the
    /// same database), re-indexes the customers they created, updated or
    /// erased, and fingerprints the documents they uploaded. Costs one
    /// ledger-size query when nothing changed. Returns how many customers and
    /// documents were read again.
    pub fn refresh_dlp(&self, engine: &DlpEngine) -> Result<usize, GatewayError> {
        let internal = |e: ledger::StoreError| GatewayError::Internal(e.to_string());
        let mut follow = engine.follow.lock().unwrap_or_else(|p| p.into_inner());
        let size = ledger::LedgerStore::size(self.store.as_ref()).map_err(internal)?;
        let now = self.clock.now_ms();
        follow.recheck.retain(|(_, at)| now.saturating_sub(*at) <= RECHECK_MS);
        follow
            .recheck_documents
            .retain(|(_, at)| now.saturating_sub(*at) <= RECHECK_MS);
        if size <= follow.next_entry && follow.recheck.is_empty() && follow.recheck_documents.is_empty() {
            return Ok(0);
        }
        let mut changed: Vec<(CustomerId, UnixMillis)> = Vec::new();
        let mut uploaded: Vec<(DocumentId, UnixMillis)> = Vec::new();
        let mut bulk_import = false;
        let mut bad = None;
        let mut from = follow.next_entry;
        while from < size {
            let mut last = None;
            self.store
                .scan_entries(from, 4096, &mut |index, bytes, _| {
                    last = Some(index);
                    let entry = match ledger::Entry::decode(bytes) {
                        Ok(entry) => entry,
                        Err(err) => {
                            bad = bad.take().or(Some((index, err.to_string())));
                            return;
                        }
                    };
                    let action = entry.action.as_str();
                    if action == Action::DocumentUpload.as_str() && entry.decision == ledger::Decision::Allow {
                        for resource in &entry.resources {
                            if let ledger::ResourceId::Document(id) = resource {
                                uploaded.push((DocumentId(id.clone()), entry.time));
                            }
                        }
                        return;
                    }
                    if ![Action::CustomerCreate, Action::CustomerUpdate, Action::CustomerErase]
                        .iter()
                        .any(|a| a.as_str() == action)
                    {
                        return;
                    }
                    let mut named = false;
                    for resource in &entry.resources {
                        if let ledger::ResourceId::Customer(id) = resource {
                            changed.push((CustomerId(id.clone()), entry.time));
                            named = true;
                        }
                    }
                    // An import is one entry with a count: its new ids are found in the store.
                    bulk_import |= !named && action == Action::CustomerCreate.as_str();
                })
                .map_err(internal)?;
            if let Some((index, err)) = bad.take() {
                return Err(GatewayError::Internal(format!(
                    "ledger entry {index} is unreadable ({err}); run `custodia audit verify`"
                )));
            }
            match last {
                Some(last) => from = last + 1,
                None => break,
            }
        }
        let mut ids: Vec<CustomerId> = changed
            .iter()
            .chain(&follow.recheck)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        let ctx = AccessContext::default();
        let mut inspector = engine.inspector.write().unwrap_or_else(|p| p.into_inner());
        if bulk_import {
            let known: std::collections::HashSet<String> =
                inspector.edm().customer_ids().into_iter().map(|id| id.0).collect();
            let mut after = None;
            loop {
                let metas = self.store.customer_metas(&CustomerFilter {
                    after: after.clone(),
                    limit: Some(2000),
                    ..Default::default()
                })?;
                let Some(last) = metas.last() else { break };
                after = Some(last.id.clone());
                ids.extend(
                    metas
                        .into_iter()
                        .map(|m| m.id)
                        .filter(|id| !known.contains(id.as_str())),
                );
            }
            ids.sort();
            ids.dedup();
        }
        for chunk in ids.chunks(INDEX_PAGE) {
            let mut found: Vec<store::CustomerToOpen> = self
                .store
                .get_customers(chunk)?
                .into_iter()
                .map(store::CustomerToOpen::from)
                .collect();
            // `found` keeps the order of `chunk`, which is sorted and without repeats.
            let mut present = found.iter().map(|sealed| &sealed.meta.id).peekable();
            for id in chunk {
                if present.next_if(|found| *found == id).is_none() {
                    inspector.edm_mut().remove(&dlp::RecordId(id.to_string()));
                }
            }
            let customers = self.open_for_index(&mut found, &ctx)?;
            let batch: Vec<_> = customers.iter().map(EdmCustomer::as_new).collect();
            inspector.edm_mut().add_many(&batch, 0);
        }
        let documents = self.fingerprint_uploads(&mut inspector, &mut follow, uploaded, now)?;
        follow.next_entry = follow.next_entry.max(size);
        let mut recheck: Vec<(CustomerId, UnixMillis)> = changed
            .into_iter()
            .filter(|(_, at)| now.saturating_sub(*at) <= RECHECK_MS)
            .collect();
        recheck.append(&mut follow.recheck);
        recheck.sort();
        recheck.dedup_by(|a, b| a.0 == b.0);
        follow.recheck = recheck;
        Ok(ids.len() + documents)
    }

    /// Fingerprints the uploaded documents not yet in the index. A stored
    /// document never changes, so one already indexed is not read again; one
    /// whose upload is recorded but not yet written is looked for again at the
    /// next refreshes (for [`RECHECK_MS`]). Returns how many were read.
    fn fingerprint_uploads(
        &self,
        inspector: &mut dlp::Inspector,
        follow: &mut Follow,
        uploaded: Vec<(DocumentId, UnixMillis)>,
        now: UnixMillis,
    ) -> Result<usize, GatewayError> {
        let mut wanted = std::mem::take(&mut follow.recheck_documents);
        wanted.extend(uploaded);
        wanted.sort();
        wanted.dedup_by(|a, b| a.0 == b.0);
        let mut read = 0;
        for (id, at) in wanted {
            if inspector.fingerprints().contains(id.as_str()) {
                continue;
            }
            match self.store.get_document(&id)? {
                Some(_) => {
                    let text = self.document_text(&id, inspector.limits())?;
                    inspector.fingerprints_mut().add(id.as_str(), &text);
                    read += 1;
                }
                None if now.saturating_sub(at) <= RECHECK_MS => follow.recheck_documents.push((id, at)),
                None => {}
            }
        }
        Ok(read)
    }

    /// Decrypts the exact-data-match fields of `sealed` (and no other field)
    /// for the index, on every core when there are enough of them: decryption
    /// is most of building an index from the vault.
    fn open_for_index(
        &self,
        sealed: &mut [store::CustomerToOpen],
        ctx: &AccessContext,
    ) -> Result<Vec<EdmCustomer>, GatewayError> {
        for customer in sealed.iter_mut() {
            customer
                .fields
                .retain(|(field, _)| EDM_FIELDS.iter().any(|(f, _)| f == field));
        }
        let open = |chunk: &[store::CustomerToOpen]| {
            chunk
                .iter()
                .map(|sealed| Ok(EdmCustomer::of(&self.open_customer(&Subject::Operator, sealed, ctx)?)))
                .collect::<Result<Vec<_>, GatewayError>>()
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(sealed.len() / OPEN_CHUNK)
            .max(1);
        if threads == 1 {
            return open(sealed);
        }
        std::thread::scope(|scope| {
            let workers: Vec<_> = sealed
                .chunks(sealed.len().div_ceil(threads))
                .map(|chunk| scope.spawn(move || open(chunk)))
                .collect();
            let mut opened = Vec::with_capacity(sealed.len());
            for worker in workers {
                let chunk = worker.join().map_err(|_| {
                    GatewayError::Internal("a thread decrypting customers for the DLP index failed".into())
                })??;
                opened.extend(chunk);
            }
            Ok(opened)
        })
    }

    /// A stored document's text as the DLP engine reads it (for fingerprints).
    fn document_text(&self, id: &DocumentId, limits: &dlp::Limits) -> Result<String, GatewayError> {
        let body = self.open_document_body(id)?;
        Ok(dlp::extract::extract(&body, limits).document_text())
    }

    /// Builds a DLP inspector over the vault's customers (exact data match on
    /// name, emails, phones, addresses and id) and classified documents
    /// (fingerprints), with the given verdict rules. An admin action.
    pub fn dlp_inspector(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        rules: dlp::Policy,
    ) -> Result<dlp::Inspector, GatewayError> {
        // Building the index reads every record: the same right as reading policy and the audit log.
        self.authorize_admin(actor, Action::AuditRead, ctx)?;
        let key = dlp::EdmKey::from_bytes(*self.keys()?.derive_key(EDM_KEY_PURPOSE));
        let mut edm = dlp::EdmIndex::new(&key, dlp::EdmConfig::default());
        let mut customers = 0u64;
        let mut after = None;
        loop {
            let mut page = self.store.customers_to_open(&CustomerFilter {
                after: after.clone(),
                limit: Some(INDEX_PAGE),
                ..Default::default()
            })?;
            let Some(last) = page.last() else { break };
            after = Some(last.meta.id.clone());
            let opened = self.open_for_index(&mut page, ctx)?;
            let batch: Vec<_> = opened.iter().map(EdmCustomer::as_new).collect();
            edm.add_many(&batch, 0);
            customers += batch.len() as u64;
        }
        edm.compact();
        let limits = dlp::Limits::default();
        let key = dlp::FingerprintKey::from_bytes(*self.keys()?.derive_key(FINGERPRINT_KEY_PURPOSE));
        let mut fingerprints = dlp::FingerprintIndex::new(&key, dlp::FingerprintConfig::default());
        let mut documents = 0u64;
        for meta in self.store.list_documents()? {
            fingerprints.add(meta.id.as_str(), &self.document_text(&meta.id, &limits)?);
            documents += 1;
        }
        let inspector =
            dlp::Inspector::new(edm, fingerprints, rules, limits).map_err(|e| GatewayError::Internal(e.to_string()))?;
        let mut record =
            AuditRecord::admin(self.clock.now_ms(), actor, Action::AuditRead, ctx).with_count(customers + documents);
        record.fields = vec!["dlp-index".into()];
        self.record(&record)?;
        Ok(inspector)
    }

    /// Inspects content a person is about to send out through `channel` (named
    /// `channel_name` in the ledger), stricter for people who are leaving, with
    /// the index brought up to date first, and records the verdict before
    /// returning it. An error is returned, and no
    /// verdict, when it cannot be recorded.
    pub fn scan_content(
        &self,
        engine: &DlpEngine,
        actor: &Actor,
        ctx: &AccessContext,
        channel_name: &str,
        channel: dlp::Channel,
        bytes: &[u8],
    ) -> Result<dlp::ScanResult, GatewayError> {
        // A policy action: a verdict on chosen content tells whether a guessed phone
        // or email is a customer's, so by default only security admins may ask (found
        // in review: a support user recovered a masked phone in 20 scans).
        let employment = match self.authorize_admin(actor, Action::DlpScan, ctx)? {
            Subject::Person(p) if p.status != policy::EmploymentStatus::Active => dlp::Employment::Departing,
            _ => dlp::Employment::Active,
        };
        self.refresh_dlp(engine)?;
        let result = engine.inspect(bytes, &dlp::ScanContext { channel, employment });
        self.record_scan(
            actor,
            ctx,
            channel_name,
            &result,
            dlp::Enforcement::with_justification(result.verdict),
            &[],
        )?;
        Ok(result)
    }

    /// Records a DLP verdict on outgoing content and what was done with it
    /// (`deny` when it was stopped): counts, customer ids, detector names,
    /// document ids and the caller's `notes` (reasons of its own, such as why
    /// content could not be read) — never the matched text.
    pub fn record_scan(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        channel: &str,
        result: &dlp::ScanResult,
        enforcement: dlp::Enforcement,
        notes: &[String],
    ) -> Result<(), GatewayError> {
        let verdict = serde_json::to_value(result.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        // Customers who share the values found (`shared_with`) are counted once but
        // listed all: any of them may be the one whose data left.
        let mut resources: Vec<AuditResource> = result
            .customers
            .iter()
            .flat_map(|c| std::iter::once(&c.customer_id).chain(&c.shared_with))
            .take(100)
            .map(|id| AuditResource::Customer(id.0.clone()))
            .collect();
        resources.extend(
            result
                .fingerprint_hits
                .iter()
                .map(|h| AuditResource::Document(h.doc_id.clone())),
        );
        let decision = match enforcement {
            dlp::Enforcement::Stopped => "deny",
            dlp::Enforcement::Released => "allow",
        };
        let record = AuditRecord {
            time: self.clock.now_ms(),
            actor: actor.audit_id(),
            action: format!("dlp.scan.{channel}"),
            resources,
            decision: decision.into(),
            reasons: std::iter::once(format!("verdict:{verdict}"))
                .chain(result.rules.iter().cloned())
                .chain(notes.iter().cloned())
                .collect(),
            record_count: result.customer_records as u64,
            withheld_count: 0,
            fields: result
                .findings
                .iter()
                .map(|f| format!("{:?}:{}", f.detector, f.count))
                .chain(
                    (result.customer_contacts > 0).then(|| format!("customer_contacts:{}", result.customer_contacts)),
                )
                .collect(),
            client_address: ctx.client_address.clone(),
            user_agent: ctx.user_agent.clone(),
            device: ctx.device.clone(),
            justification: ctx.justification.clone(),
        };
        self.record(&record)
    }
}
