//! `custodia serve`: the HTTP API.
//!
//! Every request but `/health`, `/ready`, login and bootstrap carries the
//! session cookie [`SESSION_COOKIE`] or a personal API token
//! (`Authorization: Bearer cst_…`); either is checked against the store on
//! each request (no cache), so revoking a session or token, revoking a
//! person's sessions (which revokes their tokens too) or marking them
//! departed applies at their very next request.
//! Routes over vault data get only the gateway ([`DataState`]) and call it
//! as `Actor::Person` with the request's [`gateway::AccessContext`]; the
//! gateway authorizes, records and masks.
//!
//! Public API:
//! - [`router`], [`serve`]: the API over an [`AppState`]; [`serve_tls`] over
//!   rustls with a [`TlsIdentity`] (PEM files, or self-signed for trials).
//! - [`ROUTES`]: every route served; the router is built from it.
//! - `POST /v1/events`: activity events (JSON lines) for the risk engine, fed by
//!   security admins; [`RiskState`] keeps the engine's state in the store and
//!   reads the audit ledger into it ([`RiskState::catch_up`], every
//!   [`RISK_FOLLOW_INTERVAL`]): vault accesses, DLP verdicts and status changes,
//!   whichever process recorded them.
//! - [`set_password`], [`revoke_person_sessions`], [`issue_bootstrap_code`],
//!   [`seal_stored_totp_secrets`]: the operator's side, called by the CLI.
//! - Second factor (`mfa.rs`): TOTP (RFC 6238, SHA-1, 6 digits, 30 s, ±1
//!   step; a code's step is accepted once, across servers, through the
//!   store), enrollment with an otpauth:// URI and an SVG QR code,
//!   [`RECOVERY_CODES`] one-time recovery codes, step-up (`POST
//!   /v1/auth/mfa`). A session is MFA-fresh for [`MFA_FRESH_MS`] after its
//!   last second factor, which admin actions need (policy
//!   `admin-needs-fresh-mfa`). People the policy requires a second factor of
//!   (action `auth.require_mfa`, asked at every request; by default security
//!   admins, finance and executives) reach only [`ENROLLMENT_ROUTES`] until
//!   enrolled. TOTP secrets are sealed through the gateway under a per-person
//!   data key that key rotation rewraps; [`seal_stored_totp_secrets`] seals
//!   those an earlier version stored in clear.
//! - API tokens (`tokens.rs`): [`TOKEN_PREFIX`], stored as SHA-256, scoped
//!   ([`TOKEN_SCOPES`], enforced by the middleware through [`token_scope`]),
//!   expiring; never MFA-fresh, never on credential routes.
//! - `POST /v1/bootstrap`: the first security admin's password, with the
//!   one-time code [`issue_bootstrap_code`] makes while no one has a password
//!   (one code at a time, shared by every server on the database, expiring
//!   after [`BOOTSTRAP_CODE_TTL_MS`]; `custodia serve` prints it, `custodia
//!   bootstrap` replaces it).
//! - [`ApiError`]: the one error shape, `{"error":{"code","message"}}`.
//!
//! Passwords are hashed with Argon2id (19 MiB, t=2, p=1). Failed logins
//! (wrong password, missing or wrong second factor) are throttled per person
//! and per source address with exponential backoff kept in the store, so the
//! throttle survives restarts and holds across server processes. Every
//! authentication event (`auth.*`) is recorded in the ledger through
//! [`gateway::Gateway::record_auth_event`], never with a secret; a login or
//! credential change that cannot be recorded is refused.

