//! Passwords, sessions and the middleware that turns a session cookie into
//! the caller the gateway sees.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{ConnectInfo, FromRequest, MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use gateway::{AccessContext, Actor, Gateway, Holder};
use model::{EmploymentStatus, PersonId, UnixMillis};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{ApiTokenRecord, AuthStore, SessionRecord};

use crate::error::ApiError;
use crate::{blocking, mfa, AppState, AuthBackend, RouteKind};

/// The session cookie's name. The `__Host-` prefix makes a browser keep it only as
/// set here (`Secure`, `Path=/`, no `Domain`) by this host over HTTPS: a sibling
/// subdomain or a network attacker over plain HTTP cannot plant or overwrite one
/// (session fixation by cookie tossing).
pub const SESSION_COOKIE: &str = "__Host-custodia_session";
/// Shortest password accepted (OWASP ASVS 2.1.1).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, so hashing cost stays bounded.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Failed logins allowed before backoff starts.
const FREE_FAILURES: u32 = 3;
/// The longest wait imposed after failed logins.
const MAX_BACKOFF_MS: i64 = 15 * 60 * 1000;
/// Failed logins from one source address allowed before backoff starts;
/// more than per person, since an office behind NAT shares one address.
const FREE_ADDRESS_FAILURES: u32 = 10;
/// An address's failure count starts again after this long without failures.
/// It is not cleared by a success, which an attacker could arrange.
const ADDRESS_WINDOW_MS: i64 = 60 * 60_000;
/// How long after completing MFA a session counts as MFA-fresh (admin actions).
pub const MFA_FRESH_MS: i64 = 15 * 60_000;
/// What a person who must enroll in TOTP may do before enrolling. Who must
/// is the policy's to say (action `auth.require_mfa`; by default security
/// admins, finance and executives).
pub const ENROLLMENT_ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/auth/totp/enroll"),
    ("POST", "/v1/auth/totp/confirm"),
    ("GET", "/v1/auth/sessions"),
    ("POST", "/v1/auth/logout"),
];
/// API token scope: GET routes over vault data.
pub const SCOPE_READ: &str = "read";
/// API token scope: `POST /v1/events`.
pub const SCOPE_EVENTS: &str = "events";

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

pub(crate) fn hash_password(password: &str) -> Result<String, PasswordError> {
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
/// called by the CLI. The person must exist in the store. Every session and
/// API token they held ends.
pub fn set_password(store: &dyn AuthBackend, person: &PersonId, password: &str) -> Result<(), PasswordError> {
    if store.get_person(person)?.is_none() {
        return Err(PasswordError::UnknownPerson(person.to_string()));
    }
    install_password(store, person, &hash_password(password)?, None)
}

/// A password checked and hashed, not yet installed: so that what would refuse it is
/// known before its change is recorded (see [`install_checked_password`]). No `Debug`.
pub struct CheckedPassword(String);

impl CheckedPassword {
    pub fn of(password: &str) -> Result<Self, PasswordError> {
        Ok(CheckedPassword(hash_password(password)?))
    }
}

/// [`set_password`] with a password hashed already.
pub fn install_checked_password(
    store: &dyn AuthBackend,
    person: &PersonId,
    hash: &CheckedPassword,
) -> Result<(), PasswordError> {
    if store.get_person(person)?.is_none() {
        return Err(PasswordError::UnknownPerson(person.to_string()));
    }
    install_password(store, person, &hash.0, None)
}

/// Stores a password hash and ends every session of the person but
/// `keep_session`, and all their API tokens: whoever knew the old password,
/// or took a credential while it was in force, is logged out.
fn install_password(
    store: &dyn AuthBackend,
    person: &PersonId,
    phc: &str,
    keep_session: Option<&str>,
) -> Result<(), PasswordError> {
    store.set_credential(person, phc)?;
    store.revoke_credentials(person, keep_session)?;
    store.clear_login_failures(person)?;
    Ok(())
}

/// Ends every session and API token `person` holds now: they fail at their
/// next request. Ledger first: see [`Gateway::authorize_sessions_revoke`].
/// The rows are marked revoked as well as every credential made before `now`:
/// with several servers on one database, a session made by a server whose clock
/// runs ahead of this one's would otherwise count as made after the revocation
/// (found in review).
pub fn revoke_person_sessions(
    store: &dyn AuthStore,
    person: &PersonId,
    now: UnixMillis,
) -> Result<(), store::StoreError> {
    store.revoke_sessions_before(person, now)?;
    store.revoke_credentials(person, None)
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
    /// What authenticated the request.
    pub credential: Credential,
    pub access: AccessContext,
}

/// What authenticated a request: a login session (cookie) or a personal API
/// token (`Authorization: Bearer`). Holds ids only, never the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session { id: String },
    Token { id: String, scopes: Vec<String> },
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::Person(self.person.clone())
    }

    /// The session's id. API tokens are refused on every route that asks
    /// (by the middleware), so the error is a safety net.
    pub(crate) fn session_id(&self) -> Result<&str, ApiError> {
        match &self.credential {
            Credential::Session { id } => Ok(id),
            Credential::Token { .. } => Err(token_not_allowed()),
        }
    }
}

pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub(crate) fn random_text(bytes: usize) -> String {
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

/// Whether a browser says the request comes from a page of another origin: by
/// `Sec-Fetch-Site` (anything but `same-origin`, or `none` for one the user typed),
/// else by an `Origin` other than the `Host` it was sent to. Clients that are not
/// browsers send neither.
fn from_another_origin(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
    };
    if let Some(site) = text("sec-fetch-site") {
        return site != "same-origin" && site != "none";
    }
    match (text("origin"), text("host")) {
        (Some(origin), host) => origin.split_once("://").map(|(_, authority)| authority) != host.as_deref(),
        (None, _) => false,
    }
}

/// The token of an `Authorization: Bearer` header, if any.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
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

/// The networks a server knows: those policy trusts, and the reverse proxies
/// whose `X-Forwarded-For` it believes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Networks {
    pub(crate) trusted: Vec<TrustedNetwork>,
    pub(crate) proxies: Vec<TrustedNetwork>,
}

/// Who sent a request, as far as the server can tell.
#[derive(Debug, PartialEq)]
struct RequestOrigin {
    ip: Option<IpAddr>,
    /// False when a trusted proxy sent the request without naming its client
    /// in a form the server can read: such a request is never from a trusted
    /// network.
    attributed: bool,
}

/// More hops than any real chain of proxies; a longer header is not read.
const MAX_FORWARDED_HOPS: usize = 32;

/// The client of a request from `peer`. Only a trusted proxy's
/// `X-Forwarded-For` is read, from the right (each proxy appends the address
/// it received from), skipping the trusted proxies in it: the first address
/// that is not one is the client. What the client wrote to the left of it is
/// never believed.
fn client_of(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[TrustedNetwork]) -> RequestOrigin {
    let from_proxy = |ip: &IpAddr| proxies.iter().any(|n| n.contains(*ip));
    let unattributed = RequestOrigin {
        ip: peer,
        attributed: false,
    };
    let Some(peer_ip) = peer else { return unattributed };
    if !from_proxy(&peer_ip) {
        return RequestOrigin {
            ip: peer,
            attributed: true,
        };
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else { return unattributed };
        hops.extend(text.split(',').map(str::trim));
        if hops.len() > MAX_FORWARDED_HOPS {
            return unattributed;
        }
    }
    let mut client = None;
    for hop in hops.iter().rev() {
        let Some(ip) = forwarded_address(hop) else {
            return unattributed;
        };
        client = Some(ip);
        if !from_proxy(&ip) {
            break;
        }
    }
    match client {
        Some(ip) => RequestOrigin {
            ip: Some(ip),
            attributed: true,
        },
        None => unattributed,
    }
}

/// An address as proxies write it in `X-Forwarded-For`: `192.0.2.7`,
/// `192.0.2.7:51234`, `2001:db8::7` or `[2001:db8::7]:51234`.
fn forwarded_address(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    hop.parse::<SocketAddr>().ok().map(|a| a.ip())
}

