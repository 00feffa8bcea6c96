//! Passwords, sessions and the middleware that turns a session cookie into
//! the caller the gateway sees.

use std::net::{IpAddr, SocketAddr};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use gateway::{AccessContext, Actor};
use model::{EmploymentStatus, PersonId, UnixMillis};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{AuthStore, SessionRecord};

use crate::error::ApiError;
use crate::{blocking, AppState, AuthBackend};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "custodia_session";
/// Shortest password accepted (OWASP ASVS 2.1.1).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, so hashing cost stays bounded.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Failed logins allowed before backoff starts.
const FREE_FAILURES: u32 = 3;
/// The longest wait imposed after failed logins.
const MAX_BACKOFF_MS: i64 = 15 * 60 * 1000;

/// Why a password could not be set.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password has {found} characters; use between {MIN_PASSWORD_CHARS} and {MAX_PASSWORD_CHARS}")]
    Length { found: usize },
    #[error("unknown person {0}; import them first with `custodia people import`")]
    UnknownPerson(String),
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// Argon2id with the OWASP parameters: 19 MiB, 2 passes, 1 lane.
fn argon2id() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_password(password: &str) -> Result<String, PasswordError> {
    let found = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&found) {
        return Err(PasswordError::Length { found });
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2id()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string; a malformed hash
/// never matches.
fn verify_password(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(argon) = argon2id() else { return false };
    password.chars().count() <= MAX_PASSWORD_CHARS && argon.verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Sets a person's password (Argon2id); the operator's bootstrap path,
/// called by the CLI. The person must exist in the store.
pub fn set_password(store: &dyn AuthBackend, person: &PersonId, password: &str) -> Result<(), PasswordError> {
    if store.get_person(person)?.is_none() {
        return Err(PasswordError::UnknownPerson(person.to_string()));
    }
    let phc = hash_password(password)?;
    store.set_credential(person, &phc)?;
    store.clear_login_failures(person)?;
    Ok(())
}

/// Ends every session `person` holds now (e.g. when they leave): they fail
/// at their next request.
pub fn revoke_person_sessions(
    store: &dyn AuthStore,
    person: &PersonId,
    now: UnixMillis,
) -> Result<(), store::StoreError> {
    store.revoke_sessions_before(person, now)
}

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session ends this long after login, whatever its use.
    pub absolute_ms: i64,
    /// A session ends when unused for this long.
    pub idle_ms: i64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            absolute_ms: 12 * 3_600_000,
            idle_ms: 30 * 60_000,
        }
    }
}

/// The authenticated caller of one request, as the middleware found it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub person: PersonId,
    /// The person's role as the store had it at this request.
    pub role: model::Role,
    pub session_id: String,
    pub access: AccessContext,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::Person(self.person.clone())
    }
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The session token from the `Cookie` header(s), if any.
// Reading one cookie by name does not justify a cookie-jar dependency.
fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn session_cookie(token: &str, max_age_s: i64) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age_s}"
    ))
    .map_err(|e| ApiError::internal(&e))
}

/// A network the company trusts (policies may restrict exports to them), as
/// an address and a prefix length: `10.0.0.0/8`, `::1/128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedNetwork {
    addr: IpAddr,
    prefix: u8,
}

/// A trusted network that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a network; write it as ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8")]
pub struct BadNetwork(String);

impl std::str::FromStr for TrustedNetwork {
    type Err = BadNetwork;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadNetwork(s.chars().take(64).collect());
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad());
        }
        Ok(TrustedNetwork { addr, prefix })
    }
}

impl TrustedNetwork {
    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let bits = |a: IpAddr| -> (u128, u32) {
            match a {
                IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        };
        let ((net, width), (host, host_width)) = (bits(self.addr), bits(ip));
        if width != host_width {
            return false;
        }
        let shift = width - u32::from(self.prefix);
        shift >= width || (net >> shift) == (host >> shift)
    }
}

