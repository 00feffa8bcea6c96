//! Authentication state for the HTTP API: password credentials, sessions
//! and per-person revocation epochs. Kept apart from [`Store`](crate::Store)
//! so that only the server's authentication layer is handed it.

use model::{PersonId, UnixMillis};

use crate::Result;

/// One login session. The bearer token itself is never stored: only its
/// SHA-256 hash, so a copy of the database does not grant access.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Public id of the session (not the token), for listing and revoking.
    pub id: String,
    /// SHA-256 of the session token.
    pub token_hash: [u8; 32],
    pub person: PersonId,
    pub created_ms: UnixMillis,
    pub last_seen_ms: UnixMillis,
    /// The session ends at this time whatever its use.
    pub expires_ms: UnixMillis,
    /// The session ends when unused for this long.
    pub idle_timeout_ms: i64,
    pub revoked: bool,
    /// When the session last completed multi-factor authentication (0: never).
    pub mfa_ms: UnixMillis,
}

impl std::fmt::Debug for SessionRecord {
    // The token hash is a credential lookup key: kept out of Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("id", &self.id)
            .field("person", &self.person)
            .field("created_ms", &self.created_ms)
            .field("last_seen_ms", &self.last_seen_ms)
            .field("expires_ms", &self.expires_ms)
            .field("idle_timeout_ms", &self.idle_timeout_ms)
            .field("revoked", &self.revoked)
            .field("mfa_ms", &self.mfa_ms)
            .finish_non_exhaustive()
    }
}

/// A person's TOTP (RFC 6238) enrollment. The secrets are stored as the
/// server hands them in: sealed by the gateway under the person's data key
/// (the store never sees them in clear), except rows written before schema 8,
/// which hold them in clear until the server seals them (`sealed` false).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TotpRecord {
    /// The confirmed secret; empty until a code from it is confirmed.
    pub secret: Vec<u8>,
    /// A secret handed out for enrollment and not yet confirmed; empty when none.
    pub pending: Vec<u8>,
    /// The last time step a code was accepted for: codes of this step or an
    /// earlier one are refused (no reuse).
    pub last_step: i64,
    /// Whether `secret` and `pending` are sealed; false only for rows written
    /// before secrets were sealed (see [`AuthStore::seal_totp`]).
    pub sealed: bool,
}

impl TotpRecord {
    /// Whether a confirmed secret exists.
    pub fn enrolled(&self) -> bool {
        !self.secret.is_empty()
    }
}

impl std::fmt::Debug for TotpRecord {
    // TOTP secrets are credentials: only whether they exist is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRecord")
            .field("enrolled", &!self.secret.is_empty())
            .field("pending", &!self.pending.is_empty())
            .field("last_step", &self.last_step)
            .field("sealed", &self.sealed)
            .finish()
    }
}

/// A personal API token. As for sessions, only the token's SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// Public id, for listing and revoking.
    pub id: String,
    /// SHA-256 of the token.
    pub token_hash: [u8; 32],
    pub person: PersonId,
    /// A label chosen by the owner.
    pub name: String,
    /// Scope names, as the server defines them.
    pub scopes: Vec<String>,
    pub created_ms: UnixMillis,
    pub expires_ms: UnixMillis,
    pub revoked: bool,
}

impl std::fmt::Debug for ApiTokenRecord {
    // The token hash is a credential lookup key: kept out of Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTokenRecord")
            .field("id", &self.id)
            .field("person", &self.person)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("created_ms", &self.created_ms)
            .field("expires_ms", &self.expires_ms)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

/// What a bootstrap attempt found ([`AuthStore::consume_bootstrap_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// The code was valid and is spent; the credential is set.
    Done,
    /// No such code (wrong, replaced, or already used).
    UnknownCode,
    /// The code was issued but its time ran out; it is deleted.
    Expired,
    /// Someone already has a credential: bootstrap is over.
    AlreadyBootstrapped,
}

/// What storing a new bootstrap code did ([`AuthStore::put_bootstrap_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapIssue {
    /// The new code is the one in force until its expiry.
    Issued,
    /// An unexpired, unspent code issued at `issued_ms` (by another server,
    /// or an earlier start) was kept; it expires at `expires_ms`.
    Pending {
        issued_ms: UnixMillis,
        expires_ms: UnixMillis,
    },
    /// Someone already has a credential: bootstrap is over.
    Over,
}

/// Failed logins of one person, for throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Consecutive failures since the last successful login.
    pub count: u32,
    pub last_ms: UnixMillis,
}

