//! The one error shape of the API: `{"error":{"code":"...","message":"..."}}`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gateway::GatewayError;

/// An error as the API reports it. Messages never contain passwords,
/// tokens or customer field values.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds the caller should wait before retrying (throttled logins).
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "no valid session; log in with POST /v1/auth/login",
        )
    }

    pub fn internal(detail: &dyn std::fmt::Display) -> ApiError {
        // The detail goes to the server log only: it may name files or keys.
        tracing::error!(error = %detail, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }

    /// The error body for a status that has no more specific error, e.g. a
    /// time-out or size limit answered by a middleware.
    pub fn for_status(status: StatusCode) -> ApiError {
        let (code, message) = match status {
            StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is too large"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long and was cancelled; retry later"),
            StatusCode::NOT_FOUND => ("no_route", "no such route; see the API documentation"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this route does not accept this method"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "send the body as application/json"),
            s if s.is_server_error() => ("internal", "internal error; the server log has the details"),
            _ => ("bad_request", "the request is not valid"),
        };
        ApiError::new(status, code, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status.as_u16(), self.message)
    }
}

/// The API's one error shape, as sent: `{"error":{"code","message"}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `denied`, `invalid`, `not_found`.
    pub code: &'static str,
    /// What went wrong and how to fix it; never secrets or customer data.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after_s {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<GatewayError> for ApiError {
    fn from(e: GatewayError) -> ApiError {
        match e {
            GatewayError::Denied { .. } => ApiError::new(StatusCode::FORBIDDEN, "denied", e.to_string()),
            // Failing to record is a deny, but the caller's request was fine.
            GatewayError::NotRecorded(_) => {
                tracing::error!(error = %e, "audit ledger unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "audit_unavailable",
                    "the audit ledger could not record the request, so it was denied; retry later",
                )
            }
            GatewayError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            // The session's person vanished between the session check and the call.
            GatewayError::UnknownPerson(_) => ApiError::unauthenticated(),
            GatewayError::InvalidRows(_) | GatewayError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            GatewayError::DuplicateCustomer(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            GatewayError::NotConfigured(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_configured", e.to_string())
            }
            GatewayError::WrongKey
            | GatewayError::NotInitialized
            | GatewayError::AlreadyInitialized
            | GatewayError::Policy(_)
            | GatewayError::Crypto(_)
            | GatewayError::Store(_)
            | GatewayError::Internal(_) => ApiError::internal(&e),
        }
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        ApiError::internal(&e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let (status, code) = match &r {
            JsonRejection::MissingJsonContentType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            _ => (StatusCode::BAD_REQUEST, "bad_request"),
        };
        let text = r.body_text();
        // serde's "invalid type" messages quote the value sent, which may be
        // a password: only messages that name fields alone are passed on.
        let message = if code != "invalid" || text.contains("unknown field") || text.contains("missing field") {
            text
        } else {
            "the JSON body has a field of the wrong type; see the API documentation".to_owned()
        };
        ApiError::new(status, code, message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text())
    }
}
