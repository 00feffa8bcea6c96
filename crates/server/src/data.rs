//! Routes over vault data. Their state is [`DataState`], which holds only
//! the gateway: a data handler cannot reach the store around it.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use gateway::{AuditQuery, Gateway, Held};
use model::{CustomerId, DocumentId, PersonId};
use serde::Deserialize;

use crate::auth::Caller;
use crate::blocking;
use crate::error::ApiError;

/// The state data routes receive: the gateway and nothing else.
#[derive(Clone)]
pub struct DataState {
    pub gateway: Arc<Gateway>,
    /// The DLP engine `POST /v1/scan` uses: keyed hashes and shingle hashes,
    /// no plaintext; the gateway keeps it current with the vault.
    pub dlp: Option<Arc<gateway::DlpEngine>>,
    /// Scans that may run at once (see [`crate::AppState::with_scan_slots`]).
    pub(crate) scan_slots: Arc<tokio::sync::Semaphore>,
}

/// The most records one bulk request returns.
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

fn limit(requested: Option<usize>) -> Result<usize, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_query",
            format!("limit {n} is out of range; use 1..={MAX_LIMIT}"),
        )),
    }
}

/// Checks free text from a request body: at most `max` characters and no
/// control characters (they would hide text in logs and the ledger).
pub(crate) fn check_text(what: &str, text: &str, max: usize) -> Result<String, ApiError> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{what} is longer than {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{what} contains control characters"),
        ));
    }
    Ok(text.to_owned())
}

/// Runs a gateway call off the async workers and maps its error.
pub(crate) async fn call<T: Send + 'static>(
    state: DataState,
    f: impl FnOnce(&Gateway) -> Result<T, gateway::GatewayError> + Send + 'static,
) -> Result<T, ApiError> {
    blocking(move || f(&state.gateway).map_err(ApiError::from)).await
}

/// Answers a request whose input is invalid, on the record: the gateway
/// authorizes `action` first (on `customer` when given), so a caller who may not
/// ask gets that refusal, recorded; otherwise the refusal is recorded as a deny
/// with the reason `invalid-input` and `error` is the answer. Found in review:
/// admin requests with bad input were refused unrecorded.
pub(crate) async fn refuse_invalid(
    state: DataState,
    caller: &Caller,
    action: gateway::Action,
    customer: Option<CustomerId>,
    error: ApiError,
) -> ApiError {
    let (actor, access) = (caller.actor(), caller.access.clone());
    match call(state, move |g| {
        g.refuse_invalid(&actor, &access, action, customer.as_ref())
    })
    .await
    {
        Ok(()) => error,
        Err(refused) => refused,
    }
}

/// Runs a gateway call that holds its answer until the decision is durable,
/// and awaits that on this task, so no thread waits out the group commit. On
/// the embedded store the call's reads take microseconds, less than a hand-off
/// to the blocking pool; a database across the network gets the pool.
pub(crate) async fn released<T: Send + 'static>(
    state: DataState,
    f: impl FnOnce(&Gateway) -> Held<T> + Send + 'static,
) -> Result<T, ApiError> {
    let held = if state.gateway.store_is_embedded() {
        f(&state.gateway)
    } else {
        blocking(move || Ok(f(&state.gateway))).await?
    };
    held.released().await.map_err(ApiError::from)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListCustomers {
    limit: Option<usize>,
    owner: Option<String>,
}

/// The customers the caller may read (optionally one owner's), masked per policy.
#[utoipa::path(get, path = "/v1/customers", tag = "customers",
    params(("limit" = Option<usize>, Query, description = "1..=1000, default 100"),
           ("owner" = Option<String>, Query, description = "only this owner's accounts")),
    responses((status = 200, description = "{records, withheld}"), (status = "4XX", description = "refused or bad input", body = crate::error::ErrorBody)))]
pub(crate) async fn list_customers(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ListCustomers>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let limit = limit(q.limit)?;
    let owner = q.owner.map(PersonId);
    let bulk = call(state, move |g| {
        g.list_customers(&caller.actor(), &caller.access, owner.as_ref(), limit)
    })
    .await?;
    Ok(Json(bulk).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchCustomers {
    q: String,
    limit: Option<usize>,
}

/// Finds customers by exact email or phone, or part of a name.
#[utoipa::path(get, path = "/v1/customers/search", tag = "customers",
    params(("q" = String, Query, description = "email, phone or part of a name"),
           ("limit" = Option<usize>, Query, description = "1..=1000, default 100")),
    responses((status = 200, description = "{records, withheld}"), (status = "4XX", description = "refused or bad input", body = crate::error::ErrorBody)))]
pub(crate) async fn search_customers(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<SearchCustomers>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let limit = limit(q.limit)?;
    if q.q.trim().is_empty() {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_query",
            "q is empty; pass a name, email or phone",
        ));
    }
    let bulk = call(state, move |g| {
        g.search_customers(&caller.actor(), &caller.access, &q.q, limit)
    })
    .await?;
    Ok(Json(bulk).into_response())
}

/// One customer, masked per policy.
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "customer id")),
    responses((status = 200, description = "the customer"), (status = "4XX", description = "refused or bad input", body = crate::error::ErrorBody)))]
pub(crate) async fn read_customer(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let read = move |g: &Gateway| g.read_customer_held(&caller.actor(), &caller.access, &CustomerId(id));
    let view = released(state, read).await?;
    Ok(Json(view).into_response())
}

