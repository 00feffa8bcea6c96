//! Classified documents through the gateway: add, list, view, download.

use std::fmt;

use model::{Classification, Compartments, DocumentId, DocumentKind, DocumentMeta, PersonId};
use sha2::{Digest, Sha256};
use store::{SealedDocument, StoredKey};

use crate::access::{denied, document_resource};
use crate::audit::{AuditRecord, AuditResource};
use crate::view::{Bulk, Withheld};
use crate::{AccessContext, Action, Actor, Decision, Gateway, GatewayError};

/// A document to add to the vault.
#[derive(Clone)]
pub struct NewDocument {
    pub id: Option<DocumentId>,
    pub title: String,
    pub file_name: String,
    pub kind: DocumentKind,
    pub custodian: PersonId,
    pub classification: Classification,
    pub compartments: Compartments,
    pub body: Vec<u8>,
}

impl fmt::Debug for NewDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewDocument")
            .field("title", &self.title)
            .field("size", &self.body.len())
            .finish_non_exhaustive()
    }
}

fn document_record(id: &str) -> Vec<u8> {
    format!("document/{id}").into_bytes()
}

fn body_aad(id: &str) -> Vec<u8> {
    format!("document/{id}/body/dk1").into_bytes()
}

/// Rejects names that could escape a directory when the document is saved.
fn check_file_name(name: &str) -> Result<(), GatewayError> {
    let bad = name.is_empty()
        || name.len() > 255
        || name.contains(['/', '\\', '\0'])
        || name == "."
        || name == ".."
        || name.chars().any(char::is_control);
    if bad {
        return Err(GatewayError::Invalid(format!(
            "document file name {name:?} is not a plain file name"
        )));
    }
    Ok(())
}

impl Gateway {
    /// Seals and stores a document.
    pub fn add_document(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        doc: NewDocument,
    ) -> Result<DocumentMeta, GatewayError> {
        let action = Action::DocumentUpload;
        let subject = self.subject_or_record_deny(actor, ctx, action)?;
        let now = self.clock.now_ms();
        let id = match doc.id {
            Some(id) => id,
            None => self.free_document_id()?,
        };
        let meta = DocumentMeta {
            id: id.clone(),
            title: doc.title.trim().to_owned(),
            file_name: doc.file_name,
            kind: doc.kind,
            custodian: doc.custodian,
            classification: doc.classification,
            compartments: doc.compartments,
            size: doc.body.len() as u64,
            content_sha256: hex(&Sha256::digest(&doc.body)),
            created_ms: now,
        };
        // Authorized on the document as it will be stored (custodian,
        // classification, compartments) before its id or custodian is looked up:
        // a caller who may not upload it learns nothing of which ids are taken
        // (found in review). Recorded, allowed or not, before it is written.
        let decision = self.decide(
            &subject,
            action,
            &document_resource(&meta),
            &self.request_context(ctx, 1),
        );
        let resources = || vec![AuditResource::Document(id.to_string())];
        let mut record = AuditRecord::decision(now, actor, action, ctx, &decision, resources());
        if !decision.allowed {
            self.record(&record)?;
            return Err(denied(action, &format!("document {id}"), &decision));
        }
        let refuse = |reason: &str, e: GatewayError| self.deny_with(actor, ctx, action, resources(), reason, e);
        if let Err(e) = check_file_name(&meta.file_name) {
            return Err(refuse("invalid-input", e));
        }
        if meta.title.is_empty() {
            return Err(refuse(
                "invalid-input",
                GatewayError::Invalid("the document title is empty".into()),
            ));
        }
        if self.store.get_person(&meta.custodian)?.is_none() {
            // Not `UnknownPerson`, which is answered 401 as if the caller's session were gone.
            let why = format!("unknown custodian {}; name a person who exists", meta.custodian);
            return Err(refuse("invalid-input", GatewayError::Invalid(why)));
        }
        if self.store.get_document(&id)?.is_some() {
            let why = format!("document {id} already exists; nothing was written");
            return Err(refuse("already-exists", GatewayError::Invalid(why)));
        }
        record.record_count = 1;
        self.record(&record)?;
        let key_write = self.key_write()?;
        let keys = self.keys()?;
        let (dk, wrapped) = keys.new_data_key(&document_record(id.as_str()))?;
        drop(keys);
        let body = dk.seal(&body_aad(id.as_str()), &doc.body)?;
        self.store.insert_document(&SealedDocument {
            meta: meta.clone(),
            key: StoredKey {
                kek_version: wrapped.kek_version,
                sealed: wrapped.sealed,
            },
            body,
        })?;
        drop(key_write);
        Ok(meta)
    }

