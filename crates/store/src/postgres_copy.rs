//! Moving an installation from SQLite to PostgreSQL (`custodia migrate`).
//!
//! Every table is copied row for row, bytes for bytes (ciphertext, wrapped
//! keys, ledger entries, subtree hashes and signed checkpoints are never
//! decoded), in one PostgreSQL transaction: the target holds all of it or,
//! on any error, nothing. The source is read in one read transaction, a
//! consistent snapshot even if a process writes to it meanwhile.

use postgres::types::ToSql;
use rusqlite::types::ValueRef;

use crate::postgres::{PgFail, LEDGER_LOCK};
use crate::{PostgresStore, Result, SqliteStore, StoreError};

#[derive(Clone, Copy)]
enum Ty {
    Text,
    OptText,
    Int,
    OptInt,
    Blob,
    Bool,
}

struct Table {
    name: &'static str,
    /// Columns of the SQLite query, in order; the PostgreSQL table has the
    /// same names.
    columns: &'static [(&'static str, Ty)],
    /// Extra SQL after `SELECT cols FROM name` (ordering, computed columns).
    order: &'static str,
}

use Ty::{Blob, Bool, Int, OptInt, OptText, Text};

/// Every table of the schema, in copy order. A table missing here that the
/// SQLite file has makes the migration refuse (nothing would be lost silently).
const TABLES: &[Table] = &[
    Table {
        name: "settings",
        columns: &[("key", Text), ("value", Text)],
        order: "ORDER BY key",
    },
    Table {
        name: "blobs",
        columns: &[("key", Text), ("value", Blob)],
        order: "ORDER BY key",
    },
    Table {
        name: "teams",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("department", Text),
            ("territory", OptText),
            ("lead", OptText),
        ],
        order: "ORDER BY id",
    },
    Table {
        name: "people",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("work_email", Text),
            ("department", Text),
            ("role", Text),
            ("team", OptText),
            ("manager", OptText),
            ("clearance", Int),
            ("compartments", Text),
            ("status", Text),
            ("notice_date", OptText),
            ("last_day", OptText),
            ("agreements", Text),
        ],
        order: "ORDER BY id",
    },
    Table {
        name: "customers",
        columns: &[
            ("id", Text),
            ("owner", Text),
            ("team", OptText),
            ("territory", OptText),
            ("country", OptText),
            ("classification", Int),
            ("compartments", Text),
            ("created_ms", Int),
            ("updated_ms", Int),
            ("fields", Blob),
        ],
        order: "ORDER BY id",
    },
    Table {
        name: "customer_lookups",
        // SQLite keeps a customer's lookups in insertion (rowid) order;
        // PostgreSQL keeps that order in `pos`.
        columns: &[("kind", Text), ("hash", Blob), ("customer_id", Text), ("pos", Int)],
        order: "ORDER BY customer_id, rowid",
    },
    Table {
        name: "documents",
        columns: &[
            ("id", Text),
            ("title", Text),
            ("file_name", Text),
            ("kind", Text),
            ("custodian", Text),
            ("classification", Int),
            ("compartments", Text),
            ("size", Int),
            ("content_sha256", Text),
            ("created_ms", Int),
            ("body", Blob),
        ],
        order: "ORDER BY id",
    },
    Table {
        name: "data_keys",
        columns: &[
            ("owner_kind", Text),
            ("owner_id", Text),
            ("kek_version", Int),
            ("sealed", Blob),
        ],
        order: "ORDER BY owner_kind, owner_id",
    },
    Table {
        name: "policies",
        columns: &[("version", Int), ("text", Text), ("author", Text), ("at_ms", Int)],
        order: "ORDER BY version",
    },
    Table {
        name: "credentials",
        columns: &[("person", Text), ("phc", Text)],
        order: "ORDER BY person",
    },
    Table {
        name: "sessions",
        columns: &[
            ("id", Text),
            ("token_hash", Blob),
            ("person", Text),
            ("created_ms", Int),
            ("last_seen_ms", Int),
            ("expires_ms", Int),
            ("idle_timeout_ms", Int),
            ("revoked", Bool),
            ("mfa_ms", Int),
        ],
        order: "ORDER BY id",
    },
    Table {
        name: "auth_people",
        columns: &[
            ("person", Text),
            ("sessions_valid_after", Int),
            ("failures", Int),
            ("last_failure_ms", Int),
        ],
        order: "ORDER BY person",
    },
    Table {
        name: "totp",
        columns: &[
            ("person", Text),
            ("secret", Blob),
            ("pending", Blob),
            ("last_step", Int),
            ("sealed", Bool),
        ],
        order: "ORDER BY person",
    },
    Table {
        name: "recovery_codes",
        columns: &[("person", Text), ("code_hash", Blob)],
        order: "ORDER BY person, code_hash",
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Text),
            ("token_hash", Blob),
            ("person", Text),
            ("name", Text),
            ("scopes", Text),
            ("created_ms", Int),
            ("expires_ms", Int),
            ("revoked", Bool),
        ],
        order: "ORDER BY id",
    },
    Table {
        name: "pending_exports",
        columns: &[
            ("id", Text),
            ("requester", Text),
            ("filter", Text),
            ("format", Text),
            ("justification", Text),
            ("created_ms", Int),
            ("state", Text),
            ("decided_by", OptText),
            ("decided_ms", OptInt),
        ],
        order: "ORDER BY id",
    },
    Table {
        name: "auth_addresses",
        columns: &[("address", Text), ("failures", Int), ("last_failure_ms", Int)],
        order: "ORDER BY address",
    },
    Table {
        name: "bootstrap_codes",
        columns: &[
            ("slot", Int),
            ("code_hash", Blob),
            ("issued_ms", Int),
            ("expires_ms", Int),
        ],
        order: "ORDER BY slot",
    },
    Table {
        name: "ledger_entries",
        columns: &[("idx", Int), ("bytes", Blob), ("leaf", Blob)],
        order: "ORDER BY idx",
    },
    Table {
        name: "ledger_tree",
        columns: &[("pos", Int), ("hash", Blob)],
        order: "ORDER BY pos",
    },
    Table {
        name: "ledger_checkpoints",
        // copied in the order written; PostgreSQL numbers them anew
        columns: &[("size", Int), ("time_ms", Int), ("text", Text)],
        order: "ORDER BY seq",
    },
];

