//! The one door to the data.
//!
//! Every read, search, export, update, erasure and download of vault data
//! passes through [`Gateway`]: authenticate (the caller hands in an
//! [`Actor`]) → authorize (policy) → record the decision (allow and deny
//! alike, before anything leaves) → decrypt → mask → return.
//!
//! Only this crate depends on `crypto`, so only this crate can turn the
//! store's ciphertext into plaintext; a tidy test in the workspace checks
//! that no other crate gains that dependency. Any error on the way —
//! loading entities, evaluating policy, recording — is a deny.

mod access;
mod audit;
mod audit_ops;
mod customers;
mod dlp_ops;
mod documents;
mod error;
mod export;
pub mod mask;
mod people;
mod policy_ops;
mod second_factor;
mod view;

use std::sync::{Arc, RwLock};

pub use access::{AccessContext, Action, Actor, Decision, Holder};
pub use audit::{AuditRecord, AuditResource, Held, RecordError, Recorder, Ticket};
pub use audit_ops::{decision_name, AuditQuery};
pub use customers::{CustomerPatch, ImportReport, RowProblem};
pub use dlp_ops::DlpEngine;
pub use documents::NewDocument;
pub use error::GatewayError;
pub use export::{neutralize, write_csv, write_xlsx, ExportFormat, ExportOutcome, ExportSelection, ExportTicket};
pub use people::LoginMatch;
pub use policy_ops::{Explanation, WhatCan, WhoCan};
pub use second_factor::TotpSecret;
pub use view::{Bulk, CustomerView, Withheld};

pub use crypto::{CryptoError, Keyring, KEYRING_ENV};
use model::SharedClock;
use store::Store;

/// The purpose of the key login names that are no person's are hashed under.
const LOGIN_NAME_KEY_PURPOSE: &str = "login-name-throttle";

/// Setting that holds the keyring's check value, so a wrong key is named.
const KEY_CHECK_SETTING: &str = "key_check";
const INSTALLATION_SETTING: &str = "installation";
/// Setting: the company's UTC offset in minutes (e.g. 420 for Vietnam).
pub const TIMEZONE_SETTING: &str = "timezone_offset_minutes";

pub use store::GENERATION_SETTING;

/// Reads the keyring afresh (e.g. from the key file a key rotation rewrote).
pub type KeyringSource = Box<dyn Fn() -> Result<Keyring, crypto::CryptoError> + Send + Sync>;

/// The gateway. Cheap to share behind an `Arc`.
pub struct Gateway {
    store: Arc<dyn Store>,
    keys: RwLock<Keyring>,
    /// Held (shared) from sealing a record under a new data key until the
    /// wrapped key is stored, and (exclusive) by a key rotation while it adds
    /// the new KEK version: a key wrapped under the old version is then
    /// always in the store before the rotation starts rewrapping, never
    /// written after it (when the old version is gone and the record with it).
    key_writes: RwLock<()>,
    /// Where a changed keyring is read from; without one, only this process's
    /// own rotations reach it.
    keyring_source: Option<KeyringSource>,
    clock: SharedClock,
    recorder: Arc<dyn Recorder>,
    policy: policy::PolicyEngine,
    memo: std::sync::Mutex<access::DecisionMemo>,
    /// The [`GENERATION_SETTING`] value the policy and keys in memory match.
    generation: std::sync::Mutex<Option<String>>,
    /// The company's offset from UTC, for policies on working hours.
    timezone_offset_minutes: i32,
    /// The ledger's signing key, when the API may verify the ledger and
    /// export evidence bundles ([`Gateway::with_audit_key`]).
    audit_key: Option<ledger::SigningKey>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("store", &self.store.backend())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Marks a fresh store as belonging to this keyring, with the company's
    /// UTC offset (in minutes) for policies on working hours.
    pub fn initialize(store: &dyn Store, keys: &Keyring, timezone_offset_minutes: i32) -> Result<(), GatewayError> {
        if store.get_setting(KEY_CHECK_SETTING)?.is_some() {
            return Err(GatewayError::AlreadyInitialized);
        }
        if !(-720..=840).contains(&timezone_offset_minutes) {
            return Err(GatewayError::Invalid(format!(
                "timezone offset {timezone_offset_minutes} minutes is outside UTC-12:00..UTC+14:00"
            )));
        }
        store.put_setting(INSTALLATION_SETTING, keys.installation())?;
        store.put_setting(TIMEZONE_SETTING, &timezone_offset_minutes.to_string())?;
        store.put_setting(KEY_CHECK_SETTING, &keys.check_value())?;
        Ok(())
    }