fn access_context(request: &Request, networks: &Networks) -> AccessContext {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let client = client_of(peer, request.headers(), &networks.proxies);
    AccessContext {
        trusted_network: client.attributed
            && client
                .ip
                .is_some_and(|ip| networks.trusted.iter().any(|n| n.contains(ip))),
        client_address: client.ip.map(|ip| ip.to_string()),
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

/// Whether an API token may be used at `now`: revoking a person's sessions
/// revokes their tokens too.
fn token_is_live(t: &ApiTokenRecord, valid_after: UnixMillis, now: UnixMillis) -> bool {
    !t.revoked && now < t.expires_ms && t.created_ms > valid_after
}

/// Whether a session's last MFA is recent enough for admin actions.
fn mfa_is_fresh(mfa_ms: UnixMillis, now: UnixMillis) -> bool {
    mfa_ms > 0 && now - mfa_ms < MFA_FRESH_MS
}

/// What a request presented.
enum Presented {
    Session(String),
    Token(String),
}

/// A live credential and its person, as found in the store.
struct Resolved {
    person: PersonId,
    role: model::Role,
    credential: Credential,
    mfa_fresh: bool,
    must_enroll: bool,
    /// The session whose last use is due to be written.
    touch: Option<String>,
    /// The person and generation as this check read them, for the gateway.
    holder: Arc<Holder>,
}

/// A session's last use is written at most this often: a write per request
/// would make every read wait for a disk flush. The idle timeout is thus
/// counted from up to this long before the last request (never later).
pub const SESSION_TOUCH_EVERY_MS: i64 = 60_000;

fn resolve(
    gateway: &Gateway,
    auth: &dyn AuthBackend,
    presented: Presented,
    access: &AccessContext,
    now: UnixMillis,
) -> Result<Option<Resolved>, ApiError> {
    let mut touch = false;
    let (holder, generation, credential, mfa_fresh) = match presented {
        Presented::Session(token) => {
            let Some(found) = auth.session_with_holder(&token_hash(&token))? else {
                return Ok(None);
            };
            let s = found.credential;
            if !session_is_live(&s, found.sessions_valid_after, now) {
                return Ok(None);
            }
            let fresh = mfa_is_fresh(s.mfa_ms, now);
            touch = now - s.last_seen_ms >= SESSION_TOUCH_EVERY_MS;
            (found.person, found.generation, Credential::Session { id: s.id }, fresh)
        }
        Presented::Token(token) => {
            let Some(found) = auth.api_token_with_holder(&token_hash(&token))? else {
                return Ok(None);
            };
            let t = found.credential;
            if !token_is_live(&t, found.sessions_valid_after, now) {
                return Ok(None);
            }
            // A token never counts as a fresh second factor.
            let credential = Credential::Token {
                id: t.id,
                scopes: t.scopes,
            };
            (found.person, found.generation, credential, false)
        }
    };
    let found = match holder {
        // Departed by the calendar too: a last working day that is over ends access.
        Some(p) if gateway.employment_status(&p) != EmploymentStatus::Departed => p,
        _ => return Ok(None),
    };
    // Asked at every request, so a policy change applies at the next one. Policy
    // first: its decision is cached, and most people are not required.
    let required = gateway.mfa_required(
        &found,
        generation.clone(),
        &AccessContext {
            mfa_fresh,
            ..access.clone()
        },
    )?;
    let person = found.id.clone();
    let must_enroll = required && !auth.totp(&person)?.enrolled();
    let role = found.role;
    let touch = match (&credential, touch) {
        (Credential::Session { id }, true) => Some(id.clone()),
        _ => None,
    };
    Ok(Some(Resolved {
        person,
        role,
        credential,
        mfa_fresh,
        must_enroll,
        touch,
        holder: Arc::new(Holder {
            person: found,
            generation,
        }),
    }))
}

/// The scope an API token needs for a route, or `None` when tokens may not
/// use it (credential management: sessions, passwords, MFA, tokens).
pub fn token_scope(method: &str, path: &str) -> Option<&'static str> {
    match crate::route_kind(method, path)? {
        RouteKind::Data if method == "GET" => Some(SCOPE_READ),
        RouteKind::Events => Some(SCOPE_EVENTS),
        _ => None,
    }
}

fn token_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "token_not_allowed",
        "API tokens cannot be used on this route; log in with POST /v1/auth/login",
    )
}