mod auth;
mod data;
mod error;
mod events;
mod exports;
mod manage;
mod mfa;
pub mod openapi;
mod tls;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::{Json, Router};
use gateway::Gateway;
use model::SharedClock;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use auth::{
    install_checked_password, issue_bootstrap_code, revoke_person_sessions, set_password, token_scope, BadNetwork,
    BootstrapCode, Caller, CheckedPassword, Credential, PasswordError, SessionConfig, TrustedNetwork,
    BOOTSTRAP_CODE_TTL_MS, ENROLLMENT_ROUTES, MAX_PASSWORD_CHARS, MFA_FRESH_MS, MIN_PASSWORD_CHARS, SCOPE_EVENTS,
    SCOPE_READ, SESSION_COOKIE,
};
pub use data::{DataState, MAX_LIMIT};
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use events::{
    activity_events, log_unreadable, CatchUp, RiskState, RiskStateError, EVENT_FEEDER_ROLES, EXPORT_MIN_RECORDS,
    MAX_EVENTS_BODY_BYTES,
};
pub use exports::{MAX_EXPORT_RECORDS, MAX_JUSTIFICATION_CHARS};
pub use mfa::{seal_stored_totp_secrets, RECOVERY_CODES, TOTP_ISSUER};
pub use tls::{serve_tls, TlsError, TlsIdentity, HANDSHAKE_TIMEOUT};
pub use tokens::{MAX_TOKEN_DAYS, TOKEN_PREFIX, TOKEN_SCOPES};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest content `POST /v1/scan` inspects (a large mail with attachments).
pub const MAX_SCAN_BYTES: usize = 32 * 1024 * 1024;
/// One scan slot per core: a scan keeps its core busy.
fn default_scan_slots() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// Requests running longer than this are cancelled with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server's authentication layer needs from the store: people (to
/// refuse departed ones) and the authentication state.
pub trait AuthBackend: store::Store + store::AuthStore {}
impl<T: store::Store + store::AuthStore> AuthBackend for T {}

/// Everything the server holds. Only the authentication layer and the auth
/// routes see the store; data routes get a [`DataState`].
#[derive(Clone)]
pub struct AppState {
    gateway: Arc<Gateway>,
    auth: Arc<dyn AuthBackend>,
    clock: SharedClock,
    sessions: SessionConfig,
    risk: Option<Arc<RiskState>>,
    dlp: Option<Arc<gateway::DlpEngine>>,
    forwarding: Option<(Arc<risk::Forwarder>, Duration)>,
    networks: Arc<auth::Networks>,
    scan_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// The state over an open gateway, the same store (for sessions and
    /// credentials only) and the clock sessions expire by.
    pub fn new(gateway: Arc<Gateway>, auth: Arc<dyn AuthBackend>, clock: SharedClock) -> AppState {
        AppState {
            gateway,
            auth,
            clock,
            sessions: SessionConfig::default(),
            risk: None,
            dlp: None,
            forwarding: None,
            networks: Arc::new(auth::Networks::default()),
            scan_slots: Arc::new(tokio::sync::Semaphore::new(default_scan_slots())),
        }
    }

    /// The scans `POST /v1/scan` may run at once (one per core by default); more
    /// wait their turn. A scan of 32 MiB holds about 400 MB while it runs, and 16 at
    /// once took a server to 6.4 GB (found in review).
    pub fn with_scan_slots(mut self, slots: Arc<tokio::sync::Semaphore>) -> AppState {
        self.scan_slots = slots;
        self
    }

    /// Every `every`, scores the risk engine and forwards new alerts to a SIEM through
    /// `forwarder` (needs [`AppState::with_risk`]).
    pub fn with_alert_forwarding(mut self, forwarder: risk::Forwarder, every: Duration) -> AppState {
        self.forwarding = Some((Arc::new(forwarder), every));
        self
    }

    /// Enables `POST /v1/scan` with this DLP engine (built from the vault,
    /// refreshed from the ledger before each scan).
    pub fn with_dlp(mut self, engine: Arc<gateway::DlpEngine>) -> AppState {
        self.dlp = Some(engine);
        self
    }

    /// Enables `POST /v1/events` into this risk engine.
    pub fn with_risk(mut self, risk: Arc<RiskState>) -> AppState {
        self.risk = Some(risk);
        self
    }

    /// Requests from these networks are marked as coming from a trusted
    /// network for policy (the default policy allows exports only from one).
    pub fn with_trusted_networks(mut self, networks: Vec<TrustedNetwork>) -> AppState {
        Arc::make_mut(&mut self.networks).trusted = networks;
        self
    }

    /// Requests from these reverse proxies are attributed to the client the
    /// proxy names in `X-Forwarded-For` (for policy's trusted network, login
    /// throttling and the ledger's client address). From anyone else the
    /// header is ignored, since a client can write it.
    pub fn with_trusted_proxies(mut self, proxies: Vec<TrustedNetwork>) -> AppState {
        Arc::make_mut(&mut self.networks).proxies = proxies;
        self
    }

    /// Sets how long sessions live.
    pub fn with_sessions(mut self, sessions: SessionConfig) -> AppState {
        self.sessions = sessions;
        self
    }
}

