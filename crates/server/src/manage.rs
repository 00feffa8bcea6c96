//! Data routes that change the vault or review access: customers (create,
//! update, erase), document upload, people, policy and access reviews. Like
//! every data route they get only the gateway, which authorizes and records.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use gateway::{CustomerPatch, Gateway, GatewayError, NewDocument};
use model::{Classification, CustomerId, DocumentId, DocumentKind, EmploymentStatus, NewCustomer, PersonId, TeamId};
use serde::Deserialize;

use crate::auth::Caller;
use crate::data::{call, check_text, refuse_invalid, DataState};
use crate::error::{ApiError, ErrorBody};

/// Longest short text field (names, companies, titles), in characters.
const MAX_SHORT: usize = 200;
/// Longest notes or policy explanation input, in characters.
const MAX_LONG: usize = 4000;
/// Most values in a list field (emails, phones, addresses).
const MAX_ITEMS: usize = 20;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

fn check_list(what: &str, items: Vec<String>) -> Result<Vec<String>, ApiError> {
    if items.len() > MAX_ITEMS {
        return Err(invalid(format!("{what} has more than {MAX_ITEMS} values")));
    }
    items.iter().map(|i| check_text(what, i, MAX_SHORT)).collect()
}

fn check_opt(what: &str, text: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    text.map(|t| check_text(what, &t, max)).transpose()
}

/// `POST /v1/customers` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCustomer {
    id: Option<String>,
    name: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    phones: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
    #[serde(default)]
    notes: String,
    annual_value: Option<i64>,
    bank_details: Option<String>,
    /// ISO 3166 alpha-2, e.g. `VN`; needed to read national phone numbers.
    country: Option<String>,
    /// The account owner; the caller if left out.
    owner: Option<String>,
    team: Option<String>,
    territory: Option<String>,
    /// `public`, `internal` (default), `confidential` or `secret`.
    #[schema(value_type = Option<String>)]
    classification: Option<Classification>,
    #[serde(default)]
    compartments: BTreeSet<String>,
}

fn id_text(what: &str, id: &str) -> Result<String, ApiError> {
    let id = check_text(what, id, 64)?;
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || id.starts_with('.') {
        return Err(invalid(format!(
            "{what} may hold only letters, digits, `-`, `_` and `.` (not first)"
        )));
    }
    Ok(id)
}

/// Creates a customer; authorized as `customer.create` on the new record.
#[utoipa::path(post, path = "/v1/customers", request_body = CreateCustomer, tag = "customers",
    responses((status = 201, description = "the customer as the caller may see it"),
              (status = "4XX", description = "refused or bad input", body = ErrorBody)))]
pub(crate) async fn create_customer(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<CreateCustomer>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(c) = body?;
    let row = NewCustomer {
        id: c.id.map(|i| id_text("id", &i)).transpose()?.map(CustomerId),
        display_name: check_text("name", &c.name, MAX_SHORT)?,
        company: check_text("company", &c.company, MAX_SHORT)?,
        emails: check_list("emails", c.emails)?,
        phones: check_list("phones", c.phones)?,
        addresses: check_list("addresses", c.addresses)?,
        notes: check_text("notes", &c.notes, MAX_LONG)?,
        annual_value: c.annual_value,
        bank_details: check_opt("bank_details", c.bank_details, MAX_SHORT)?,
        country: check_opt("country", c.country, 2)?,
        owner: Some(match c.owner {
            Some(o) => PersonId(id_text("owner", &o)?),
            None => caller.person.clone(),
        }),
        team: c.team.map(|t| id_text("team", &t)).transpose()?.map(TeamId),
        territory: check_opt("territory", c.territory, MAX_SHORT)?,
        classification: c.classification,
        compartments: c
            .compartments
            .into_iter()
            .map(|t| id_text("compartment", &t))
            .collect::<Result<_, _>>()?,
    };
    let view = call(state, move |g| g.create_customer(&caller.actor(), &caller.access, row)).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `PATCH /v1/customers/{id}` body: the fields to change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCustomer {
    name: Option<String>,
    company: Option<String>,
    emails: Option<Vec<String>>,
    phones: Option<Vec<String>>,
    addresses: Option<Vec<String>>,
    notes: Option<String>,
    annual_value: Option<i64>,
    bank_details: Option<String>,
    country: Option<String>,
}

/// Changes a customer's fields; authorized as `customer.update`.
#[utoipa::path(patch, path = "/v1/customers/{id}", request_body = UpdateCustomer, tag = "customers",
    params(("id" = String, Path, description = "customer id")),
    responses((status = 200, description = "the customer as the caller may see it"),
              (status = "4XX", description = "refused or bad input", body = ErrorBody)))]
