//! Customer exports: every record is authorized as `customer.export` with
//! the size of the whole export in the policy context (so policies can
//! refuse, or ask for a justification, a fresh MFA or a manager's approval
//! above a size), the decision is recorded with the count and the
//! justification before anything is released, and the records are written
//! as CSV or XLSX with spreadsheet formulas neutralized.
//!
//! An export refused only for lack of approval is queued in the store; the
//! requester's manager (or a security admin, never the requester) approves
//! or rejects it, and the requester downloads it once, authorized afresh.

use std::borrow::Cow;

use model::{CustomerField, CustomerMeta, EmploymentStatus, PersonId, Role};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use store::{CustomerFilter, ExportState, PendingExport};

use crate::access::{customer_resource, denied, Subject};
use crate::audit::{AuditRecord, AuditResource};
use crate::view::{Bulk, CustomerView, Withheld};
use crate::{AccessContext, Action, Actor, Decision, Gateway, GatewayError};

/// Which customers an export wants: the accounts the caller may export,
/// optionally one owner's, in id order, at most `limit` of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSelection {
    pub owner: Option<PersonId>,
    pub limit: Option<usize>,
}

/// The file an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    fn parse(s: &str) -> Result<ExportFormat, GatewayError> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            other => Err(GatewayError::Internal(format!(
                "queued export with unknown format {other:?}"
            ))),
        }
    }

    /// The records as a file of this format.
    pub fn write(self, records: &[CustomerView]) -> Result<Vec<u8>, GatewayError> {
        match self {
            ExportFormat::Csv => write_csv(records),
            ExportFormat::Xlsx => write_xlsx(records),
        }
    }
}

/// What an export request came to.
#[derive(Debug)]
pub enum ExportOutcome {
    /// Allowed and recorded: the records to hand out.
    Released(Bulk<CustomerView>),
    /// Refused only for lack of a manager's approval: queued under this id.
    Queued { id: String, record_count: u64 },
}

/// A queued export as approvers and the requester see it (no customer data).
#[derive(Debug, Clone, Serialize)]
pub struct ExportTicket {
    pub id: String,
    pub requester: PersonId,
    pub selection: ExportSelection,
    pub format: ExportFormat,
    pub justification: String,
    pub created_ms: model::UnixMillis,
    pub state: &'static str,
    pub decided_by: Option<PersonId>,
}

/// What the per-record decisions of an export came to, before release.
enum Verdict {
    Allowed {
        subject: Subject,
        allowed: Vec<CustomerMeta>,
        withheld: Withheld,
    },
    /// Every refusal would be lifted by an approval.
    NeedsApproval {
        record_count: u64,
        decision: Decision,
    },
    Refused {
        record_count: u64,
        decision: Decision,
    },
}

/// The ledger's action names for deciding a queued export. They are not
/// policy actions: who may decide is the built-in rule in [`may_decide`].
const APPROVE: &str = "export.approve";
const REJECT: &str = "export.reject";

/// The export CSV's and XLSX's columns: metadata, then every field.
fn header() -> Vec<&'static str> {
    let mut h = vec!["id", "owner", "team", "territory", "country", "classification"];
    h.extend(CustomerField::ALL.iter().map(|f| f.as_str()));
    h
}

fn row(v: &CustomerView) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut r = vec![
        v.id.to_string(),
        v.owner.to_string(),
        v.team.as_ref().map(|t| t.to_string()).unwrap_or_default(),
        opt(&v.territory),
        opt(&v.country),
        v.classification.to_string(),
    ];
    // Masked fields are exported as masked; hidden ones stay empty.
    r.extend(CustomerField::ALL.iter().map(|f| v.text(*f).unwrap_or_default()));
    r
}

/// A cell a spreadsheet would not run as a formula (OWASP, CSV injection):
/// text starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
/// leading `'`.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The records as CSV (RFC 4180, a header row), every cell neutralized.
pub fn write_csv(records: &[CustomerView]) -> Result<Vec<u8>, GatewayError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| GatewayError::Internal(format!("writing the CSV export: {e}"));
    w.write_record(header()).map_err(fail)?;
    for v in records {
        w.write_record(row(v).iter().map(|c| neutralize(c).into_owned()))
            .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| GatewayError::Internal(format!("writing the CSV export: {e}")))
}

