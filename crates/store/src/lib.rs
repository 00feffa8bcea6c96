//! The store contract, its embedded SQLite implementation and the
//! PostgreSQL implementation for installations with several servers.
//!
//! The store holds what the gateway gives it: customer and document metadata
//! in clear, sensitive fields and bodies as ciphertext, data keys only
//! wrapped. It never sees plaintext customer fields or keys, and it does not
//! depend on the crypto crate. Every backend passes the one conformance suite
//! in [`conformance`].

mod auth;
pub mod conformance;
mod ledger_sqlite;
mod postgres;
mod postgres_conn;
mod postgres_copy;
mod postgres_ledger;
mod records;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

pub use auth::{
    ApiTokenRecord, AuthStore, BootstrapIssue, BootstrapOutcome, LoginFailures, SessionRecord, TotpRecord, WithHolder,
};
/// Setting rewritten whenever the policy in force or the keyring changes. Every
/// gateway compares it with the value it last saw at each request and reloads on a
/// difference, so several servers sharing one database pick up a policy change or a
/// key rotation made on any of them at their very next request.
pub const GENERATION_SETTING: &str = "generation";
/// The setting that holds the next number [`Store::reserve_customer_numbers`] hands out.
pub const CUSTOMER_NUMBER_SETTING: &str = "next_customer_number";

pub use postgres::{is_postgres_url, redact_url, PostgresOptions, PostgresStore};
pub use postgres_copy::{copy_sqlite_to_postgres, CopyReport};
pub use records::*;
pub use sqlite::{SqliteStore, DB_FILE, LEDGER_FILE};

use model::{CustomerId, CustomerMeta, DocumentId, DocumentMeta, Person, PersonId, Team, UnixMillis};

/// What can go wrong in a store. Messages name the problem and the fix; they
/// never contain field values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("data directory {dir} was created by a newer custodia (schema {found}, this build knows up to {supported}); upgrade custodia to open it")]
    NewerSchema { dir: String, found: i64, supported: i64 },
    #[error("no custodia data directory at {0}; run `custodia init` first or pass --data-dir")]
    NotInitialized(String),
    #[error("data directory {0} is read-only; custodia needs to write there (check permissions or the mount)")]
    ReadOnly(String),
    #[error("the disk holding {0} is full; free space and retry (nothing was written)")]
    DiskFull(String),
    #[error("customer {0} already exists")]
    DuplicateCustomer(CustomerId),
    #[error("document {0} already exists")]
    DuplicateDocument(DocumentId),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("stored {what} is corrupt: {problem}")]
    Corrupt { what: String, problem: String },
    #[error("database error: {0}")]
    Database(String),
    #[error("the write was cancelled by its caller before it finished; nothing was written")]
    Cancelled,
    #[error("the PostgreSQL database {target} was migrated by a newer custodia (schema {found}, this build knows up to {supported}); upgrade custodia to use it")]
    NewerDatabaseSchema { target: String, found: i64, supported: i64 },
    #[error("invalid database URL ({0}); expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")]
    InvalidDatabaseUrl(String),
    #[error("cannot reach the PostgreSQL database {target}: {problem}; check that the server runs and the URL's host, port and database")]
    Unreachable { target: String, problem: String },
    #[error("the PostgreSQL database {target} refused the credentials: {problem}; check the user and password in the database URL")]
    Authentication { target: String, problem: String },
    /// A transaction cut off before COMMIT is rolled back by the server.
    #[error("lost the connection to the PostgreSQL database {target} ({problem}); retry when it is back")]
    ConnectionLost { target: String, problem: String },
    #[error("the PostgreSQL database {target} already holds custodia data (table {table} is not empty); migrate into an empty database")]
    TargetNotEmpty { target: String, table: &'static str },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which customers a bulk read wants.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub owner: Option<PersonId>,
    /// Return only ids greater than this (keyset pagination).
    pub after: Option<CustomerId>,
    pub limit: Option<usize>,
}

/// What a change given to [`Store::update_people`] writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleWrite {
    pub people: Vec<Person>,
    pub teams: Vec<Team>,
}

