use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use model::{
    Classification, Compartments, CustomerId, CustomerMeta, DocumentId, DocumentKind, DocumentMeta, Person, PersonId,
    Team, TeamId, UnixMillis,
};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row};

use crate::auth::{PERSON_COLS, SESSION_COLS, SESSION_WITH_HOLDER, TOKEN_COLS, TOKEN_WITH_HOLDER};
use crate::records::{decode_fields, encode_fields};
use crate::{
    CustomerFilter, CustomerToOpen, ExportState, KeyOwner, LookupKind, PendingExport, Result, SealedCustomer,
    SealedDocument, Store, StoreError, StoredKey, StoredPolicy,
};

/// The vault's database file inside a data directory: customers, documents,
/// people, keys, policy, sessions.
pub const DB_FILE: &str = "custodia.db";
/// The audit ledger's database file beside it. A file of its own because the
/// ledger commits hundreds of times a second: in one file, every commit made
/// each reader connection drop its page cache (SQLite resets a WAL reader's
/// cache whenever the database changed), so every customer read and session
/// check parsed its B-tree pages again.
pub const LEDGER_FILE: &str = "ledger.db";

/// Schema version of the vault file this build writes.
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
/// Schema version of the ledger file this build writes.
const LEDGER_SCHEMA_VERSION: i64 = LEDGER_MIGRATIONS.len() as i64;
/// The vault schema from which the ledger lives in [`LEDGER_FILE`]; upgrading
/// to it moves the ledger's rows there.
const LEDGER_MOVED_OUT: i64 = 10;

/// The ledger file's schema migrations, as [`MIGRATIONS`] for the vault.
const LEDGER_MIGRATIONS: &[&str] = &[r#"
CREATE TABLE ledger_entries (idx INTEGER PRIMARY KEY, bytes BLOB NOT NULL, leaf BLOB NOT NULL);
CREATE TABLE ledger_tree (pos INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE ledger_checkpoints (seq INTEGER PRIMARY KEY, size INTEGER NOT NULL, time_ms INTEGER NOT NULL, text TEXT NOT NULL);
"#];

/// Copies the ledger's rows from a vault of schema 9 (attached as `vault`)
/// into the ledger file, replacing whatever an interrupted earlier upgrade
/// left there, in one transaction of the ledger file.
const COPY_LEDGER_OUT: &str = r#"
DELETE FROM ledger_entries; DELETE FROM ledger_tree; DELETE FROM ledger_checkpoints;
INSERT INTO ledger_entries (idx, bytes, leaf) SELECT idx, bytes, leaf FROM vault.ledger_entries ORDER BY idx;
INSERT INTO ledger_tree (pos, hash) SELECT pos, hash FROM vault.ledger_tree ORDER BY pos;
INSERT INTO ledger_checkpoints (seq, size, time_ms, text) SELECT seq, size, time_ms, text FROM vault.ledger_checkpoints ORDER BY seq;
"#;

/// Schema migrations, in order; entry `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, department TEXT NOT NULL, territory TEXT, lead TEXT);
CREATE TABLE people (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, work_email TEXT NOT NULL, department TEXT NOT NULL, role TEXT NOT NULL,
    team TEXT, manager TEXT, clearance INTEGER NOT NULL, compartments TEXT NOT NULL, status TEXT NOT NULL,
    notice_date TEXT, last_day TEXT, agreements TEXT NOT NULL);
CREATE TABLE customers (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, team TEXT, territory TEXT, country TEXT, classification INTEGER NOT NULL,
    compartments TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, fields BLOB NOT NULL);
CREATE INDEX customers_owner ON customers(owner);
CREATE TABLE customer_lookups (kind TEXT NOT NULL, hash BLOB NOT NULL, customer_id TEXT NOT NULL);
CREATE INDEX customer_lookups_hash ON customer_lookups(kind, hash);
CREATE INDEX customer_lookups_customer ON customer_lookups(customer_id);
CREATE TABLE documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, file_name TEXT NOT NULL, kind TEXT NOT NULL, custodian TEXT NOT NULL,
    classification INTEGER NOT NULL, compartments TEXT NOT NULL, size INTEGER NOT NULL, content_sha256 TEXT NOT NULL,
    created_ms INTEGER NOT NULL, body BLOB NOT NULL);
CREATE TABLE data_keys (owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL, kek_version INTEGER NOT NULL, sealed BLOB NOT NULL,
    PRIMARY KEY (owner_kind, owner_id));
CREATE TABLE policies (version INTEGER PRIMARY KEY, text TEXT NOT NULL, author TEXT NOT NULL, at_ms INTEGER NOT NULL);
"#,
    r#"
CREATE TABLE ledger_entries (idx INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE ledger_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE ledger_checkpoints (seq INTEGER PRIMARY KEY, size INTEGER NOT NULL, time_ms INTEGER NOT NULL, text TEXT NOT NULL);
"#,
    r#"
CREATE TABLE blobs (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"#,
    r#"
CREATE TABLE credentials (person TEXT PRIMARY KEY, phc TEXT NOT NULL);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE, person TEXT NOT NULL, created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, idle_timeout_ms INTEGER NOT NULL, revoked INTEGER NOT NULL);
CREATE INDEX sessions_person ON sessions(person);
CREATE TABLE auth_people (
    person TEXT PRIMARY KEY, sessions_valid_after INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0, last_failure_ms INTEGER NOT NULL DEFAULT 0);
"#,
    // Empty secrets mean "none", so the migration copier needs no nullable blobs.
    r#"
ALTER TABLE sessions ADD COLUMN mfa_ms INTEGER NOT NULL DEFAULT 0;
CREATE TABLE totp (
    person TEXT PRIMARY KEY, secret BLOB NOT NULL, pending BLOB NOT NULL, last_step INTEGER NOT NULL DEFAULT 0);
CREATE TABLE recovery_codes (person TEXT NOT NULL, code_hash BLOB NOT NULL, PRIMARY KEY (person, code_hash));
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE, person TEXT NOT NULL, name TEXT NOT NULL,
    scopes TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, revoked INTEGER NOT NULL);
CREATE INDEX api_tokens_person ON api_tokens(person);
CREATE TABLE auth_addresses (
    address TEXT PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0, last_failure_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE bootstrap_codes (code_hash BLOB PRIMARY KEY);
"#,
    r#"
CREATE TABLE pending_exports (
    id TEXT PRIMARY KEY, requester TEXT NOT NULL, filter TEXT NOT NULL, format TEXT NOT NULL,
    justification TEXT NOT NULL, created_ms INTEGER NOT NULL, state TEXT NOT NULL, decided_by TEXT, decided_ms INTEGER);
CREATE INDEX pending_exports_state ON pending_exports(state, created_ms);
"#,
    // Merkle nodes keyed by when they complete (see `ledger_sqlite::node_position`),
    // so a batch's nodes land together at the end of one B-tree.
    r#"
CREATE TABLE ledger_tree (pos INTEGER PRIMARY KEY, hash BLOB NOT NULL);
INSERT INTO ledger_tree (pos, hash) SELECT (((idx + 1) << level) - 1) * 64 + level, hash FROM ledger_nodes;
DROP TABLE ledger_nodes;
"#,
    // TOTP secrets sealed by the gateway (rows from before stay in clear until the
    // server seals them); one bootstrap code at a time, with an expiry, so that
    // several servers on one database keep the first code printed.
    r#"
ALTER TABLE totp ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
DROP TABLE bootstrap_codes;
CREATE TABLE bootstrap_codes (
    slot INTEGER PRIMARY KEY CHECK (slot = 1), code_hash BLOB NOT NULL, issued_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL);
"#,
    // Each entry's leaf hash in the entry's row (verification reads both in
    // one step), taken from the tree table's level-0 rows (position
    // `idx * 64`); x'' where one was missing, which verification reports as a
    // missing leaf. Both tables are rebuilt rather than updated in place, so
    // their pages stay full.
    r#"
CREATE TABLE ledger_entries_v9 (idx INTEGER PRIMARY KEY, bytes BLOB NOT NULL, leaf BLOB NOT NULL);
INSERT INTO ledger_entries_v9 (idx, bytes, leaf)
    SELECT e.idx, e.bytes, COALESCE(t.hash, x'') FROM ledger_entries e LEFT JOIN ledger_tree t ON t.pos = e.idx * 64
    ORDER BY e.idx;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v9 RENAME TO ledger_entries;
CREATE TABLE ledger_tree_v9 (pos INTEGER PRIMARY KEY, hash BLOB NOT NULL);
INSERT INTO ledger_tree_v9 (pos, hash) SELECT pos, hash FROM ledger_tree WHERE pos % 64 <> 0 ORDER BY pos;
DROP TABLE ledger_tree;
ALTER TABLE ledger_tree_v9 RENAME TO ledger_tree;
"#,
    // The ledger moves to its own file ([`LEDGER_FILE`]), which holds a copy
    // of these tables' rows by the time this runs.
    r#"
DROP TABLE ledger_entries;
DROP TABLE ledger_tree;
DROP TABLE ledger_checkpoints;
"#,
];

/// The embedded default store: two SQLite files in WAL mode, the vault
/// ([`DB_FILE`]) and the ledger ([`LEDGER_FILE`]), each with one writer
/// connection, a small pool of readers and a checkpointer thread.
pub struct SqliteStore {
    vault: Db,
    ledger: Db,
}

/// One database file and its connections.
struct Db {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Ended and joined when the store drops (see [`Db`]'s `Drop`).
    checkpointer: Option<Checkpointer>,
    /// The write-ahead log file whose directory entry [`Db::sync_log`]
    /// already flushed (SQLite makes a new log file when a database is
    /// opened after its last connection closed).
    synced_log: Mutex<Option<u64>>,
}

/// How often the checkpointer copies the write-ahead log into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// WAL pages after which a commit checkpoints by itself, should the
/// checkpointer fall behind (SQLite's default is 1,000).
const WRITER_CHECKPOINT_PAGES: i64 = 16_384;

/// Copies the write-ahead log into the database every [`CHECKPOINT_EVERY`],
/// on its own connection, so that no commit pays for it: a checkpoint run by
/// the committing connection (SQLite's default) made every thousandth page's
/// commit wait for the database file's flush, which showed as the ledger's
/// tail latency. PASSIVE never blocks writers or readers.
fn start_checkpointer(path: &Path) -> Option<Checkpointer> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).ok()?;
    conn.execute_batch("PRAGMA busy_timeout=1000;").ok()?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; commits will checkpoint instead");
                }
            }
        })
        .ok()?;
    Some(Checkpointer { stop, thread })
}