    /// A made-up id (`D-00042`) that names no document: the count plus one, or the
    /// next number free after it, since a document uploaded with an explicit id may
    /// have taken it (found in review: one upload with the id `D-00002` made every
    /// later upload without an id fail, for everyone).
    fn free_document_id(&self) -> Result<DocumentId, GatewayError> {
        let mut n = self.store.list_documents()?.len() + 1;
        loop {
            let id = DocumentId(format!("D-{n:05}"));
            if self.store.get_document(&id)?.is_none() {
                return Ok(id);
            }
            n += 1;
        }
    }

    /// The documents whose metadata `actor` may view.
    pub fn list_documents(&self, actor: &Actor, ctx: &AccessContext) -> Result<Bulk<DocumentMeta>, GatewayError> {
        let subject = self.subject(actor, ctx)?;
        let mut withheld = Withheld::default();
        let mut records = Vec::new();
        let pctx = self.request_context(ctx, 1);
        for meta in self.store.list_documents()? {
            let d = self.decide(&subject, Action::DocumentView, &document_resource(&meta), &pctx);
            if d.allowed {
                records.push(meta);
            } else {
                withheld.add(&d.reasons);
            }
        }
        let decision = if records.is_empty() && withheld.count > 0 {
            Decision::deny("all-withheld")
        } else {
            Decision::allow("per-record")
        };
        let mut record = AuditRecord::decision(
            self.clock.now_ms(),
            actor,
            Action::DocumentView,
            ctx,
            &decision,
            records
                .iter()
                .map(|m| AuditResource::Document(m.id.to_string()))
                .collect(),
        );
        record.record_count = records.len() as u64;
        record.withheld_count = withheld.count;
        self.record(&record)?;
        Ok(Bulk { records, withheld })
    }

    /// A document's metadata, if `actor` may view it.
    pub fn document(&self, actor: &Actor, ctx: &AccessContext, id: &DocumentId) -> Result<DocumentMeta, GatewayError> {
        self.document_access(actor, ctx, id, Action::DocumentView)
            .map(|(meta, _)| meta)
    }

    /// A document's body, if `actor` may download it. The download is
    /// recorded before the body is returned.
    pub fn download_document(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        id: &DocumentId,
    ) -> Result<(DocumentMeta, Vec<u8>), GatewayError> {
        let (meta, sealed) = self.document_access(actor, ctx, id, Action::DocumentDownload)?;
        let keys = self.keys()?;
        let wrapped = crypto::WrappedKey {
            kek_version: sealed.key.kek_version,
            sealed: sealed.key.sealed,
        };
        let dk = keys.unwrap_data_key(&document_record(id.as_str()), &wrapped)?;
        drop(keys);
        let body = dk.open(&body_aad(id.as_str()), &sealed.body)?;
        Ok((meta, body.to_vec()))
    }

    /// A document's plaintext body, for the DLP index (no caller sees it).
    pub(crate) fn open_document_body(&self, id: &DocumentId) -> Result<Vec<u8>, GatewayError> {
        let sealed = self.store.get_document(id)?.ok_or_else(|| GatewayError::NotFound {
            kind: "document",
            id: id.to_string(),
        })?;
        let keys = self.keys()?;
        let wrapped = crypto::WrappedKey {
            kek_version: sealed.key.kek_version,
            sealed: sealed.key.sealed,
        };
        let dk = keys.unwrap_data_key(&document_record(id.as_str()), &wrapped)?;
        drop(keys);
        Ok(dk.open(&body_aad(id.as_str()), &sealed.body)?.to_vec())
    }

    fn document_access(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        id: &DocumentId,
        action: Action,
    ) -> Result<(DocumentMeta, SealedDocument), GatewayError> {
        let now = self.clock.now_ms();
        let resources = vec![AuditResource::Document(id.to_string())];
        let subject = match self.subject(actor, ctx) {
            Ok(s) => s,
            Err(e) => {
                self.record(&AuditRecord::decision(
                    now,
                    actor,
                    action,
                    ctx,
                    &Decision::deny("error:unknown-person"),
                    resources,
                ))?;
                return Err(e);
            }
        };
        let Some(sealed) = self.store.get_document(id)? else {
            return Err(self.deny_missing(actor, ctx, action, AuditResource::Document(id.to_string())));
        };
        let decision = self.decide(
            &subject,
            action,
            &document_resource(&sealed.meta),
            &self.request_context(ctx, 1),
        );
        let mut record = AuditRecord::decision(now, actor, action, ctx, &decision, resources);
        record.record_count = u64::from(decision.allowed);
        self.record(&record)?;
        if !decision.allowed {
            return Err(denied(action, &format!("document {id}"), &decision));
        }
        Ok((sealed.meta.clone(), sealed))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
