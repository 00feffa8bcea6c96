//! The second factor: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps,
//! ±1 step of clock skew) with enrollment through an `otpauth://` URI and
//! its QR code, one-time recovery codes, and step-up inside a session.
//!
//! A code is accepted once: the store keeps the last time step used per
//! person and accepts only later ones, atomically, so two server instances
//! cannot both accept one code.
//!
//! Secrets are sealed by the gateway (the installation's keyring) before they
//! reach the store and opened only to compute a code. Rows stored in clear by
//! an earlier version are sealed at `custodia serve`'s start
//! ([`seal_stored_totp_secrets`]) and, should one still turn up, at first use.

use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use gateway::{Gateway, GatewayError, TotpSecret};
use model::{PersonId, UnixMillis};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use store::TotpRecord;
use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

use crate::auth::{record_denial, Caller, MFA_FRESH_MS};
use crate::error::ApiError;
use crate::{blocking, AppState, AuthBackend};

/// The issuer shown by authenticator apps.
pub const TOTP_ISSUER: &str = "custodia";
/// Recovery codes handed out when TOTP is confirmed.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a TOTP secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;
/// Bytes of a recovery code (80 bits).
const RECOVERY_CODE_BYTES: usize = 10;

/// Which second factor was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Factor {
    Totp,
    RecoveryCode,
}

fn totp_for(secret: &[u8], person: &PersonId) -> Result<Totp, ApiError> {
    // A colon would split the otpauth label; ids rarely hold one.
    let account = person.0.replace(':', "_");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret.to_vec())
        .with_issuer(Some(TOTP_ISSUER))
        .with_account_name(account)
        .build()
        .map_err(|e| ApiError::internal(&e))
}

/// The time step a code is valid for at `now` (±1 step), if it is valid.
fn code_step(secret: &[u8], person: &PersonId, code: &str, now: UnixMillis) -> Result<Option<i64>, ApiError> {
    let totp = totp_for(secret, person)?;
    let Ok(now_s) = u64::try_from(now / 1000) else {
        return Ok(None);
    };
    Ok(totp.check(code.trim(), now_s).and_then(|step| i64::try_from(step).ok()))
}

/// A recovery code as typed, reduced to what is hashed: case, spaces and
/// dashes do not matter.
fn recovery_code_hash(code: &str) -> [u8; 32] {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(normal.as_bytes()).into()
}

/// A fresh recovery code: 80 random bits as four groups of five hex digits.
fn new_recovery_code() -> String {
    let mut bytes = [0u8; RECOVERY_CODE_BYTES];
    OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let groups: Vec<&str> = (0..hex.len()).step_by(5).filter_map(|i| hex.get(i..i + 5)).collect();
    groups.join("-")
}

/// A person's TOTP enrollment with its secrets opened, for one request.
pub(crate) struct OpenTotp {
    /// The confirmed secret; `None` until enrolled.
    pub(crate) secret: Option<TotpSecret>,
    /// A secret awaiting confirmation; `None` when none.
    pub(crate) pending: Option<TotpSecret>,
}

fn open_or_none(gateway: &Gateway, person: &PersonId, sealed: &[u8]) -> Result<Option<TotpSecret>, GatewayError> {
    if sealed.is_empty() {
        return Ok(None);
    }
    gateway.open_totp_secret(person, sealed).map(Some)
}

fn seal_or_empty(gateway: &Gateway, person: &PersonId, clear: &[u8]) -> Result<Vec<u8>, GatewayError> {
    if clear.is_empty() {
        return Ok(Vec::new());
    }
    gateway.seal_totp_secret(person, clear)
}

/// Whether a row needs no sealing: sealed, or holding no secret at all.
fn settled(row: &TotpRecord) -> bool {
    row.sealed || (row.secret.is_empty() && row.pending.is_empty())
}

/// Seals a row that still holds `person`'s secrets in clear (written before
/// secrets were sealed). Returns the row as stored afterwards.
fn seal_row(gateway: &Gateway, auth: &dyn AuthBackend, person: &PersonId) -> Result<TotpRecord, GatewayError> {
    // The row is read again after each attempt: another server may seal or change it meanwhile.
    for _ in 0..3 {
        let found = auth.totp(person)?;
        if settled(&found) {
            return Ok(found);
        }
        let secret = seal_or_empty(gateway, person, &found.secret)?;
        let pending = seal_or_empty(gateway, person, &found.pending)?;
        if auth.seal_totp(person, &found, &secret, &pending)? {
            tracing::info!(person = %person, "a TOTP secret stored in clear is now sealed");
        }
    }
    Err(GatewayError::Internal(format!(
        "the TOTP secrets of {person} could not be sealed: the row kept changing; retry"
    )))
}

