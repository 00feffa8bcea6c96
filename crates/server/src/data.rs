//! Routes over vault data. Their state is [`DataState`], which holds only
//! the gateway: a data handler cannot reach the store around it.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use gateway::{AuditQuery, Gateway};
use model::{CustomerId, DocumentId, PersonId};
use serde::Deserialize;

use crate::auth::Caller;
use crate::blocking;
use crate::error::ApiError;

/// The state data routes receive: the gateway and nothing else.
#[derive(Clone)]
pub struct DataState {
    pub gateway: Arc<Gateway>,
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

/// Runs a gateway call off the async workers and maps its error.
async fn call<T: Send + 'static>(
    state: DataState,
    f: impl FnOnce(&Gateway) -> Result<T, gateway::GatewayError> + Send + 'static,
) -> Result<T, ApiError> {
    blocking(move || f(&state.gateway).map_err(ApiError::from)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListCustomers {
    limit: Option<usize>,
    owner: Option<String>,
}

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

pub(crate) async fn read_customer(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let view = call(state, move |g| {
        g.read_customer(&caller.actor(), &caller.access, &CustomerId(id))
    })
    .await?;
    Ok(Json(view).into_response())
}

pub(crate) async fn list_documents(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let bulk = call(state, move |g| g.list_documents(&caller.actor(), &caller.access)).await?;
    Ok(Json(bulk).into_response())
}

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
    limit: Option<usize>,
}

pub(crate) async fn audit(
    State(state): State<DataState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<SearchAudit>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let limit = limit(q.limit)?;
    let query = AuditQuery {
        person: q.person,
        action: q.action,
        decision: q.decision,
        ..Default::default()
    };
    let entries = call(state, move |g| {
        g.audit_search(&caller.actor(), &caller.access, &query, limit)
    })
    .await?;
    Ok(Json(entries).into_response())
}
