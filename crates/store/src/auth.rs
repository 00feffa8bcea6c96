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
            .finish_non_exhaustive()
    }
}

/// Failed logins of one person, for throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Consecutive failures since the last successful login.
    pub count: u32,
    pub last_ms: UnixMillis,
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

    fn login_failures(&self, person: &PersonId) -> Result<LoginFailures>;
    /// Counts one more failed login at `at`.
    fn record_login_failure(&self, person: &PersonId, at: UnixMillis) -> Result<LoginFailures>;
    fn clear_login_failures(&self, person: &PersonId) -> Result<()>;
}
