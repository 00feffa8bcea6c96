//! The OpenAPI 3 document served at `GET /openapi.json`. Every route in
//! [`ROUTES`](crate::ROUTES) is described; a contract test checks that the
//! two agree and that every operation documents the error shape.

use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, ResponseBuilder};
use utoipa::OpenApi;

use crate::error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "custodia",
        description = "custodia's HTTP API. Every route but /health, /ready, /openapi.json and login needs the \
                       session cookie; every data route passes the gateway, which authorizes, records in the \
                       audit ledger and masks. Errors have one shape: {\"error\":{\"code\",\"message\"}}."
    ),
    paths(
        crate::data::list_customers,
        crate::data::search_customers,
        crate::data::read_customer,
        crate::data::list_documents,
        crate::data::document,
        crate::data::document_content,
        crate::data::audit,
        crate::manage::create_customer,
        crate::manage::update_customer,
        crate::manage::erase_customer,
        crate::manage::upload_document,
        crate::manage::people,
        crate::manage::person,
        crate::manage::set_status,
        crate::manage::get_policy,
        crate::manage::put_policy,
        crate::manage::validate_policy,
        crate::manage::explain,
        crate::manage::who_can,
        crate::manage::what_can,
        crate::manage::unused,
        crate::manage::verify_audit,
        crate::manage::audit_evidence,
        crate::exports::request_export,
        crate::exports::pending_exports,
        crate::exports::approve_export,
        crate::exports::reject_export,
        crate::exports::download_export,
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
struct ApiDoc;

/// Routes whose handlers live outside the data modules (health, sessions,
/// events), described here: (method, path, tag, summary, success).
const OTHER_ROUTES: &[(HttpMethod, &str, &str, &str, &str)] = &[
    (HttpMethod::Get, "/health", "service", "liveness", "{\"status\":\"ok\"}"),
    (
        HttpMethod::Get,
        "/ready",
        "service",
        "readiness: the store answers",
        "{\"status\":\"ready\"}",
    ),
    (
        HttpMethod::Get,
        "/openapi.json",
        "service",
        "this document",
        "the OpenAPI 3 document",
    ),
    (
        HttpMethod::Post,
        "/v1/auth/login",
        "auth",
        "log in with {person, password}; sets the session cookie",
        "the person logged in",
    ),
    (
        HttpMethod::Post,
        "/v1/auth/logout",
        "auth",
        "ends the session",
        "logged out",
    ),
    (
        HttpMethod::Get,
        "/v1/auth/sessions",
        "auth",
        "the caller's live sessions",
        "the sessions",
    ),
    (
        HttpMethod::Delete,
        "/v1/auth/sessions/{id}",
        "auth",
        "revokes one of the caller's sessions",
        "revoked",
    ),
    (
        HttpMethod::Post,
        "/v1/people/{id}/password",
        "auth",
        "changes the caller's own password; wrong current passwords are throttled as failed logins are",
        "changed; the caller's other sessions and all their API tokens end",
    ),
    (
        HttpMethod::Delete,
        "/v1/people/{id}/sessions",
        "people",
        "ends every session and API token of a person (policy action sessions.revoke); recorded in the \
         ledger first. Marking a person departed or changing a password does this too",
        "{\"revoked\": id}",
    ),
    (
        HttpMethod::Post,
        "/v1/auth/totp/enroll",
        "auth",
        "starts TOTP enrollment: a pending secret as an otpauth:// URI and an SVG QR code",
        "the pending secret",
    ),
    (
        HttpMethod::Post,
        "/v1/auth/totp/confirm",
        "auth",
        "confirms the pending secret with {code}; returns one-time recovery codes",
        "enrolled, with the recovery codes (shown once)",
    ),
    (
        HttpMethod::Post,
        "/v1/auth/mfa",
        "auth",
        "step-up: a TOTP {code} makes the session's second factor fresh again",
        "the factor is fresh",
    ),
    (
        HttpMethod::Post,
        "/v1/auth/tokens",
        "auth",
        "creates a personal API token {name, scopes, expires_in_days}; the token is shown once",
        "the token",
    ),
    (
        HttpMethod::Get,
        "/v1/auth/tokens",
        "auth",
        "the caller's API tokens (never the secrets)",
        "the tokens",
    ),
    (
        HttpMethod::Delete,
        "/v1/auth/tokens/{id}",
        "auth",
        "revokes one of the caller's API tokens",
        "revoked",
    ),
    (
        HttpMethod::Post,
        "/v1/bootstrap",
        "auth",
        "first run: the first security admin sets a password with the one-time code `custodia serve` or `custodia bootstrap` printed",
        "the password is set; the code is spent",
    ),
    (
        HttpMethod::Post,
        "/v1/scan",
        "dlp",
        "the DLP verdict on content about to leave (raw bytes, up to 32 MiB; ?channel=upload|email|usb|file|print|chat); \
         recorded in the ledger; matched customer and document ids for security admins only",
        "verdict, customer_records, customer_contacts, findings",
    ),
    (
        HttpMethod::Post,
        "/v1/events",
        "risk",
        "activity events as JSON lines (security admins)",
        "accepted and rejected line counts",
    ),
];

/// The error response every operation lists.
fn error_response() -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description("refused or bad input: {\"error\":{\"code\",\"message\"}}")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// The whole document.
pub fn document() -> Document {
    let mut doc = ApiDoc::openapi();
    for (method, path, tag, summary, success) in OTHER_ROUTES {
        let op = OperationBuilder::new()
            .tag(*tag)
            .summary(Some(*summary))
            .response("200", ResponseBuilder::new().description(*success).build())
            .response("4XX", error_response())
            .build();
        doc.paths.add_path_operation(*path, vec![method.clone()], op);
    }
    doc
}

/// `GET /openapi.json`.
pub(crate) async fn openapi_json() -> axum::Json<Document> {
    axum::Json(document())
}