/// A credential found by its hash, with what judging it needs about the
/// person holding it, read together: a request's credential check is one
/// round trip to the store instead of three.
#[derive(Debug, Clone, PartialEq)]
pub struct WithHolder<T> {
    pub credential: T,
    /// The holder's [`AuthStore::sessions_valid_after`].
    pub sessions_valid_after: UnixMillis,
    /// The holder as in [`crate::Store::get_person`]; `None` when removed.
    pub person: Option<model::Person>,
    /// The [`crate::GENERATION_SETTING`] setting as read with the credential,
    /// so that checking for policy and key changes costs no read of its own.
    pub generation: Option<String>,
}

/// Where authentication state is kept. Implemented by every backend that
/// serves the HTTP API; checked by the conformance suite.
pub trait AuthStore: Send + Sync {
    /// Sets (or replaces) a person's password hash, a PHC string.
    fn set_credential(&self, person: &PersonId, phc: &str) -> Result<()>;
    fn credential(&self, person: &PersonId) -> Result<Option<String>>;

    /// Stores a new session; an existing id or token hash is an error.
    fn insert_session(&self, session: &SessionRecord) -> Result<()>;
    fn session_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<SessionRecord>>;
    /// [`AuthStore::session_by_token`] with its holder, in one read.
    fn session_with_holder(&self, token_hash: &[u8; 32]) -> Result<Option<WithHolder<SessionRecord>>>;
    /// A person's sessions, revoked ones included, oldest first.
    fn sessions_of(&self, person: &PersonId) -> Result<Vec<SessionRecord>>;
    /// Records use of a session (moves the idle deadline).
    fn touch_session(&self, id: &str, at: UnixMillis) -> Result<()>;
    /// Revokes one session; returns whether it existed.
    fn revoke_session(&self, id: &str) -> Result<bool>;

    /// Sessions of `person` created at or before this time are invalid
    /// (0 when never set).
    fn sessions_valid_after(&self, person: &PersonId) -> Result<UnixMillis>;
    /// Invalidates every session of `person` created at or before `at`.
    fn revoke_sessions_before(&self, person: &PersonId, at: UnixMillis) -> Result<()>;

    /// Revokes every session of `person` but `keep_session`, and every API
    /// token of theirs, in one transaction.
    fn revoke_credentials(&self, person: &PersonId, keep_session: Option<&str>) -> Result<()>;

    /// Failed login attempts under a name, which need not be a person's.
    fn login_failures(&self, person: &PersonId) -> Result<LoginFailures>;
    /// Counts one more attempt under `person` at `at`, but only while their
    /// failures are still `seen` (as [`AuthStore::login_failures`] read them);
    /// returns whether it counted. Of attempts that read the same count,
    /// exactly one is counted, so a burst checked against one reading cannot
    /// all go on to a password check.
    fn count_login_attempt(&self, person: &PersonId, seen: LoginFailures, at: UnixMillis) -> Result<bool>;
    fn clear_login_failures(&self, person: &PersonId) -> Result<()>;

    /// Failed logins from one source address, for throttling.
    fn address_failures(&self, address: &str) -> Result<LoginFailures>;
    /// Counts one more failed login from `address` at `at`; a count whose
    /// last failure is before `fresh_after` starts again at one.
    fn record_address_failure(&self, address: &str, at: UnixMillis, fresh_after: UnixMillis) -> Result<LoginFailures>;

    /// Records that the session completed multi-factor authentication at `at`.
    fn set_session_mfa(&self, id: &str, at: UnixMillis) -> Result<()>;

    /// A person's TOTP enrollment (a default record when none).
    fn totp(&self, person: &PersonId) -> Result<TotpRecord>;
    /// Stores a sealed secret awaiting confirmation, replacing any earlier
    /// pending one. Returns false (and changes nothing) when the person's
    /// row still holds secrets in clear: [`AuthStore::seal_totp`] them first.
    fn set_pending_totp(&self, person: &PersonId, sealed_secret: &[u8]) -> Result<bool>;
    /// Replaces a row of secrets in clear (`found`, as read) with their sealed
    /// forms and marks it sealed. Returns false, changing nothing, when the row
    /// is no longer as `found` (another server sealed or changed it first).
    fn seal_totp(&self, person: &PersonId, found: &TotpRecord, secret: &[u8], pending: &[u8]) -> Result<bool>;
    /// People whose TOTP row still holds secrets in clear, in id order.
    fn unsealed_totp(&self) -> Result<Vec<PersonId>>;
    /// Makes the pending secret the confirmed one, with `step` as the last
    /// step used, and replaces the recovery codes, in one transaction.
    /// Returns false (and changes nothing) when no secret is pending or
    /// `step` is not after the last one used.
    fn confirm_totp(&self, person: &PersonId, step: i64, recovery_hashes: &[[u8; 32]]) -> Result<bool>;
    /// Accepts a code's time step once: true when `step` is after the last
    /// step used (which becomes `step`), false otherwise. Atomic, so two
    /// servers cannot both accept one code.
    fn use_totp_step(&self, person: &PersonId, step: i64) -> Result<bool>;
    /// Spends one recovery code; true when it existed unspent.
    fn use_recovery_code(&self, person: &PersonId, code_hash: &[u8; 32]) -> Result<bool>;
    /// How many unspent recovery codes a person has.
    fn recovery_codes_left(&self, person: &PersonId) -> Result<u64>;

