//! Customer exports over HTTP: `POST /v1/exports` answers with the file, or
//! with 202 and the id of an export queued for the manager's approval;
//! approvers list, approve and reject; the requester downloads once.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use gateway::{ExportFormat, ExportOutcome, ExportSelection};
use serde::Deserialize;

use crate::auth::Caller;
use crate::data::{call, check_text, DataState};
use crate::error::ApiError;

/// The longest justification accepted, in characters.
pub const MAX_JUSTIFICATION_CHARS: usize = 1000;

/// `POST /v1/exports` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportRequest {
    /// Which customers: `{"owner": "rep-a", "limit": 500}`; all the caller may export if left out.
    #[schema(value_type = Option<Object>)]
    filter: Option<ExportSelection>,
    /// `csv` or `xlsx`.
    #[schema(value_type = String)]
    format: ExportFormat,
    /// Why the export is needed; recorded in the audit ledger.
    justification: Option<String>,
}

fn file_response(format: ExportFormat, body: Vec<u8>, withheld: u64) -> Response {
    let disposition = format!("attachment; filename=\"customers.{}\"", format.as_str());
    let mut response = (
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert("x-custodia-withheld", HeaderValue::from(withheld));
    response
}

/// Requests an export: the file (200), or a queued export (202).
#[utoipa::path(post, path = "/v1/exports", request_body = ExportRequest, tag = "exports",
    responses((status = 200, description = "the export file (text/csv or XLSX), as an attachment"),
              (status = 202, description = "queued for the manager's approval: {\"export\":{\"id\",\"state\",\"record_count\"}}"),
              (status = "4XX", description = "refused or bad input", body = crate::error::ErrorBody)))]
pub(crate) async fn request_export(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<ExportRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let selection = req.filter.unwrap_or_default();
    if let Some(l) = selection.limit {
        if !(1..=MAX_EXPORT_RECORDS).contains(&l) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("filter.limit {l} is out of range; use 1..={MAX_EXPORT_RECORDS}"),
            ));
        }
    }
    let justification = match req.justification {
        Some(j) => Some(check_text("justification", &j, MAX_JUSTIFICATION_CHARS)?).filter(|j| !j.is_empty()),
        None => None,
    };
    let format = req.format;
    let mut access = caller.access.clone();
    access.justification = justification;
    let actor = caller.actor();
    let outcome = call(state, move |g| {
        match g.export_customers(&actor, &access, &selection, format)? {
            ExportOutcome::Released(bulk) => {
                let file = format.write(&bulk.records)?;
                Ok(Ok((file, bulk.withheld.count)))
            }
            ExportOutcome::Queued { id, record_count } => Ok(Err((id, record_count))),
        }
    })
    .await?;
    Ok(match outcome {
        Ok((file, withheld)) => file_response(format, file, withheld),
        Err((id, record_count)) => {
            let location = format!("/v1/exports/{id}/download");
            let mut r = (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({"export": {"id": id, "state": "pending", "record_count": record_count}})),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
    })
}

/// The most records one export may ask for (policies may allow fewer).
pub const MAX_EXPORT_RECORDS: usize = 1_000_000;

/// The queued exports the caller may decide.
#[utoipa::path(get, path = "/v1/exports/pending", tag = "exports",
    responses((status = 200, description = "queued exports awaiting the caller's decision"),
              (status = "4XX", description = "refused", body = crate::error::ErrorBody)))]
pub(crate) async fn pending_exports(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let list = call(state, move |g| g.pending_exports(&caller.actor(), &caller.access)).await?;
    Ok(Json(serde_json::json!({ "exports": list })).into_response())
}

async fn decide(
    state: DataState,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    approve: bool,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let ticket = call(state, move |g| {
        g.decide_export(&caller.actor(), &caller.access, &id, approve)
    })
    .await?;
    Ok(Json(serde_json::json!({ "export": ticket })).into_response())
}

/// Approves a queued export (the requester's manager or a security admin).
#[utoipa::path(post, path = "/v1/exports/{id}/approve", tag = "exports",
    params(("id" = String, Path, description = "export id")),
    responses((status = 200, description = "approved"),
              (status = "4XX", description = "refused", body = crate::error::ErrorBody)))]
pub(crate) async fn approve_export(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    decide(state, caller, id, true).await
}

/// Rejects a queued export (the requester's manager or a security admin).
#[utoipa::path(post, path = "/v1/exports/{id}/reject", tag = "exports",
    params(("id" = String, Path, description = "export id")),
    responses((status = 200, description = "rejected"),
              (status = "4XX", description = "refused", body = crate::error::ErrorBody)))]
pub(crate) async fn reject_export(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    decide(state, caller, id, false).await
}

/// Downloads an approved export, once, as its requester.
#[utoipa::path(get, path = "/v1/exports/{id}/download", tag = "exports",
    params(("id" = String, Path, description = "export id")),
    responses((status = 200, description = "the export file, as an attachment"),
              (status = "4XX", description = "refused", body = crate::error::ErrorBody)))]
pub(crate) async fn download_export(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let (format, file, withheld) = call(state, move |g| {
        let (bulk, format) = g.download_export(&caller.actor(), &caller.access, &id)?;
        Ok((format, format.write(&bulk.records)?, bulk.withheld.count))
    })
    .await?;
    Ok(file_response(format, file, withheld))
}