/// Middleware: checks the session cookie or API token on every request,
/// against the store (no cache), so revocation and a change of status apply
/// at once; then what the credential may reach.
pub(crate) async fn require_session(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let presented = match (bearer_token(request.headers()), session_token(request.headers())) {
        (Some(t), _) => Presented::Token(t),
        (None, Some(t)) => Presented::Session(t),
        (None, None) => return ApiError::unauthenticated().into_response(),
    };
    // SameSite=Strict keeps the cookie from other sites' pages, not from a page on
    // a sibling subdomain of the company, which a browser counts as the same site:
    // a session serves no page of another origin, neither to change anything (found
    // in review: a manager's browser could be made to approve an export) nor to
    // read, which would be recorded as the person's reads.
    if matches!(presented, Presented::Session(_)) && from_another_origin(request.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "a session cookie works only for requests from this server's own pages; use an API token",
        )
        .into_response();
    }
    let method = request.method().as_str().to_owned();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut access = access_context(&request, &state.networks);
    let now = state.clock.now_ms();
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    // SQLite answers these reads from memory in microseconds, less than a hand-off to
    // the blocking pool costs; a database across the network gets the pool.
    let resolved = if state.auth.backend() == "sqlite" {
        resolve(&gateway, auth.as_ref(), presented, &access, now)
    } else {
        let access = access.clone();
        blocking(move || resolve(&gateway, auth.as_ref(), presented, &access, now)).await
    };
    let found = match resolved {
        Ok(Some(r)) => r,
        Ok(None) => return ApiError::unauthenticated().into_response(),
        Err(e) => return e.into_response(),
    };
    if let Some(id) = found.touch.clone() {
        let auth = state.auth.clone();
        if let Err(e) = blocking(move || auth.touch_session(&id, now).map_err(ApiError::from)).await {
            return e.into_response();
        }
    }
    if found.must_enroll && !ENROLLMENT_ROUTES.contains(&(method.as_str(), path.as_str())) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "mfa_enrollment_required",
            "your role must use a second factor: enroll with POST /v1/auth/totp/enroll, then \
             POST /v1/auth/totp/confirm, then retry",
        )
        .into_response();
    }
    if let Credential::Token { scopes, .. } = &found.credential {
        match token_scope(&method, &path) {
            None => return token_not_allowed().into_response(),
            Some(needed) if !scopes.iter().any(|s| s == needed) => {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    format!("this API token lacks the `{needed}` scope this route needs"),
                )
                .into_response();
            }
            Some(_) => {}
        }
    }
    access.mfa_fresh = found.mfa_fresh;
    access.holder = Some(found.holder);
    request.extensions_mut().insert(Caller {
        person: found.person,
        role: found.role,
        credential: found.credential,
        access,
    });
    next.run(request).await
}

/// `POST /v1/auth/login` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    person: String,
    password: String,
    /// A TOTP code, for people enrolled in TOTP.
    totp: Option<String>,
    /// One of the person's recovery codes, instead of `totp`.
    recovery_code: Option<String>,
}

/// The wait imposed after `count` consecutive failures, when `free` are
/// allowed before backoff starts.
fn backoff_ms(count: u32, free: u32) -> i64 {
    if count < free {
        return 0;
    }
    let exp = (count - free).min(20);
    (1000i64 << exp).min(MAX_BACKOFF_MS)
}

/// The one answer to a refused login, whatever was wrong: the person, the
/// password, or the second factor of a person enrolled in one. Telling a
/// missing or wrong code from a wrong password would confirm a password
/// without the second factor (found in review); the ledger keeps the reason.
fn wrong_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "wrong person, password or second factor (a person enrolled in one sends `totp` or `recovery_code` \
         with the password)",
    )
}

/// Readings of a name's failures before an attempt that keeps losing the
/// race to count itself is refused as throttled.
const COUNT_TRIES: usize = 4;

/// Counts an attempt under `name` (a person's id, or any name a login was
/// tried with) before its password or code is checked, and refuses it while
/// the backoff lasts; returns the wait when refused. Counting first and
/// atomically is what holds a burst of parallel attempts to the backoff's
/// allowance; a success clears the count. Every name is counted alike, so
/// throttling does not tell who has a password.
pub(crate) fn count_attempt(auth: &dyn AuthBackend, name: &PersonId, now: UnixMillis) -> Result<Option<i64>, ApiError> {
    for _ in 0..COUNT_TRIES {
        let seen = auth.login_failures(name)?;
        let wait = backoff_ms(seen.count, FREE_FAILURES) - (now - seen.last_ms);
        if wait > 0 {
            return Ok(Some(wait));
        }
        if auth.count_login_attempt(name, seen, now)? {
            return Ok(None);
        }
    }
    Ok(Some(backoff_ms(FREE_FAILURES, FREE_FAILURES)))
}

pub(crate) fn throttled(wait_ms: i64, what: &str) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "throttled",
        format!("too many failed logins for this {what}; wait and retry"),
    );
    e.retry_after_s = Some(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1));
    e
}

/// The key failed logins from a source address are counted under.
fn address_key(access: &AccessContext) -> String {
    access.client_address.clone().unwrap_or_else(|| "unknown".into())
}