/// The documents whose metadata the caller may view.
#[utoipa::path(get, path = "/v1/documents", tag = "documents",
    responses((status = 200, description = "{records, withheld}"), (status = "4XX", description = "refused or bad input", body = crate::error::ErrorBody)))]
pub(crate) async fn list_documents(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let bulk = call(state, move |g| g.list_documents(&caller.actor(), &caller.access)).await?;
    Ok(Json(bulk).into_response())
}

/// One document's metadata.
#[utoipa::path(get, path = "/v1/documents/{id}", tag = "documents",
    params(("id" = String, Path, description = "document id")),
    responses((status = 200, description = "the metadata"), (status = "4XX", description = "refused or bad input", body = crate::error::ErrorBody)))]
pub(crate) async fn document(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let meta = call(state, move |g| {
        g.document(&caller.actor(), &caller.access, &DocumentId(id))
    })
    .await?;
    Ok(Json(meta).into_response())
}

/// A document's body, as an attachment.
#[utoipa::path(get, path = "/v1/documents/{id}/content", tag = "documents",
    params(("id" = String, Path, description = "document id")),
    responses((status = 200, description = "the bytes (application/octet-stream)"), (status = "4XX", description = "refused or bad input", body = crate::error::ErrorBody)))]
pub(crate) async fn document_content(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let (_, body) = call(state, move |g| {
        g.download_document(&caller.actor(), &caller.access, &DocumentId(id))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CONTENT_DISPOSITION, "attachment"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchAudit {
    person: Option<String>,
    action: Option<String>,
    decision: Option<String>,
    from: Option<model::UnixMillis>,
    to: Option<model::UnixMillis>,
    before: Option<u64>,
    limit: Option<usize>,
}

/// Searches the audit ledger, newest first.
#[utoipa::path(get, path = "/v1/audit", tag = "audit",
    params(("person" = Option<String>, Query, description = "actor person id, or the person acted on"),
           ("action" = Option<String>, Query, description = "e.g. customer.export"),
           ("decision" = Option<String>, Query, description = "allow, deny, admin or error"),
           ("from" = Option<i64>, Query, description = "from this time (Unix milliseconds), inclusive"),
           ("to" = Option<i64>, Query, description = "until this time (Unix milliseconds), exclusive"),
           ("before" = Option<u64>, Query, description = "only entries with an index below this: pass the last \
             entry's index of one page to get the next, older one"),
           ("limit" = Option<usize>, Query, description = "1..=1000, default 100")),
    responses((status = 200, description = "matching entries, newest first"), (status = "4XX", description = "refused or bad input", body = crate::error::ErrorBody)))]
pub(crate) async fn audit(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<SearchAudit>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let limit = match limit(q.limit) {
        Ok(limit) => limit,
        Err(e) => return Err(refuse_invalid(state, &caller, gateway::Action::AuditRead, None, e).await),
    };
    let query = AuditQuery {
        person: q.person,
        action: q.action,
        decision: q.decision,
        from: q.from,
        to: q.to,
        before: q.before,
        ..Default::default()
    };
    let entries = call(state, move |g| {
        g.audit_search(&caller.actor(), &caller.access, &query, limit)
    })
    .await?;
    Ok(Json(entries).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScanQuery {
    /// file, upload, email, usb, print or chat; upload if absent.
    channel: Option<String>,
}

/// `POST /v1/scan`: the DLP verdict on content the caller is about to send
/// out (the raw bytes of a file or message). Recorded in the ledger before it
/// is answered. Which customers and documents matched is told to security
/// admins only: to anyone else it would answer "is this person a customer?".
pub(crate) async fn scan(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ScanQuery>, QueryRejection>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let Some(engine) = state.dlp.clone() else {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
            "this server has no DLP index; start it with `custodia serve` on an installation",
        ));
    };
    let name = q.channel.unwrap_or_else(|| "upload".to_owned());
    let channel: dlp::Channel = serde_json::from_value(serde_json::Value::String(name.clone())).map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_query",
            "channel is unknown; use file, upload, email, usb, print or chat",
        )
    })?;
    let is_admin = caller.role == model::Role::SecurityAdmin;
    let slot = Arc::clone(&state.scan_slots).acquire_owned().await.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is shutting down",
        )
    })?;
    let result = call(state, move |g| {
        // Held by the scan itself: a request timed out still has its scan running.
        let _slot = slot;
        g.scan_content(&engine, &caller.actor(), &caller.access, &name, channel, &body)
    })
    .await?;
    let findings: Vec<serde_json::Value> = result
        .findings
        .iter()
        .map(|f| serde_json::json!({"detector": f.detector, "count": f.count, "distinct": f.distinct, "confidence": f.confidence}))
        .collect();
    let mut answer = serde_json::json!({
        "verdict": result.verdict,
        "rules": result.rules,
        "customer_records": result.customer_records,
        "customer_contacts": result.customer_contacts,
        "documents_matched": result.fingerprint_hits.len(),
        "findings": findings,
        "uninspectable": result.uninspectable,
    });
    if is_admin {
        answer["customers"] = serde_json::json!(result
            .customers
            .iter()
            .map(|c| c.customer_id.0.clone())
            .collect::<Vec<_>>());
        answer["documents"] = serde_json::json!(result
            .fingerprint_hits
            .iter()
            .map(|h| h.doc_id.clone())
            .collect::<Vec<_>>());
    }
    Ok(Json(answer).into_response())
}
