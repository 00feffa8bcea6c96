//! Customers through the gateway: import, read, list, search, erase.

use std::collections::{BTreeMap, HashSet};

use model::normalize;
use model::{Classification, CustomerField, CustomerId, CustomerMeta, NewCustomer, PersonId};
use rayon::prelude::*;
use serde::Serialize;
use store::{CustomerFilter, CustomerToOpen, LookupKind, SealedCustomer, StoredKey};

use crate::access::{customer_resource, denied, error_code, Subject};
use crate::audit::{AuditRecord, AuditResource, Held};
use crate::view::{Bulk, CustomerView, Withheld};
use crate::{mask, AccessContext, Action, Actor, Decision, Gateway, GatewayError};

/// A problem with one row of an import, by its position in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// Index of the row in the batch handed to the gateway (0-based).
    pub row: usize,
    pub problem: String,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub imported: usize,
    pub skipped: Vec<RowProblem>,
}

/// Changes to a customer's fields; `None` keeps the field as it is. For
/// `annual_value` and `bank_details`, `Some(None)` clears the value.
#[derive(Clone, Default)]
pub struct CustomerPatch {
    pub display_name: Option<String>,
    pub company: Option<String>,
    pub emails: Option<Vec<String>>,
    pub phones: Option<Vec<String>>,
    pub addresses: Option<Vec<String>>,
    pub notes: Option<String>,
    pub annual_value: Option<Option<i64>>,
    pub bank_details: Option<Option<String>>,
    pub country: Option<String>,
}

impl std::fmt::Debug for CustomerPatch {
    // Field values never reach Debug output (invariant 3): only which are set.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set: Vec<&str> = [
            ("name", self.display_name.is_some()),
            ("company", self.company.is_some()),
            ("emails", self.emails.is_some()),
            ("phones", self.phones.is_some()),
            ("addresses", self.addresses.is_some()),
            ("notes", self.notes.is_some()),
            ("deal_value", self.annual_value.is_some()),
            ("bank_details", self.bank_details.is_some()),
            ("country", self.country.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        f.debug_struct("CustomerPatch").field("changes", &set).finish()
    }
}

/// How a caller may see one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldAccess {
    Clear,
    Masked,
    Hidden,
}

fn customer_record(id: &str) -> Vec<u8> {
    format!("customer/{id}").into_bytes()
}

fn field_aad(id: &str, field: CustomerField) -> Vec<u8> {
    format!("customer/{id}/{field}/dk1").into_bytes()
}