/// A refused login: the error for the caller and the reason for the ledger.
struct Refusal {
    error: ApiError,
    reason: &'static str,
}

/// A successful check of a login's credentials.
struct Accepted {
    mfa_ms: UnixMillis,
    factor: Option<mfa::Factor>,
}

/// Checks a login without creating anything; counts failures per person
/// and per source address.
fn check_login(
    gateway: &Gateway,
    auth: &dyn AuthBackend,
    body: &LoginRequest,
    person: &PersonId,
    address: &str,
    now: UnixMillis,
) -> Result<Result<Accepted, Refusal>, ApiError> {
    let by_address = auth.address_failures(address)?;
    let wait_address = backoff_ms(by_address.count, FREE_ADDRESS_FAILURES) - (now - by_address.last_ms);
    let known = auth.get_person(person)?;
    let wait = if wait_address > 0 {
        Some(throttled(wait_address, "address"))
    } else {
        // A name that is no person's (perhaps a password typed into the name
        // field) is counted under its keyed hash, never kept in clear.
        let counted = match known {
            Some(_) => person.clone(),
            None => gateway.login_name_key(&person.0)?,
        };
        count_attempt(auth, &counted, now)?.map(|w| throttled(w, "person"))
    };
    if let Some(error) = wait {
        return Ok(Err(Refusal {
            error,
            reason: "throttled",
        }));
    }
    let active = known.is_some_and(|p| gateway.employment_status(&p) != EmploymentStatus::Departed);
    let phc = auth.credential(person)?;
    // The person's count has this attempt already; the address's is counted
    // on failure only, since an office behind NAT logs in from one address.
    let fail = |error: ApiError, reason: &'static str| -> Result<Result<Accepted, Refusal>, ApiError> {
        auth.record_address_failure(address, now, now - ADDRESS_WINDOW_MS)?;
        Ok(Err(Refusal { error, reason }))
    };
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
        return fail(wrong_credentials(), "wrong-password");
    }
    if !active {
        return Ok(Err(Refusal {
            error: wrong_credentials(),
            reason: "departed",
        }));
    }
    let mut accepted = Accepted {
        mfa_ms: 0,
        factor: None,
    };
    if auth.totp(person)?.enrolled() {
        if body.totp.is_none() && body.recovery_code.is_none() {
            return fail(wrong_credentials(), "missing-second-factor");
        }
        let totp = mfa::open_totp(gateway, auth, person)?;
        match mfa::verify_second_factor(
            auth,
            person,
            &totp,
            body.totp.as_deref(),
            body.recovery_code.as_deref(),
            now,
        )? {
            Some(factor) => {
                accepted = Accepted {
                    mfa_ms: now,
                    factor: Some(factor),
                }
            }
            None => return fail(wrong_credentials(), "wrong-second-factor"),
        }
    }
    auth.clear_login_failures(person)?;
    Ok(Ok(accepted))
}

/// Records an authentication event; on a path that denies anyway, a
/// recording failure is only logged (the answer is a deny either way).
pub(crate) fn record_denial(
    gateway: &Gateway,
    event: &str,
    person: Option<&PersonId>,
    access: &AccessContext,
    reason: &str,
) {
    if let Err(e) = gateway.record_auth_event(event, person, access, false, reason) {
        tracing::error!(error = %e, event, "an authentication denial could not be recorded");
    }
}