/// Every route served, as (method, path). The router is built from this
/// table alone, so a route cannot be served without being listed.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/ready"),
    ("POST", "/v1/bootstrap"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/logout"),
    ("GET", "/v1/auth/sessions"),
    ("DELETE", "/v1/auth/sessions/{id}"),
    ("POST", "/v1/auth/totp/enroll"),
    ("POST", "/v1/auth/totp/confirm"),
    ("POST", "/v1/auth/mfa"),
    ("POST", "/v1/auth/tokens"),
    ("GET", "/v1/auth/tokens"),
    ("DELETE", "/v1/auth/tokens/{id}"),
    ("POST", "/v1/people/{id}/password"),
    ("GET", "/v1/customers"),
    ("POST", "/v1/customers"),
    ("GET", "/v1/customers/search"),
    ("GET", "/v1/customers/{id}"),
    ("PATCH", "/v1/customers/{id}"),
    ("DELETE", "/v1/customers/{id}"),
    ("GET", "/v1/documents"),
    ("POST", "/v1/documents"),
    ("GET", "/v1/documents/{id}"),
    ("GET", "/v1/documents/{id}/content"),
    ("GET", "/v1/people"),
    ("GET", "/v1/people/{id}"),
    ("POST", "/v1/people/{id}/status"),
    ("DELETE", "/v1/people/{id}/sessions"),
    ("GET", "/v1/policy"),
    ("PUT", "/v1/policy"),
    ("POST", "/v1/policy/validate"),
    ("POST", "/v1/policy/explain"),
    ("GET", "/v1/access/who-can/{resource}"),
    ("GET", "/v1/access/what-can/{person}"),
    ("GET", "/v1/access/unused"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/audit/verify"),
    ("POST", "/v1/audit/evidence"),
    ("POST", "/v1/exports"),
    ("GET", "/v1/exports/pending"),
    ("POST", "/v1/exports/{id}/approve"),
    ("POST", "/v1/exports/{id}/reject"),
    ("GET", "/v1/exports/{id}/download"),
    ("POST", "/v1/scan"),
    ("POST", "/v1/events"),
];

/// Data routes whose bodies may be up to [`MAX_SCAN_BYTES`] rather than [`MAX_BODY_BYTES`].
const LARGE_BODY_ROUTES: &[(&str, &str)] = &[("POST", "/v1/scan")];

/// Routes that need a session but do not pass the gateway, with the reason.
pub const GATEWAY_EXEMPT: &[(&str, &str, &str)] = &[(
    "POST",
    "/v1/events",
    "activity events carry ids and counts only, never customer fields; they go to the risk \
     engine, which never sees plaintext, and the handler gets neither the store nor the gateway's \
     data methods, only a handle that records each feed in the ledger",
)];

/// Who may call a route and what its handler is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// No session; handler gets the [`AppState`].
    Public,
    /// A session; handler gets the [`AppState`] (auth routes only).
    Session,
    /// A session; handler gets only the gateway ([`DataState`]).
    Data,
    /// A session; handler gets only the risk engine (listed in [`GATEWAY_EXEMPT`]).
    Events,
}

/// A route's handler, typed by the state it may see.
enum Endpoint {
    Public(MethodRouter<AppState>),
    Session(MethodRouter<AppState>),
    Data(MethodRouter<DataState>),
    Events(MethodRouter<events::EventsState>),
}

impl Endpoint {
    fn kind(&self) -> RouteKind {
        match self {
            Endpoint::Public(_) => RouteKind::Public,
            Endpoint::Session(_) => RouteKind::Session,
            Endpoint::Data(_) => RouteKind::Data,
            Endpoint::Events(_) => RouteKind::Events,
        }
    }
}

