//! What the server's authentication layer needs from the keyring and the
//! policy for second factors: TOTP secrets sealed at rest, and whether policy
//! demands a second factor of a person.
//!
//! A person's TOTP secrets (the confirmed one and one pending enrollment) are
//! sealed with AES-256-GCM under a data key of their own, wrapped by the KEK
//! and stored with every other data key ([`store::KeyOwner::Totp`]). Key
//! rotation rewraps that data key like a customer's, so the sealed secrets
//! never change and every instance opens them through any rotation. The
//! associated data names the person: a sealed secret copied to another
//! person's row does not open.

use std::fmt;

use model::{Person, PersonId};
use zeroize::Zeroizing;

use crate::{key_record, AccessContext, Action, Gateway, GatewayError};

/// A TOTP secret in clear: wiped on drop, never printed.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// The secret's bytes, to compute or check a code.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(redacted)")
    }
}

impl Gateway {
    /// Seals a TOTP secret of `person` for storage, under the person's data
    /// key (created on first use).
    pub fn seal_totp_secret(&self, person: &PersonId, secret: &[u8]) -> Result<Vec<u8>, GatewayError> {
        self.refresh()?;
        let owner = store::KeyOwner::Totp(person.0.clone());
        let record = key_record(&owner);
        let stored = match self.store.wrapped_key(&owner)? {
            Some(stored) => stored,
            None => {
                let _key_write = self.key_write()?;
                let (_, wrapped) = self.keys()?.new_data_key(&record)?;
                let fresh = store::StoredKey {
                    kek_version: wrapped.kek_version,
                    sealed: wrapped.sealed,
                };
                // Another instance may have stored one first: theirs is the key.
                self.store.insert_wrapped_key(&owner, &fresh)?;
                self.store.wrapped_key(&owner)?.ok_or_else(|| {
                    GatewayError::Internal(format!("the TOTP data key of {person} vanished after it was stored"))
                })?
            }
        };
        let key = self.keys()?.unwrap_data_key(&record, &wrapped(stored))?;
        Ok(key.seal(&record, secret)?)
    }

    /// Opens a TOTP secret of `person` that [`Gateway::seal_totp_secret`] sealed.
    pub fn open_totp_secret(&self, person: &PersonId, sealed: &[u8]) -> Result<TotpSecret, GatewayError> {
        self.refresh()?;
        let owner = store::KeyOwner::Totp(person.0.clone());
        let record = key_record(&owner);
        let stored = self.store.wrapped_key(&owner)?.ok_or_else(|| GatewayError::NotFound {
            kind: "TOTP data key of person",
            id: person.to_string(),
        })?;
        let key = self.keys()?.unwrap_data_key(&record, &wrapped(stored))?;
        Ok(TotpSecret(key.open(&record, sealed)?))
    }

    /// Whether the policy in force demands a second factor of `person`: the
    /// action `auth.require_mfa` on the system is permitted for them. An
    /// evaluation error demands it (fails closed). `generation` is the
    /// [`crate::GENERATION_SETTING`] value read with the credential
    /// (`store::WithHolder::generation`): a policy changed by another server
    /// is adopted first, without a read of its own.
    pub fn mfa_required(
        &self,
        person: &Person,
        generation: Option<String>,
        ctx: &AccessContext,
    ) -> Result<bool, GatewayError> {
        self.refresh_to(generation)?;
        let decision = self.policy.authorize(
            &self.principal_of(person),
            Action::AuthRequireMfa,
            &policy::ResourceRef::System,
            &self.request_context(ctx, 0),
        );
        Ok(decision.allowed || !decision.errors.is_empty())
    }
}

fn wrapped(stored: store::StoredKey) -> crypto::WrappedKey {
    crypto::WrappedKey {
        kek_version: stored.kek_version,
        sealed: stored.sealed,
    }
}