    /// Opens the gateway over an initialized store; refuses a keyring that
    /// does not belong to it.
    pub fn open(
        store: Arc<dyn Store>,
        keys: Keyring,
        clock: SharedClock,
        recorder: Arc<dyn Recorder>,
    ) -> Result<Gateway, GatewayError> {
        match store.get_setting(KEY_CHECK_SETTING)? {
            None => return Err(GatewayError::NotInitialized),
            Some(expected) if expected != keys.check_value() => return Err(GatewayError::WrongKey),
            Some(_) => {}
        }
        let generation = store.get_setting(GENERATION_SETTING)?;
        // The policy set in force is the last one stored, else the default;
        // a stored set that no longer validates keeps the gateway closed.
        let text = match store.current_policy()? {
            Some(p) => p.text,
            None => policy::DEFAULT_POLICIES.to_owned(),
        };
        let policy = policy::PolicyEngine::new(&text).map_err(GatewayError::Policy)?;
        let memo = std::sync::Mutex::new(access::DecisionMemo::for_policy(&policy));
        let timezone_offset_minutes = store
            .get_setting(TIMEZONE_SETTING)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(Gateway {
            store,
            keys: RwLock::new(keys),
            key_writes: RwLock::new(()),
            keyring_source: None,
            clock,
            recorder,
            policy,
            memo,
            generation: std::sync::Mutex::new(generation),
            timezone_offset_minutes,
            audit_key: None,
        })
    }

    /// Reloads the keyring from `source` when another instance has rotated keys.
    pub fn with_keyring_source(mut self, source: KeyringSource) -> Gateway {
        self.keyring_source = Some(source);
        self
    }

    /// Brings the policy and the keyring up to date with the store when another
    /// instance changed them (see [`GENERATION_SETTING`]); called at the start of
    /// every request. An error fails the request closed.
    pub(crate) fn refresh(&self) -> Result<(), GatewayError> {
        self.refresh_to(self.store.get_setting(GENERATION_SETTING)?)
    }

    /// [`Gateway::refresh`] with the [`GENERATION_SETTING`] value `current`
    /// just read by the caller (with a credential, see `store::WithHolder`).
    pub(crate) fn refresh_to(&self, current: Option<String>) -> Result<(), GatewayError> {
        let mut seen = self
            .generation
            .lock()
            .map_err(|_| GatewayError::Internal("generation lock poisoned".into()))?;
        if *seen == current {
            return Ok(());
        }
        let text = match self.store.current_policy()? {
            Some(p) => p.text,
            None => policy::DEFAULT_POLICIES.to_owned(),
        };
        if text != self.policy.policy_text() {
            self.policy.adopt(&text).map_err(GatewayError::Policy)?;
            if let Ok(mut memo) = self.memo.lock() {
                *memo = access::DecisionMemo::for_policy(&self.policy);
            }
        }
        if let Some(source) = &self.keyring_source {
            let fresh = source()?;
            if fresh.check_value() != self.keys()?.check_value() {
                return Err(GatewayError::WrongKey);
            }
            *self
                .keys
                .write()
                .map_err(|_| GatewayError::Internal("keyring lock poisoned".into()))? = fresh;
        }
        *seen = current;
        Ok(())
    }

    /// Tells every instance sharing the store that the policy or the keyring
    /// changed (`what` says which, for whoever reads the setting).
    pub(crate) fn announce_change(&self, what: &str) -> Result<(), GatewayError> {
        let value = format!("{what}@{}", self.clock.now_ms());
        self.store.put_setting(GENERATION_SETTING, &value)?;
        // This instance is already up to date.
        if let Ok(mut seen) = self.generation.lock() {
            *seen = Some(value);
        }
        Ok(())
    }

