//! The DLP engine fed from the vault: the gateway decrypts identifying
//! fields and document bodies only to hand them to the index builders, which
//! keep keyed hashes and shingle hashes — never the plaintext.

use model::CustomerField;
use store::CustomerFilter;

use crate::access::Subject;
use crate::audit::{AuditRecord, AuditResource};
use crate::view::CustomerView;
use crate::{AccessContext, Action, Actor, Gateway, GatewayError};

/// Purpose string of the key the EDM index hashes with.
const EDM_KEY_PURPOSE: &str = "dlp-edm";

fn texts(view: &CustomerView, field: CustomerField) -> Vec<String> {
    match view.fields.get(&field) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

impl Gateway {
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
            let metas = self.store.customer_metas(&CustomerFilter {
                after: after.clone(),
                limit: Some(2000),
                ..Default::default()
            })?;
            let Some(last) = metas.last() else { break };
            after = Some(last.id.clone());
            let ids: Vec<_> = metas.iter().map(|m| m.id.clone()).collect();
            for sealed in self.store.get_customers(&ids)? {
                let view = self.open_customer(&Subject::Operator, &sealed, ctx)?;
                let mut fields: Vec<(dlp::FieldKind, String)> = vec![(dlp::FieldKind::CustomerId, view.id.to_string())];
                fields.extend(
                    texts(&view, CustomerField::Name)
                        .into_iter()
                        .map(|v| (dlp::FieldKind::Name, v)),
                );
                fields.extend(
                    texts(&view, CustomerField::Emails)
                        .into_iter()
                        .map(|v| (dlp::FieldKind::Email, v)),
                );
                fields.extend(
                    texts(&view, CustomerField::Phones)
                        .into_iter()
                        .map(|v| (dlp::FieldKind::Phone, v)),
                );
                fields.extend(
                    texts(&view, CustomerField::Addresses)
                        .into_iter()
                        .map(|v| (dlp::FieldKind::Address, v)),
                );
                let borrowed: Vec<(dlp::FieldKind, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                edm.add(view.id.as_str(), &borrowed, view.country.as_deref());
                customers += 1;
            }
        }
        let limits = dlp::Limits::default();
        let mut fingerprints = dlp::FingerprintIndex::new(dlp::FingerprintConfig::default());
        let mut documents = 0u64;
        for meta in self.store.list_documents()? {
            let body = self.open_document_body(&meta.id)?;
            let extraction = dlp::extract::extract(&body, &limits);
            let text: Vec<&str> = extraction.segments.iter().map(|s| s.text.as_str()).collect();
            fingerprints.add(meta.id.as_str(), &text.join("\n"));
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
    /// `channel_name` in the ledger), stricter for people who are leaving, and
    /// records the verdict before returning it. An error is returned, and no
    /// verdict, when it cannot be recorded.
    pub fn scan_content(
        &self,
        inspector: &dlp::Inspector,
        actor: &Actor,
        ctx: &AccessContext,
        channel_name: &str,
        channel: dlp::Channel,
        bytes: &[u8],
    ) -> Result<dlp::ScanResult, GatewayError> {
        let employment = match self.subject(actor)? {
            Subject::Person(p) if p.status != policy::EmploymentStatus::Active => dlp::Employment::Departing,
            _ => dlp::Employment::Active,
        };
        let result = inspector.inspect(bytes, &dlp::ScanContext { channel, employment });
        self.record_scan(actor, ctx, channel_name, &result)?;
        Ok(result)
    }

    /// Records a DLP verdict on outgoing content: counts, customer ids,
    /// detector names and document ids — never the matched text.
    pub fn record_scan(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        channel: &str,
        result: &dlp::ScanResult,
    ) -> Result<(), GatewayError> {
        let verdict = serde_json::to_value(result.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut resources: Vec<AuditResource> = result
            .customers
            .iter()
            .take(100)
            .map(|c| AuditResource::Customer(c.customer_id.0.clone()))
            .collect();
        resources.extend(
            result
                .fingerprint_hits
                .iter()
                .map(|h| AuditResource::Document(h.doc_id.clone())),
        );
        let decision = if matches!(result.verdict, dlp::Verdict::Block) {
            "deny"
        } else {
            "allow"
        };
        let record = AuditRecord {
            time: self.clock.now_ms(),
            actor: actor.audit_id(),
            action: format!("dlp.scan.{channel}"),
            resources,
            decision: decision.into(),
            reasons: std::iter::once(format!("verdict:{verdict}"))
                .chain(result.rules.iter().cloned())
                .collect(),
            record_count: result.customer_records as u64,
            withheld_count: 0,
            fields: result
                .findings
                .iter()
                .map(|f| format!("{:?}:{}", f.detector, f.count))
                .collect(),
            client_address: ctx.client_address.clone(),
            user_agent: ctx.user_agent.clone(),
            device: ctx.device.clone(),
            justification: ctx.justification.clone(),
        };
        self.record(&record)
    }
}
