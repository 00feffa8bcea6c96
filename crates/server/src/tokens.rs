//! Personal API tokens for integrations: random, shown once, stored as
//! SHA-256, scoped, expiring, revocable. They authenticate with
//! `Authorization: Bearer`; the middleware checks them on every request
//! like sessions (no cache), and revoking a person's sessions revokes their
//! tokens too. A token never counts as a fresh second factor.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use model::UnixMillis;
use serde::{Deserialize, Serialize};
use store::ApiTokenRecord;

use crate::auth::{random_text, token_hash, Caller, SCOPE_EVENTS, SCOPE_READ};
use crate::error::ApiError;
use crate::{blocking, AppState};

/// Every API token starts with this, so leaked tokens are easy to find.
pub const TOKEN_PREFIX: &str = "cst_";
/// The scopes a token may hold.
pub const TOKEN_SCOPES: &[&str] = &[SCOPE_READ, SCOPE_EVENTS];
/// The longest life of a token.
pub const MAX_TOKEN_DAYS: u32 = 365;
const MAX_NAME_CHARS: usize = 100;
const DAY_MS: i64 = 86_400_000;

/// `POST /v1/auth/tokens` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    name: String,
    scopes: Vec<String>,
    expires_in_days: u32,
}

/// A token as its owner sees it (never the token itself).
#[derive(Serialize)]
pub(crate) struct TokenView {
    id: String,
    name: String,
    scopes: Vec<String>,
    created_ms: UnixMillis,
    expires_ms: UnixMillis,
    revoked: bool,
}

impl TokenView {
    fn of(t: &ApiTokenRecord) -> TokenView {
        TokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            scopes: t.scopes.clone(),
            created_ms: t.created_ms,
            expires_ms: t.expires_ms,
            revoked: t.revoked,
        }
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

/// The request's name and scopes, checked.
fn validate(body: &NewToken) -> Result<(String, Vec<String>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!("name must have 1 to {MAX_NAME_CHARS} characters")));
    }
    // A name is shown in lists and terminals: no line breaks or escape sequences.
    if name.chars().any(char::is_control) {
        return Err(invalid("name must not contain control characters".into()));
    }
    if body.scopes.is_empty() {
        return Err(invalid(format!("scopes is empty; use some of {TOKEN_SCOPES:?}")));
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in &body.scopes {
        if !TOKEN_SCOPES.contains(&s.as_str()) {
            return Err(invalid(format!("unknown scope `{s}`; use some of {TOKEN_SCOPES:?}")));
        }
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    if !(1..=MAX_TOKEN_DAYS).contains(&body.expires_in_days) {
        return Err(invalid(format!("expires_in_days must be 1 to {MAX_TOKEN_DAYS}")));
    }
    Ok((name.to_owned(), scopes))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewToken>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body?;
    let (name, scopes) = validate(&body)?;
    let now = state.clock.now_ms();
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    blocking(move || {
        caller.session_id()?;
        crate::mfa::require_fresh_factor(auth.as_ref(), &caller, "creating an API token")?;
        let token = format!("{TOKEN_PREFIX}{}", random_text(32));
        let record = ApiTokenRecord {
            id: random_text(12),
            token_hash: token_hash(&token),
            person: caller.person.clone(),
            name,
            scopes,
            created_ms: now,
            expires_ms: now.saturating_add(i64::from(body.expires_in_days) * DAY_MS),
            revoked: false,
        };
        gateway.record_auth_event(
            "token_create",
            Some(&caller.person),
            &caller.access,
            true,
            &format!("scopes:{}", record.scopes.join(",")),
        )?;
        auth.insert_api_token(&record)?;
        let mut view = serde_json::to_value(TokenView::of(&record)).map_err(|e| ApiError::internal(&e))?;
        view["token"] = serde_json::Value::String(token);
        Ok(Json(view))
    })
    .await
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let auth = state.auth.clone();
    let all = blocking(move || auth.api_tokens_of(&caller.person).map_err(ApiError::from)).await?;
    Ok(Json(all.iter().map(TokenView::of).collect()))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(id) = id?;
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    blocking(move || {
        // Only one's own tokens: another person's id is simply not found.
        if !auth.revoke_api_token(&caller.person, &id)? {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such API token of yours",
            ));
        }
        gateway.record_auth_event("token_revoke", Some(&caller.person), &caller.access, true, "own-token")?;
        Ok(Json(serde_json::json!({ "revoked": id })))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(scopes: &[&str], days: u32) -> NewToken {
        NewToken {
            name: " ci ".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            expires_in_days: days,
        }
    }

    #[test]
    fn scopes_and_lifetimes_are_checked() {
        assert!(matches!(validate(&body(&["read", "read"], 30)), Ok((n, s)) if n == "ci" && s == ["read"]));
        assert!(validate(&body(&[], 30)).is_err());
        assert!(validate(&body(&["admin"], 30)).is_err());
        assert!(validate(&body(&["read"], 0)).is_err());
        assert!(validate(&body(&["read"], MAX_TOKEN_DAYS + 1)).is_err());
        let mut named = body(&["read"], 30);
        for bad in ["ci\nforged line", "ci\u{1b}[2J", "ci\u{7f}"] {
            named.name = bad.into();
            assert!(validate(&named).is_err(), "{bad:?}");
        }
    }
}