    /// Whether the store answers from this machine's memory and disk (the
    /// embedded SQLite) rather than across a network: the server then runs a
    /// call's reads on the request's task instead of handing it to a thread.
    pub fn store_is_embedded(&self) -> bool {
        self.store.backend() == "sqlite"
    }

    /// The installation id this gateway serves.
    pub fn installation(&self) -> Result<String, GatewayError> {
        Ok(self.store.get_setting(INSTALLATION_SETTING)?.unwrap_or_default())
    }

    /// Held while a new data key is sealed and stored (see `key_writes`).
    fn key_write(&self) -> Result<std::sync::RwLockReadGuard<'_, ()>, GatewayError> {
        self.key_writes
            .read()
            .map_err(|_| GatewayError::Internal("key write lock poisoned".into()))
    }

    fn keys(&self) -> Result<std::sync::RwLockReadGuard<'_, Keyring>, GatewayError> {
        self.keys
            .read()
            .map_err(|_| GatewayError::Internal("keyring lock poisoned".into()))
    }

    /// Rotates the key-encryption key: a new KEK version is added and
    /// persisted (through `persist`, which writes the key file) before any
    /// data key is rewrapped, every data key is rewrapped in batches (reads
    /// keep working throughout, since both versions are held), then the old
    /// version is retired and persisted again. Returns the new version and
    /// the number of keys rewrapped.
    pub fn rotate_keys(
        &self,
        actor: &Actor,
        ctx: &AccessContext,
        persist: &dyn Fn(&Keyring) -> Result<(), crypto::CryptoError>,
    ) -> Result<(u32, u64), GatewayError> {
        self.authorize_admin(actor, Action::KeysRotate, ctx)?;
        let new_version = {
            // Waits for data keys being sealed under the old version to be stored.
            let _no_key_writes = self
                .key_writes
                .write()
                .map_err(|_| GatewayError::Internal("key write lock poisoned".into()))?;
            let mut keys = self
                .keys
                .write()
                .map_err(|_| GatewayError::Internal("keyring lock poisoned".into()))?;
            let v = keys.add_version()?;
            persist(&keys)?;
            v
        };
        // Other instances load the new version before any key is wrapped with it.
        self.announce_change(&format!("keys:v{new_version}:added"))?;
        let mut after = None;
        let mut rewrapped = 0u64;
        loop {
            let page = self.store.wrapped_keys(after.as_ref(), 1000)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            let keys = self.keys()?;
            let mut updates = Vec::with_capacity(page.len());
            for (owner, stored) in &page {
                if stored.kek_version == new_version {
                    continue;
                }
                let wrapped = crypto::WrappedKey {
                    kek_version: stored.kek_version,
                    sealed: stored.sealed.clone(),
                };
                let fresh = keys.rewrap(&key_record(owner), &wrapped)?;
                updates.push((
                    owner.clone(),
                    store::StoredKey {
                        kek_version: fresh.kek_version,
                        sealed: fresh.sealed,
                    },
                ));
            }
            drop(keys);
            self.store.replace_wrapped_keys(&updates)?;
            rewrapped += updates.len() as u64;
        }
        let mut keys = self
            .keys
            .write()
            .map_err(|_| GatewayError::Internal("keyring lock poisoned".into()))?;
        keys.retire_old_versions();
        persist(&keys)?;
        drop(keys);
        self.announce_change(&format!("keys:v{new_version}:retired-older"))?;
        self.record(&AuditRecord::admin(self.clock.now_ms(), actor, Action::KeysRotate, ctx).with_count(rewrapped))?;
        Ok((new_version, rewrapped))
    }
}

impl Gateway {
    /// Records an authentication event (`auth.<event>`: login, logout, MFA,
    /// tokens…) in the ledger and returns once it is durable. `person` is
    /// the person concerned when known to exist (the caller must not pass
    /// an unverified name: it may be a mistyped password); `reason` is a
    /// short code such as `wrong-password`. Never pass secrets.
    pub fn record_auth_event(
        &self,
        event: &str,
        person: Option<&model::PersonId>,
        ctx: &AccessContext,
        allowed: bool,
        reason: &str,
    ) -> Result<(), GatewayError> {
        let actor = person.map_or_else(|| "anonymous".to_owned(), |p| Actor::Person(p.clone()).audit_id());
        self.record_auth(actor, event, person, ctx, allowed, reason)
    }