fn access_context(request: &Request, trusted: &[TrustedNetwork]) -> AccessContext {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    AccessContext {
        trusted_network: ip.is_some_and(|ip| trusted.iter().any(|n| n.contains(ip))),
        client_address: ip.map(|ip| ip.to_string()),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
        device: Some("http".into()),
        ..Default::default()
    }
}

/// Whether a session may be used at `now`.
fn session_is_live(s: &SessionRecord, valid_after: UnixMillis, now: UnixMillis) -> bool {
    !s.revoked && now < s.expires_ms && now - s.last_seen_ms < s.idle_timeout_ms && s.created_ms > valid_after
}

/// Middleware: checks the session on every request, against the store
/// (no cache), so revocation and a change of status apply at once.
pub(crate) async fn require_session(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(token) = session_token(request.headers()) else {
        return ApiError::unauthenticated().into_response();
    };
    let access = access_context(&request, &state.trusted_networks);
    let now = state.clock.now_ms();
    let auth = state.auth.clone();
    let found = blocking(move || -> Result<Option<(SessionRecord, model::Role)>, ApiError> {
        let Some(session) = auth.session_by_token(&token_hash(&token))? else {
            return Ok(None);
        };
        let valid_after = auth.sessions_valid_after(&session.person)?;
        if !session_is_live(&session, valid_after, now) {
            return Ok(None);
        }
        let role = match auth.get_person(&session.person)? {
            Some(p) if p.status != EmploymentStatus::Departed => p.role,
            _ => return Ok(None),
        };
        auth.touch_session(&session.id, now)?;
        Ok(Some((session, role)))
    })
    .await;
    match found {
        Ok(Some((session, role))) => {
            request.extensions_mut().insert(Caller {
                person: session.person,
                role,
                session_id: session.id,
                access,
            });
            next.run(request).await
        }
        Ok(None) => ApiError::unauthenticated().into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/auth/login` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    person: String,
    password: String,
}

/// The wait imposed after `count` consecutive failures.
fn backoff_ms(count: u32) -> i64 {
    if count < FREE_FAILURES {
        return 0;
    }
    let exp = (count - FREE_FAILURES).min(20);
    (1000i64 << exp).min(MAX_BACKOFF_MS)
}

fn wrong_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "wrong person or password")
}

pub(crate) async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let now = state.clock.now_ms();
    let auth = state.auth.clone();
    let config = state.sessions;
    let person = PersonId(body.person);
    let (person, token, session) = blocking(move || -> Result<_, ApiError> {
        let failures = auth.login_failures(&person)?;
        let wait = backoff_ms(failures.count) - (now - failures.last_ms);
        if wait > 0 {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                "too many failed logins for this person; wait and retry",
            );
            e.retry_after_s = Some(u64::try_from((wait + 999) / 1000).unwrap_or(1));
            return Err(e);
        }
        let active = auth
            .get_person(&person)?
            .is_some_and(|p| p.status != EmploymentStatus::Departed);
        let phc = auth.credential(&person)?;
        let ok = match &phc {
            Some(phc) => verify_password(phc, &body.password),
            None => {
                // Spend the same time as a real check, so timing does not
                // tell which people have passwords.
                let _ = hash_password("timing-equaliser-password");
                false
            }
        };
        if !ok {
            if phc.is_some() {
                auth.record_login_failure(&person, now)?;
            }
            return Err(wrong_credentials());
        }
        if !active {
            return Err(wrong_credentials());
        }
        auth.clear_login_failures(&person)?;
        let token = random_text(32);
        let session = SessionRecord {
            id: random_text(12),
            token_hash: token_hash(&token),
            person: person.clone(),
            created_ms: now,
            last_seen_ms: now,
            expires_ms: now.saturating_add(config.absolute_ms),
            idle_timeout_ms: config.idle_ms,
            revoked: false,
        };
        auth.insert_session(&session)?;
        Ok((person, token, session))
    })
    .await?;
    let cookie = session_cookie(&token, config.absolute_ms / 1000)?;
    let mut response = Json(LoginResponse {
        person: person.0,
        session: SessionView::of(&session, &session.id),
    })
    .into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// What a login returns (the token travels only in the cookie).
#[derive(Serialize)]
pub(crate) struct LoginResponse {
    person: String,
    session: SessionView,
}

/// A session as its owner sees it.
#[derive(Serialize)]
pub(crate) struct SessionView {
    id: String,
    created_ms: UnixMillis,
    last_seen_ms: UnixMillis,
    expires_ms: UnixMillis,
    idle_timeout_ms: i64,
    revoked: bool,
    current: bool,
}

impl SessionView {
    fn of(s: &SessionRecord, current: &str) -> SessionView {
        SessionView {
            id: s.id.clone(),
            created_ms: s.created_ms,
            last_seen_ms: s.last_seen_ms,
            expires_ms: s.expires_ms,
            idle_timeout_ms: s.idle_timeout_ms,
            revoked: s.revoked,
            current: s.id == current,
        }
    }
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Response, ApiError> {
    let auth = state.auth.clone();
    blocking(move || auth.revoke_session(&caller.session_id).map_err(ApiError::from)).await?;
    let mut response = Json(serde_json::json!({"logged_out": true})).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0)?);
    Ok(response)
}

pub(crate) async fn sessions(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let auth = state.auth.clone();
    let now = state.clock.now_ms();
    let all = blocking(move || auth.sessions_of(&caller.person).map_err(ApiError::from)).await?;
    let live = all
        .iter()
        .filter(|s| !s.revoked && now < s.expires_ms)
        .map(|s| SessionView::of(s, &caller.session_id))
        .collect();
    Ok(Json(live))
}

pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(id) = id?;
    let auth = state.auth.clone();
    blocking(move || -> Result<_, ApiError> {
        // Only one's own sessions: another person's id is simply not found.
        if !auth.sessions_of(&caller.person)?.iter().any(|s| s.id == id) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such session of yours",
            ));
        }
        auth.revoke_session(&id)?;
        Ok(Json(serde_json::json!({"revoked": id})))
    })
    .await
}

/// `POST /v1/people/{id}/password` body: a person changes their own password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    current_password: String,
    new_password: String,
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<PasswordChange>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(id) = id?;
    let Json(body) = body?;
    if id != caller.person.0 {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "denied",
            "a person may change only their own password",
        ));
    }
    let auth = state.auth.clone();
    blocking(move || -> Result<_, ApiError> {
        let current = auth.credential(&caller.person)?;
        if !current.is_some_and(|phc| verify_password(&phc, &body.current_password)) {
            return Err(wrong_credentials());
        }
        set_password(auth.as_ref(), &caller.person, &body.new_password).map_err(|e| match e {
            PasswordError::Length { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()),
            other => ApiError::internal(&other),
        })?;
        // Other sessions end: whoever knew the old password is logged out.
        for s in auth.sessions_of(&caller.person)? {
            if s.id != caller.session_id {
                auth.revoke_session(&s.id)?;
            }
        }
        Ok(Json(serde_json::json!({"changed": true})))
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn trusted_networks_contain_their_addresses_only() {
        let net: TrustedNetwork = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(!net.contains("fd00::1".parse().unwrap()));
        let all: TrustedNetwork = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
        let v6: TrustedNetwork = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        for bad in ["10.0.0.0", "10.0.0.0/33", "x/8", "::/129"] {
            assert!(bad.parse::<TrustedNetwork>().is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_then_caps() {
        let waits: Vec<i64> = (0..30).map(backoff_ms).collect();
        assert_eq!(&waits[..5], &[0, 0, 0, 1000, 2000]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(waits[29], MAX_BACKOFF_MS);
    }

    #[test]
    fn cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; custodia_session=tok; b=2"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("tok"));
        h.insert(header::COOKIE, HeaderValue::from_static("custodia_session="));
        assert_eq!(session_token(&h), None);
    }

    #[test]
    fn password_hash_is_argon2id_with_owasp_parameters() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&phc, "correct horse battery"));
        assert!(!verify_password(&phc, "correct horse battery!"));
        assert!(!verify_password("not a phc string", "correct horse battery"));
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::Length { found: 5 })
        ));
    }
}