/// The checkpointer thread and the channel whose closing ends it.
struct Checkpointer {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Drop for Db {
    /// Closes the checkpointer's connection before the writer's and the
    /// readers': SQLite empties and deletes the write-ahead log when the last
    /// connection to a database closes. Left to close on its own thread, the
    /// checkpointer's was sometimes the last one when the process exited
    /// first, and a failed import on a full disk left its log of rolled-back
    /// pages holding the space, so the next command found the disk still full.
    fn drop(&mut self) {
        if let Some(Checkpointer { stop, thread }) = self.checkpointer.take() {
            drop(stop);
            // a checkpointer that panicked has nothing left to close
            let _ = thread.join();
        }
    }
}

/// What tells one file from another at the same path (its inode).
#[cfg(unix)]
fn file_identity(meta: &std::fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.ino())
}

#[cfg(not(unix))]
fn file_identity(_meta: &std::fs::Metadata) -> Option<u64> {
    None
}

fn db_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| classify(path, e)
}

fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    let dir = path.parent().unwrap_or(path).display().to_string();
    match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(dir),
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::SystemIoFailure) if dir_read_only(path) => {
            StoreError::ReadOnly(dir)
        }
        Some(ErrorCode::DiskFull) => StoreError::DiskFull(dir),
        Some(ErrorCode::NotADatabase) => StoreError::Corrupt {
            what: path.display().to_string(),
            problem: "the file is not a SQLite database".into(),
        },
        _ => StoreError::Database(e.to_string()),
    }
}

/// Whether the data directory refuses writes (permissions or a read-only
/// mount), found by trying to create a probe file there.
fn dir_read_only(path: &Path) -> bool {
    let Some(dir) = path.parent() else {
        return false;
    };
    let probe = dir.join(".custodia-write-probe");
    match std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            false
        }
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
        ),
    }
}

impl SqliteStore {
    /// Creates the database files in `dir` (which must exist) and migrates them.
    pub fn create(dir: &Path) -> Result<SqliteStore> {
        let path = dir.join(DB_FILE);
        let conn = Db::connect(&path, OpenFlags::SQLITE_OPEN_CREATE)?;
        Self::finish_open(path, conn)
    }

    /// Opens an existing data directory's database files.
    pub fn open(dir: &Path) -> Result<SqliteStore> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Err(StoreError::NotInitialized(dir.display().to_string()));
        }
        let conn = Db::connect(&path, OpenFlags::empty())?;
        Self::finish_open(path, conn)
    }

    /// The vault database file's path.
    pub fn path(&self) -> &Path {
        &self.vault.path
    }

    /// The ledger database file's path.
    pub fn ledger_path(&self) -> &Path {
        &self.ledger.path
    }

    fn finish_open(path: PathBuf, mut conn: Connection) -> Result<SqliteStore> {
        configure(&path, &conn)?;
        let found = schema_version(&path, &conn, SCHEMA_VERSION)?;
        let ledger_path = path.with_file_name(LEDGER_FILE);
        // The ledger file is made only where the vault's schema says it is
        // still to be made: a ledger file gone from a data directory that had
        // one is an error, never silently an empty ledger.
        let ledger_flags = if found == 0 && ledger_path.exists() {
            // a new vault beside an old ledger: that ledger is some earlier
            // installation's audit evidence, which the move below would wipe
            return Err(StoreError::Corrupt {
                what: ledger_path.display().to_string(),
                problem: "an audit ledger without its vault; it may be evidence from an earlier installation, \
                          so move it out of the data directory before creating a new one"
                    .into(),
            });
        } else if found < LEDGER_MOVED_OUT {
            OpenFlags::SQLITE_OPEN_CREATE
        } else {
            if !ledger_path.exists() {
                return Err(StoreError::Corrupt {
                    what: ledger_path.display().to_string(),
                    problem: "the audit ledger's file is missing from the data directory; restore it from a backup"
                        .into(),
                });
            }
            OpenFlags::empty()
        };
        let mut ledger_conn = Db::connect(&ledger_path, ledger_flags)?;
        configure(&ledger_path, &ledger_conn)?;
        let ledger_found = schema_version(&ledger_path, &ledger_conn, LEDGER_SCHEMA_VERSION)?;
        migrate(&ledger_path, &mut ledger_conn, LEDGER_MIGRATIONS, ledger_found)?;
        let before_move = (LEDGER_MOVED_OUT - 1) as usize;
        migrate(&path, &mut conn, &MIGRATIONS[..before_move], found)?;
        if found < LEDGER_MOVED_OUT {
            copy_ledger_out(&path, &ledger_conn)?;
        }
        migrate(&path, &mut conn, MIGRATIONS, found.max(LEDGER_MOVED_OUT - 1))?;
        // From here on, ledger commits write the log without flushing it and
        // `sync_log` flushes (the ledger acknowledges entries only after
        // that); the migrations and the copy above committed at FULL.
        ledger_conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err(&ledger_path))?;
        Ok(SqliteStore {
            vault: Db::start(path, conn)?,
            ledger: Db::start(ledger_path, ledger_conn)?,
        })
    }

    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        self.vault.write(f)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        self.vault.read(f)
    }

    pub(crate) fn ledger_write<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        self.ledger.write(f)
    }

    /// Makes every committed ledger transaction durable.
    pub(crate) fn ledger_sync(&self) -> Result<()> {
        self.ledger.sync_log()
    }

    pub(crate) fn ledger_read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        self.ledger.read(f)
    }

    /// Runs `f` on a connection of its own to the vault with the ledger file
    /// attached as `ledger`, in one read transaction over both (for copying
    /// the whole installation elsewhere while no server runs).
    pub(crate) fn read_both<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = Db::connect(&self.vault.path, OpenFlags::empty())?;
        configure(&self.vault.path, &conn)?;
        let ledger = self.ledger.path.to_string_lossy().into_owned();
        conn.execute("ATTACH DATABASE ?1 AS ledger", [ledger])
            .map_err(db_err(&self.ledger.path))?;
        let tx = conn.transaction().map_err(db_err(&self.vault.path))?;
        f(&tx).map_err(db_err(&self.vault.path))
    }

    /// Runs a write transaction and maps constraint violations on the
    /// customers' primary key to a duplicate error.
    fn insert_tx(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>) -> Result<()> {
        self.write(|conn| {
            let tx = conn.transaction()?;
            f(&tx)?;
            tx.commit()
        })
    }
}

fn read_people(c: &Connection) -> rusqlite::Result<Vec<Person>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {PERSON_COLS} FROM people ORDER BY id"))?;
    let rows = stmt.query_map([], person_from_row)?;
    rows.collect()
}

/// Inserts or replaces `people`; a person written as departed loses their credentials.
fn write_people(tx: &rusqlite::Transaction<'_>, people: &[Person]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO people ({PERSON_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))?;
    for p in people {
        stmt.execute(params![
            p.id.0,
            p.name,
            p.work_email,
            p.department,
            p.role.as_str(),
            p.team.as_ref().map(|t| &t.0),
            p.manager.as_ref().map(|m| &m.0),
            p.clearance.level(),
            compartments_to_text(&p.compartments),
            p.status.as_str(),
            p.notice_date,
            p.last_day,
            serde_json::to_string(&p.agreements).unwrap_or_else(|_| "[]".into()),
        ])?;
        if p.status == model::EmploymentStatus::Departed {
            revoke_credentials(tx, &p.id, None)?;
        }
    }
    Ok(())
}

fn write_teams(tx: &rusqlite::Transaction<'_>, teams: &[Team]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO teams (id, name, department, territory, lead) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for t in teams {
        stmt.execute(params![
            t.id.0,
            t.name,
            t.department,
            t.territory,
            t.lead.as_ref().map(|l| &l.0)
        ])?;
    }
    Ok(())
}

/// [`crate::AuthStore::revoke_credentials`] inside a transaction of the caller's.
fn revoke_credentials(tx: &rusqlite::Transaction<'_>, person: &PersonId, keep: Option<&str>) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE sessions SET revoked = 1 WHERE person = ?1 AND revoked = 0 AND id IS NOT ?2")?
        .execute(params![person.0, keep])?;
    tx.prepare_cached("UPDATE api_tokens SET revoked = 1 WHERE person = ?1 AND revoked = 0")?
        .execute([&person.0])?;
    Ok(())
}

fn configure(path: &Path, conn: &Connection) -> Result<()> {
    // secure_delete: erased customers' pages are zeroed, not left in free pages.
    // cache_size: up to 256 MiB of pages per connection (allocated only as
    // used), so a bulk import's index inserts stay in memory until commit.
    // mmap_size: reads map the file (up to SQLite's 2 GiB cap) instead of a
    // pread per page, which halves a cold point read in a large vault.
    // SQLite writes through write() still; only reads use the map.
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; PRAGMA busy_timeout=10000; PRAGMA cache_size=-262144; PRAGMA mmap_size=2147418112;",
    )
    .map_err(db_err(path))
}