fn endpoint(method: &str, path: &str) -> Option<Endpoint> {
    Some(match (method, path) {
        ("GET", "/health") => Endpoint::Public(get(health)),
        ("GET", "/ready") => Endpoint::Public(get(ready)),
        ("POST", "/v1/bootstrap") => Endpoint::Public(post(auth::bootstrap)),
        ("GET", "/openapi.json") => Endpoint::Public(get(openapi::openapi_json)),
        ("POST", "/v1/auth/login") => Endpoint::Public(post(auth::login)),
        ("POST", "/v1/auth/logout") => Endpoint::Session(post(auth::logout)),
        ("GET", "/v1/auth/sessions") => Endpoint::Session(get(auth::sessions)),
        ("DELETE", "/v1/auth/sessions/{id}") => Endpoint::Session(delete(auth::revoke_session)),
        ("POST", "/v1/auth/totp/enroll") => Endpoint::Session(post(mfa::enroll)),
        ("POST", "/v1/auth/totp/confirm") => Endpoint::Session(post(mfa::confirm)),
        ("POST", "/v1/auth/mfa") => Endpoint::Session(post(mfa::step_up)),
        ("POST", "/v1/auth/tokens") => Endpoint::Session(post(tokens::create)),
        ("GET", "/v1/auth/tokens") => Endpoint::Session(get(tokens::list)),
        ("DELETE", "/v1/auth/tokens/{id}") => Endpoint::Session(delete(tokens::revoke)),
        ("POST", "/v1/people/{id}/password") => Endpoint::Session(post(auth::change_password)),
        ("GET", "/v1/customers") => Endpoint::Data(get(data::list_customers)),
        ("POST", "/v1/customers") => Endpoint::Data(post(manage::create_customer)),
        ("GET", "/v1/customers/search") => Endpoint::Data(get(data::search_customers)),
        ("GET", "/v1/customers/{id}") => Endpoint::Data(get(data::read_customer)),
        ("PATCH", "/v1/customers/{id}") => Endpoint::Data(patch(manage::update_customer)),
        ("DELETE", "/v1/customers/{id}") => Endpoint::Data(delete(manage::erase_customer)),
        ("GET", "/v1/documents") => Endpoint::Data(get(data::list_documents)),
        ("POST", "/v1/documents") => Endpoint::Data(post(manage::upload_document)),
        ("GET", "/v1/people") => Endpoint::Data(get(manage::people)),
        ("GET", "/v1/people/{id}") => Endpoint::Data(get(manage::person)),
        ("POST", "/v1/people/{id}/status") => Endpoint::Data(post(manage::set_status)),
        ("DELETE", "/v1/people/{id}/sessions") => Endpoint::Session(delete(auth::revoke_person)),
        ("GET", "/v1/policy") => Endpoint::Data(get(manage::get_policy)),
        ("PUT", "/v1/policy") => Endpoint::Data(put(manage::put_policy)),
        ("POST", "/v1/policy/validate") => Endpoint::Data(post(manage::validate_policy)),
        ("POST", "/v1/policy/explain") => Endpoint::Data(post(manage::explain)),
        ("GET", "/v1/access/who-can/{resource}") => Endpoint::Data(get(manage::who_can)),
        ("GET", "/v1/access/what-can/{person}") => Endpoint::Data(get(manage::what_can)),
        ("GET", "/v1/access/unused") => Endpoint::Data(get(manage::unused)),
        ("GET", "/v1/documents/{id}") => Endpoint::Data(get(data::document)),
        ("GET", "/v1/documents/{id}/content") => Endpoint::Data(get(data::document_content)),
        ("GET", "/v1/audit") => Endpoint::Data(get(data::audit)),
        ("GET", "/v1/audit/verify") => Endpoint::Data(get(manage::verify_audit)),
        ("POST", "/v1/audit/evidence") => Endpoint::Data(post(manage::audit_evidence)),
        ("POST", "/v1/exports") => Endpoint::Data(post(exports::request_export)),
        ("GET", "/v1/exports/pending") => Endpoint::Data(get(exports::pending_exports)),
        ("POST", "/v1/exports/{id}/approve") => Endpoint::Data(post(exports::approve_export)),
        ("POST", "/v1/exports/{id}/reject") => Endpoint::Data(post(exports::reject_export)),
        ("GET", "/v1/exports/{id}/download") => Endpoint::Data(get(exports::download_export)),
        ("POST", "/v1/scan") => Endpoint::Data(post(data::scan)),
        ("POST", "/v1/events") => Endpoint::Events(post(events::ingest)),
        _ => return None,
    })
}

/// How a listed route is served, or `None` if [`ROUTES`] lists a route no
/// handler serves (a test checks there is none).
pub fn route_kind(method: &str, path: &str) -> Option<RouteKind> {
    endpoint(method, path).map(|e| e.kind())
}

