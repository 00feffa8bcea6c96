//! Reading the audit ledger: search, verification and evidence export.
//! Reading the ledger is itself an admin action, authorized and recorded.

use ledger::{Entry, ResourceId};
use model::UnixMillis;
use serde::Serialize;

use crate::audit::{AuditRecord, AuditResource};
use crate::{AccessContext, Action, Actor, Gateway, GatewayError};

/// Which entries an audit search or export wants. Empty fields match all.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditQuery {
    /// A person: as the actor, or as the resource acted on.
    pub person: Option<String>,
    pub customer: Option<String>,
    pub document: Option<String>,
    /// An action name, e.g. `customer.read`.
    pub action: Option<String>,
    /// `allow`, `deny`, `error` or `admin`.
    pub decision: Option<String>,
    /// Inclusive lower bound.
    pub from: Option<UnixMillis>,
    /// Exclusive upper bound.
    pub to: Option<UnixMillis>,
    /// Only entries with an index below this: the cursor that pages a
    /// newest-first search further back.
    pub before: Option<u64>,
}

impl AuditQuery {
    pub fn matches(&self, e: &Entry) -> bool {
        let person_ok = self.person.as_ref().is_none_or(|p| {
            e.actor == format!("person:{p}")
                || e.resources
                    .iter()
                    .any(|r| matches!(r, ResourceId::Person(id) if id == p))
        });
        let customer_ok = self.customer.as_ref().is_none_or(|c| {
            e.resources
                .iter()
                .any(|r| matches!(r, ResourceId::Customer(id) if id == c))
        });
        let document_ok = self.document.as_ref().is_none_or(|d| {
            e.resources
                .iter()
                .any(|r| matches!(r, ResourceId::Document(id) if id == d))
        });
        let action_ok = self.action.as_ref().is_none_or(|a| &e.action == a);
        let decision_ok = self.decision.as_ref().is_none_or(|d| decision_name(e.decision) == d);
        let time_ok = self.from.is_none_or(|f| e.time >= f) && self.to.is_none_or(|t| e.time < t);
        let index_ok = self.before.is_none_or(|b| e.index < b);
        person_ok && customer_ok && document_ok && action_ok && decision_ok && time_ok && index_ok
    }
}

/// The decision's name as searches and reports write it.
pub fn decision_name(d: ledger::Decision) -> &'static str {
    match d {
        ledger::Decision::Allow => "allow",
        ledger::Decision::Deny => "deny",
        ledger::Decision::Error => "error",
        ledger::Decision::Admin => "admin",
    }
}

fn ledger_err(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::Internal(format!("audit ledger: {e}"))
}

fn unreadable(idx: u64, err: &str) -> GatewayError {
    GatewayError::Internal(format!(
        "ledger entry {idx} is unreadable ({err}); run `custodia audit verify`"
    ))
}

impl Gateway {
    /// Entries matching `query`, newest first, at most `limit`: an
    /// investigation starts from what just happened. The next page is the
    /// same query with `before` set to the last entry's index.
    pub fn audit_search(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        query: &AuditQuery,
        limit: usize,
    ) -> Result<Vec<Entry>, GatewayError> {
        self.authorize_admin(actor, Action::AuditRead, ctx)?;
        let found = self.scan_ledger_newest_first(query, limit)?;
        self.record(
            &AuditRecord::admin(self.clock.now_ms(), actor, Action::AuditRead, ctx).with_count(found.len() as u64),
        )?;
        Ok(found)
    }

    /// Entries matching `query`, newest first, at most `limit`; reads the
    /// ledger backwards a chunk at a time, from `query.before` if set.
    fn scan_ledger_newest_first(&self, query: &AuditQuery, limit: usize) -> Result<Vec<Entry>, GatewayError> {
        const CHUNK: u64 = 4096;
        let size = self.store.size().map_err(ledger_err)?;
        let mut end = query.before.map_or(size, |b| b.min(size));
        let mut found = Vec::new();
        while end > 0 && found.len() < limit {
            let start = end.saturating_sub(CHUNK);
            let mut chunk = Vec::new();
            let mut bad = None;
            self.store
                .scan_entries(
                    start,
                    usize::try_from(end - start).unwrap_or(usize::MAX),
                    &mut |idx, bytes, _| match Entry::decode(bytes) {
                        Ok(e) if idx < end && query.matches(&e) => chunk.push(e),
                        Ok(_) => {}
                        Err(err) => bad = bad.take().or(Some((idx, err.to_string()))),
                    },
                )
                .map_err(ledger_err)?;
            if let Some((idx, err)) = bad {
                return Err(unreadable(idx, &err));
            }
            let wanted = limit - found.len();
            found.extend(chunk.into_iter().rev().take(wanted));
            end = start;
        }
        Ok(found)
    }