impl Gateway {
    /// Checks, seals and stores new customers in one transaction. Rows with
    /// problems make the whole import fail (nothing written) unless
    /// `skip_invalid`, in which case they are reported and left out.
    pub fn import_customers(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        rows: Vec<NewCustomer>,
        skip_invalid: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportReport, GatewayError> {
        self.authorize_admin(actor, Action::CustomerCreate, ctx)?;
        let people = self.owners_in_good_standing()?;
        let now = self.clock.now_ms();
        // Numbers for the rows without an id, reserved once: never handed out twice,
        // not even after an erasure (found in review: `C-{count + 1}` named an
        // existing customer after any erasure, and every create without an id failed).
        let unnamed = rows.iter().filter(|row| row.id.is_none()).count() as u64;
        let mut next_number = match unnamed {
            0 => 0,
            n => self.store.reserve_customer_numbers(n)?,
        };

        // Checking a row is independent of the others: in parallel. Ids and
        // repeats are then settled in input order.
        let checks: Vec<Result<(), String>> = rows.par_iter().map(|row| check_row(row, &people)).collect();
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        let mut accepted = Vec::with_capacity(rows.len());
        for (i, (mut row, check)) in rows.into_iter().zip(checks).enumerate() {
            let id = row.id.clone().unwrap_or_else(|| {
                next_number += 1;
                CustomerId(format!("C-{:07}", next_number - 1))
            });
            row.id = Some(id.clone());
            match check {
                Err(problem) => problems.push(RowProblem { row: i, problem }),
                Ok(()) if !seen.insert(id.clone()) => problems.push(RowProblem {
                    row: i,
                    problem: format!("customer id {id} appears more than once"),
                }),
                Ok(()) => accepted.push(row),
            }
        }
        if !problems.is_empty() && !skip_invalid {
            return Err(GatewayError::InvalidRows(problems));
        }
        drop(seen);

        // Recorded before anything is written: the rows go in all or none.
        self.record(&AuditRecord::admin(now, actor, Action::CustomerCreate, ctx).with_count(accepted.len() as u64))?;
        let key_write = self.key_write()?;
        let imported = self.seal_and_insert(accepted, now, progress)?;
        drop(key_write);
        Ok(ImportReport {
            imported: usize::try_from(imported).unwrap_or(usize::MAX),
            skipped: problems,
        })
    }

    /// Seals rows in batches on one thread (each batch across the cores)
    /// while the store writes the previous batch on this one, all in one
    /// store transaction: sealing and writing overlap instead of adding up.
    /// A sealing failure cancels the transaction; nothing is written.
    fn seal_and_insert(
        &self,
        rows: Vec<NewCustomer>,
        now: model::UnixMillis,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<u64, GatewayError> {
        const BATCH: usize = 4096;
        let (send, receive) = std::sync::mpsc::sync_channel::<Result<Vec<SealedCustomer>, GatewayError>>(4);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut rows = rows.into_iter();
                loop {
                    let batch: Vec<NewCustomer> = rows.by_ref().take(BATCH).collect();
                    if batch.is_empty() {
                        return;
                    }
                    let sealed = self.keys().and_then(|keys| {
                        batch
                            .par_iter()
                            .map(|row| {
                                let out = seal_customer(&keys, row, now);
                                progress(1);
                                out
                            })
                            .collect::<Result<Vec<_>, _>>()
                    });
                    let failed = sealed.is_err();
                    // The writer hung up (it failed): stop sealing.
                    if send.send(sealed).is_err() || failed {
                        return;
                    }
                }
            });
            let mut sealing_error = None;
            let mut batches = receive.iter().map_while(|sealed| match sealed {
                Ok(batch) => Some(Ok(batch)),
                Err(e) => {
                    sealing_error = Some(e);
                    Some(Err(store::StoreError::Cancelled))
                }
            });
            let written = self.store.insert_customer_batches(&mut batches);
            drop(batches);
            match (sealing_error, written) {
                (Some(e), _) => Err(e),
                (None, written) => Ok(written?),
            }
        })
    }

    /// Reads one customer as `actor` may see it.
    pub fn read_customer(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        id: &CustomerId,
    ) -> Result<CustomerView, GatewayError> {
        self.read_customer_held(actor, ctx, id).wait()
    }

    /// [`Gateway::read_customer`] without waiting: the decision is queued in
    /// the ledger and the view (or the refusal) is held until it is durable.
    pub fn read_customer_held(&self, actor: &Actor, ctx: &AccessContext, id: &CustomerId) -> Held<CustomerView> {
        let subject = self.subject(actor, ctx);
        let sealed = self.store.get_customer_to_open(id);
        let now = self.clock.now_ms();
        let resources = vec![AuditResource::Customer(id.to_string())];
        // Holds a denial (the error to give) until it is recorded.
        let deny = |reason: &str, err: GatewayError| -> Held<CustomerView> {
            let d = Decision::deny(reason);
            let record = AuditRecord::decision(now, actor, Action::CustomerRead, ctx, &d, resources.clone());
            self.hold(&record, Err(err))
        };
        let (subject, sealed) = match (subject, sealed) {
            (Ok(s), Ok(Some(c))) => (s, c),
            (Err(e), _) => return deny(&format!("error:{}", error_code(&e)), e),
            (_, Ok(None)) => {
                return deny(
                    "not-found",
                    GatewayError::NotFound {
                        kind: "customer",
                        id: id.to_string(),
                    },
                )
            }
            (_, Err(e)) => return deny("error:store", e.into()),
        };
        let decision = self.decide(
            &subject,
            Action::CustomerRead,
            &customer_resource(&sealed.meta),
            &self.request_context(ctx, 1),
        );
        let mut record = AuditRecord::decision(now, actor, Action::CustomerRead, ctx, &decision, resources.clone());
        if !decision.allowed {
            let refusal = denied(Action::CustomerRead, &format!("customer {id}"), &decision);
            return self.hold(&record, Err(refusal));
        }
        // Decrypt before recording so that a failure is recorded as a deny;
        // the plaintext leaves only after the allow is durable.
        match self.open_customer(&subject, &sealed, ctx) {
            Ok(view) => {
                record.record_count = 1;
                record.fields = view.fields.keys().map(|f| f.to_string()).collect();
                self.hold(&record, Ok(view))
            }
            Err(e) => deny(&format!("error:{}", error_code(&e)), e),
        }
    }

    /// Lists the customers `actor` may read (optionally one owner's),
    /// authorized per record; the rest are counted as withheld.
    pub fn list_customers(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        owner: Option<&PersonId>,
        limit: usize,
    ) -> Result<Bulk<CustomerView>, GatewayError> {
        let metas = self.store.customer_metas(&CustomerFilter {
            owner: owner.cloned(),
            after: None,
            limit: None,
        })?;
        self.bulk_read(actor, ctx, Action::CustomerSearch, metas, limit, &|_| true)
    }

    /// Finds customers by exact email or phone (blind index), or by a part
    /// of their name among the records the caller may read.
    pub fn search_customers(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        query: &str,
        limit: usize,
    ) -> Result<Bulk<CustomerView>, GatewayError> {
        let query = query.trim();
        let lookup = if let Some(email) = normalize::email(query) {
            Some((LookupKind::Email, email))
        } else if query.chars().filter(char::is_ascii_digit).count() >= 7 {
            normalize::phone_e164(query, None).map(|p| (LookupKind::Phone, p))
        } else {
            None
        };
        if let Some((kind, normalized)) = lookup {
            let hash = self.keys()?.blind_index(kind.as_str(), &normalized);
            let ids = self.store.find_customers(kind, &hash)?;
            let metas = self.store.get_customers(&ids)?.into_iter().map(|c| c.meta).collect();
            let mut found = self.bulk_read(actor, ctx, Action::CustomerSearch, metas, limit, &|_| true)?;
            // What an exact lookup withholds is whether this email or phone is a
            // customer's at all: the ledger keeps the count, the caller is not told it
            // (found in review: an engineer learned it from `withheld.count`).
            found.withheld = Withheld::default();
            return Ok(found);
        }
        let needle = normalize::fold_diacritics(query);
        let metas = self.store.customer_metas(&CustomerFilter::default())?;
        self.bulk_read(actor, ctx, Action::CustomerSearch, metas, limit, &|view| {
            view.text(CustomerField::Name)
                .is_some_and(|n| normalize::fold_diacritics(&n).contains(&needle))
                || view
                    .text(CustomerField::Company)
                    .is_some_and(|n| normalize::fold_diacritics(&n).contains(&needle))
        })
    }

    /// Authorizes each record, decrypts the allowed ones, keeps those that
    /// `keep` accepts (up to `limit`) and records one decision for the lot.
    fn bulk_read(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        action: Action,
        metas: Vec<CustomerMeta>,
        limit: usize,
        keep: &(dyn Fn(&CustomerView) -> bool + Sync),
    ) -> Result<Bulk<CustomerView>, GatewayError> {
        let subject = self.subject_or_record_deny(actor, ctx, action)?;
        let mut withheld = Withheld::default();
        let mut allowed = Vec::new();
        let pctx = self.request_context(ctx, metas.len() as u64);
        for meta in &metas {
            let d = self.decide(&subject, action, &customer_resource(meta), &pctx);
            if d.allowed {
                allowed.push(meta.id.clone());
            } else {
                withheld.add(&d.reasons);
            }
        }
        let mut records = Vec::new();
        for chunk in allowed.chunks(512) {
            let sealed = self.store.get_customers(chunk)?;
            let views: Result<Vec<CustomerView>, GatewayError> = sealed
                .par_iter()
                .map(|c| self.open_customer(&subject, c, ctx))
                .collect();
            records.extend(views?.into_iter().filter(|v| keep(v)));
            if records.len() >= limit {
                break;
            }
        }
        records.truncate(limit);
        let now = self.clock.now_ms();
        let decision = if records.is_empty() && withheld.count > 0 {
            Decision::deny("all-withheld")
        } else {
            Decision::allow("per-record")
        };
        let mut record = AuditRecord::decision(
            now,
            actor,
            action,
            ctx,
            &decision,
            records
                .iter()
                .map(|r| AuditResource::Customer(r.id.to_string()))
                .collect(),
        );
        record.record_count = records.len() as u64;
        record.withheld_count = withheld.count;
        self.record(&record)?;
        Ok(Bulk { records, withheld })
    }

    pub(crate) fn subject_or_record_deny(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        action: Action,
    ) -> Result<Subject, GatewayError> {
        self.subject(actor, ctx).or_else(|e| {
            let d = Decision::deny(&format!("error:{}", error_code(&e)));
            self.record(&AuditRecord::decision(
                self.clock.now_ms(),
                actor,
                action,
                ctx,
                &d,
                vec![AuditResource::System],
            ))?;
            Err(e)
        })
    }

    /// Erases a customer by destroying its data key and rows (crypto-shredding).
    pub fn erase_customer(&self, actor: &Actor, ctx: &AccessContext, id: &CustomerId) -> Result<(), GatewayError> {
        let subject = self.subject_or_record_deny(actor, ctx, Action::CustomerErase)?;
        let meta = self.store.get_customer(id)?.map(|c| c.meta);
        let now = self.clock.now_ms();
        let resources = vec![AuditResource::Customer(id.to_string())];
        let Some(meta) = meta else {
            return Err(self.deny_missing(
                actor,
                ctx,
                Action::CustomerErase,
                AuditResource::Customer(id.to_string()),
            ));
        };
        let decision = self.decide(
            &subject,
            Action::CustomerErase,
            &customer_resource(&meta),
            &self.request_context(ctx, 1),
        );
        // The erasure is recorded first: if recording fails nothing is erased.
        self.record(&AuditRecord::decision(
            now,
            actor,
            Action::CustomerErase,
            ctx,
            &decision,
            resources,
        ))?;
        if !decision.allowed {
            return Err(denied(Action::CustomerErase, &format!("customer {id}"), &decision));
        }
        self.store.erase_customer(id)?;
        Ok(())
    }

    /// Creates one customer as `actor`: authorized as `customer.create` on
    /// the new record (its owner, team and classification), then checked,
    /// recorded, and only then stored. Returns the record
    /// as the caller may see it.
    pub fn create_customer(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        mut row: NewCustomer,
    ) -> Result<CustomerView, GatewayError> {
        let action = Action::CustomerCreate;
        let subject = self.subject_or_record_deny(actor, ctx, action)?;
        // Authorized on the record as asked for before the row is checked or its id
        // looked up: a caller who may not create it learns nothing of which ids are
        // taken or who may own a customer (found in review).
        let asked = || match &row.id {
            Some(id) => vec![AuditResource::Customer(id.to_string())],
            None => vec![AuditResource::System],
        };
        let decision = self.decide(
            &subject,
            action,
            &customer_resource(&asked_meta(&row)),
            &self.request_context(ctx, 1),
        );
        if !decision.allowed {
            let what = row
                .id
                .as_ref()
                .map_or("a new customer".to_owned(), |id| format!("customer {id}"));
            return Err(self.deny_decided(actor, ctx, action, &decision, asked(), &what));
        }
        let people = self.owners_in_good_standing()?;
        if let Err(why) = check_row(&row, &people) {
            return Err(self.deny_with(actor, ctx, action, asked(), "invalid-input", GatewayError::Invalid(why)));
        }
        let id = match row.id.clone() {
            Some(id) => id,
            None => self.free_customer_id()?,
        };
        if self.store.get_customer(&id)?.is_some() {
            return Err(self.deny_with(
                actor,
                ctx,
                action,
                asked(),
                "already-exists",
                GatewayError::DuplicateCustomer(id),
            ));
        }
        row.id = Some(id.clone());
        let now = self.clock.now_ms();
        let key_write = self.key_write()?;
        let sealed = seal_customer(&*self.keys()?, &row, now)?;
        self.write_customer(actor, ctx, &subject, Action::CustomerCreate, &sealed)?;
        self.store.insert_customers(std::slice::from_ref(&sealed))?;
        // Opened before the lock is let go: a rotation waiting for it retires the
        // version `sealed` is wrapped under, and the stored record then succeeded while
        // the caller got an unknown key version (a CI run saw it).
        let view = self.open_customer(&subject, &sealed, ctx);
        drop(key_write);
        view
    }

    /// Changes fields of a customer as `actor`, authorized as
    /// `customer.update` on the record; the record is sealed afresh under
    /// a new data key. Owner, team and classification are not changed here
    /// (that is a reassignment).
    pub fn update_customer(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        id: &CustomerId,
        patch: CustomerPatch,
    ) -> Result<CustomerView, GatewayError> {
        let subject = self.subject_or_record_deny(actor, ctx, Action::CustomerUpdate)?;
        let Some(current) = self.store.get_customer(id)? else {
            return Err(self.deny_missing(
                actor,
                ctx,
                Action::CustomerUpdate,
                AuditResource::Customer(id.to_string()),
            ));
        };
        // Decide on the record as stored before anything is decrypted.
        let decision = self.decide(
            &subject,
            Action::CustomerUpdate,
            &customer_resource(&current.meta),
            &self.request_context(ctx, 1),
        );
        if !decision.allowed {
            self.record(&AuditRecord::decision(
                self.clock.now_ms(),
                actor,
                Action::CustomerUpdate,
                ctx,
                &decision,
                vec![AuditResource::Customer(id.to_string())],
            ))?;
            return Err(denied(Action::CustomerUpdate, &format!("customer {id}"), &decision));
        }
        // The whole record in clear, inside the gateway only, to merge the patch.
        let full = self.open_customer(&Subject::Operator, &current, ctx)?;
        let text = |f: CustomerField| full.text(f).unwrap_or_default();
        let list = |f: CustomerField| -> Vec<String> {
            match full.fields.get(&f) {
                Some(serde_json::Value::Array(items)) => {
                    items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()
                }
                _ => Vec::new(),
            }
        };
        let m = &current.meta;
        let row = NewCustomer {
            id: Some(id.clone()),
            display_name: patch.display_name.unwrap_or_else(|| text(CustomerField::Name)),
            company: patch.company.unwrap_or_else(|| text(CustomerField::Company)),
            emails: patch.emails.unwrap_or_else(|| list(CustomerField::Emails)),
            phones: patch.phones.unwrap_or_else(|| list(CustomerField::Phones)),
            addresses: patch.addresses.unwrap_or_else(|| list(CustomerField::Addresses)),
            notes: patch.notes.unwrap_or_else(|| text(CustomerField::Notes)),
            annual_value: match patch.annual_value {
                Some(v) => v,
                None => full
                    .fields
                    .get(&CustomerField::DealValue)
                    .and_then(serde_json::Value::as_i64),
            },
            bank_details: match patch.bank_details {
                Some(v) => v,
                None => full.text(CustomerField::BankDetails).filter(|b| !b.is_empty()),
            },
            country: patch.country.or_else(|| m.country.clone()),
            owner: Some(m.owner.clone()),
            team: m.team.clone(),
            territory: m.territory.clone(),
            classification: Some(m.classification),
            compartments: m.compartments.clone(),
        };
        drop(full);
        let people: HashSet<PersonId> = self.store.list_people()?.into_iter().map(|p| p.id).collect();
        check_row(&row, &people).map_err(GatewayError::Invalid)?;
        let now = self.clock.now_ms();
        let key_write = self.key_write()?;
        let mut sealed = seal_customer(&*self.keys()?, &row, now)?;
        sealed.meta.created_ms = current.meta.created_ms;
        self.write_customer(actor, ctx, &subject, Action::CustomerUpdate, &sealed)?;
        self.store.update_customer(&sealed)?;
        // Opened before the lock is let go, as in `create_customer`.
        let view = self.open_customer(&subject, &sealed, ctx);
        drop(key_write);
        view
    }

    /// Authorizes a write of `sealed` and records the decision (with the
    /// names of the fields written, never their values) before it happens.
    fn write_customer(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        subject: &Subject,
        action: Action,
        sealed: &SealedCustomer,
    ) -> Result<(), GatewayError> {
        let id = &sealed.meta.id;
        let decision = self.decide(
            subject,
            action,
            &customer_resource(&sealed.meta),
            &self.request_context(ctx, 1),
        );
        let mut record = AuditRecord::decision(
            self.clock.now_ms(),
            actor,
            action,
            ctx,
            &decision,
            vec![AuditResource::Customer(id.to_string())],
        );
        record.record_count = 1;
        record.fields = sealed.fields.iter().map(|(f, _)| f.to_string()).collect();
        self.record(&record)?;
        if !decision.allowed {
            return Err(denied(action, &format!("customer {id}"), &decision));
        }
        Ok(())
    }

    /// Number of customers in the vault (no record content).
    pub fn count_customers(&self) -> Result<u64, GatewayError> {
        Ok(self.store.count_customers()?)
    }

    /// Decrypts the fields the subject may see and masks the rest.
    pub(crate) fn open_customer<'a>(
        &self,
        subject: &Subject,
        sealed: impl Into<Sealed<'a>>,
        ctx: &AccessContext,
    ) -> Result<CustomerView, GatewayError> {
        let sealed = sealed.into();
        let id = sealed.meta.id.as_str();
        let accesses = self.field_accesses(subject, &customer_resource(sealed.meta), &self.request_context(ctx, 1));
        let keys = self.keys()?;
        let wrapped = crypto::WrappedKey {
            kek_version: sealed.key.kek_version,
            sealed: sealed.key.sealed.clone(),
        };
        let dk = keys.unwrap_data_key(&customer_record(id), &wrapped)?;
        drop(keys);
        let mut fields = BTreeMap::new();
        let mut masked = Vec::new();
        let mut hidden = Vec::new();
        for (field, ct) in sealed.fields {
            // A field the policy does not mention is withheld (fail closed).
            let access = accesses.iter().find(|(f, _)| f.as_str() == field.as_str()).map_or(
                FieldAccess::Hidden,
                |(_, a)| match a {
                    policy::FieldAccess::Clear => FieldAccess::Clear,
                    policy::FieldAccess::Masked => FieldAccess::Masked,
                    policy::FieldAccess::Hidden => FieldAccess::Hidden,
                },
            );
            if access == FieldAccess::Hidden {
                hidden.push(*field);
                continue;
            }
            let plain = dk.open(&field_aad(id, *field), ct)?;
            let value: serde_json::Value = serde_json::from_slice(&plain)
                .map_err(|_| GatewayError::Internal(format!("customer {id} field {field} does not decode")))?;
            if access == FieldAccess::Masked {
                fields.insert(*field, mask_value(*field, &value));
                masked.push(*field);
            } else {
                fields.insert(*field, value);
            }
        }
        let m = &sealed.meta;
        Ok(CustomerView {
            id: m.id.clone(),
            owner: m.owner.clone(),
            team: m.team.clone(),
            territory: m.territory.clone(),
            country: m.country.clone(),
            classification: m.classification,
            compartments: m.compartments.clone(),
            created_ms: m.created_ms,
            updated_ms: m.updated_ms,
            fields,
            masked,
            hidden,
        })
    }
}