/// `person`'s TOTP enrollment, secrets opened (sealing them first if an
/// earlier version stored them in clear).
pub(crate) fn open_totp(gateway: &Gateway, auth: &dyn AuthBackend, person: &PersonId) -> Result<OpenTotp, ApiError> {
    let mut row = auth.totp(person)?;
    if !row.sealed {
        row = seal_row(gateway, auth, person)?;
    }
    Ok(OpenTotp {
        secret: open_or_none(gateway, person, &row.secret)?,
        pending: open_or_none(gateway, person, &row.pending)?,
    })
}

/// Seals every TOTP secret an earlier version stored in clear; `custodia
/// serve` calls it at start. Returns how many people's rows were in clear.
pub fn seal_stored_totp_secrets(gateway: &Gateway, auth: &dyn AuthBackend) -> Result<usize, GatewayError> {
    let people = auth.unsealed_totp()?;
    for person in &people {
        seal_row(gateway, auth, person)?;
    }
    Ok(people.len())
}

/// Checks a second factor and spends it: a TOTP code's step or a recovery
/// code. `None` when neither is valid (wrong, reused or missing).
pub(crate) fn verify_second_factor(
    auth: &dyn AuthBackend,
    person: &PersonId,
    totp: &OpenTotp,
    code: Option<&str>,
    recovery_code: Option<&str>,
    now: UnixMillis,
) -> Result<Option<Factor>, ApiError> {
    let Some(secret) = &totp.secret else {
        return Ok(None);
    };
    if let Some(code) = code {
        return Ok(match code_step(secret.expose(), person, code, now)? {
            Some(step) if auth.use_totp_step(person, step)? => Some(Factor::Totp),
            _ => None,
        });
    }
    if let Some(rc) = recovery_code {
        if auth.use_recovery_code(person, &recovery_code_hash(rc))? {
            return Ok(Some(Factor::RecoveryCode));
        }
    }
    Ok(None)
}

/// Refuses `what` (e.g. "enrolling a new device") to a caller enrolled in
/// TOTP whose second factor is not fresh: a stolen session alone must not do it.
pub(crate) fn require_fresh_factor(auth: &dyn AuthBackend, caller: &Caller, what: &str) -> Result<(), ApiError> {
    if auth.totp(&caller.person)?.enrolled() && !caller.access.mfa_fresh {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "mfa_required",
            format!("{what} needs a fresh second factor: confirm a code with POST /v1/auth/mfa first"),
        ));
    }
    Ok(())
}

pub(crate) fn wrong_code(status: StatusCode) -> ApiError {
    ApiError::new(
        status,
        "wrong_code",
        "wrong or already used code; wait for the next code (each is accepted once) and check the device's clock",
    )
}

/// `POST /v1/auth/totp/enroll`: a new secret, pending until confirmed.
pub(crate) async fn enroll(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    blocking(move || {
        caller.session_id()?;
        // Replacing a device needs the current one (or a recovery code) first.
        require_fresh_factor(auth.as_ref(), &caller, "enrolling a new device")?;
        let mut secret = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        OsRng.fill_bytes(&mut secret);
        let totp = totp_for(&secret, &caller.person)?;
        let uri = totp.to_url().map_err(|e| ApiError::internal(&e))?;
        let qr_svg = qrcode::QrCode::new(uri.as_bytes())
            .map_err(|e| ApiError::internal(&e))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build();
        let sealed = gateway.seal_totp_secret(&caller.person, &secret)?;
        if !auth.set_pending_totp(&caller.person, &sealed)? {
            // A row from before secrets were sealed: seal it, then store.
            seal_row(&gateway, auth.as_ref(), &caller.person)?;
            if !auth.set_pending_totp(&caller.person, &sealed)? {
                return Err(ApiError::internal(&"the TOTP row stays unsealed"));
            }
        }
        gateway.record_auth_event("totp_enroll", Some(&caller.person), &caller.access, true, "pending")?;
        Ok(Json(serde_json::json!({
            "otpauth_uri": uri,
            "secret": totp.secret().to_base32(),
            "qr_svg": qr_svg,
        })))
    })
    .await
}

/// `POST /v1/auth/totp/confirm` and `POST /v1/auth/mfa` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeBody {
    code: Option<String>,
    recovery_code: Option<String>,
}