pub(crate) async fn login(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let access = access_context(&request, &state.networks);
    let Json(body) = Json::<LoginRequest>::from_request(request, &()).await?;
    let now = state.clock.now_ms();
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    let config = state.sessions;
    let person = PersonId(body.person.clone());
    let (person, token, session) = blocking(move || -> Result<_, ApiError> {
        let address = address_key(&access);
        let accepted = match check_login(&gateway, auth.as_ref(), &body, &person, &address, now)? {
            Ok(a) => a,
            Err(refusal) => {
                // A name that is no person's may be a mistyped password: not recorded.
                let known = auth.get_person(&person)?.is_some().then_some(&person);
                record_denial(&gateway, "login", known, &access, refusal.reason);
                return Err(refusal.error);
            }
        };
        let how = match accepted.factor {
            None => "password",
            Some(mfa::Factor::Totp) => "password+totp",
            Some(mfa::Factor::RecoveryCode) => "password+recovery-code",
        };
        if accepted.factor == Some(mfa::Factor::RecoveryCode) {
            gateway.record_auth_event("recovery_code_used", Some(&person), &access, true, "login")?;
        }
        // Recorded before the session exists: an unrecordable login is refused.
        gateway.record_auth_event("login", Some(&person), &access, true, how)?;
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
            mfa_ms: accepted.mfa_ms,
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
    let gateway = Arc::clone(&state.gateway);
    blocking(move || -> Result<(), ApiError> {
        auth.revoke_session(caller.session_id()?)?;
        gateway.record_auth_event("logout", Some(&caller.person), &caller.access, true, "logout")?;
        Ok(())
    })
    .await?;
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
    let current = caller.session_id()?.to_owned();
    let all = blocking(move || auth.sessions_of(&caller.person).map_err(ApiError::from)).await?;
    let live = all
        .iter()
        .filter(|s| !s.revoked && now < s.expires_ms)
        .map(|s| SessionView::of(s, &current))
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
    let gateway = Arc::clone(&state.gateway);
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
        gateway.record_auth_event(
            "session_revoke",
            Some(&caller.person),
            &caller.access,
            true,
            "own-session",
        )?;
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
    let gateway = Arc::clone(&state.gateway);
    let now = state.clock.now_ms();
    blocking(move || -> Result<_, ApiError> {
        let session_id = caller.session_id()?;
        let person = &caller.person;
        // Throttled as logins are, on the same count: a stolen session must
        // not guess the current password any faster than the login route.
        if let Some(wait) = count_attempt(auth.as_ref(), person, now)? {
            record_denial(&gateway, "password_change", Some(person), &caller.access, "throttled");
            return Err(throttled(wait, "person"));
        }
        let current = auth.credential(person)?;
        if !current.is_some_and(|phc| verify_password(&phc, &body.current_password)) {
            record_denial(
                &gateway,
                "password_change",
                Some(person),
                &caller.access,
                "wrong-password",
            );
            return Err(wrong_credentials());
        }
        // The current password is proven: a new one refused as too short is no guess.
        auth.clear_login_failures(person)?;
        let phc = hash_password(&body.new_password).map_err(|e| match e {
            PasswordError::Length { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()),
            other => ApiError::internal(&other),
        })?;
        gateway.record_auth_event("password_change", Some(person), &caller.access, true, "own-password")?;
        install_password(auth.as_ref(), person, &phc, Some(session_id)).map_err(|e| ApiError::internal(&e))?;
        Ok(Json(serde_json::json!({"changed": true})))
    })
    .await
}

/// `DELETE /v1/people/{id}/sessions`: an admin ends every session and API
/// token of a person (policy action `sessions.revoke`), recorded first.
pub(crate) async fn revoke_person(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(id) = id?;
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    let now = state.clock.now_ms();
    blocking(move || -> Result<_, ApiError> {
        let person = PersonId(id);
        gateway.authorize_sessions_revoke(&caller.actor(), &caller.access, &person)?;
        revoke_person_sessions(auth.as_ref(), &person, now)?;
        Ok(Json(serde_json::json!({"revoked": person.0})))
    })
    .await
}

/// How long a bootstrap code may be used after it is issued.
pub const BOOTSTRAP_CODE_TTL_MS: i64 = 60 * 60_000;

/// What [`issue_bootstrap_code`] did.
#[derive(Clone, PartialEq, Eq)]
pub enum BootstrapCode {
    /// A new code, for the operator's eyes only; it is the one in force.
    Issued { code: String, expires_ms: UnixMillis },
    /// An unexpired code issued earlier (by another server sharing the
    /// database, or an earlier start) stays in force; no new one was made.
    AlreadyIssued {
        issued_ms: UnixMillis,
        expires_ms: UnixMillis,
    },
    /// Someone has a password: bootstrap is over.
    Over,
}

impl std::fmt::Debug for BootstrapCode {
    // The code is a credential: never in Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BootstrapCode::Issued { expires_ms, .. } => f
                .debug_struct("Issued")
                .field("expires_ms", expires_ms)
                .finish_non_exhaustive(),
            BootstrapCode::AlreadyIssued { issued_ms, expires_ms } => f
                .debug_struct("AlreadyIssued")
                .field("issued_ms", issued_ms)
                .field("expires_ms", expires_ms)
                .finish(),
            BootstrapCode::Over => f.write_str("Over"),
        }
    }
}