pub(crate) async fn update_customer(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<UpdateCustomer>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let Json(u) = body?;
    let patch = CustomerPatch {
        display_name: check_opt("name", u.name, MAX_SHORT)?,
        company: check_opt("company", u.company, MAX_SHORT)?,
        emails: u.emails.map(|l| check_list("emails", l)).transpose()?,
        phones: u.phones.map(|l| check_list("phones", l)).transpose()?,
        addresses: u.addresses.map(|l| check_list("addresses", l)).transpose()?,
        notes: check_opt("notes", u.notes, MAX_LONG)?,
        annual_value: u.annual_value.map(Some),
        bank_details: check_opt("bank_details", u.bank_details, MAX_SHORT)?.map(Some),
        country: check_opt("country", u.country, 2)?,
    };
    let view = call(state, move |g| {
        g.update_customer(&caller.actor(), &caller.access, &CustomerId(id), patch)
    })
    .await?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EraseQuery {
    justification: Option<String>,
}

/// Erases a customer (crypto-shredding); authorized as `customer.erase`
/// (the default policy wants a justification, recorded in the ledger).
#[utoipa::path(delete, path = "/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "customer id"),
           ("justification" = Option<String>, Query, description = "why; recorded in the audit ledger")),
    responses((status = 200, description = "erased: {\"erased\": id}"),
              (status = "4XX", description = "refused", body = ErrorBody)))]
pub(crate) async fn erase_customer(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<EraseQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let Query(q) = query?;
    let mut access = caller.access.clone();
    access.justification = match check_opt("justification", q.justification, crate::MAX_JUSTIFICATION_CHARS) {
        Ok(j) => j,
        Err(e) => {
            let customer = Some(CustomerId(id));
            return Err(refuse_invalid(state, &caller, gateway::Action::CustomerErase, customer, e).await);
        }
    };
    let erased = id.clone();
    call(state, move |g| {
        g.erase_customer(&caller.actor(), &access, &CustomerId(id))
    })
    .await?;
    Ok(Json(serde_json::json!({ "erased": erased })).into_response())
}

/// `POST /v1/documents` as JSON, with the body in base64.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadDocument {
    id: Option<String>,
    title: String,
    /// A plain file name: no `/`, `\`, `..`, NUL or control characters.
    file_name: String,
    /// `customer_list`, `design`, `contract`, `source_code`, `price_list` or `other` (default).
    #[schema(value_type = Option<String>)]
    kind: Option<DocumentKind>,
    /// The custodian; the caller if left out.
    custodian: Option<String>,
    #[schema(value_type = Option<String>)]
    classification: Option<Classification>,
    #[serde(default)]
    compartments: BTreeSet<String>,
    /// The file's bytes, base64 (standard alphabet, padded).
    body_base64: String,
}

/// `POST /v1/documents` with a raw body: the metadata in the query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadQuery {
    name: String,
    title: Option<String>,
    #[serde(default)]
    kind: Option<DocumentKind>,
    #[serde(default)]
    classification: Option<Classification>,
}

/// Refuses a file name that could leave a directory when saved, with 400.
fn check_file_name(name: &str) -> Result<String, ApiError> {
    let bad = name.is_empty()
        || name.chars().count() > 255
        || name.contains(['/', '\\', '\0'])
        || name.contains("..")
        || name.chars().any(char::is_control);
    if bad {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_file_name",
            "the file name must be a plain name: no `/`, `\\`, `..`, NUL or control characters, at most 255 characters",
        ));
    }
    Ok(name.to_owned())
}

/// Uploads a document: JSON with a base64 body, or the raw bytes
/// (`application/octet-stream`) with `?name=` (and `title`, `kind`,
/// `classification`). Authorized as `document.upload` on the new document.
#[utoipa::path(post, path = "/v1/documents", request_body = UploadDocument, tag = "documents",
    responses((status = 201, description = "the document's metadata"),
              (status = "4XX", description = "refused or bad input", body = ErrorBody)))]