    /// Stores a new API token; an existing id or token hash is an error.
    fn insert_api_token(&self, token: &ApiTokenRecord) -> Result<()>;
    fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> Result<Option<ApiTokenRecord>>;
    /// [`AuthStore::api_token_by_hash`] with its holder, in one read.
    fn api_token_with_holder(&self, token_hash: &[u8; 32]) -> Result<Option<WithHolder<ApiTokenRecord>>>;
    /// A person's tokens, revoked ones included, oldest first.
    fn api_tokens_of(&self, person: &PersonId) -> Result<Vec<ApiTokenRecord>>;
    /// Revokes one token of `person`; returns whether it existed.
    fn revoke_api_token(&self, person: &PersonId, id: &str) -> Result<bool>;

    /// Whether any person has a password credential.
    fn any_credential(&self) -> Result<bool>;
    /// Stores a first-run bootstrap code's hash, valid until `expires_ms`, as
    /// the one code in force, atomically: unless `replace`, an unexpired code
    /// already stored (at `now`) is kept and the new one dropped, so servers
    /// starting together on one database agree on one code.
    fn put_bootstrap_code(
        &self,
        code_hash: &[u8; 32],
        now: UnixMillis,
        expires_ms: UnixMillis,
        replace: bool,
    ) -> Result<BootstrapIssue>;
    /// What [`AuthStore::consume_bootstrap_code`] would find for `code_hash` at
    /// `now`, read only: nothing is spent or deleted, so a request can be told
    /// whether its code is good before anything else about it is looked at.
    /// `Done` means the code would be accepted.
    fn check_bootstrap_code(&self, code_hash: &[u8; 32], now: UnixMillis) -> Result<BootstrapOutcome>;
    /// In one transaction: when no one has a credential and `code_hash` is
    /// the stored code, unexpired at `now`, deletes the code and sets
    /// `person`'s credential.
    fn consume_bootstrap_code(
        &self,
        code_hash: &[u8; 32],
        person: &PersonId,
        phc: &str,
        now: UnixMillis,
    ) -> Result<BootstrapOutcome>;
}

/// Scopes as stored: one comma-separated text column.
pub(crate) fn split_scopes(text: &str) -> Vec<String> {
    text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A person row's columns, in the order both backends read them.
pub(crate) const PERSON_COLS: &str =
    "id, name, work_email, department, role, team, manager, clearance, compartments, status, notice_date, last_day, agreements";
/// A session row's columns, in the order both backends read them.
pub(crate) const SESSION_COLS: &str =
    "id, token_hash, person, created_ms, last_seen_ms, expires_ms, idle_timeout_ms, revoked, mfa_ms";
/// An API token row's columns, in the order both backends read them.
pub(crate) const TOKEN_COLS: &str = "id, token_hash, person, name, scopes, created_ms, expires_ms, revoked";

/// The query of [`AuthStore::session_with_holder`], which every request
/// makes: built once.
pub(crate) static SESSION_WITH_HOLDER: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| with_holder_query("sessions", SESSION_COLS, PERSON_COLS));
/// The query of [`AuthStore::api_token_with_holder`], built once.
pub(crate) static TOKEN_WITH_HOLDER: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| with_holder_query("api_tokens", TOKEN_COLS, PERSON_COLS));

/// The one query of [`AuthStore::session_with_holder`] and
/// [`AuthStore::api_token_with_holder`], the same text on every backend:
/// the credential's `columns` from `table`, the holder's
/// `sessions_valid_after` (0 when never set) and `person_columns`.
fn with_holder_query(table: &str, columns: &str, person_columns: &str) -> String {
    let prefixed = |alias: &str, cols: &str| {
        cols.split(',')
            .map(|c| format!("{alias}.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT {}, COALESCE(a.sessions_valid_after, 0), \
         (SELECT value FROM settings WHERE key = '{}'), {} FROM {table} c \
         LEFT JOIN auth_people a ON a.person = c.person LEFT JOIN people p ON p.id = c.person \
         WHERE c.token_hash = $1",
        prefixed("c", columns),
        crate::GENERATION_SETTING,
        prefixed("p", person_columns)
    )
}

/// How many columns a comma-separated column list names.
pub(crate) fn column_count(columns: &str) -> usize {
    columns.split(',').count()
}