/// A database file's schema version; one newer than this build's is an error.
fn schema_version(path: &Path, conn: &Connection, supported: i64) -> Result<i64> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_err(path))?;
    if found > supported {
        let dir = path.parent().unwrap_or(path).display().to_string();
        return Err(StoreError::NewerSchema { dir, found, supported });
    }
    Ok(found)
}

/// Runs the migrations after version `found`, one transaction each.
fn migrate(path: &Path, conn: &mut Connection, migrations: &[&str], found: i64) -> Result<()> {
    for (i, sql) in migrations.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        let tx = conn.transaction().map_err(db_err(path))?;
        tx.execute_batch(sql).map_err(db_err(path))?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(db_err(path))?;
        tx.commit().map_err(db_err(path))?;
    }
    Ok(())
}

/// Copies a schema-9 vault's ledger rows into the ledger file. Safe to run
/// again after an interruption: the vault drops its copy only afterwards.
fn copy_ledger_out(vault: &Path, ledger: &Connection) -> Result<()> {
    let copy = || -> rusqlite::Result<()> {
        ledger.execute("ATTACH DATABASE ?1 AS vault", [vault.to_string_lossy()])?;
        let copied = ledger.execute_batch(&format!("BEGIN IMMEDIATE; {COPY_LEDGER_OUT} COMMIT;"));
        if copied.is_err() {
            let _ = ledger.execute_batch("ROLLBACK");
        }
        let detached = ledger.execute_batch("DETACH DATABASE vault");
        copied.and(detached)
    };
    copy().map_err(db_err(vault))
}

impl Db {
    /// Opens a connection to `path`, with `extra` flags (e.g. create).
    fn connect(path: &Path, extra: OpenFlags) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | extra;
        Connection::open_with_flags(path, flags).map_err(db_err(path))
    }

    /// Wraps a migrated connection as the file's writer and starts its checkpointer.
    fn start(path: PathBuf, conn: Connection) -> Result<Db> {
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
            .map_err(db_err(&path))?;
        let checkpointer = start_checkpointer(&path);
        Ok(Db {
            path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            checkpointer,
            synced_log: Mutex::new(None),
        })
    }

    /// Flushes the write-ahead log to disk: every transaction committed
    /// before this call is then durable. For a connection that commits with
    /// `synchronous=NORMAL`, which writes the log but leaves its flush to us
    /// so that it can overlap the next transaction. The checkpointer's
    /// connection stays at FULL, so the log is never reset before the
    /// database file holding its pages is flushed.
    fn sync_log(&self) -> Result<()> {
        let mut log = self.path.clone().into_os_string();
        log.push("-wal");
        let log = PathBuf::from(log);
        let failed = |e: std::io::Error| StoreError::Database(format!("cannot flush {}: {e}", log.display()));
        let file = std::fs::File::open(&log).map_err(failed)?;
        file.sync_data().map_err(failed)?;
        // A log file made since the last flush needs its directory entry
        // flushed too, or a power cut could lose the whole file.
        let identity = file_identity(&file.metadata().map_err(failed)?);
        let mut synced = self.synced_log.lock().unwrap_or_else(|e| e.into_inner());
        if identity.is_none() || *synced != identity {
            let dir = log.parent().unwrap_or(Path::new("."));
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(failed)?;
            *synced = identity;
        }
        Ok(())
    }

    /// The one writing connection, held until the guard drops.
    fn writer(&self) -> Result<MutexGuard<'_, Connection>> {
        self.writer
            .lock()
            .map_err(|_| StoreError::Database("writer lock poisoned".into()))
    }

    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.writer()?;
        f(&mut conn).map_err(db_err(&self.path))
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let pooled = self
            .readers
            .lock()
            .map_err(|_| StoreError::Database("reader pool poisoned".into()))?
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Self::connect(&self.path, OpenFlags::empty())?;
                configure(&self.path, &c)?;
                c
            }
        };
        let out = f(&conn).map_err(db_err(&self.path));
        if let Ok(mut pool) = self.readers.lock() {
            pool.push(conn);
        }
        out
    }
}

fn compartments_to_text(c: &Compartments) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "[]".into())
}

fn compartments_from_text(s: &str) -> rusqlite::Result<Compartments> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

fn classification(level: i64) -> rusqlite::Result<Classification> {
    u8::try_from(level)
        .ok()
        .and_then(Classification::from_level)
        .ok_or(rusqlite::Error::IntegralValueOutOfRange(0, level))
}

fn person_from_row(r: &Row<'_>) -> rusqlite::Result<Person> {
    person_from_columns(r, 0)
}

/// A person from the [`PERSON_COLS`] starting at column `at`.
fn person_from_columns(r: &Row<'_>, at: usize) -> rusqlite::Result<Person> {
    Ok(Person {
        id: PersonId(r.get(at)?),
        name: r.get(at + 1)?,
        work_email: r.get(at + 2)?,
        department: r.get(at + 3)?,
        role: r.get::<_, String>(at + 4)?.parse().map_err(conversion)?,
        team: r.get::<_, Option<String>>(at + 5)?.map(TeamId),
        manager: r.get::<_, Option<String>>(at + 6)?.map(PersonId),
        clearance: classification(r.get(at + 7)?)?,
        compartments: compartments_from_text(&r.get::<_, String>(at + 8)?)?,
        status: r.get::<_, String>(at + 9)?.parse().map_err(conversion)?,
        notice_date: r.get(at + 10)?,
        last_day: r.get(at + 11)?,
        agreements: serde_json::from_str(&r.get::<_, String>(at + 12)?).map_err(conversion)?,
    })
}

const CUSTOMER_META_COLS: &str =
    "id, owner, team, territory, country, classification, compartments, created_ms, updated_ms";

fn customer_meta_from_row(r: &Row<'_>) -> rusqlite::Result<CustomerMeta> {
    Ok(CustomerMeta {
        id: CustomerId(r.get(0)?),
        owner: PersonId(r.get(1)?),
        team: r.get::<_, Option<String>>(2)?.map(TeamId),
        territory: r.get(3)?,
        country: r.get(4)?,
        classification: classification(r.get(5)?)?,
        compartments: compartments_from_text(&r.get::<_, String>(6)?)?,
        created_ms: r.get(7)?,
        updated_ms: r.get(8)?,
    })
}

const DOCUMENT_META_COLS: &str =
    "id, title, file_name, kind, custodian, classification, compartments, size, content_sha256, created_ms";

fn document_meta_from_row(r: &Row<'_>) -> rusqlite::Result<DocumentMeta> {
    Ok(DocumentMeta {
        id: DocumentId(r.get(0)?),
        title: r.get(1)?,
        file_name: r.get(2)?,
        kind: r.get::<_, String>(3)?.parse::<DocumentKind>().map_err(conversion)?,
        custodian: PersonId(r.get(4)?),
        classification: classification(r.get(5)?)?,
        compartments: compartments_from_text(&r.get::<_, String>(6)?)?,
        size: u64::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
        content_sha256: r.get(8)?,
        created_ms: r.get(9)?,
    })
}

fn load_key(conn: &Connection, kind: &str, id: &str) -> rusqlite::Result<Option<StoredKey>> {
    conn.prepare_cached("SELECT kek_version, sealed FROM data_keys WHERE owner_kind = ?1 AND owner_id = ?2")?
        .query_row(params![kind, id], |r| {
            Ok(StoredKey {
                kek_version: r.get(0)?,
                sealed: r.get(1)?,
            })
        })
        .optional()
}

/// A customer's row and its wrapped key, by id: what opening it reads.
const CUSTOMER_TO_OPEN: &str = "SELECT c.id, c.owner, c.team, c.territory, c.country, c.classification, \
     c.compartments, c.created_ms, c.updated_ms, c.fields, k.kek_version, k.sealed \
     FROM customers c LEFT JOIN data_keys k ON k.owner_kind = 'customer' AND k.owner_id = c.id WHERE c.id = ?1";

/// [`CUSTOMER_TO_OPEN`] for a page of customers, as [`Store::customer_metas`] selects them.
static CUSTOMERS_TO_OPEN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    CUSTOMER_TO_OPEN.replacen(
        "WHERE c.id = ?1",
        "WHERE c.id > ?1 AND (?2 IS NULL OR c.owner = ?2) ORDER BY c.id LIMIT ?3",
        1,
    )
});

/// [`CUSTOMER_TO_OPEN`] and the customer's blind-index hashes as one more
/// column (hex, comma-separated, `e`/`p` for the kind): one statement, since
/// a statement's setup and teardown cost more than the lookups themselves.
static LOAD_CUSTOMER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    CUSTOMER_TO_OPEN.replacen(
        " FROM customers c",
        ", (SELECT group_concat(CASE l.kind WHEN 'email' THEN 'e' ELSE 'p' END || hex(l.hash), ',') \
         FROM customer_lookups l WHERE l.customer_id = c.id) FROM customers c",
        1,
    )
});

fn load_customer(conn: &Connection, id: &str) -> rusqlite::Result<Option<SealedCustomer>> {
    let row = conn
        .prepare_cached(&LOAD_CUSTOMER)?
        .query_row([id], |r| {
            Ok((customer_to_open_from_row(r)?, r.get::<_, Option<String>>(12)?))
        })
        .optional()?;
    let Some((CustomerToOpen { meta, key, fields }, lookups)) = row else {
        return Ok(None);
    };
    let lookups = lookups
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let kind = if l.starts_with('e') {
                LookupKind::Email
            } else {
                LookupKind::Phone
            };
            l.get(1..).and_then(hash_from_hex).map(|h| (kind, h))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| corrupt_customer(&meta.id.0, "a blind-index hash is not 16 bytes"))?;
    Ok(Some(SealedCustomer {
        meta,
        key,
        fields,
        lookups,
    }))
}