/// Rows copied per table, in copy order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<(&'static str, u64)>,
}

impl CopyReport {
    /// Rows copied from `table`.
    pub fn rows(&self, table: &str) -> u64 {
        self.tables.iter().find(|(t, _)| *t == table).map_or(0, |(_, n)| *n)
    }
}

fn select_sql(t: &Table) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|(c, _)| match (t.name, *c) {
            ("customer_lookups", "pos") => "ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY rowid) - 1".to_owned(),
            _ => (*c).to_owned(),
        })
        .collect();
    format!("SELECT {} FROM {} {}", cols.join(", "), t.name, t.order)
}

fn insert_sql(t: &Table) -> String {
    let cols: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
    let params: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        t.name,
        cols.join(", "),
        params.join(", ")
    )
}

fn value(table: &str, column: &str, ty: Ty, v: ValueRef<'_>) -> Result<Box<dyn ToSql + Sync>> {
    let bad = || StoreError::Corrupt {
        what: format!("{table}.{column} in the SQLite database"),
        problem: format!("unexpected {:?} value", v.data_type()),
    };
    Ok(match (ty, v) {
        (Text | OptText, ValueRef::Text(s)) => Box::new(String::from_utf8(s.to_vec()).map_err(|_| bad())?),
        (OptText, ValueRef::Null) => Box::new(None::<String>),
        (Int, ValueRef::Integer(i)) => Box::new(i),
        (OptInt, ValueRef::Integer(i)) => Box::new(Some(i)),
        (OptInt, ValueRef::Null) => Box::new(None::<i64>),
        (Blob, ValueRef::Blob(b)) => Box::new(b.to_vec()),
        (Bool, ValueRef::Integer(i)) => Box::new(i != 0),
        _ => return Err(bad()),
    })
}

/// Copies everything in `from` into the empty database of `to`, in one
/// transaction. Refuses a target that holds any custodia data, and a source
/// with tables this build does not know.
pub fn copy_sqlite_to_postgres(from: &SqliteStore, to: &PostgresStore) -> Result<CopyReport> {
    let mut conn = to.conn()?;
    let pg = |e: postgres::Error| to.classify(PgFail::Pg(e));
    let mut tx = conn.transaction().map_err(pg)?;
    // no server may append to the ledger meanwhile
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LEDGER_LOCK])
        .map_err(pg)?;
    for t in TABLES {
        let busy: bool = tx
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {})", t.name), &[])
            .and_then(|r| r.try_get(0))
            .map_err(pg)?;
        if busy {
            return Err(StoreError::TargetNotEmpty {
                target: to.target().to_owned(),
                table: t.name,
            });
        }
    }
    // one snapshot of the source's two files, the ledger's attached as `ledger`
    let report = from.read_both(|snapshot| {
        let mut names = snapshot.prepare(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' \
             UNION ALL SELECT name FROM ledger.sqlite_master WHERE type = 'table' ORDER BY name",
        )?;
        let names: Vec<String> = names.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        if let Some(unknown) = names
            .iter()
            .find(|n| !n.starts_with("sqlite_") && !TABLES.iter().any(|t| t.name == n.as_str()))
        {
            return Ok(Err(StoreError::Database(format!(
                "the SQLite database has a table `{unknown}` this custodia cannot migrate; use the custodia version that created it"
            ))));
        }
        let mut report = CopyReport::default();
        for t in TABLES {
            let insert = match tx.prepare(&insert_sql(t)) {
                Ok(s) => s,
                Err(e) => return Ok(Err(pg(e))),
            };
            let mut stmt = snapshot.prepare(&select_sql(t))?;
            let mut rows = stmt.query([])?;
            let mut copied = 0u64;
            while let Some(row) = rows.next()? {
                let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(t.columns.len());
                for (i, (column, ty)) in t.columns.iter().enumerate() {
                    match value(t.name, column, *ty, row.get_ref(i)?) {
                        Ok(v) => params.push(v),
                        Err(e) => return Ok(Err(e)),
                    }
                }
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|b| b.as_ref()).collect();
                if let Err(e) = tx.execute(&insert, &refs) {
                    return Ok(Err(pg(e)));
                }
                copied += 1;
            }
            report.tables.push((t.name, copied));
        }
        Ok(Ok(report))
    })??;
    tx.commit().map_err(pg)?;
    Ok(report)
}