/// On an installation where no person has a password yet, issues a one-time
/// bootstrap code valid for [`BOOTSTRAP_CODE_TTL_MS`] from `now` (stored
/// hashed). There is one code at a time: unless `replace` (the operator's
/// `custodia bootstrap`), an unexpired code already issued is kept, so that
/// servers starting on one database do not void each other's code.
pub fn issue_bootstrap_code(
    store: &dyn AuthStore,
    now: UnixMillis,
    replace: bool,
) -> Result<BootstrapCode, store::StoreError> {
    if store.any_credential()? {
        return Ok(BootstrapCode::Over);
    }
    let code = random_text(24);
    let expires_ms = now.saturating_add(BOOTSTRAP_CODE_TTL_MS);
    Ok(
        match store.put_bootstrap_code(&token_hash(&code), now, expires_ms, replace)? {
            store::BootstrapIssue::Issued => BootstrapCode::Issued { code, expires_ms },
            store::BootstrapIssue::Pending { issued_ms, expires_ms } => {
                BootstrapCode::AlreadyIssued { issued_ms, expires_ms }
            }
            store::BootstrapIssue::Over => BootstrapCode::Over,
        },
    )
}

/// `POST /v1/bootstrap` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BootstrapRequest {
    code: String,
    person: String,
    password: String,
}