pub(crate) async fn upload_document(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    query: Result<Query<UploadQuery>, QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let doc = if content_type.starts_with("application/json") {
        let u: UploadDocument = serde_json::from_slice(&body).map_err(|e| {
            let code = if e.is_syntax() || e.is_eof() {
                (StatusCode::BAD_REQUEST, "malformed_json")
            } else {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
            };
            // serde names the field, never echoes the (base64) value for these errors.
            let message = if e.to_string().contains("unknown field") || e.to_string().contains("missing field") {
                e.to_string()
            } else {
                "the JSON body is not a document upload; see the API documentation".to_owned()
            };
            ApiError::new(code.0, code.1, message)
        })?;
        let body = base64::engine::general_purpose::STANDARD
            .decode(u.body_base64.as_bytes())
            .map_err(|_| invalid("body_base64 is not base64"))?;
        NewDocument {
            id: u.id.map(|i| id_text("id", &i)).transpose()?.map(DocumentId),
            title: check_text("title", &u.title, MAX_SHORT)?,
            file_name: check_file_name(&u.file_name)?,
            kind: u.kind.unwrap_or(DocumentKind::Other),
            custodian: match u.custodian {
                Some(c) => PersonId(id_text("custodian", &c)?),
                None => caller.person.clone(),
            },
            classification: u.classification.unwrap_or(Classification::Internal),
            compartments: u
                .compartments
                .into_iter()
                .map(|t| id_text("compartment", &t))
                .collect::<Result<_, _>>()?,
            body,
        }
    } else if content_type.starts_with("application/octet-stream") {
        let Query(q) = query?;
        let file_name = check_file_name(&q.name)?;
        NewDocument {
            id: None,
            title: check_text("title", q.title.as_deref().unwrap_or(&file_name), MAX_SHORT)?,
            file_name,
            kind: q.kind.unwrap_or(DocumentKind::Other),
            custodian: caller.person.clone(),
            classification: q.classification.unwrap_or(Classification::Internal),
            compartments: BTreeSet::new(),
            body: body.to_vec(),
        }
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the document as application/json (body_base64) or application/octet-stream (?name=)",
        ));
    };
    let meta = call(state, move |g| g.add_document(&caller.actor(), &caller.access, doc)).await?;
    Ok((StatusCode::CREATED, Json(meta)).into_response())
}

/// Everyone, for access reviews.
#[utoipa::path(get, path = "/v1/people", tag = "people",
    responses((status = 200, description = "every person"),
              (status = "4XX", description = "refused", body = ErrorBody)))]
pub(crate) async fn people(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let people = call(state, move |g| {
        let people = g.list_people(&caller.actor(), &caller.access)?;
        Ok(people.iter().map(|p| person_json(g, p)).collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(serde_json::json!({ "people": people })).into_response())
}

/// A person as JSON, with `status_today`: the status access control applies today,
/// which is `departed` once a departing person's last day is over though `status`
/// (what HR recorded) still says `departing`.
fn person_json(g: &Gateway, p: &model::Person) -> serde_json::Value {
    let mut json = serde_json::to_value(p).unwrap_or_default();
    json["status_today"] = serde_json::json!(g.employment_status(p));
    json
}

/// One person.
#[utoipa::path(get, path = "/v1/people/{id}", tag = "people",
    params(("id" = String, Path, description = "person id")),
    responses((status = 200, description = "the person"),
              (status = "4XX", description = "refused", body = ErrorBody)))]
pub(crate) async fn person(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let p = call(state, move |g| {
        let p = g.person(&caller.actor(), &caller.access, &PersonId(id))?;
        Ok(person_json(g, &p))
    })
    .await?;
    Ok(Json(p).into_response())
}

/// `POST /v1/people/{id}/status` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusChange {
    /// `active`, `departing` or `departed`.
    #[schema(value_type = String)]
    status: EmploymentStatus,
    /// ISO date, e.g. `2026-11-30`.
    notice_date: Option<String>,
    last_day: Option<String>,
}

fn check_date(what: &str, d: Option<String>) -> Result<Option<String>, ApiError> {
    match d {
        Some(d) if d.len() == 10 && model::day_number(&d).is_some() => Ok(Some(d)),
        Some(_) => Err(invalid(format!("{what} must be an ISO date such as 2026-11-30"))),
        None => Ok(None),
    }
}

/// Changes a person's employment status (HR); applies at their next request. Departed
/// also ends every session and API token they hold, for good.
#[utoipa::path(post, path = "/v1/people/{id}/status", request_body = StatusChange, tag = "people",
    params(("id" = String, Path, description = "person id")),
    responses((status = 200, description = "the person, changed"),
              (status = "4XX", description = "refused or bad input", body = ErrorBody)))]