    /// The name a login attempt under `name`, which is no person's, is throttled
    /// under: a keyed hash of it (`name#` and 64 hex digits), so that a password
    /// typed into the name field is not kept in clear in the store (found in
    /// review). The same name gives the same key on every server of the
    /// installation, whichever store they share.
    pub fn login_name_key(&self, name: &str) -> Result<model::PersonId, GatewayError> {
        let hash = self.keys()?.keyed_hash(LOGIN_NAME_KEY_PURPOSE, name.as_bytes())?;
        Ok(model::PersonId(format!("name#{}", documents::hex(&hash))))
    }

    /// Records an authentication event that `actor` performed on `person`
    /// (such as the operator setting a person's password from the command line),
    /// and returns once it is durable. As [`Gateway::record_auth_event`], but
    /// with the actor named; `person` must be known to exist. Never pass secrets.
    pub fn record_auth_event_by(
        &self,
        actor: &Actor,
        event: &str,
        person: Option<&model::PersonId>,
        ctx: &AccessContext,
        allowed: bool,
        reason: &str,
    ) -> Result<(), GatewayError> {
        self.record_auth(actor.audit_id(), event, person, ctx, allowed, reason)
    }

    /// Records `auth.<event>` by `actor` (its audit id) on `person`, or on the
    /// installation when no person is named.
    fn record_auth(
        &self,
        actor: String,
        event: &str,
        person: Option<&model::PersonId>,
        ctx: &AccessContext,
        allowed: bool,
        reason: &str,
    ) -> Result<(), GatewayError> {
        let resource = person.map_or(AuditResource::System, |p| AuditResource::Person(p.to_string()));
        self.record(&self.access_record(actor, format!("auth.{event}"), resource, ctx, allowed, reason))
    }

    /// The record of an allow or deny made outside policy (authentication, feeds):
    /// who, what, on what, from where, and one reason.
    fn access_record(
        &self,
        actor: String,
        action: String,
        resource: AuditResource,
        ctx: &AccessContext,
        allowed: bool,
        reason: &str,
    ) -> AuditRecord {
        AuditRecord {
            time: self.clock.now_ms(),
            actor,
            action,
            resources: vec![resource],
            decision: if allowed { "allow" } else { "deny" }.to_owned(),
            reasons: vec![reason.to_owned()],
            record_count: 0,
            withheld_count: 0,
            fields: Vec::new(),
            client_address: ctx.client_address.clone(),
            user_agent: ctx.user_agent.clone(),
            device: ctx.device.clone(),
            justification: None,
        }
    }

    /// Records a feed of activity events to risk analytics (`risk.events`, `POST
    /// /v1/events`): who fed it, whether it was let in (`reason` says why) and how
    /// many events it held, never the events. Returns once durable: the events may
    /// reach the engine only then, since they change whose risk is raised.
    pub fn record_events_feed(
        &self,
        person: &model::PersonId,
        ctx: &AccessContext,
        allowed: bool,
        events: u64,
        reason: &str,
    ) -> Result<(), GatewayError> {
        let actor = Actor::Person(person.clone()).audit_id();
        let mut record = self.access_record(
            actor,
            "risk.events".to_owned(),
            AuditResource::System,
            ctx,
            allowed,
            reason,
        );
        record.record_count = events;
        self.record(&record)
    }
}

/// The associated data a record's data key is wrapped with.
fn key_record(owner: &store::KeyOwner) -> Vec<u8> {
    match owner {
        store::KeyOwner::Customer(id) => format!("customer/{id}").into_bytes(),
        store::KeyOwner::Document(id) => format!("document/{id}").into_bytes(),
        store::KeyOwner::Totp(person) => format!("totp/{person}").into_bytes(),
    }
}