/// `POST /v1/auth/totp/confirm`: a code from the pending secret activates
/// it; answers the recovery codes, shown this once.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<CodeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body?;
    let now = state.clock.now_ms();
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    blocking(move || {
        let session = caller.session_id()?;
        let Some(code) = body.code else {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "send `code`: the 6-digit code the authenticator app shows",
            ));
        };
        let Some(pending) = open_totp(&gateway, auth.as_ref(), &caller.person)?.pending else {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no_pending_enrollment",
                "no TOTP enrollment is pending; start one with POST /v1/auth/totp/enroll",
            ));
        };
        let Some(step) = code_step(pending.expose(), &caller.person, &code, now)? else {
            record_denial(
                &gateway,
                "totp_confirm",
                Some(&caller.person),
                &caller.access,
                "wrong-code",
            );
            return Err(wrong_code(StatusCode::UNPROCESSABLE_ENTITY));
        };
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<[u8; 32]> = codes.iter().map(|c| recovery_code_hash(c)).collect();
        if !auth.confirm_totp(&caller.person, step, &hashes)? {
            return Err(wrong_code(StatusCode::CONFLICT));
        }
        // Confirming proves possession of the device: a second factor now.
        auth.set_session_mfa(session, now)?;
        gateway.record_auth_event("totp_enrolled", Some(&caller.person), &caller.access, true, "confirmed")?;
        Ok(Json(serde_json::json!({ "enrolled": true, "recovery_codes": codes })))
    })
    .await
}

/// `POST /v1/auth/mfa`: step-up inside a session with a TOTP code or a
/// recovery code; wrong codes count as failed logins (throttled).
pub(crate) async fn step_up(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<CodeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body?;
    let now = state.clock.now_ms();
    let auth = state.auth.clone();
    let gateway = Arc::clone(&state.gateway);
    blocking(move || {
        let session = caller.session_id()?;
        let person = &caller.person;
        let totp = open_totp(&gateway, auth.as_ref(), person)?;
        if totp.secret.is_none() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_enrolled",
                "you have no second factor yet; enroll with POST /v1/auth/totp/enroll",
            ));
        }
        if let Some(wait) = crate::auth::count_attempt(auth.as_ref(), person, now)? {
            record_denial(&gateway, "mfa", Some(person), &caller.access, "throttled");
            return Err(crate::auth::throttled(wait, "person"));
        }
        let factor = verify_second_factor(
            auth.as_ref(),
            person,
            &totp,
            body.code.as_deref(),
            body.recovery_code.as_deref(),
            now,
        )?;
        let Some(factor) = factor else {
            record_denial(&gateway, "mfa", Some(person), &caller.access, "wrong-code");
            return Err(wrong_code(StatusCode::UNPROCESSABLE_ENTITY));
        };
        auth.clear_login_failures(person)?;
        if factor == Factor::RecoveryCode {
            gateway.record_auth_event("recovery_code_used", Some(person), &caller.access, true, "step-up")?;
        }
        gateway.record_auth_event("mfa", Some(person), &caller.access, true, "step-up")?;
        auth.set_session_mfa(session, now)?;
        Ok(Json(serde_json::json!({ "mfa_fresh_until_ms": now + MFA_FRESH_MS })))
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &[u8] = b"12345678901234567890";

    fn person() -> PersonId {
        PersonId("sec".into())
    }

    fn code_at(seconds: u64) -> String {
        totp_for(SECRET, &person()).unwrap().generate(seconds).to_string()
    }

    #[test]
    fn rfc_6238_sha1_vectors_and_one_step_of_skew() {
        // RFC 6238 appendix B, truncated to 6 digits.
        assert_eq!(code_at(59), "287082");
        assert_eq!(code_at(1_111_111_109), "081804");
        let at = 1_111_111_109_000;
        let step = 1_111_111_109 / 30;
        assert_eq!(code_step(SECRET, &person(), "081804", at).unwrap(), Some(step));
        // The previous and next steps' codes are accepted, two steps away are not.
        for (offset, accepted) in [(-60, false), (-30, true), (30, true), (60, false)] {
            let code = code_at((1_111_111_109 + offset) as u64);
            let found = code_step(SECRET, &person(), &code, at).unwrap();
            assert_eq!(found.is_some(), accepted, "offset {offset}");
        }
        assert_eq!(code_step(SECRET, &person(), "not-a-code", at).unwrap(), None);
        assert_eq!(code_step(SECRET, &person(), "", at).unwrap(), None);
    }

    #[test]
    fn otpauth_uri_names_the_issuer_and_person() {
        let uri = totp_for(SECRET, &PersonId("a:b".into())).unwrap().to_url().unwrap();
        assert!(uri.starts_with("otpauth://totp/custodia:a_b?"), "{uri}");
        assert!(uri.contains("issuer=custodia"), "{uri}");
    }

    #[test]
    fn recovery_codes_are_random_and_typed_loosely() {
        let a = new_recovery_code();
        assert_eq!(a.len(), 23, "{a}");
        assert_ne!(a, new_recovery_code());
        assert_eq!(
            recovery_code_hash(&a),
            recovery_code_hash(&a.to_uppercase().replace('-', " "))
        );
    }
}