/// The storage contract every backend implements. All multi-row writes are
/// single transactions: they happen entirely or not at all. A store also
/// holds the audit ledger ([`ledger::LedgerStore`]) in the same database.
pub trait Store: ledger::LedgerStore + Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    fn get_setting(&self, key: &str) -> Result<Option<String>>;
    fn put_setting(&self, key: &str, value: &str) -> Result<()>;

    /// Named binary state of an engine (e.g. the risk analytics' aggregated
    /// features), replaced whole. Never holds plaintext customer data.
    fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>>;
    fn put_blob(&self, key: &str, value: &[u8]) -> Result<()>;

    /// Inserts or replaces people, all or none. A person written as departed
    /// loses every session and API token they hold, in the same transaction:
    /// the status alone only blocks credentials while it holds, and a later
    /// correction or a stale import must not bring them back.
    fn upsert_people(&self, people: &[Person]) -> Result<()>;
    /// Changes people as a check of everyone allows: reads every person (in id
    /// order), hands them to `change`, and writes the people and teams it returns
    /// (inserted or replaced, departed people losing their credentials, as
    /// [`Self::upsert_people`] and [`Self::upsert_teams`] write them), all in one
    /// transaction that holds off every other write of people, from this process or
    /// any other on the same database, from the read to the commit. So a check made
    /// in `change` (that a security admin stays) still holds when its write lands,
    /// and a change made on what it read loses no concurrent one. An `Err` from
    /// `change` writes nothing and is returned (a caller with an error of its own
    /// keeps it and returns [`StoreError::Cancelled`]). `change` runs while writes
    /// wait (on SQLite every write of the store, under one writer lock that is not
    /// re-entered; on PostgreSQL writes of people), so it must not write this store
    /// itself, and should be short: the gateway records to the ledger, a store of its
    /// own, submitting its records together (found in review).
    fn update_people(&self, change: &mut dyn FnMut(&[Person]) -> Result<PeopleWrite>) -> Result<()>;
    fn get_person(&self, id: &PersonId) -> Result<Option<Person>>;
    fn list_people(&self) -> Result<Vec<Person>>;
    /// People whose work email's user part (before the last `@`) is `user`, ASCII
    /// letters compared without case: how a proxy's login name (`lan.tran`) finds the
    /// person it belongs to. Several can share one user part across email domains.
    fn people_by_email_user(&self, user: &str) -> Result<Vec<Person>>;
    fn upsert_teams(&self, teams: &[Team]) -> Result<()>;
    fn list_teams(&self) -> Result<Vec<Team>>;

    /// Inserts new customers, all or none; an existing id is
    /// [`StoreError::DuplicateCustomer`].
    fn insert_customers(&self, rows: &[SealedCustomer]) -> Result<()>;
    /// Inserts batches of new customers as they arrive, in one transaction:
    /// all or none. The first `Err` from `batches` aborts the write and is
    /// returned (a caller cancels with [`StoreError::Cancelled`]). Lets an
    /// import seal the next batch while this one is written. Returns how
    /// many rows were inserted. The default collects, then inserts.
    fn insert_customer_batches(&self, batches: &mut dyn Iterator<Item = Result<Vec<SealedCustomer>>>) -> Result<u64> {
        let mut all = Vec::new();
        for batch in batches {
            all.extend(batch?);
        }
        self.insert_customers(&all)?;
        Ok(all.len() as u64)
    }
    fn get_customer(&self, id: &CustomerId) -> Result<Option<SealedCustomer>>;
    /// [`Self::get_customer`] without the lookups, for a read that opens the
    /// customer: the hot path of every customer read.
    fn get_customer_to_open(&self, id: &CustomerId) -> Result<Option<CustomerToOpen>> {
        Ok(self.get_customer(id)?.map(CustomerToOpen::from))
    }
    /// The customers of `ids` that exist, in the order asked, read from one
    /// snapshot of the store.
    fn get_customers(&self, ids: &[CustomerId]) -> Result<Vec<SealedCustomer>>;
    /// Customer metadata in id order, for deciding bulk access before any
    /// ciphertext is read.
    fn customer_metas(&self, filter: &CustomerFilter) -> Result<Vec<CustomerMeta>>;
    /// The customers `filter` selects, in id order as [`Self::customer_metas`],
    /// each with what opening it reads: for reading the whole vault (the DLP
    /// index) a page at a time in one statement.
    fn customers_to_open(&self, filter: &CustomerFilter) -> Result<Vec<CustomerToOpen>>;
    fn find_customers(&self, kind: LookupKind, hash: &[u8; 16]) -> Result<Vec<CustomerId>>;
    /// Replaces an existing customer's metadata, fields and lookups.
    fn update_customer(&self, row: &SealedCustomer) -> Result<()>;
    /// Deletes a customer, its lookups and its wrapped key so that nothing
    /// recoverable remains in the database files. Returns whether it existed.
    fn erase_customer(&self, id: &CustomerId) -> Result<bool>;
    fn count_customers(&self) -> Result<u64>;
    /// Reserves `count` numbers for the customer ids the installation makes up
    /// (`C-0000042`) and returns the first. A number is handed out once, even after
    /// the customer it named is erased, so an erased customer's id never names
    /// another and the ledger's entries about it stay theirs; the first reservation
    /// starts past every `C-<number>` id already stored.
    fn reserve_customer_numbers(&self, count: u64) -> Result<u64>;

    fn insert_document(&self, doc: &SealedDocument) -> Result<()>;
    fn get_document(&self, id: &DocumentId) -> Result<Option<SealedDocument>>;
    fn list_documents(&self) -> Result<Vec<DocumentMeta>>;

    /// Wrapped data keys in owner order, for key rotation.
    fn wrapped_keys(&self, after: Option<&KeyOwner>, limit: usize) -> Result<Vec<(KeyOwner, StoredKey)>>;
    /// Replaces wrapped keys, all or none.
    fn replace_wrapped_keys(&self, keys: &[(KeyOwner, StoredKey)]) -> Result<()>;
    /// One owner's wrapped key, for owners whose key is kept apart from a
    /// record ([`KeyOwner::Totp`]).
    fn wrapped_key(&self, owner: &KeyOwner) -> Result<Option<StoredKey>>;
    /// Stores a wrapped key for an owner that has none; returns false,
    /// keeping the stored one, when it has one (another server was first).
    fn insert_wrapped_key(&self, owner: &KeyOwner, key: &StoredKey) -> Result<bool>;

    fn current_policy(&self) -> Result<Option<StoredPolicy>>;
    /// Stores a new policy version and returns its number.
    fn put_policy(&self, text: &str, author: &PersonId, at: UnixMillis) -> Result<u64>;

    /// Queues an export for approval; an existing id is an error.
    fn insert_pending_export(&self, export: &PendingExport) -> Result<()>;
    fn get_pending_export(&self, id: &str) -> Result<Option<PendingExport>>;
    /// Queued exports in this state, oldest first.
    fn pending_exports(&self, state: ExportState) -> Result<Vec<PendingExport>>;
    /// Moves an export from state `from` to `to` (deciding it, or using it
    /// up), atomically: returns false, changing nothing, if it is not in
    /// `from`, so two approvals or two downloads cannot both succeed.
    fn transition_export(
        &self,
        id: &str,
        from: ExportState,
        to: ExportState,
        by: Option<&PersonId>,
        at: UnixMillis,
    ) -> Result<bool>;
}

/// The SQL `LIKE` pattern (escape character `\\`) of a work email whose user part is
/// `user`: the store narrows by it, then [`email_user_is`] decides, so both
/// backends answer alike whatever their `LIKE` does with case beyond ASCII.
fn email_user_pattern(user: &str) -> String {
    let mut pattern = String::with_capacity(user.len() + 3);
    for c in user.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("@%");
    pattern
}

/// Whether `email`'s user part (before its last `@`) is `user`, ASCII letters
/// compared without case.
fn email_user_is(email: &str, user: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(local, _)| local.eq_ignore_ascii_case(user))
}