fn mask_value(field: CustomerField, value: &serde_json::Value) -> serde_json::Value {
    let one = |s: &str| -> String {
        match field {
            CustomerField::Phones => mask::phone(s),
            CustomerField::Emails => mask::email(s),
            CustomerField::Name | CustomerField::Company => mask::name(s),
            CustomerField::BankDetails => mask::account(s),
            _ => mask::text(s),
        }
    };
    match value {
        serde_json::Value::String(s) => serde_json::Value::String(one(s)),
        serde_json::Value::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|i| serde_json::Value::String(one(i.as_str().unwrap_or(""))))
                .collect(),
        ),
        serde_json::Value::Null => serde_json::Value::Null,
        _ => serde_json::Value::String(mask::text("")),
    }
}

impl Gateway {
    /// A made-up id (`C-0000042`) that names no customer: reserved numbers are never
    /// handed out twice, but a customer imported with an explicit id may have taken
    /// one ahead of the counter, so such numbers are passed over.
    fn free_customer_id(&self) -> Result<CustomerId, GatewayError> {
        for _ in 0..64 {
            let id = CustomerId(format!("C-{:07}", self.store.reserve_customer_numbers(1)?));
            if self.store.get_customer(&id)?.is_none() {
                return Ok(id);
            }
        }
        Err(GatewayError::Internal(
            "64 reserved customer numbers in a row were taken by ids given explicitly; give the customer an id".into(),
        ))
    }