fn load_customer_to_open(conn: &Connection, id: &str) -> rusqlite::Result<Option<CustomerToOpen>> {
    conn.prepare_cached(CUSTOMER_TO_OPEN)?
        .query_row([id], customer_to_open_from_row)
        .optional()
}

/// The customer of a [`CUSTOMER_TO_OPEN`] row; corrupt when its data key is missing.
fn customer_to_open_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CustomerToOpen> {
    let meta = customer_meta_from_row(r)?;
    let (Some(kek_version), Some(sealed)) = (r.get::<_, Option<u32>>(10)?, r.get::<_, Option<Vec<u8>>>(11)?) else {
        return Err(corrupt_customer(&meta.id.0, "its data key is missing"));
    };
    let fields = decode_fields(r.get_ref(9)?.as_blob()?).map_err(conversion)?;
    Ok(CustomerToOpen {
        meta,
        key: StoredKey { kek_version, sealed },
        fields,
    })
}

fn corrupt_customer(id: &str, problem: &str) -> rusqlite::Error {
    conversion(StoreError::Corrupt {
        what: format!("customer {id}"),
        problem: problem.into(),
    })
}

/// Parses the upper-case hex SQLite's `hex()` prints.
fn hash_from_hex(hex: &str) -> Option<[u8; 16]> {
    let digit = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let bytes = hex.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = digit(*pair.first()?)? << 4 | digit(*pair.get(1)?)?;
    }
    Some(out)
}

const INSERT_CUSTOMER: &str = "INSERT INTO customers (id, owner, team, territory, country, classification, compartments, created_ms, updated_ms, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// Writes one customer's row and wrapped key; its blind-index entries are
/// left in `lookups` for [`write_lookups`].
fn write_customer(
    tx: &rusqlite::Transaction<'_>,
    row: &SealedCustomer,
    lookups: &mut Vec<(LookupKind, [u8; 16], CustomerId)>,
) -> rusqlite::Result<()> {
    let m = &row.meta;
    tx.prepare_cached(INSERT_CUSTOMER)?.execute(params![
        m.id.0,
        m.owner.0,
        m.team.as_ref().map(|t| &t.0),
        m.territory,
        m.country,
        m.classification.level(),
        compartments_to_text(&m.compartments),
        m.created_ms,
        m.updated_ms,
        encode_fields(&row.fields),
    ])?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO data_keys (owner_kind, owner_id, kek_version, sealed) VALUES ('customer', ?1, ?2, ?3)",
    )?
    .execute(params![m.id.0, row.key.kek_version, row.key.sealed])?;
    lookups.extend(row.lookups.iter().map(|(kind, hash)| (*kind, *hash, m.id.clone())));
    Ok(())
}

/// Inserts blind-index entries in index order: random hashes inserted one by
/// one would touch a random page of the index each, sorted they fill pages
/// in sequence (a bulk import runs several times faster).
fn write_lookups(
    tx: &rusqlite::Transaction<'_>,
    lookups: &mut [(LookupKind, [u8; 16], CustomerId)],
) -> rusqlite::Result<()> {
    lookups.sort_unstable_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    let mut insert = tx.prepare_cached("INSERT INTO customer_lookups (kind, hash, customer_id) VALUES (?1, ?2, ?3)")?;
    for (kind, hash, id) in lookups.iter() {
        insert.execute(params![kind.as_str(), &hash[..], id.0])?;
    }
    Ok(())
}

fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(msg) if msg.contains("UNIQUE constraint failed"))
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn get_setting(&self, key: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
                [key, value],
            )
            .map(|_| ())
        })
    }

    fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            c.query_row("SELECT value FROM blobs WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    fn put_blob(&self, key: &str, value: &[u8]) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT OR REPLACE INTO blobs (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map(|_| ())
        })
    }

    fn upsert_people(&self, people: &[Person]) -> Result<()> {
        self.insert_tx(|tx| write_people(tx, people))
    }

    fn update_people(&self, change: &mut dyn FnMut(&[Person]) -> Result<crate::PeopleWrite>) -> Result<()> {
        let mut conn = self.vault.writer()?;
        let db = db_err(&self.vault.path);
        // Immediate: the database's write lock is taken before the read, so no other
        // connection, of this process or another, writes people between the read and
        // the commit (the writer mutex only keeps this process's own writes out).
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&db)?;
        let before = read_people(&tx).map_err(&db)?;
        let write = change(&before)?;
        write_teams(&tx, &write.teams).map_err(&db)?;
        write_people(&tx, &write.people).map_err(&db)?;
        tx.commit().map_err(&db)
    }

    fn get_person(&self, id: &PersonId) -> Result<Option<Person>> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {PERSON_COLS} FROM people WHERE id = ?1"))?
                .query_row([&id.0], person_from_row)
                .optional()
        })
    }

    fn list_people(&self) -> Result<Vec<Person>> {
        self.read(read_people)
    }

    fn people_by_email_user(&self, user: &str) -> Result<Vec<Person>> {
        let found: Vec<Person> = self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {PERSON_COLS} FROM people WHERE work_email LIKE ?1 ESCAPE '\\' ORDER BY id"
            ))?;
            let rows = stmt.query_map([crate::email_user_pattern(user)], person_from_row)?;
            rows.collect()
        })?;
        Ok(found
            .into_iter()
            .filter(|p| crate::email_user_is(&p.work_email, user))
            .collect())
    }

    fn upsert_teams(&self, teams: &[Team]) -> Result<()> {
        self.insert_tx(|tx| write_teams(tx, teams))
    }

    fn list_teams(&self) -> Result<Vec<Team>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id, name, department, territory, lead FROM teams ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(Team {
                    id: TeamId(r.get(0)?),
                    name: r.get(1)?,
                    department: r.get(2)?,
                    territory: r.get(3)?,
                    lead: r.get::<_, Option<String>>(4)?.map(PersonId),
                })
            })?;
            rows.collect()
        })
    }

    fn insert_customers(&self, rows: &[SealedCustomer]) -> Result<()> {
        self.insert_customer_batches(&mut std::iter::once(Ok(rows.to_vec())))
            .map(|_| ())
    }

    fn insert_customer_batches(&self, batches: &mut dyn Iterator<Item = Result<Vec<SealedCustomer>>>) -> Result<u64> {
        let mut conn = self.vault.writer()?;
        let db = db_err(&self.vault.path);
        let tx = conn.transaction().map_err(&db)?;
        let mut lookups = Vec::new();
        let mut count = 0u64;
        for batch in batches {
            for row in &batch? {
                write_customer(&tx, row, &mut lookups).map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                    {
                        StoreError::DuplicateCustomer(row.meta.id.clone())
                    }
                    other => db(other),
                })?;
                count += 1;
            }
        }
        write_lookups(&tx, &mut lookups).map_err(&db)?;
        tx.commit().map_err(&db)?;
        Ok(count)
    }

    fn get_customer(&self, id: &CustomerId) -> Result<Option<SealedCustomer>> {
        self.read(|c| load_customer(c, &id.0))
    }

    fn get_customer_to_open(&self, id: &CustomerId) -> Result<Option<CustomerToOpen>> {
        self.read(|c| load_customer_to_open(c, &id.0))
    }

    fn get_customers(&self, ids: &[CustomerId]) -> Result<Vec<SealedCustomer>> {
        self.read(|c| {
            // One read transaction: the customers come from one snapshot, and
            // its shared lock is taken once instead of once a customer (which
            // was a third of building the DLP index from a vault).
            let snapshot = c.unchecked_transaction()?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(row) = load_customer(&snapshot, &id.0)? {
                    out.push(row);
                }
            }
            Ok(out)
        })
    }

    fn customer_metas(&self, filter: &CustomerFilter) -> Result<Vec<CustomerMeta>> {
        self.read(|c| {
            let limit = filter.limit.map_or(-1, |l| l as i64);
            let after = filter.after.as_ref().map_or("", |a| a.0.as_str());
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {CUSTOMER_META_COLS} FROM customers WHERE id > ?1 AND (?2 IS NULL OR owner = ?2) ORDER BY id LIMIT ?3"
            ))?;
            let rows = stmt.query_map(params![after, filter.owner.as_ref().map(|o| &o.0), limit], customer_meta_from_row)?;
            rows.collect()
        })
    }

    fn customers_to_open(&self, filter: &CustomerFilter) -> Result<Vec<CustomerToOpen>> {
        self.read(|c| {
            let limit = filter.limit.map_or(-1, |l| l as i64);
            let after = filter.after.as_ref().map_or("", |a| a.0.as_str());
            let mut stmt = c.prepare_cached(&CUSTOMERS_TO_OPEN)?;
            let rows = stmt.query_map(
                params![after, filter.owner.as_ref().map(|o| &o.0), limit],
                customer_to_open_from_row,
            )?;
            rows.collect()
        })
    }

    fn find_customers(&self, kind: LookupKind, hash: &[u8; 16]) -> Result<Vec<CustomerId>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT customer_id FROM customer_lookups WHERE kind = ?1 AND hash = ?2 ORDER BY customer_id",
            )?;
            let rows = stmt.query_map(params![kind.as_str(), &hash[..]], |r| Ok(CustomerId(r.get(0)?)))?;
            rows.collect()
        })
    }

    fn update_customer(&self, row: &SealedCustomer) -> Result<()> {
        let id = row.meta.id.0.clone();
        let mut existed = true;
        self.insert_tx(|tx| {
            let n = tx.execute("DELETE FROM customers WHERE id = ?1", [&id])?;
            if n == 0 {
                existed = false;
                return Ok(());
            }
            tx.execute("DELETE FROM customer_lookups WHERE customer_id = ?1", [&id])?;
            let mut lookups = Vec::new();
            write_customer(tx, row, &mut lookups)?;
            write_lookups(tx, &mut lookups)
        })?;
        if existed {
            Ok(())
        } else {
            Err(StoreError::NotFound { kind: "customer", id })
        }
    }

    fn erase_customer(&self, id: &CustomerId) -> Result<bool> {
        let existed = self.write(|c| {
            let tx = c.transaction()?;
            let n = tx.execute("DELETE FROM customers WHERE id = ?1", [&id.0])?;
            tx.execute("DELETE FROM customer_lookups WHERE customer_id = ?1", [&id.0])?;
            tx.execute(
                "DELETE FROM data_keys WHERE owner_kind = 'customer' AND owner_id = ?1",
                [&id.0],
            )?;
            tx.commit()?;
            // Move the zeroed pages into the main file and empty the WAL, so no
            // older copy of the wrapped key survives in the log.
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(n > 0)
        })?;
        Ok(existed)
    }

    fn reserve_customer_numbers(&self, count: u64) -> Result<u64> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let first = self.write(|c| {
            // Immediate: the write lock is taken (waiting out busy_timeout) before the
            // counter is read. A deferred read of a counter another connection (a CLI
            // command beside the server) then writes cannot become a write, and failed
            // with "database is locked" at once (found in review).
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let stored: Option<String> = tx
                .query_row(
                    "SELECT value FROM settings WHERE key = ?1",
                    [crate::CUSTOMER_NUMBER_SETTING],
                    |r| r.get(0),
                )
                .optional()?;
            let first = match stored.and_then(|v| v.parse::<i64>().ok()) {
                Some(next) => next,
                None => tx.query_row(
                    "SELECT MAX(COUNT(*), COALESCE(MAX(CASE WHEN id GLOB 'C-[0-9]*' \
                     THEN CAST(SUBSTR(id, 3) AS INTEGER) END), 0)) + 1 FROM customers",
                    [],
                    |r| r.get::<_, i64>(0),
                )?,
            };
            tx.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
                params![crate::CUSTOMER_NUMBER_SETTING, first.saturating_add(count).to_string()],
            )?;
            tx.commit()?;
            Ok(first)
        })?;
        Ok(u64::try_from(first).unwrap_or(0))
    }

    fn count_customers(&self) -> Result<u64> {
        self.read(|c| c.query_row("SELECT COUNT(*) FROM customers", [], |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
    }

    fn insert_document(&self, doc: &SealedDocument) -> Result<()> {
        let m = &doc.meta;
        let result = self.insert_tx(|tx| {
            tx.execute(
                &format!("INSERT INTO documents ({DOCUMENT_META_COLS}, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    m.id.0,
                    m.title,
                    m.file_name,
                    m.kind.as_str(),
                    m.custodian.0,
                    m.classification.level(),
                    compartments_to_text(&m.compartments),
                    m.size as i64,
                    m.content_sha256,
                    m.created_ms,
                    doc.body,
                ],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO data_keys (owner_kind, owner_id, kek_version, sealed) VALUES ('document', ?1, ?2, ?3)",
                params![m.id.0, doc.key.kek_version, doc.key.sealed],
            )?;
            Ok(())
        });
        match result {
            Err(e) if is_unique_violation(&e) => Err(StoreError::DuplicateDocument(m.id.clone())),
            other => other,
        }
    }

    fn get_document(&self, id: &DocumentId) -> Result<Option<SealedDocument>> {
        self.read(|c| {
            let row = c
                .prepare_cached(&format!(
                    "SELECT {DOCUMENT_META_COLS}, body FROM documents WHERE id = ?1"
                ))?
                .query_row([&id.0], |r| Ok((document_meta_from_row(r)?, r.get::<_, Vec<u8>>(10)?)))
                .optional()?;
            let Some((meta, body)) = row else {
                return Ok(None);
            };
            let key = load_key(c, "document", &id.0)?.ok_or_else(|| {
                conversion(StoreError::Corrupt {
                    what: format!("document {id}"),
                    problem: "its data key is missing".into(),
                })
            })?;
            Ok(Some(SealedDocument { meta, key, body }))
        })
    }

    fn list_documents(&self) -> Result<Vec<DocumentMeta>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("SELECT {DOCUMENT_META_COLS} FROM documents ORDER BY id"))?;
            let rows = stmt.query_map([], document_meta_from_row)?;
            rows.collect()
        })
    }

    fn wrapped_keys(&self, after: Option<&KeyOwner>, limit: usize) -> Result<Vec<(KeyOwner, StoredKey)>> {
        let (after_kind, after_id) = after.map_or(("", ""), |a| a.split());
        let rows: Vec<(String, String, u32, Vec<u8>)> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT owner_kind, owner_id, kek_version, sealed FROM data_keys
                 WHERE (owner_kind, owner_id) > (?1, ?2) ORDER BY owner_kind, owner_id LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![after_kind, after_id, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect()
        })?;
        rows.into_iter()
            .map(|(kind, id, kek_version, sealed)| Ok((KeyOwner::join(&kind, id)?, StoredKey { kek_version, sealed })))
            .collect()
    }

    fn wrapped_key(&self, owner: &KeyOwner) -> Result<Option<StoredKey>> {
        let (kind, id) = owner.split();
        self.read(|c| load_key(c, kind, id))
    }

    fn insert_wrapped_key(&self, owner: &KeyOwner, key: &StoredKey) -> Result<bool> {
        let (kind, id) = owner.split();
        self.write(|c| {
            c.execute(
                "INSERT INTO data_keys (owner_kind, owner_id, kek_version, sealed) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(owner_kind, owner_id) DO NOTHING",
                params![kind, id, key.kek_version, key.sealed],
            )
            .map(|n| n > 0)
        })
    }

    fn replace_wrapped_keys(&self, keys: &[(KeyOwner, StoredKey)]) -> Result<()> {
        self.insert_tx(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE data_keys SET kek_version = ?3, sealed = ?4 WHERE owner_kind = ?1 AND owner_id = ?2",
            )?;
            for (owner, key) in keys {
                let (kind, id) = owner.split();
                stmt.execute(params![kind, id, key.kek_version, key.sealed])?;
            }
            Ok(())
        })
    }

    fn current_policy(&self) -> Result<Option<StoredPolicy>> {
        self.read(|c| {
            c.query_row(
                "SELECT version, text, author, at_ms FROM policies ORDER BY version DESC LIMIT 1",
                [],
                |r| {
                    Ok(StoredPolicy {
                        version: r.get::<_, i64>(0)? as u64,
                        text: r.get(1)?,
                        author: PersonId(r.get(2)?),
                        at: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    fn put_policy(&self, text: &str, author: &PersonId, at: UnixMillis) -> Result<u64> {
        self.write(|c| {
            c.execute(
                "INSERT INTO policies (text, author, at_ms) VALUES (?1, ?2, ?3)",
                params![text, author.0, at],
            )?;
            Ok(c.last_insert_rowid() as u64)
        })
    }

    fn insert_pending_export(&self, e: &PendingExport) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT INTO pending_exports (id, requester, filter, format, justification, created_ms, state, decided_by, decided_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    e.id,
                    e.requester.0,
                    e.filter,
                    e.format,
                    e.justification,
                    e.created_ms,
                    e.state.as_str(),
                    e.decided_by.as_ref().map(|p| p.0.as_str()),
                    e.decided_ms
                ],
            )?;
            Ok(())
        })
    }

    fn get_pending_export(&self, id: &str) -> Result<Option<PendingExport>> {
        let row = self.read(|c| {
            c.query_row(
                &format!("SELECT {EXPORT_COLS} FROM pending_exports WHERE id = ?1"),
                [id],
                export_row,
            )
            .optional()
        })?;
        row.map(export_from_row).transpose()
    }

    fn pending_exports(&self, state: ExportState) -> Result<Vec<PendingExport>> {
        let rows = self.read(|c| {
            let mut q = c.prepare(&format!(
                "SELECT {EXPORT_COLS} FROM pending_exports WHERE state = ?1 ORDER BY created_ms, id"
            ))?;
            let rows = q
                .query_map([state.as_str()], export_row)?
                .collect::<rusqlite::Result<Vec<_>>>();
            rows
        })?;
        rows.into_iter().map(export_from_row).collect()
    }

    fn transition_export(
        &self,
        id: &str,
        from: ExportState,
        to: ExportState,
        by: Option<&PersonId>,
        at: UnixMillis,
    ) -> Result<bool> {
        self.write(|c| {
            let n = c.execute(
                "UPDATE pending_exports SET state = ?1, decided_by = COALESCE(?2, decided_by),
                 decided_ms = CASE WHEN ?2 IS NULL THEN decided_ms ELSE ?3 END WHERE id = ?4 AND state = ?5",
                params![to.as_str(), by.map(|p| p.0.as_str()), at, id, from.as_str()],
            )?;
            Ok(n == 1)
        })
    }
}

const EXPORT_COLS: &str = "id, requester, filter, format, justification, created_ms, state, decided_by, decided_ms";

type ExportRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
);

fn export_row(r: &Row<'_>) -> rusqlite::Result<ExportRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn export_from_row(r: ExportRow) -> Result<PendingExport> {
    let (id, requester, filter, format, justification, created_ms, state, decided_by, decided_ms) = r;
    Ok(PendingExport {
        id,
        requester: PersonId(requester),
        filter,
        format,
        justification,
        created_ms,
        state: ExportState::parse(&state)?,
        decided_by: decided_by.map(PersonId),
        decided_ms,
    })
}

fn hash_column(r: &Row<'_>, i: usize) -> rusqlite::Result<[u8; 32]> {
    let hash: Vec<u8> = r.get(i)?;
    hash.as_slice().try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Blob,
            format!("token hash has {} bytes, expected 32", hash.len()).into(),
        )
    })
}

