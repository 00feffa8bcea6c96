//! The audit ledger's three tables in the SQLite database.

use std::collections::{BTreeMap, HashMap};

use ledger::{AppendBatch, Hash, LedgerStore, NodeId, StoreError as LedgerStoreError, StoredCheckpoint};
use rusqlite::{params, OptionalExtension};

use crate::{SqliteStore, StoreError};

fn backend(e: StoreError) -> LedgerStoreError {
    LedgerStoreError::Backend(e.to_string())
}

fn size_of(conn: &rusqlite::Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}

/// Rows per multi-row INSERT (3 parameters each, far below SQLite's limit).
const ROWS_PER_INSERT: usize = 64;

/// Runs `verb` (`INSERT`, or `INSERT OR REPLACE`) for `rows` into `table`
/// (`name (columns)`), `ROWS_PER_INSERT` per statement and the remainder one
/// by one; `bind` binds one row's values from parameter number `at` on.
fn insert_rows<T>(
    tx: &rusqlite::Transaction<'_>,
    verb: &str,
    table: &str,
    row: &str,
    rows: &[T],
    bind: impl Fn(&mut rusqlite::Statement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let width = row.matches('?').count();
    let chunks = rows.chunks_exact(ROWS_PER_INSERT);
    let rest = chunks.remainder();
    if rows.len() >= ROWS_PER_INSERT {
        let values = vec![row; ROWS_PER_INSERT].join(",");
        let mut stmt = tx.prepare_cached(&format!("{verb} INTO {table} VALUES {values}"))?;
        for chunk in chunks {
            for (i, r) in chunk.iter().enumerate() {
                bind(&mut stmt, i * width + 1, r)?;
            }
            stmt.raw_execute()?;
        }
    }
    let mut stmt = tx.prepare_cached(&format!("{verb} INTO {table} VALUES {row}"))?;
    for r in rest {
        bind(&mut stmt, 1, r)?;
        stmt.raw_execute()?;
    }
    Ok(())
}

impl LedgerStore for SqliteStore {
    fn size(&self) -> Result<u64, LedgerStoreError> {
        self.read(size_of).map_err(backend)
    }

    fn append_batch(&self, batch: &AppendBatch) -> Result<(), LedgerStoreError> {
        let mut conflict = None;
        self.write(|conn| {
            let tx = conn.transaction()?;
            let size = size_of(&tx)?;
            if size != batch.first_index {
                conflict = Some(size);
                return Ok(());
            }
            {
                // Many rows per statement: a batch of 256 entries writes some 768
                // rows, and one statement per row spent more time in SQLite's
                // statement machinery than in the B-tree. Only full chunks use the
                // multi-row form, so the statement cache holds one of each.
                let entries: Vec<(i64, &Vec<u8>)> = batch
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, bytes)| ((batch.first_index + i as u64) as i64, bytes))
                    .collect();
                insert_rows(
                    &tx,
                    "INSERT",
                    "ledger_entries (idx, bytes)",
                    "(?, ?)",
                    &entries,
                    |stmt, at, (idx, bytes)| {
                        stmt.raw_bind_parameter(at, idx)?;
                        stmt.raw_bind_parameter(at + 1, bytes)
                    },
                )?;
                // A renumbered batch may write a node again, so nodes replace.
                insert_rows(
                    &tx,
                    "INSERT OR REPLACE",
                    "ledger_nodes (level, idx, hash)",
                    "(?, ?, ?)",
                    &batch.nodes,
                    |stmt, at, (id, hash)| {
                        stmt.raw_bind_parameter(at, id.level)?;
                        stmt.raw_bind_parameter(at + 1, id.index as i64)?;
                        stmt.raw_bind_parameter(at + 2, &hash[..])
                    },
                )?;
                if let Some(cp) = &batch.checkpoint {
                    tx.prepare_cached("INSERT INTO ledger_checkpoints (size, time_ms, text) VALUES (?1, ?2, ?3)")?
                        .execute(params![cp.size as i64, cp.time, cp.text])?;
                }
            }
            // synchronous=FULL: the commit returns after the WAL is fsynced.
            tx.commit()
        })
        .map_err(backend)?;
        match conflict {
            Some(store_size) => Err(LedgerStoreError::Conflict {
                batch_first: batch.first_index,
                store_size,
            }),
            None => Ok(()),
        }
    }

    fn get_entries(&self, indexes: &[u64]) -> Result<Vec<Option<Vec<u8>>>, LedgerStoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT bytes FROM ledger_entries WHERE idx = ?1")?;
            indexes
                .iter()
                .map(|i| stmt.query_row([*i as i64], |r| r.get(0)).optional())
                .collect()
        })
        .map_err(backend)
    }

    fn scan_entries(&self, from: u64, limit: usize, visit: &mut dyn FnMut(u64, &[u8])) -> Result<(), LedgerStoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT idx, bytes FROM ledger_entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2")?;
            let mut rows = stmt.query(params![from as i64, limit as i64])?;
            while let Some(row) = rows.next()? {
                let idx: i64 = row.get(0)?;
                let bytes = row.get_ref(1)?.as_blob()?;
                visit(idx as u64, bytes);
            }
            Ok(())
        })
        .map_err(backend)
    }

    fn get_nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, LedgerStoreError> {
        self.read(|conn| {
            // Verification asks for dense runs of a level (read as one range
            // scan each, into an array: this lookup runs twice per entry
            // verified); proofs ask for a few scattered nodes (point reads).
            let mut by_level: BTreeMap<u8, Vec<u64>> = BTreeMap::new();
            for id in ids {
                by_level.entry(id.level).or_default().push(id.index);
            }
            let mut range =
                conn.prepare_cached("SELECT idx, hash FROM ledger_nodes WHERE level = ?1 AND idx BETWEEN ?2 AND ?3")?;
            let mut point = conn.prepare_cached("SELECT hash FROM ledger_nodes WHERE level = ?1 AND idx = ?2")?;
            // Indexed by level (a tree of 2^64 leaves has 65 levels).
            let mut dense: Vec<Option<(u64, Vec<Option<Hash>>)>> = vec![None; 65];
            let mut sparse: HashMap<(u8, u64), Hash> = HashMap::new();
            for (level, mut indexes) in by_level {
                indexes.sort_unstable();
                let (Some(&lo), Some(&hi)) = (indexes.first(), indexes.last()) else {
                    continue;
                };
                if indexes.len() >= 8 && hi - lo < 4 * indexes.len() as u64 {
                    let mut hashes = vec![None; (hi - lo + 1) as usize];
                    let mut rows = range.query(params![level, lo as i64, hi as i64])?;
                    while let Some(row) = rows.next()? {
                        let idx = row.get::<_, i64>(0)? as u64;
                        if let (Some(slot), Ok(h)) = (
                            hashes.get_mut(idx.wrapping_sub(lo) as usize),
                            <[u8; 32]>::try_from(row.get_ref(1)?.as_blob()?),
                        ) {
                            *slot = Some(h);
                        }
                    }
                    if let Some(slot) = dense.get_mut(usize::from(level)) {
                        *slot = Some((lo, hashes));
                    }
                } else {
                    for idx in indexes {
                        let blob: Option<Vec<u8>> =
                            point.query_row(params![level, idx as i64], |r| r.get(0)).optional()?;
                        if let Some(h) = blob.and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok()) {
                            sparse.insert((level, idx), h);
                        }
                    }
                }
            }
            Ok(ids
                .iter()
                .map(|id| match dense.get(usize::from(id.level)).and_then(Option::as_ref) {
                    Some((lo, hashes)) => hashes.get(id.index.wrapping_sub(*lo) as usize).copied().flatten(),
                    None => sparse.get(&(id.level, id.index)).copied(),
                })
                .collect())
        })
        .map_err(backend)
    }

    fn scan_checkpoints(&self, visit: &mut dyn FnMut(&StoredCheckpoint)) -> Result<(), LedgerStoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT size, time_ms, text FROM ledger_checkpoints ORDER BY seq")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                visit(&StoredCheckpoint {
                    size: row.get::<_, i64>(0)? as u64,
                    time: row.get(1)?,
                    text: row.get(2)?,
                });
            }
            Ok(())
        })
        .map_err(backend)
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, LedgerStoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT size, time_ms, text FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1",
                [],
                |row| {
                    Ok(StoredCheckpoint {
                        size: row.get::<_, i64>(0)? as u64,
                        time: row.get(1)?,
                        text: row.get(2)?,
                    })
                },
            )
            .optional()
        })
        .map_err(backend)
    }
}