    /// The people who may be given new customers: everyone who has not left (an
    /// account given to a departed person would be nobody's; found in review).
    fn owners_in_good_standing(&self) -> Result<HashSet<PersonId>, GatewayError> {
        Ok(self
            .store
            .list_people()?
            .into_iter()
            .filter(|p| self.employment_status(p) != model::EmploymentStatus::Departed)
            .map(|p| p.id)
            .collect())
    }
}

/// The metadata a new customer will be stored with, as far as the request tells
/// (the id may be still to be numbered): what creating it is authorized on.
fn asked_meta(row: &NewCustomer) -> CustomerMeta {
    CustomerMeta {
        id: row.id.clone().unwrap_or_else(|| CustomerId(String::new())),
        owner: row.owner.clone().unwrap_or_else(|| PersonId(String::new())),
        team: row.team.clone(),
        territory: row.territory.clone(),
        country: row.country.as_ref().map(|c| c.to_ascii_uppercase()),
        classification: row.classification.unwrap_or(Classification::Internal),
        compartments: row.compartments.clone(),
        created_ms: 0,
        updated_ms: 0,
    }
}

/// Validates a row before anything is sealed.
fn check_row(row: &NewCustomer, people: &HashSet<PersonId>) -> Result<(), String> {
    if row.display_name.trim().is_empty() {
        return Err("the name is empty".into());
    }
    if row.display_name.chars().any(char::is_control) {
        return Err("the name contains control characters".into());
    }
    match &row.owner {
        None => return Err("no owner (account manager) given".into()),
        Some(owner) if !people.contains(owner) => {
            return Err(format!(
                "unknown owner {owner} (or one who has left); import people first (`custodia people import`)"
            ))
        }
        Some(_) => {}
    }
    for (n, e) in row.emails.iter().enumerate() {
        if normalize::email(e).is_none() {
            return Err(format!("email #{} is not an email address", n + 1));
        }
    }
    for (n, p) in row.phones.iter().enumerate() {
        if normalize::phone_e164(p, row.country.as_deref()).is_none() {
            return Err(format!(
                "phone #{} cannot be read as a phone number{}",
                n + 1,
                if row.country.is_none() {
                    " (give a country for national numbers)"
                } else {
                    ""
                }
            ));
        }
    }
    if let Some(c) = &row.country {
        if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            return Err("country must be a two-letter ISO code such as VN".into());
        }
    }
    Ok(())
}