/// The API as an axum router.
pub fn router(state: AppState) -> Router {
    let mut public = Router::new();
    let mut session = Router::new();
    let mut data = Router::new();
    let mut large = Router::new();
    let mut events = Router::new();
    for (method, path) in ROUTES {
        match endpoint(method, path) {
            Some(Endpoint::Public(m)) => public = public.route(path, m),
            Some(Endpoint::Session(m)) => session = session.route(path, m),
            Some(Endpoint::Data(m)) if LARGE_BODY_ROUTES.contains(&(*method, *path)) => large = large.route(path, m),
            Some(Endpoint::Data(m)) => data = data.route(path, m),
            Some(Endpoint::Events(m)) => events = events.route(path, m),
            // Unreachable by the table test; never served rather than panic.
            None => tracing::error!(method, path, "route listed without a handler"),
        }
    }
    let data_state = DataState {
        gateway: Arc::clone(&state.gateway),
        dlp: state.dlp.clone(),
        scan_slots: Arc::clone(&state.scan_slots),
    };
    let large = large
        .route_layer(from_fn_with_state(state.clone(), auth::require_session))
        .with_state(data_state.clone())
        .layer(DefaultBodyLimit::max(MAX_SCAN_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_SCAN_BYTES));
    let session = session
        .route_layer(from_fn_with_state(state.clone(), auth::require_session))
        .with_state(state.clone());
    let data = data
        .route_layer(from_fn_with_state(state.clone(), auth::require_session))
        .with_state(data_state);
    // Events take bodies up to MAX_EVENTS_BODY_BYTES; the handler enforces the limit
    // itself, so that its 413 says what the limit is.
    let events = events
        .route_layer(from_fn_with_state(state.clone(), auth::require_session))
        .with_state(events::EventsState {
            risk: state.risk.clone(),
            ledger: events::EventsLedger(Arc::clone(&state.gateway)),
        });
    public
        .with_state(state)
        .merge(session)
        .merge(data)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .merge(events)
        .merge(large)
        .fallback(|| async { ApiError::for_status(StatusCode::NOT_FOUND) })
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(map_response(error_shape))
        .layer(map_response(security_headers))
}

/// Headers on every answer, unless a route set its own: nothing the API sends is
/// to be stored by a cache (customer fields and documents in clear), read as
/// another type, framed, or named in a referrer.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// How often the risk engine reads the ledger entries recorded since it last did
/// (scoring, forwarding alerts and `POST /v1/events` read them first as well).
pub const RISK_FOLLOW_INTERVAL: Duration = Duration::from_secs(2);

/// How often what the risk engine read from the ledger is saved to the store;
/// `POST /v1/events` saves at once.
pub const RISK_SAVE_INTERVAL: Duration = Duration::from_secs(30);

/// Most threads a server's runtime starts for blocking work: store calls,
/// password hashing, scans. Past a few dozen, more threads only wait for a
/// pooled database connection (16 per PostgreSQL store by default) or for a
/// core, and each one costs a stack and an allocator heap of its own whose
/// memory is faulted in again after it is given back. Under tokio's default
/// (512), `bench serve` on PostgreSQL grew about 260 threads and read 10–20%
/// fewer customers per second than with this bound.
pub const BLOCKING_THREADS: usize = 64;

/// The runtime [`serve`] and [`serve_tls`] are meant to run on: tokio's
/// multi-thread scheduler with at most [`BLOCKING_THREADS`] blocking threads.
/// No blocking task of the server waits for another, so the bound cannot
/// deadlock; work beyond it queues.
pub fn runtime_builder() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().max_blocking_threads(BLOCKING_THREADS);
    builder
}

/// Serves the API on `listener` (plain HTTP) until the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    spawn_background(&state);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// Starts the periodic work of a serving process: reading the ledger into the risk
/// engine, saving its state and forwarding alerts.
fn spawn_background(state: &AppState) {
    let Some(risk) = state.risk.clone() else {
        return;
    };
    let follower = Arc::clone(&risk);
    every(
        RISK_FOLLOW_INTERVAL,
        "risk: reading the ledger",
        move || follower.catch_up(),
        |read| events::log_unreadable(&read),
    );
    let saver = Arc::clone(&risk);
    every(
        RISK_SAVE_INTERVAL,
        "saving the risk state",
        move || saver.save_if_changed(),
        |_| {},
    );
    if let Some((forwarder, interval)) = state.forwarding.clone() {
        every(
            interval,
            "forwarding risk alerts",
            move || risk.forward_new_alerts(&forwarder),
            |n| {
                if n > 0 {
                    tracing::info!(alerts = n, "risk alerts queued for the SIEM");
                }
            },
        );
    }
}