fn token_from_row(r: &Row<'_>) -> rusqlite::Result<crate::ApiTokenRecord> {
    let scopes: String = r.get(4)?;
    Ok(crate::ApiTokenRecord {
        id: r.get(0)?,
        token_hash: hash_column(r, 1)?,
        person: PersonId(r.get(2)?),
        name: r.get(3)?,
        scopes: crate::auth::split_scopes(&scopes),
        created_ms: r.get(5)?,
        expires_ms: r.get(6)?,
        revoked: r.get(7)?,
    })
}

/// A row of [`crate::auth::SESSION_WITH_HOLDER`] or [`crate::auth::TOKEN_WITH_HOLDER`]: the credential's columns,
/// then `sessions_valid_after`, the generation setting, then the holder's
/// (all NULL when removed).
fn with_holder_from_row<T>(
    r: &Row<'_>,
    credential: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
    credential_cols: &str,
) -> rusqlite::Result<crate::WithHolder<T>> {
    let after = crate::auth::column_count(credential_cols);
    let present: Option<String> = r.get(after + 2)?;
    Ok(crate::WithHolder {
        credential: credential(r)?,
        sessions_valid_after: r.get(after)?,
        generation: r.get(after + 1)?,
        person: present.map(|_| person_from_columns(r, after + 2)).transpose()?,
    })
}

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<crate::SessionRecord> {
    let token_hash = hash_column(r, 1)?;
    Ok(crate::SessionRecord {
        id: r.get(0)?,
        token_hash,
        person: PersonId(r.get(2)?),
        created_ms: r.get(3)?,
        last_seen_ms: r.get(4)?,
        expires_ms: r.get(5)?,
        idle_timeout_ms: r.get(6)?,
        revoked: r.get(7)?,
        mfa_ms: r.get(8)?,
    })
}