pub(crate) async fn set_status(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<StatusChange>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let Json(s) = body?;
    let dates = check_date("notice_date", s.notice_date).and_then(|n| Ok((n, check_date("last_day", s.last_day)?)));
    let (notice, last) = match dates {
        Ok(dates) => dates,
        Err(e) => return Err(refuse_invalid(state, &caller, gateway::Action::PersonUpdateStatus, None, e).await),
    };
    let p = call(state, move |g| {
        g.set_person_status(&caller.actor(), &caller.access, &PersonId(id), s.status, notice, last)
    })
    .await?;
    Ok(Json(p).into_response())
}

/// Maps a policy that does not validate to 422 with its line and column.
fn policy_input(e: GatewayError) -> ApiError {
    match e {
        GatewayError::Policy(p) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_policy", p.to_string()),
        other => other.into(),
    }
}

async fn policy_call<T: Send + 'static>(
    state: DataState,
    f: impl FnOnce(&Gateway) -> Result<T, GatewayError> + Send + 'static,
) -> Result<T, ApiError> {
    crate::blocking(move || f(&state.gateway).map_err(policy_input)).await
}

/// The policy set in force.
#[utoipa::path(get, path = "/v1/policy", tag = "policy",
    responses((status = 200, description = "{\"text\", \"version\"}"),
              (status = "4XX", description = "refused", body = ErrorBody)))]
pub(crate) async fn get_policy(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let (text, version) = call(state, move |g| g.policy_text(&caller.actor(), &caller.access)).await?;
    Ok(Json(serde_json::json!({ "text": text, "version": version })).into_response())
}

/// A policy set, as sent to replace or validate.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyText {
    /// Cedar policies.
    text: String,
}

/// Puts a new policy set in force (refused if it does not validate or locks out every security admin).
#[utoipa::path(put, path = "/v1/policy", request_body = PolicyText, tag = "policy",
    responses((status = 200, description = "{\"version\"}"),
              (status = "4XX", description = "refused or invalid policy", body = ErrorBody)))]
pub(crate) async fn put_policy(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<PolicyText>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(p) = body?;
    let version = policy_call(state, move |g| {
        g.replace_policy(&caller.actor(), &caller.access, &p.text)
    })
    .await?;
    Ok(Json(serde_json::json!({ "version": version })).into_response())
}

/// Checks a policy set against the schema without putting it in force (for those who
/// may read the policy).
#[utoipa::path(post, path = "/v1/policy/validate", request_body = PolicyText, tag = "policy",
    responses((status = 200, description = "{\"valid\": true, \"policies\": n}"),
              (status = "4XX", description = "invalid policy (line and column)", body = ErrorBody)))]
pub(crate) async fn validate_policy(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<PolicyText>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(p) = body?;
    let n = policy_call(state, move |g| {
        g.validate_policy_as(&caller.actor(), &caller.access, &p.text)
    })
    .await?;
    Ok(Json(serde_json::json!({ "valid": true, "policies": n })).into_response())
}

/// `POST /v1/policy/explain` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExplainRequest {
    person: String,
    /// A Cedar action id, e.g. `customer.read`.
    action: String,
    /// A customer or document id, or `system`.
    resource: String,
}

/// Explains the decision policy would make for a person, action and resource.
#[utoipa::path(post, path = "/v1/policy/explain", request_body = ExplainRequest, tag = "policy",
    responses((status = 200, description = "{\"allowed\", \"text\"}"),
              (status = "4XX", description = "refused or bad input", body = ErrorBody)))]
pub(crate) async fn explain(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<ExplainRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(e) = body?;
    let checked = (|| {
        Ok::<_, ApiError>((
            PersonId(id_text("person", &e.person)?),
            check_text("action", &e.action, MAX_SHORT)?,
            check_text("resource", &e.resource, MAX_SHORT)?,
        ))
    })();
    let (person, action, resource) = match checked {
        Ok(checked) => checked,
        Err(e) => return Err(refuse_invalid(state, &caller, gateway::Action::AccessReview, None, e).await),
    };
    let out = policy_call(state, move |g| {
        g.explain(&caller.actor(), &caller.access, &person, &action, &resource)
    })
    .await?;
    Ok(Json(serde_json::json!({ "allowed": out.allowed, "text": out.text })).into_response())
}

/// Who may do what on a record (or `system`).
#[utoipa::path(get, path = "/v1/access/who-can/{resource}", tag = "access",
    params(("resource" = String, Path, description = "customer or document id, or `system`")),
    responses((status = 200, description = "people and their actions"),
              (status = "4XX", description = "refused", body = ErrorBody)))]