/// `POST /v1/bootstrap`: the first security admin sets their password with
/// the code `custodia serve` (or `custodia bootstrap`) printed. The code is
/// spent atomically with the password being set; a second use, an expired
/// code, or any use once someone has a password, is refused.
pub(crate) async fn bootstrap(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let access = access_context(&request, &state.networks);
    let Json(body) = Json::<BootstrapRequest>::from_request(request, &()).await?;
    let now = state.clock.now_ms();
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    blocking(move || -> Result<Response, ApiError> {
        let person = PersonId(body.person);
        let over = || {
            ApiError::new(
                StatusCode::GONE,
                "bootstrap_over",
                "bootstrap is over: a person already has a password; log in with POST /v1/auth/login",
            )
        };
        if auth.any_credential()? {
            record_denial(&gateway, "bootstrap", None, &access, "already-bootstrapped");
            return Err(over());
        }
        // The code is checked first, without spending it: a caller without the
        // right code learns nothing of who the security admins are (found in
        // review), and every refusal is recorded.
        let refused = |outcome| match outcome {
            store::BootstrapOutcome::Done => None,
            store::BootstrapOutcome::AlreadyBootstrapped => {
                record_denial(&gateway, "bootstrap", None, &access, "already-bootstrapped");
                Some(over())
            }
            store::BootstrapOutcome::UnknownCode => {
                record_denial(&gateway, "bootstrap", None, &access, "wrong-code");
                Some(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "bootstrap_refused",
                    "wrong, replaced or spent bootstrap code; use the latest one `custodia serve` or \
                     `custodia bootstrap` printed",
                ))
            }
            store::BootstrapOutcome::Expired => {
                record_denial(&gateway, "bootstrap", None, &access, "expired-code");
                Some(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "bootstrap_expired",
                    "this bootstrap code has expired; run `custodia bootstrap` on the server for a new one",
                ))
            }
        };
        let code_hash = token_hash(&body.code);
        if let Some(error) = refused(auth.check_bootstrap_code(&code_hash, now)?) {
            return Err(error);
        }
        let admin = auth.get_person(&person)?.is_some_and(|p| {
            p.role == model::Role::SecurityAdmin && gateway.employment_status(&p) != EmploymentStatus::Departed
        });
        if !admin {
            // A name that is no person's is not recorded: it may be a mistyped password.
            record_denial(&gateway, "bootstrap", None, &access, "not-an-active-security-admin");
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "bootstrap sets the password of an existing, active security admin; import them first",
            ));
        }
        let phc = match hash_password(&body.password) {
            Ok(phc) => phc,
            Err(e @ PasswordError::Length { .. }) => {
                record_denial(&gateway, "bootstrap", Some(&person), &access, "invalid-password");
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    e.to_string(),
                ));
            }
            Err(other) => {
                record_denial(&gateway, "bootstrap", Some(&person), &access, "error");
                return Err(ApiError::internal(&other));
            }
        };
        match auth.consume_bootstrap_code(&code_hash, &person, &phc, now)? {
            store::BootstrapOutcome::Done => {
                gateway.record_auth_event("bootstrap", Some(&person), &access, true, "first-admin")?;
                Ok(Json(serde_json::json!({"bootstrapped": person.0})).into_response())
            }
            // Spent, replaced or expired since the check.
            other => Err(refused(other).unwrap_or_else(over)),
        }
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
    fn a_client_is_read_from_x_forwarded_for_only_behind_a_trusted_proxy() {
        let proxies: Vec<TrustedNetwork> = vec!["10.9.0.0/24".parse().unwrap(), "fd09::/64".parse().unwrap()];
        // peer, X-Forwarded-For lines, expected client, attributed
        let check = |peer: &str, lines: &[&str], client: &str, attributed: bool| {
            let mut headers = HeaderMap::new();
            for line in lines {
                headers.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
            }
            let origin = client_of(Some(peer.parse().unwrap()), &headers, &proxies);
            let expected = RequestOrigin {
                ip: Some(client.parse().unwrap()),
                attributed,
            };
            assert_eq!(origin, expected, "peer {peer}, X-Forwarded-For {lines:?}");
        };
        // Not from a proxy: the header is the client's own writing, ignored.
        check("192.0.2.7", &["10.1.1.1"], "192.0.2.7", true);
        check("192.0.2.7", &[], "192.0.2.7", true);
        // From a proxy: the rightmost address that is no trusted proxy.
        check("10.9.0.5", &["198.51.100.4"], "198.51.100.4", true);
        check("10.9.0.5", &["10.1.1.1, 198.51.100.4"], "198.51.100.4", true);
        check("10.9.0.5", &["198.51.100.4, 10.9.0.6"], "198.51.100.4", true);
        check(
            "10.9.0.5",
            &["203.0.113.1", "198.51.100.4, 10.9.0.6"],
            "198.51.100.4",
            true,
        );
        check("10.9.0.5", &["198.51.100.4:51234"], "198.51.100.4", true);
        check("10.9.0.5", &["[2001:db8::7]:443"], "2001:db8::7", true);
        check("fd09::5", &["2001:db8::7"], "2001:db8::7", true);
        // Every hop a proxy: the first of them sent it.
        check("10.9.0.5", &["10.9.0.7, 10.9.0.6"], "10.9.0.7", true);
        // A proxy that names no client, or one the server cannot read: the
        // proxy's address, and never a trusted network.
        check("10.9.0.5", &[], "10.9.0.5", false);
        check("10.9.0.5", &["unknown"], "10.9.0.5", false);
        check("10.9.0.5", &["198.51.100.4, _hidden"], "10.9.0.5", false);
        check("10.9.0.5", &[""], "10.9.0.5", false);
        let long = vec!["198.51.100.4"; MAX_FORWARDED_HOPS + 1].join(",");
        check("10.9.0.5", &[long.as_str()], "10.9.0.5", false);
    }

    #[test]
    fn backoff_grows_then_caps() {
        let waits: Vec<i64> = (0..30).map(|n| backoff_ms(n, FREE_FAILURES)).collect();
        assert_eq!(&waits[..5], &[0, 0, 0, 1000, 2000]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(waits[29], MAX_BACKOFF_MS);
    }

    #[test]
    fn tokens_end_when_expired_revoked_or_revoked_by_epoch() {
        let t = ApiTokenRecord {
            id: "t".into(),
            token_hash: [0; 32],
            person: PersonId("p".into()),
            name: "ci".into(),
            scopes: vec![SCOPE_READ.into()],
            created_ms: 100,
            expires_ms: 200,
            revoked: false,
        };
        assert!(token_is_live(&t, 0, 150));
        assert!(!token_is_live(&t, 0, 200), "expired at its deadline");
        assert!(!token_is_live(&t, 100, 150), "revoke_sessions_before covers tokens");
        assert!(!token_is_live(&ApiTokenRecord { revoked: true, ..t }, 0, 150));
    }

    #[test]
    fn mfa_is_fresh_only_for_a_while_after_completion() {
        assert!(!mfa_is_fresh(0, 1_000));
        assert!(mfa_is_fresh(1_000, 1_000 + MFA_FRESH_MS - 1));
        assert!(!mfa_is_fresh(1_000, 1_000 + MFA_FRESH_MS));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer cst_abc"));
        assert_eq!(bearer_token(&h).as_deref(), Some("cst_abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-custodia_session=tok; custodia_session=old; b=2"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("tok"));
        h.insert(header::COOKIE, HeaderValue::from_static("__Host-custodia_session="));
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