/// Runs `job` on a blocking thread every `interval`, hands what it returns to `done`
/// and logs a failure as "`what` failed".
fn every<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    interval: Duration,
    what: &'static str,
    job: impl Fn() -> Result<T, E> + Send + Sync + 'static,
    done: impl Fn(T) + Send + 'static,
) {
    let job = Arc::new(job);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let job = Arc::clone(&job);
            match tokio::task::spawn_blocking(move || job()).await {
                Ok(Ok(value)) => done(value),
                Ok(Err(e)) => tracing::error!(error = %e, "{what} failed"),
                Err(e) => tracing::error!(error = %e, "{what} failed"),
            }
        }
    });
}

/// Gives error responses from axum and tower-http (405, 408, 413…) the
/// API's error shape.
async fn error_shape(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        return ApiError::for_status(status).into_response();
    }
    response
}

/// Runs blocking work (SQLite, Argon2, decryption) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(&e))?
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn ready(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let gateway = Arc::clone(&state.gateway);
    blocking(move || {
        gateway.installation().map_err(|e| {
            tracing::error!(error = %e, "not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the store is not reachable; see the server log",
            )
        })
    })
    .await?;
    Ok(Json(serde_json::json!({"status": "ready"})))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Twice as many blocking tasks as the bound, each holding its thread
    /// until all of them run at once or a second has passed: with the bound,
    /// exactly the bound's worth run together and the rest run after them.
    #[test]
    fn the_runtime_runs_at_most_the_bound_of_blocking_threads() {
        use std::sync::{Condvar, Mutex};
        let runtime = runtime_builder().build().unwrap();
        let state = Arc::new((Mutex::new((0usize, 0usize)), Condvar::new()));
        let tasks: Vec<_> = (0..2 * BLOCKING_THREADS)
            .map(|_| {
                let state = Arc::clone(&state);
                runtime.spawn_blocking(move || {
                    let (lock, wake) = &*state;
                    let mut guard = lock.lock().unwrap();
                    guard.0 += 1;
                    guard.1 = guard.1.max(guard.0);
                    wake.notify_all();
                    let (mut guard, _) = wake
                        .wait_timeout_while(guard, Duration::from_secs(1), |(running, _)| {
                            *running < 2 * BLOCKING_THREADS
                        })
                        .unwrap();
                    guard.0 -= 1;
                })
            })
            .collect();
        runtime.block_on(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
        let most = state.0.lock().unwrap().1;
        assert_eq!(most, BLOCKING_THREADS, "most blocking tasks running at once");
    }

    #[test]
    fn every_listed_route_has_a_handler_and_data_routes_get_only_the_gateway() {
        for (method, path) in ROUTES {
            let kind = route_kind(method, path);
            assert!(kind.is_some(), "{method} {path} is listed but has no handler");
            let is_data = [
                "/v1/customers",
                "/v1/documents",
                "/v1/audit",
                "/v1/exports",
                "/v1/people",
                "/v1/policy",
                "/v1/access",
                "/v1/scan",
            ]
            .iter()
            .any(|p| path.starts_with(p))
                // A person's own password is authentication, not data; so are a
                // person's sessions, whose revocation the gateway authorizes and
                // records before the auth store ends them.
                && !path.ends_with("/password")
                && !path.ends_with("/sessions");
            assert_eq!(kind == Some(RouteKind::Data), is_data, "{method} {path}: {kind:?}");
            // A session route that skips the gateway must be exempted, with a reason.
            let exempt = GATEWAY_EXEMPT
                .iter()
                .any(|(m, p, why)| m == method && p == path && !why.is_empty());
            assert_eq!(kind == Some(RouteKind::Events), exempt, "{method} {path}: {kind:?}");
        }
        for (method, path, _) in GATEWAY_EXEMPT {
            assert!(
                ROUTES.contains(&(*method, *path)),
                "{method} {path} is exempted but not served"
            );
        }
        let mut seen = std::collections::HashSet::new();
        assert!(ROUTES.iter().all(|r| seen.insert(r)), "a route is listed twice");
    }
}