/// The records as an XLSX workbook, every cell written as neutralized text
/// (never as a formula or number).
pub fn write_xlsx(records: &[CustomerView]) -> Result<Vec<u8>, GatewayError> {
    let fail = |e: rust_xlsxwriter::XlsxError| GatewayError::Internal(format!("writing the XLSX export: {e}"));
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("customers").map_err(fail)?;
    for (c, h) in header().iter().enumerate() {
        sheet.write_string(0, col(c)?, *h).map_err(fail)?;
    }
    for (r, v) in records.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| GatewayError::Invalid("too many rows for a workbook".into()))?;
        for (c, cell) in row(v).iter().enumerate() {
            let cell = neutralize(cell);
            if cell.chars().count() > XLSX_MAX_CELL_CHARS {
                return Err(GatewayError::Invalid(format!(
                    "customer {} has a field longer than an XLSX cell holds ({XLSX_MAX_CELL_CHARS} characters); export as CSV",
                    v.id
                )));
            }
            sheet.write_string(r, col(c)?, cell).map_err(fail)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// The longest text an XLSX cell holds.
const XLSX_MAX_CELL_CHARS: usize = 32_767;

fn col(c: usize) -> Result<u16, GatewayError> {
    u16::try_from(c).map_err(|_| GatewayError::Internal("too many columns".into()))
}

/// Who may decide a queued export: the requester's manager or a security
/// admin, in good standing, never the requester.
fn may_decide(decider: &model::Person, requester: &model::Person) -> bool {
    decider.id != requester.id
        && decider.status == EmploymentStatus::Active
        && (requester.manager.as_ref() == Some(&decider.id) || decider.role == Role::SecurityAdmin)
}

fn new_export_id() -> Result<String, GatewayError> {
    let mut bytes = [0u8; 12];
    getrandom::getrandom(&mut bytes).map_err(|e| GatewayError::Internal(format!("no randomness: {e}")))?;
    Ok(format!(
        "X-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

impl Gateway {
    /// Exports the customers of `selection` that `actor` may export. Each
    /// record is authorized as `customer.export` with `record_count` = the
    /// number of records in the export (those the caller may export at all,
    /// up to the limit); one decision with the count and the justification
    /// is recorded before anything is returned. An export refused only for
    /// lack of approval is queued (`format` is kept for the download).
    pub fn export_customers(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        selection: &ExportSelection,
        format: ExportFormat,
    ) -> Result<ExportOutcome, GatewayError> {
        let now = self.clock.now_ms();
        match self.export_verdict(actor, ctx, selection, false)? {
            Verdict::Allowed {
                subject,
                allowed,
                withheld,
            } => self
                .release(actor, ctx, &subject, allowed, withheld, Vec::new())
                .map(ExportOutcome::Released),
            Verdict::NeedsApproval { record_count, decision } => {
                let Actor::Person(requester) = actor else {
                    return Err(GatewayError::Internal(
                        "the operator is never asked for approval".into(),
                    ));
                };
                let id = new_export_id()?;
                let mut record = AuditRecord::decision(
                    now,
                    actor,
                    Action::CustomerExport,
                    ctx,
                    &decision,
                    vec![AuditResource::Export(id.clone())],
                );
                record.record_count = record_count;
                self.record(&record)?;
                let filter = serde_json::to_string(selection).map_err(|e| GatewayError::Internal(e.to_string()))?;
                self.store.insert_pending_export(&PendingExport {
                    id: id.clone(),
                    requester: requester.clone(),
                    filter,
                    format: format.as_str().to_owned(),
                    justification: ctx.justification.clone().unwrap_or_default(),
                    created_ms: now,
                    state: ExportState::Pending,
                    decided_by: None,
                    decided_ms: None,
                })?;
                Ok(ExportOutcome::Queued { id, record_count })
            }
            Verdict::Refused { record_count, decision } => {
                let mut record = AuditRecord::decision(
                    now,
                    actor,
                    Action::CustomerExport,
                    ctx,
                    &decision,
                    vec![AuditResource::System],
                );
                record.record_count = record_count;
                self.record(&record)?;
                Err(denied(Action::CustomerExport, "the selected customers", &decision))
            }
        }
    }

    /// The queued exports `actor` may decide (as the requesters' manager or
    /// a security admin), oldest first.
    pub fn pending_exports(&self, actor: &Actor, _ctx: &AccessContext) -> Result<Vec<ExportTicket>, GatewayError> {
        let decider = self.person_of(actor)?;
        let mut out = Vec::new();
        for e in self.store.pending_exports(ExportState::Pending)? {
            if let Some(requester) = self.store.get_person(&e.requester)? {
                if may_decide(&decider, &requester) {
                    out.push(ticket(&e)?);
                }
            }
        }
        Ok(out)
    }

    /// Approves (or rejects) a queued export, as the requester's manager or
    /// a security admin; recorded in the ledger either way.
    pub fn decide_export(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        id: &str,
        approve: bool,
    ) -> Result<ExportTicket, GatewayError> {
        let now = self.clock.now_ms();
        let action = if approve { APPROVE } else { REJECT };
        let decider = self.person_of(actor)?;
        let export = self.store.get_pending_export(id)?;
        let requester = match &export {
            Some(e) => self.store.get_person(&e.requester)?,
            None => None,
        };
        let verdict = match (&export, &requester) {
            (None, _) | (_, None) => Decision::deny("not-found"),
            (Some(_), Some(r)) if !may_decide(&decider, r) => Decision::deny("builtin:not-the-requesters-manager"),
            (Some(e), _) if e.state != ExportState::Pending => Decision::deny("builtin:already-decided"),
            _ => Decision::allow("builtin:manager-decides-export"),
        };
        let mut record = AuditRecord::decision(
            now,
            actor,
            Action::CustomerExport,
            ctx,
            &verdict,
            vec![AuditResource::Export(id.to_owned())],
        );
        record.action = action.to_owned();
        // The decision is durable before it takes effect.
        self.record(&record)?;
        let Some(export) = export.filter(|_| verdict.allowed) else {
            return Err(match verdict.reasons.first().map(String::as_str) {
                Some("not-found") => GatewayError::NotFound {
                    kind: "export",
                    id: id.to_owned(),
                },
                _ => GatewayError::Denied {
                    action: action.to_owned(),
                    resource: format!("export {id}"),
                    reason: verdict.reasons.join(", "),
                },
            });
        };
        let to = if approve {
            ExportState::Approved
        } else {
            ExportState::Rejected
        };
        if !self
            .store
            .transition_export(id, ExportState::Pending, to, Some(&decider.id), now)?
        {
            return Err(GatewayError::Denied {
                action: action.to_owned(),
                resource: format!("export {id}"),
                reason: "builtin:already-decided".into(),
            });
        }
        let mut t = ticket(&export)?;
        t.state = to.as_str();
        t.decided_by = Some(decider.id);
        Ok(t)
    }

    /// Downloads an approved export, once, as its requester: authorized
    /// afresh (a requester who is now departing is refused) with the
    /// approval in the policy context. Returns the records and the format.
    pub fn download_export(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        id: &str,
    ) -> Result<(Bulk<CustomerView>, ExportFormat), GatewayError> {
        let now = self.clock.now_ms();
        let export = self.store.get_pending_export(id)?;
        let refuse = |reason: &str| -> Result<(), GatewayError> {
            let mut record = AuditRecord::decision(
                now,
                actor,
                Action::CustomerExport,
                ctx,
                &Decision::deny(reason),
                vec![AuditResource::Export(id.to_owned())],
            );
            record.justification = export.as_ref().map(|e| e.justification.clone());
            self.record(&record)
        };
        let export = match export.clone() {
            Some(e) if Actor::Person(e.requester.clone()) == *actor => e,
            _ => {
                refuse("not-found")?;
                return Err(GatewayError::NotFound {
                    kind: "export",
                    id: id.to_owned(),
                });
            }
        };
        if export.state != ExportState::Approved {
            let reason = format!("builtin:export-{}", export.state.as_str());
            refuse(&reason)?;
            return Err(GatewayError::Denied {
                action: Action::CustomerExport.to_string(),
                resource: format!("export {id}"),
                reason,
            });
        }
        let selection: ExportSelection =
            serde_json::from_str(&export.filter).map_err(|e| GatewayError::Internal(format!("queued export: {e}")))?;
        let format = ExportFormat::parse(&export.format)?;
        // The justification given with the request is the one recorded.
        let ctx = AccessContext {
            justification: Some(export.justification.clone()).filter(|j| !j.is_empty()),
            ..ctx.clone()
        };
        let (subject, allowed, withheld) = match self.export_verdict(actor, &ctx, &selection, true)? {
            Verdict::Allowed {
                subject,
                allowed,
                withheld,
            } => (subject, allowed, withheld),
            Verdict::NeedsApproval { record_count, decision } | Verdict::Refused { record_count, decision } => {
                let mut record = AuditRecord::decision(
                    now,
                    actor,
                    Action::CustomerExport,
                    &ctx,
                    &decision,
                    vec![AuditResource::Export(id.to_owned())],
                );
                record.record_count = record_count;
                self.record(&record)?;
                return Err(denied(Action::CustomerExport, &format!("export {id}"), &decision));
            }
        };
        // Single use: only one download claims it.
        if !self
            .store
            .transition_export(id, ExportState::Approved, ExportState::Downloaded, None, now)?
        {
            refuse("builtin:export-downloaded")?;
            return Err(GatewayError::Denied {
                action: Action::CustomerExport.to_string(),
                resource: format!("export {id}"),
                reason: "builtin:export-downloaded".into(),
            });
        }
        let bulk = self.release(
            actor,
            &ctx,
            &subject,
            allowed,
            withheld,
            vec![AuditResource::Export(id.to_owned())],
        )?;
        Ok((bulk, format))
    }

    fn person_of(&self, actor: &Actor) -> Result<model::Person, GatewayError> {
        match actor {
            Actor::Person(id) => self
                .store
                .get_person(id)?
                .ok_or_else(|| GatewayError::UnknownPerson(id.to_string())),
            Actor::Operator { .. } => Err(GatewayError::Invalid(
                "queued exports are decided by people; log in as the manager".into(),
            )),
        }
    }

    /// Decides every record of the selection: first which ones the caller
    /// may export at all (that count is the export's size), then each of
    /// those with the size in the context.
    fn export_verdict(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        selection: &ExportSelection,
        approved: bool,
    ) -> Result<Verdict, GatewayError> {
        let action = Action::CustomerExport;
        let subject = self.subject_or_record_deny(actor, ctx, action)?;
        let metas = self.store.customer_metas(&CustomerFilter {
            owner: selection.owner.clone(),
            after: None,
            limit: None,
        })?;
        let mut withheld = Withheld::default();
        let mut first_refusal = None;
        let single = self.request_context(ctx, 1);
        let mut candidates = Vec::new();
        for meta in metas {
            if selection.limit.is_some_and(|l| candidates.len() >= l) {
                break;
            }
            let d = self.decide(&subject, action, &customer_resource(&meta), &single);
            if d.allowed {
                candidates.push(meta);
            } else {
                withheld.add(&d.reasons);
                first_refusal.get_or_insert(d);
            }
        }
        let record_count = candidates.len() as u64;
        let sized = policy::RequestContext {
            approved,
            ..self.request_context(ctx, record_count)
        };
        let mut allowed = Vec::with_capacity(candidates.len());
        let mut refused = Vec::new();
        for meta in candidates {
            let d = self.decide(&subject, action, &customer_resource(&meta), &sized);
            if d.allowed {
                allowed.push(meta);
            } else {
                refused.push((meta, d));
            }
        }
        if let Some((_, decision)) = refused.first() {
            let with_approval = policy::RequestContext {
                approved: true,
                ..sized
            };
            let approval_lifts_all = !approved
                && matches!(subject, Subject::Person(_))
                && refused.iter().all(|(m, _)| {
                    self.decide(&subject, action, &customer_resource(m), &with_approval)
                        .allowed
                });
            if approval_lifts_all {
                return Ok(Verdict::NeedsApproval {
                    record_count,
                    decision: decision.clone(),
                });
            }
            if allowed.is_empty() {
                return Ok(Verdict::Refused {
                    record_count,
                    decision: decision.clone(),
                });
            }
            for (_, d) in &refused {
                withheld.add(&d.reasons);
            }
        }
        if allowed.is_empty() {
            if let Some(decision) = first_refusal {
                return Ok(Verdict::Refused {
                    record_count: 0,
                    decision,
                });
            }
        }
        Ok(Verdict::Allowed {
            subject,
            allowed,
            withheld,
        })
    }

    /// Decrypts and masks the allowed records, records the allow (count,
    /// fields, justification) and only then returns them.
    fn release(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        subject: &Subject,
        allowed: Vec<CustomerMeta>,
        withheld: Withheld,
        mut resources: Vec<AuditResource>,
    ) -> Result<Bulk<CustomerView>, GatewayError> {
        let ids: Vec<_> = allowed.into_iter().map(|m| m.id).collect();
        let mut records = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(512) {
            let sealed = self.store.get_customers(chunk)?;
            let views: Result<Vec<CustomerView>, GatewayError> =
                sealed.par_iter().map(|c| self.open_customer(subject, c, ctx)).collect();
            records.extend(views?);
        }
        resources.extend(records.iter().map(|r| AuditResource::Customer(r.id.to_string())));
        let mut fields: Vec<String> = records
            .iter()
            .flat_map(|r| r.fields.keys().map(|f| f.to_string()))
            .collect();
        fields.sort();
        fields.dedup();
        let mut record = AuditRecord::decision(
            self.clock.now_ms(),
            actor,
            Action::CustomerExport,
            ctx,
            &Decision::allow("per-record"),
            resources,
        );
        record.record_count = records.len() as u64;
        record.withheld_count = withheld.count;
        record.fields = fields;
        self.record(&record)?;
        Ok(Bulk { records, withheld })
    }
}

fn ticket(e: &PendingExport) -> Result<ExportTicket, GatewayError> {
    Ok(ExportTicket {
        id: e.id.clone(),
        requester: e.requester.clone(),
        selection: serde_json::from_str(&e.filter)
            .map_err(|err| GatewayError::Internal(format!("queued export {}: {err}", e.id)))?,
        format: ExportFormat::parse(&e.format)?,
        justification: e.justification.clone(),
        created_ms: e.created_ms,
        state: e.state.as_str(),
        decided_by: e.decided_by.clone(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::BTreeMap;

    use calamine::{Data, Reader};
    use model::{Classification, CustomerId};

    use super::*;

    fn view(name: &str) -> CustomerView {
        let mut fields = BTreeMap::new();
        fields.insert(CustomerField::Name, serde_json::Value::String(name.into()));
        fields.insert(CustomerField::Phones, serde_json::json!(["+84 9** *** *78"]));
        CustomerView {
            id: CustomerId("C-1".into()),
            owner: PersonId("rep-a".into()),
            team: None,
            territory: None,
            country: Some("VN".into()),
            classification: Classification::Internal,
            compartments: Default::default(),
            created_ms: 0,
            updated_ms: 0,
            fields,
            masked: vec![CustomerField::Phones],
            hidden: vec![CustomerField::BankDetails],
        }
    }

    const EVIL: &str = r#"=HYPERLINK("http://evil","x")"#;

    #[test]
    fn formula_prefixes_are_neutralized() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", EVIL] {
            assert_eq!(neutralize(bad), format!("'{bad}"));
        }
        for fine in ["Acme", "", "1-2", "a=b", "'already"] {
            assert_eq!(neutralize(fine), fine);
        }
    }

    #[test]
    fn csv_cells_cannot_become_formulas_and_masked_fields_stay_masked() {
        let csv = String::from_utf8(write_csv(&[view(EVIL)]).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let row = reader.records().next().unwrap().unwrap();
        let cell = |name: &str| {
            row.get(headers.iter().position(|h| h == name).unwrap())
                .unwrap()
                .to_owned()
        };
        assert_eq!(cell("name"), format!("'{EVIL}"));
        assert_eq!(cell("phones"), "'+84 9** *** *78", "masked and neutralized");
        assert_eq!(cell("bank_details"), "", "a hidden field is left empty");
        assert!(!row.iter().any(|c| c.starts_with('=')));
    }

    #[test]
    fn xlsx_cells_are_text_not_formulas() {
        let bytes = write_xlsx(&[view(EVIL)]).unwrap();
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let formulas = book.worksheet_formula("customers").unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "the workbook holds a formula"
        );
        let range = book.worksheet_range("customers").unwrap();
        let name_col = header().iter().position(|h| *h == "name").unwrap();
        assert_eq!(
            range.get((1, name_col)),
            Some(&Data::String(format!("'{EVIL}"))),
            "the name is text"
        );
        assert_eq!(range.get((0, 0)), Some(&Data::String("id".into())));
    }
}