    pub(crate) fn scan_ledger(&self, query: &AuditQuery, limit: usize) -> Result<Vec<Entry>, GatewayError> {
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        self.for_each_ledger_entry(query, &mut |e| {
            found.push(e);
            found.len() < limit
        })?;
        Ok(found)
    }

    /// Hands each entry matching `query` to `each`, oldest first, until it returns
    /// false; holds no more than one batch of entries at a time.
    pub(crate) fn for_each_ledger_entry(
        &self,
        query: &AuditQuery,
        each: &mut dyn FnMut(Entry) -> bool,
    ) -> Result<(), GatewayError> {
        let mut from = 0u64;
        let mut bad = None;
        let mut more = true;
        while more {
            let mut seen = 0usize;
            let mut last = from;
            self.store
                .scan_entries(from, 4096, &mut |idx, bytes, _| {
                    seen += 1;
                    last = idx;
                    match Entry::decode(bytes) {
                        Ok(e) if more && query.matches(&e) => more = each(e),
                        Ok(_) => {}
                        Err(err) => bad = bad.take().or(Some((idx, err.to_string()))),
                    }
                })
                .map_err(ledger_err)?;
            if let Some((idx, err)) = bad.take() {
                return Err(unreadable(idx, &err));
            }
            more &= seen > 0;
            from = last + 1;
        }
        Ok(())
    }

    /// Recomputes the whole ledger and checks every checkpoint, and those
    /// published elsewhere (`against`).
    pub fn audit_verify(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        key: &ledger::VerifyingKey,
        against: Option<&[String]>,
    ) -> Result<ledger::Report, GatewayError> {
        self.authorize_admin(actor, Action::AuditRead, ctx)?;
        let report = ledger::verify(self.store.as_ref(), key, against);
        let mut record =
            AuditRecord::admin(self.clock.now_ms(), actor, Action::AuditRead, ctx).with_count(report.entries_checked);
        record.decision = if report.is_ok() { "admin" } else { "error" }.into();
        self.record(&record)?;
        Ok(report)
    }

    /// An evidence bundle of the entries matching `query`, with inclusion
    /// proofs against the latest checkpoint. The export itself is recorded
    /// (after the bundle's checkpoint, so it is not in its own bundle).
    pub fn audit_export(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        key: &ledger::SigningKey,
        query: &AuditQuery,
        title: &str,
    ) -> Result<(Vec<u8>, usize), GatewayError> {
        self.authorize_admin(actor, Action::AuditExport, ctx)?;
        let entries = self.scan_ledger(query, usize::MAX)?;
        let covered = self
            .store
            .latest_checkpoint()
            .map_err(ledger_err)?
            .map_or(0, |c| c.size);
        let indexes: Vec<u64> = entries.iter().map(|e| e.index).filter(|i| *i < covered).collect();
        let summary = ledger::BundleSummary {
            title: title.to_owned(),
            exported_by: actor.audit_id(),
            exported_at: self.clock.now_ms(),
            notes: format!("query: {}", serde_json::to_string(query).unwrap_or_default()),
        };
        let bytes = ledger::export_bundle(self.store.as_ref(), key, &indexes, &summary).map_err(ledger_err)?;
        let mut record =
            AuditRecord::admin(self.clock.now_ms(), actor, Action::AuditExport, ctx).with_count(indexes.len() as u64);
        if let Some(p) = &query.person {
            record.resources = vec![AuditResource::Person(p.clone())];
        }
        self.record(&record)?;
        Ok((bytes, indexes.len()))
    }
}

impl Gateway {
    /// Gives the gateway the ledger's signing key (a second copy of the one
    /// the ledger signs with), so that the API can verify the ledger and
    /// export evidence bundles.
    pub fn with_audit_key(mut self, key: ledger::SigningKey) -> Gateway {
        self.audit_key = Some(key);
        self
    }

    fn audit_key(&self) -> Result<&ledger::SigningKey, GatewayError> {
        self.audit_key.as_ref().ok_or(GatewayError::NotConfigured(
            "the ledger key (for verification and evidence)",
        ))
    }

    /// [`Gateway::audit_verify`] against the ledger's own key.
    pub fn audit_verify_ledger(&self, actor: &Actor, ctx: &AccessContext) -> Result<ledger::Report, GatewayError> {
        // Refusals come before "not configured": they say less about the server.
        self.authorize_admin(actor, Action::AuditRead, ctx)?;
        let key = self.audit_key()?.verifying_key();
        self.audit_verify(actor, ctx, &key, None)
    }

    /// [`Gateway::audit_export`] signed with the ledger's own key: an
    /// evidence bundle and the number of entries in it.
    pub fn audit_evidence(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        query: &AuditQuery,
        title: &str,
    ) -> Result<(Vec<u8>, usize), GatewayError> {
        self.authorize_admin(actor, Action::AuditExport, ctx)?;
        self.audit_export(actor, ctx, self.audit_key()?, query, title)
    }
}