impl crate::AuthStore for SqliteStore {
    fn set_credential(&self, person: &PersonId, phc: &str) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT OR REPLACE INTO credentials (person, phc) VALUES (?1, ?2)",
                params![person.0, phc],
            )
            .map(|_| ())
        })
    }

    fn credential(&self, person: &PersonId) -> Result<Option<String>> {
        self.read(|c| {
            c.query_row("SELECT phc FROM credentials WHERE person = ?1", [&person.0], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    fn insert_session(&self, s: &crate::SessionRecord) -> Result<()> {
        self.write(|c| {
            c.execute(
                &format!("INSERT INTO sessions ({SESSION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    s.id,
                    s.token_hash.as_slice(),
                    s.person.0,
                    s.created_ms,
                    s.last_seen_ms,
                    s.expires_ms,
                    s.idle_timeout_ms,
                    s.revoked,
                    s.mfa_ms
                ],
            )
            .map(|_| ())
        })
    }

    fn session_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<crate::SessionRecord>> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = ?1"))?
                .query_row([token_hash.as_slice()], session_from_row)
                .optional()
        })
    }

    fn session_with_holder(&self, token_hash: &[u8; 32]) -> Result<Option<crate::WithHolder<crate::SessionRecord>>> {
        self.read(|c| {
            c.prepare_cached(&SESSION_WITH_HOLDER)?
                .query_row([token_hash.as_slice()], |r| {
                    with_holder_from_row(r, session_from_row, SESSION_COLS)
                })
                .optional()
        })
    }

    fn sessions_of(&self, person: &PersonId) -> Result<Vec<crate::SessionRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE person = ?1 ORDER BY created_ms, id"
            ))?;
            let rows = stmt.query_map([&person.0], session_from_row)?;
            rows.collect()
        })
    }

    fn touch_session(&self, id: &str, at: UnixMillis) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE sessions SET last_seen_ms = MAX(last_seen_ms, ?2) WHERE id = ?1",
                params![id, at],
            )
            .map(|_| ())
        })
    }

    fn revoke_session(&self, id: &str) -> Result<bool> {
        self.write(|c| {
            c.execute("UPDATE sessions SET revoked = 1 WHERE id = ?1", [id])
                .map(|n| n > 0)
        })
    }

    fn revoke_credentials(&self, person: &PersonId, keep_session: Option<&str>) -> Result<()> {
        self.insert_tx(|tx| revoke_credentials(tx, person, keep_session))
    }

    fn sessions_valid_after(&self, person: &PersonId) -> Result<UnixMillis> {
        self.read(|c| {
            c.query_row(
                "SELECT sessions_valid_after FROM auth_people WHERE person = ?1",
                [&person.0],
                |r| r.get(0),
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
    }

    fn revoke_sessions_before(&self, person: &PersonId, at: UnixMillis) -> Result<()> {
        self.write(|c| {
            c.execute(
                "INSERT INTO auth_people (person, sessions_valid_after) VALUES (?1, ?2)
                 ON CONFLICT(person) DO UPDATE SET sessions_valid_after = MAX(sessions_valid_after, ?2)",
                params![person.0, at],
            )
            .map(|_| ())
        })
    }

    fn login_failures(&self, person: &PersonId) -> Result<crate::LoginFailures> {
        self.read(|c| {
            c.query_row(
                "SELECT failures, last_failure_ms FROM auth_people WHERE person = ?1",
                [&person.0],
                |r| {
                    Ok(crate::LoginFailures {
                        count: r.get(0)?,
                        last_ms: r.get(1)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
    }

    fn count_login_attempt(&self, person: &PersonId, seen: crate::LoginFailures, at: UnixMillis) -> Result<bool> {
        self.write(|c| {
            c.execute(
                "INSERT INTO auth_people (person, failures, last_failure_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT(person) DO UPDATE SET failures = failures + 1, last_failure_ms = ?2
                 WHERE failures = ?3 AND last_failure_ms = ?4",
                params![person.0, at, seen.count, seen.last_ms],
            )
            .map(|n| n > 0)
        })
    }

    fn clear_login_failures(&self, person: &PersonId) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE auth_people SET failures = 0, last_failure_ms = 0 WHERE person = ?1",
                [&person.0],
            )
            .map(|_| ())
        })
    }

    fn address_failures(&self, address: &str) -> Result<crate::LoginFailures> {
        self.read(|c| {
            c.query_row(
                "SELECT failures, last_failure_ms FROM auth_addresses WHERE address = ?1",
                [address],
                |r| {
                    Ok(crate::LoginFailures {
                        count: r.get(0)?,
                        last_ms: r.get(1)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
    }

    fn record_address_failure(
        &self,
        address: &str,
        at: UnixMillis,
        fresh_after: UnixMillis,
    ) -> Result<crate::LoginFailures> {
        self.write(|c| {
            c.query_row(
                "INSERT INTO auth_addresses (address, failures, last_failure_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT(address) DO UPDATE SET
                   failures = CASE WHEN last_failure_ms < ?3 THEN 1 ELSE failures + 1 END, last_failure_ms = ?2
                 RETURNING failures, last_failure_ms",
                params![address, at, fresh_after],
                |r| {
                    Ok(crate::LoginFailures {
                        count: r.get(0)?,
                        last_ms: r.get(1)?,
                    })
                },
            )
        })
    }

    fn set_session_mfa(&self, id: &str, at: UnixMillis) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE sessions SET mfa_ms = MAX(mfa_ms, ?2) WHERE id = ?1",
                params![id, at],
            )
            .map(|_| ())
        })
    }

    fn totp(&self, person: &PersonId) -> Result<crate::TotpRecord> {
        self.read(|c| {
            c.query_row(
                "SELECT secret, pending, last_step, sealed FROM totp WHERE person = ?1",
                [&person.0],
                |r| {
                    Ok(crate::TotpRecord {
                        secret: r.get(0)?,
                        pending: r.get(1)?,
                        last_step: r.get(2)?,
                        sealed: r.get(3)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
    }

    fn set_pending_totp(&self, person: &PersonId, sealed_secret: &[u8]) -> Result<bool> {
        self.write(|c| {
            c.execute(
                "INSERT INTO totp (person, secret, pending, sealed) VALUES (?1, x'', ?2, 1)
                 ON CONFLICT(person) DO UPDATE SET pending = ?2 WHERE totp.sealed = 1",
                params![person.0, sealed_secret],
            )
            .map(|n| n > 0)
        })
    }

    fn seal_totp(&self, person: &PersonId, found: &crate::TotpRecord, secret: &[u8], pending: &[u8]) -> Result<bool> {
        self.write(|c| {
            c.execute(
                "UPDATE totp SET secret = ?4, pending = ?5, sealed = 1
                 WHERE person = ?1 AND sealed = 0 AND secret = ?2 AND pending = ?3",
                params![person.0, found.secret, found.pending, secret, pending],
            )
            .map(|n| n > 0)
        })
    }

    fn unsealed_totp(&self) -> Result<Vec<PersonId>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT person FROM totp WHERE sealed = 0 ORDER BY person")?;
            let rows = stmt.query_map([], |r| r.get(0).map(PersonId))?;
            rows.collect()
        })
    }

    fn confirm_totp(&self, person: &PersonId, step: i64, recovery_hashes: &[[u8; 32]]) -> Result<bool> {
        self.write(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE totp SET secret = pending, pending = x'', last_step = ?2
                 WHERE person = ?1 AND length(pending) > 0 AND last_step < ?2",
                params![person.0, step],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.execute("DELETE FROM recovery_codes WHERE person = ?1", [&person.0])?;
            for h in recovery_hashes {
                tx.execute(
                    "INSERT INTO recovery_codes (person, code_hash) VALUES (?1, ?2)",
                    params![person.0, h.as_slice()],
                )?;
            }
            tx.commit()?;
            Ok(true)
        })
    }

    fn use_totp_step(&self, person: &PersonId, step: i64) -> Result<bool> {
        self.write(|c| {
            c.execute(
                "UPDATE totp SET last_step = ?2 WHERE person = ?1 AND length(secret) > 0 AND last_step < ?2",
                params![person.0, step],
            )
            .map(|n| n > 0)
        })
    }

    fn use_recovery_code(&self, person: &PersonId, code_hash: &[u8; 32]) -> Result<bool> {
        self.write(|c| {
            c.execute(
                "DELETE FROM recovery_codes WHERE person = ?1 AND code_hash = ?2",
                params![person.0, code_hash.as_slice()],
            )
            .map(|n| n > 0)
        })
    }

    fn recovery_codes_left(&self, person: &PersonId) -> Result<u64> {
        self.read(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM recovery_codes WHERE person = ?1",
                [&person.0],
                |r| r.get(0),
            )
        })
    }

    fn insert_api_token(&self, t: &crate::ApiTokenRecord) -> Result<()> {
        self.write(|c| {
            c.execute(
                &format!("INSERT INTO api_tokens ({TOKEN_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    t.id,
                    t.token_hash.as_slice(),
                    t.person.0,
                    t.name,
                    t.scopes.join(","),
                    t.created_ms,
                    t.expires_ms,
                    t.revoked
                ],
            )
            .map(|_| ())
        })
    }

    fn api_token_by_hash(&self, token_hash: &[u8; 32]) -> Result<Option<crate::ApiTokenRecord>> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = ?1"))?
                .query_row([token_hash.as_slice()], token_from_row)
                .optional()
        })
    }

    fn api_token_with_holder(&self, token_hash: &[u8; 32]) -> Result<Option<crate::WithHolder<crate::ApiTokenRecord>>> {
        self.read(|c| {
            c.prepare_cached(&TOKEN_WITH_HOLDER)?
                .query_row([token_hash.as_slice()], |r| {
                    with_holder_from_row(r, token_from_row, TOKEN_COLS)
                })
                .optional()
        })
    }

    fn api_tokens_of(&self, person: &PersonId) -> Result<Vec<crate::ApiTokenRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {TOKEN_COLS} FROM api_tokens WHERE person = ?1 ORDER BY created_ms, id"
            ))?;
            let rows = stmt.query_map([&person.0], token_from_row)?;
            rows.collect()
        })
    }

    fn revoke_api_token(&self, person: &PersonId, id: &str) -> Result<bool> {
        self.write(|c| {
            c.execute(
                "UPDATE api_tokens SET revoked = 1 WHERE id = ?1 AND person = ?2",
                params![id, person.0],
            )
            .map(|n| n > 0)
        })
    }

    fn any_credential(&self) -> Result<bool> {
        self.read(|c| c.query_row("SELECT EXISTS (SELECT 1 FROM credentials)", [], |r| r.get(0)))
    }

    fn put_bootstrap_code(
        &self,
        code_hash: &[u8; 32],
        now: UnixMillis,
        expires_ms: UnixMillis,
        replace: bool,
    ) -> Result<crate::BootstrapIssue> {
        self.write(|c| {
            // IMMEDIATE: another process on this file waits instead of racing the read.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let any: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM credentials)", [], |r| r.get(0))?;
            if any {
                return Ok(crate::BootstrapIssue::Over);
            }
            // One statement decides: the slot is taken only when free, expired or replaced.
            let stored = tx.execute(
                "INSERT INTO bootstrap_codes (slot, code_hash, issued_ms, expires_ms) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT(slot) DO UPDATE SET code_hash = ?1, issued_ms = ?2, expires_ms = ?3
                 WHERE bootstrap_codes.expires_ms <= ?2 OR ?4",
                params![code_hash.as_slice(), now, expires_ms, replace],
            )?;
            let outcome = if stored > 0 {
                crate::BootstrapIssue::Issued
            } else {
                let (issued_ms, expires_ms) = tx.query_row(
                    "SELECT issued_ms, expires_ms FROM bootstrap_codes WHERE slot = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                crate::BootstrapIssue::Pending { issued_ms, expires_ms }
            };
            tx.commit()?;
            Ok(outcome)
        })
    }

    fn check_bootstrap_code(&self, code_hash: &[u8; 32], now: UnixMillis) -> Result<crate::BootstrapOutcome> {
        self.read(|c| {
            let any: bool = c.query_row("SELECT EXISTS (SELECT 1 FROM credentials)", [], |r| r.get(0))?;
            if any {
                return Ok(crate::BootstrapOutcome::AlreadyBootstrapped);
            }
            let expires_ms: Option<i64> = c
                .query_row(
                    "SELECT expires_ms FROM bootstrap_codes WHERE code_hash = ?1",
                    [code_hash.as_slice()],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(match expires_ms {
                None => crate::BootstrapOutcome::UnknownCode,
                Some(e) if e <= now => crate::BootstrapOutcome::Expired,
                Some(_) => crate::BootstrapOutcome::Done,
            })
        })
    }

    fn consume_bootstrap_code(
        &self,
        code_hash: &[u8; 32],
        person: &PersonId,
        phc: &str,
        now: UnixMillis,
    ) -> Result<crate::BootstrapOutcome> {
        self.write(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let any: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM credentials)", [], |r| r.get(0))?;
            if any {
                return Ok(crate::BootstrapOutcome::AlreadyBootstrapped);
            }
            let expires_ms: Option<i64> = tx
                .query_row(
                    "SELECT expires_ms FROM bootstrap_codes WHERE code_hash = ?1",
                    [code_hash.as_slice()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(expires_ms) = expires_ms else {
                return Ok(crate::BootstrapOutcome::UnknownCode);
            };
            tx.execute(
                "DELETE FROM bootstrap_codes WHERE code_hash = ?1",
                [code_hash.as_slice()],
            )?;
            if expires_ms <= now {
                tx.commit()?;
                return Ok(crate::BootstrapOutcome::Expired);
            }
            tx.execute(
                "INSERT INTO credentials (person, phc) VALUES (?1, ?2)",
                params![person.0, phc],
            )?;
            tx.commit()?;
            Ok(crate::BootstrapOutcome::Done)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn schema_version_is_the_number_of_migrations() {
        assert_eq!(super::MIGRATIONS.len() as i64, super::SCHEMA_VERSION);
    }

    /// A customer whose wrapped data key was deleted behind the store's back
    /// is reported as corrupt, naming it, by both ways of reading it.
    #[test]
    fn a_customer_without_its_data_key_is_corrupt() {
        use crate::Store;
        let dir = tempfile::tempdir().unwrap();
        let store = super::SqliteStore::create(dir.path()).unwrap();
        let customer = crate::conformance::sample_customer("C-1", "p-1");
        store.insert_customers(std::slice::from_ref(&customer)).unwrap();
        let conn = rusqlite::Connection::open(dir.path().join(super::DB_FILE)).unwrap();
        assert_eq!(conn.execute("DELETE FROM data_keys", []).unwrap(), 1);
        let corrupt = |e: crate::StoreError| {
            let message = e.to_string();
            assert!(
                message.contains("customer C-1") && message.contains("data key is missing"),
                "{message}"
            );
        };
        corrupt(store.get_customer(&customer.meta.id).unwrap_err());
        corrupt(store.get_customer_to_open(&customer.meta.id).unwrap_err());
    }

    /// Commits leave their pages in the write-ahead log; the checkpointer,
    /// not the test and not a commit, moves them into the database file.
    #[test]
    fn the_checkpointer_moves_the_log_into_the_database() {
        use crate::Store;
        let dir = tempfile::tempdir().unwrap();
        let store = super::SqliteStore::create(dir.path()).unwrap();
        let db = dir.path().join(super::DB_FILE);
        let size = || std::fs::metadata(&db).unwrap().len();
        let before = size();
        for i in 0..200 {
            store.put_setting(&format!("bulk-{i}"), &"x".repeat(2000)).unwrap();
        }
        // Waits without sleeping: nothing is ever sent on this channel.
        let (_never, wait) = std::sync::mpsc::channel::<()>();
        let grown = (0..100).any(|_| {
            let _ = wait.recv_timeout(std::time::Duration::from_millis(100));
            size() > before + 300_000
        });
        assert!(grown, "the database file stayed at {} bytes", size());
    }

    /// A data directory of schema 7 keeps its TOTP rows, marked as holding
    /// secrets in clear until the server seals them; its bootstrap code is
    /// void (it had no expiry; a server start issues a new one).
    #[test]
    fn totp_rows_of_schema_7_await_sealing_after_upgrade() {
        use crate::AuthStore;
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = rusqlite::Connection::open(dir.path().join(super::DB_FILE)).unwrap();
            for sql in &super::MIGRATIONS[..7] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 7).unwrap();
            conn.execute_batch(
                "INSERT INTO totp (person, secret, pending, last_step) VALUES ('fin', x'0102', x'', 77);
                 INSERT INTO bootstrap_codes (code_hash) VALUES (zeroblob(32));",
            )
            .unwrap();
        }
        let store = super::SqliteStore::open(dir.path()).unwrap();
        let fin = model::PersonId("fin".into());
        let found = store.totp(&fin).unwrap();
        assert_eq!(
            (found.secret.as_slice(), found.last_step, found.sealed),
            (&[1u8, 2][..], 77, false)
        );
        assert_eq!(store.unsealed_totp().unwrap(), vec![fin.clone()]);
        assert!(
            !store.set_pending_totp(&fin, b"sealed-new").unwrap(),
            "no sealed secret beside one in clear"
        );
        let stale = crate::TotpRecord {
            secret: vec![9],
            ..found.clone()
        };
        assert!(
            !store.seal_totp(&fin, &stale, b"sealed", b"").unwrap(),
            "the row changed since read"
        );
        assert!(store.seal_totp(&fin, &found, b"sealed", b"").unwrap());
        let now = store.totp(&fin).unwrap();
        assert_eq!(
            (now.secret.as_slice(), now.last_step, now.sealed),
            (&b"sealed"[..], 77, true)
        );
        assert!(store.unsealed_totp().unwrap().is_empty());
        assert_eq!(
            store.consume_bootstrap_code(&[0; 32], &fin, "$argon2id$x", 0).unwrap(),
            crate::BootstrapOutcome::UnknownCode
        );
    }

    const V8_ORIGIN: &str = "custodia.test/v8";

    /// Writes a ledger of `n` entries into a database of schema 8 as that
    /// version stored it (each leaf hash in `ledger_tree` at position
    /// `idx * 64`, beside the higher nodes) under one signed checkpoint,
    /// leaving out the leaf row of `skip_leaf`. Returns the key and the root
    /// after each size (`roots[s]` for size `s`).
    fn ledger_of_schema_8(
        dir: &std::path::Path,
        n: u64,
        skip_leaf: Option<u64>,
    ) -> (ledger::SigningKey, Vec<ledger::Hash>) {
        let key = ledger::SigningKey::from_seed(V8_ORIGIN, &[3; 32]).unwrap();
        let mut conn = rusqlite::Connection::open(dir.join(super::DB_FILE)).unwrap();
        for sql in &super::MIGRATIONS[..8] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 8).unwrap();
        let tx = conn.transaction().unwrap();
        let mut frontier = ledger::merkle::Frontier::new();
        let mut roots = vec![frontier.root()];
        for index in 0..n {
            let entry = ledger::Entry {
                index,
                time: 1_700_000_000_000 + index as i64,
                actor: format!("person:p-{}", index % 7),
                action: "customer.read".into(),
                resources: vec![ledger::ResourceId::Customer(format!("C-{index}"))],
                decision: ledger::Decision::Allow,
                policies: vec!["rep-reads-own-accounts".into()],
                record_count: 1,
                withheld_count: 0,
                fields: vec!["name".into()],
                client: ledger::ClientContext::default(),
                justification: String::new(),
            };
            let bytes = entry.encode().unwrap();
            tx.execute(
                "INSERT INTO ledger_entries (idx, bytes) VALUES (?1, ?2)",
                rusqlite::params![index as i64, bytes],
            )
            .unwrap();
            frontier.push(ledger::leaf_hash(&bytes), |id, h| {
                let pos = (((id.index + 1) << id.level) - 1) * 64 + u64::from(id.level);
                if id.level > 0 || skip_leaf != Some(id.index) {
                    tx.execute(
                        "INSERT INTO ledger_tree (pos, hash) VALUES (?1, ?2)",
                        rusqlite::params![pos as i64, &h[..]],
                    )
                    .unwrap();
                }
            });
            roots.push(frontier.root());
        }
        let cp = ledger::Checkpoint {
            origin: V8_ORIGIN.into(),
            size: n,
            root: frontier.root(),
            time: 5,
        };
        tx.execute(
            "INSERT INTO ledger_checkpoints (size, time_ms, text) VALUES (?1, 5, ?2)",
            rusqlite::params![n as i64, cp.sign(&key).unwrap()],
        )
        .unwrap();
        tx.commit().unwrap();
        (key, roots)
    }

    /// A ledger of schema 8 verifies after the upgrade with the same root,
    /// its proofs (which read leaves from the entry rows now) still verify,
    /// no leaf is left in the tree table, and the ledger appends on.
    #[test]
    fn leaf_hashes_move_into_the_entry_rows_on_upgrade() {
        use ledger::LedgerStore;
        let dir = tempfile::tempdir().unwrap();
        let n = 301;
        let (key, roots) = ledger_of_schema_8(dir.path(), n, None);
        let root = roots[n as usize];
        let store = std::sync::Arc::new(super::SqliteStore::open(dir.path()).unwrap());
        let vk = key.verifying_key();
        let report = ledger::verify(&*store, &vk, None);
        assert!(report.is_ok(), "{:?}", report.findings);
        assert_eq!((report.entries_checked, report.root), (n, root));
        for index in [0, 1, 150, 299, 300] {
            let proof = ledger::inclusion_proof(&*store, index, n).unwrap();
            let bytes = store.get_entries(&[index]).unwrap()[0].clone().unwrap();
            ledger::verify_inclusion(index, n, &ledger::leaf_hash(&bytes), &proof, &root).unwrap();
        }
        // 77 leaves: the root at that size needs the leaf of entry 76 alone
        assert_eq!(ledger::root_from_store(&*store, 77).unwrap(), roots[77]);
        let proof = ledger::consistency_proof(&*store, 77, n).unwrap();
        ledger::verify_consistency(77, n, &roots[77], &root, &proof).unwrap();
        let leaf_rows: i64 = store
            .ledger_read(|c| c.query_row("SELECT COUNT(*) FROM ledger_tree WHERE pos % 64 = 0", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(leaf_rows, 0);
        let left_in_vault: i64 = store
            .read(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'ledger%'",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(left_in_vault, 0, "the ledger's tables moved to their own file");
        // an odd size: reopening reads the last leaf from its entry row
        let ledger = ledger::Ledger::open(
            std::sync::Arc::clone(&store),
            key,
            std::sync::Arc::new(model::ManualClock::new(0)),
            ledger::LedgerConfig::new(V8_ORIGIN),
            Vec::new(),
        )
        .unwrap();
        let mut next = ledger::Entry::decode(&store.get_entries(&[0]).unwrap()[0].clone().unwrap()).unwrap();
        next.index = 0;
        assert_eq!(ledger.append(next).unwrap().index, n);
        ledger.checkpoint_now().unwrap();
        ledger.close();
        let report = ledger::verify(&*store, &vk, None);
        assert!(report.is_ok(), "{:?}", report.findings);
        assert_eq!(report.entries_checked, n + 1);
    }

    /// An upgrade interrupted after the ledger's rows were copied to their
    /// own file, but before the vault dropped its copy, copies them again on
    /// the next open, replacing what the first attempt left.
    #[test]
    fn an_interrupted_move_of_the_ledger_is_redone() {
        let dir = tempfile::tempdir().unwrap();
        let n = 90;
        let (key, roots) = ledger_of_schema_8(dir.path(), n, None);
        {
            let conn = rusqlite::Connection::open(dir.path().join(super::LEDGER_FILE)).unwrap();
            conn.execute_batch(super::LEDGER_MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute_batch(
                "INSERT INTO ledger_entries (idx, bytes, leaf) VALUES (0, x'00', x''), (500, x'01', x'');
                 INSERT INTO ledger_checkpoints (size, time_ms, text) VALUES (1, 1, 'half-copied');",
            )
            .unwrap();
        }
        let store = super::SqliteStore::open(dir.path()).unwrap();
        let report = ledger::verify(&store, &key.verifying_key(), None);
        assert!(report.is_ok(), "{:?}", report.findings);
        assert_eq!((report.entries_checked, report.root), (n, roots[n as usize]));
    }

    /// An entry of schema 8 whose leaf row was missing keeps its finding
    /// after the upgrade: its row has no leaf hash, and it alone is named.
    #[test]
    fn a_leaf_missing_before_the_upgrade_is_still_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = ledger_of_schema_8(dir.path(), 40, Some(21));
        let store = super::SqliteStore::open(dir.path()).unwrap();
        let report = ledger::verify(&store, &key.verifying_key(), None);
        assert_eq!(
            report.findings,
            vec![ledger::Finding::MissingNode {
                node: ledger::NodeId { level: 0, index: 21 }
            }]
        );
        assert_eq!(report.first_bad_entry(), Some(21));
    }

    /// A data directory of schema 6 (Merkle nodes keyed by level, then index)
    /// opens with every node where the ledger looks for it (leaves, since
    /// schema 9, in their entries' rows).
    #[test]
    fn ledger_nodes_move_to_the_tree_table_on_upgrade() {
        use ledger::LedgerStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::DB_FILE);
        let mut nodes = Vec::new();
        let mut frontier = ledger::merkle::Frontier::new();
        for i in 0u64..300 {
            frontier.push(ledger::leaf_hash(&i.to_le_bytes()), |id, h| nodes.push((id, *h)));
        }
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for sql in &super::MIGRATIONS[..6] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 6).unwrap();
            for i in 0u64..300 {
                conn.execute(
                    "INSERT INTO ledger_entries (idx, bytes) VALUES (?1, ?2)",
                    rusqlite::params![i as i64, &i.to_le_bytes()[..]],
                )
                .unwrap();
            }
            for (id, h) in &nodes {
                conn.execute(
                    "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
                    rusqlite::params![id.level, id.index as i64, &h[..]],
                )
                .unwrap();
            }
        }
        let store = super::SqliteStore::open(dir.path()).unwrap();
        let ids: Vec<ledger::NodeId> = nodes.iter().map(|(id, _)| *id).collect();
        let want: Vec<Option<ledger::Hash>> = nodes.iter().map(|(_, h)| Some(*h)).collect();
        assert_eq!(store.get_nodes(&ids).unwrap(), want);
        let scattered = [ids[7], ids[250], ids[3]];
        let got = store.get_nodes(&scattered).unwrap();
        assert_eq!(got, vec![want[7], want[250], want[3]]);
    }
}