pub(crate) async fn who_can(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    resource: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(resource) = resource?;
    let out = call(state, move |g| g.who_can(&caller.actor(), &caller.access, &resource)).await?;
    Ok(Json(serde_json::json!({ "people": out })).into_response())
}

/// What a person may do.
#[utoipa::path(get, path = "/v1/access/what-can/{person}", tag = "access",
    params(("person" = String, Path, description = "person id")),
    responses((status = 200, description = "the person's access"),
              (status = "4XX", description = "refused", body = ErrorBody)))]
pub(crate) async fn what_can(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    person: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(person) = person?;
    let out = call(state, move |g| {
        g.what_can(&caller.actor(), &caller.access, &PersonId(person))
    })
    .await?;
    Ok(Json(out).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnusedQuery {
    days: Option<u32>,
}

/// Access granted but unused for `days` (default 90).
#[utoipa::path(get, path = "/v1/access/unused", tag = "access",
    params(("days" = Option<u32>, Query, description = "look-back in days, 1..=3650, default 90")),
    responses((status = 200, description = "people and the actions they did not use"),
              (status = "4XX", description = "refused or bad query", body = ErrorBody)))]
pub(crate) async fn unused(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<UnusedQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let days = q.days.unwrap_or(90);
    if !(1..=3650).contains(&days) {
        let e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("days {days} is out of range; use 1..=3650"),
        );
        return Err(refuse_invalid(state, &caller, gateway::Action::AccessReview, None, e).await);
    }
    let out = call(state, move |g| g.unused_access(&caller.actor(), &caller.access, days)).await?;
    let out: Vec<_> = out
        .into_iter()
        .map(|(person, actions)| serde_json::json!({ "person": person, "unused": actions }))
        .collect();
    Ok(Json(serde_json::json!({ "days": days, "people": out })).into_response())
}

/// Recomputes the whole audit ledger and checks its signed checkpoints.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "{\"ok\", \"entries_checked\", \"checkpoints_checked\", \"unsigned_tail\", \"findings\"}"),
              (status = "4XX", description = "refused", body = ErrorBody)))]
pub(crate) async fn verify_audit(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let report = call(state, move |g| g.audit_verify_ledger(&caller.actor(), &caller.access)).await?;
    Ok(Json(serde_json::json!({
        "ok": report.is_ok(),
        "entries_checked": report.entries_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "unsigned_tail": report.unsigned_tail,
        "findings": report.findings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "findings_omitted": report.findings_omitted,
    }))
    .into_response())
}

/// `POST /v1/audit/evidence` body: which entries to bundle.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceRequest {
    /// What the bundle is for, e.g. `incident 42`.
    title: String,
    person: Option<String>,
    customer: Option<String>,
    document: Option<String>,
    action: Option<String>,
    decision: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

/// An evidence bundle (entries with inclusion proofs, verifiable offline).
#[utoipa::path(post, path = "/v1/audit/evidence", request_body = EvidenceRequest, tag = "audit",
    responses((status = 200, description = "the bundle's bytes, as an attachment"),
              (status = "4XX", description = "refused or bad input", body = ErrorBody)))]
pub(crate) async fn audit_evidence(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<EvidenceRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(r) = body?;
    let checked = (|| {
        Ok::<_, ApiError>((
            check_text("title", &r.title, MAX_SHORT)?,
            gateway::AuditQuery {
                person: check_opt("person", r.person, MAX_SHORT)?,
                customer: check_opt("customer", r.customer, MAX_SHORT)?,
                document: check_opt("document", r.document, MAX_SHORT)?,
                action: check_opt("action", r.action, MAX_SHORT)?,
                decision: check_opt("decision", r.decision, MAX_SHORT)?,
                from: r.from_ms,
                to: r.to_ms,
                before: None,
            },
        ))
    })();
    let (title, query) = match checked {
        Ok(checked) => checked,
        Err(e) => return Err(refuse_invalid(state, &caller, gateway::Action::AuditExport, None, e).await),
    };
    let (bundle, entries) = call(state, move |g| {
        g.audit_evidence(&caller.actor(), &caller.access, &query, &title)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"evidence.bundle\"".to_owned(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::HeaderName::from_static("x-custodia-entries"),
                entries.to_string(),
            ),
        ],
        bundle,
    )
        .into_response())
}