fn seal_customer(
    keys: &crypto::Keyring,
    row: &NewCustomer,
    now: model::UnixMillis,
) -> Result<SealedCustomer, GatewayError> {
    let id = row
        .id
        .clone()
        .ok_or_else(|| GatewayError::Internal("row without id".into()))?;
    let (dk, wrapped) = keys.new_data_key(&customer_record(id.as_str()))?;
    let country = row.country.as_ref().map(|c| c.to_ascii_uppercase());
    let phones: Vec<String> = row
        .phones
        .iter()
        .map(|p| normalize::phone_e164(p, country.as_deref()).unwrap_or_else(|| p.clone()))
        .collect();
    let values: [(CustomerField, serde_json::Value); 8] = [
        (CustomerField::Name, row.display_name.trim().into()),
        (CustomerField::Company, row.company.trim().into()),
        (
            CustomerField::Emails,
            row.emails.iter().map(|e| e.trim()).collect::<Vec<_>>().into(),
        ),
        (CustomerField::Phones, phones.clone().into()),
        (CustomerField::Addresses, row.addresses.clone().into()),
        (CustomerField::Notes, row.notes.clone().into()),
        (CustomerField::DealValue, row.annual_value.into()),
        (CustomerField::BankDetails, row.bank_details.clone().into()),
    ];
    let mut fields = Vec::with_capacity(values.len());
    for (field, value) in values {
        let plain =
            zeroize::Zeroizing::new(serde_json::to_vec(&value).map_err(|e| GatewayError::Internal(e.to_string()))?);
        fields.push((field, dk.seal(&field_aad(id.as_str(), field), &plain)?));
    }
    let mut lookups = Vec::new();
    for e in &row.emails {
        if let Some(n) = normalize::email(e) {
            lookups.push((LookupKind::Email, keys.blind_index("email", &n)));
        }
    }
    for p in &phones {
        lookups.push((LookupKind::Phone, keys.blind_index("phone", p)));
    }
    Ok(SealedCustomer {
        meta: CustomerMeta {
            id,
            owner: row.owner.clone().unwrap_or_else(|| PersonId(String::new())),
            team: row.team.clone(),
            territory: row.territory.clone(),
            country,
            classification: row.classification.unwrap_or(Classification::Internal),
            compartments: row.compartments.clone(),
            created_ms: now,
            updated_ms: now,
        },
        key: StoredKey {
            kek_version: wrapped.kek_version,
            sealed: wrapped.sealed,
        },
        fields,
        lookups,
    })
}

/// The parts of a stored customer that opening it reads, whether it was
/// loaded whole ([`SealedCustomer`]) or for opening only ([`CustomerToOpen`]).
pub(crate) struct Sealed<'a> {
    meta: &'a CustomerMeta,
    key: &'a StoredKey,
    fields: &'a [(CustomerField, Vec<u8>)],
}

impl<'a> From<&'a SealedCustomer> for Sealed<'a> {
    fn from(c: &'a SealedCustomer) -> Self {
        Sealed {
            meta: &c.meta,
            key: &c.key,
            fields: &c.fields,
        }
    }
}

impl<'a> From<&'a CustomerToOpen> for Sealed<'a> {
    fn from(c: &'a CustomerToOpen) -> Self {
        Sealed {
            meta: &c.meta,
            key: &c.key,
            fields: &c.fields,
        }
    }
}
