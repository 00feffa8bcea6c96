//! The audit ledger's three tables in PostgreSQL (entries with their leaf
//! hashes, the Merkle nodes above the leaves, checkpoints), with several writers.
//!
//! Servers sharing a database append to one log: each batch takes a
//! transaction-scoped advisory lock, then checks that its first index is the
//! stored size. A writer whose view is stale gets [`LedgerStoreError::Conflict`]
//! and its [`ledger::Ledger`] reloads the tree and retries; no index is ever
//! used twice and the log stays totally ordered.

use std::collections::HashMap;

use ledger::{AppendBatch, Hash, LedgerStore, NodeId, StoreError as LedgerStoreError, StoredCheckpoint, VisitEntry};

use crate::ledger_sqlite::{batch_positions, node_position};
use crate::postgres::{Lane, PgFail, LEDGER_LOCK, LEDGER_TURN};
use crate::postgres_conn::Db;
use crate::PostgresStore;

fn backend(e: crate::StoreError) -> LedgerStoreError {
    LedgerStoreError::Backend(e.to_string())
}

fn size_of(c: &mut Db) -> Result<u64, PgFail> {
    let n: i64 = c
        .query_one("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries", &[])?
        .try_get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn checkpoint_rows(rows: &[postgres::Row]) -> Result<Vec<StoredCheckpoint>, PgFail> {
    rows.iter()
        .map(|r| {
            Ok(StoredCheckpoint {
                size: u64::try_from(r.try_get::<_, i64>(0)?).unwrap_or(0),
                time: r.try_get(1)?,
                text: r.try_get(2)?,
            })
        })
        .collect()
}

impl LedgerStore for PostgresStore {
    fn size(&self) -> Result<u64, LedgerStoreError> {
        self.read_on(Lane::Ledger, size_of).map_err(backend)
    }

    fn append_batch(&self, batch: &AppendBatch) -> Result<(), LedgerStoreError> {
        let positions = batch_positions(&batch.nodes).map_err(LedgerStoreError::Backend)?;
        let outcome = self.transaction_on(Lane::Ledger, |c| {
            // one appender at a time per database, held until commit
            c.execute("SELECT pg_advisory_xact_lock($1)", &[&LEDGER_LOCK])?;
            let size = size_of(c)?;
            if size != batch.first_index {
                return Ok(Some(size));
            }
            if !batch.entries.is_empty() {
                let idx: Vec<i64> = (0..batch.entries.len() as u64)
                    .map(|i| int(batch.first_index + i))
                    .collect();
                let bytes: Vec<&[u8]> = batch.entries.iter().map(|(bytes, _)| bytes.as_slice()).collect();
                let leaves: Vec<&[u8]> = batch.entries.iter().map(|(_, leaf)| &leaf[..]).collect();
                c.execute(
                    "INSERT INTO ledger_entries (idx, bytes, leaf)
                     SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::bytea[])",
                    &[&idx, &bytes, &leaves],
                )?;
            }
            if !batch.nodes.is_empty() {
                let hashes: Vec<&[u8]> = batch.nodes.iter().map(|(_, h)| &h[..]).collect();
                c.execute(
                    "INSERT INTO ledger_tree (pos, hash) SELECT * FROM UNNEST($1::bigint[], $2::bytea[])
                     ON CONFLICT (pos) DO UPDATE SET hash = EXCLUDED.hash",
                    &[&positions, &hashes],
                )?;
            }
            if let Some(cp) = &batch.checkpoint {
                c.execute(
                    "INSERT INTO ledger_checkpoints (size, time_ms, text) VALUES ($1, $2, $3)",
                    &[&int(cp.size), &cp.time, &cp.text],
                )?;
            }
            // synchronous_commit (on by default): COMMIT returns after the WAL
            // is flushed on the server.
            Ok(None)
        });
        match outcome {
            Ok(None) => Ok(()),
            Ok(Some(store_size)) => Err(LedgerStoreError::Conflict {
                batch_first: batch.first_index,
                store_size,
            }),
            Err(e) => Err(backend(self.classify(e))),
        }
    }

    fn get_entries(&self, indexes: &[u64]) -> Result<Vec<Option<Vec<u8>>>, LedgerStoreError> {
        let wanted: Vec<i64> = indexes.iter().map(|i| int(*i)).collect();
        let found: HashMap<u64, Vec<u8>> = self
            .read(|c| {
                c.query("SELECT idx, bytes FROM ledger_entries WHERE idx = ANY($1)", &[&wanted])?
                    .iter()
                    .map(|r| Ok((u64::try_from(r.try_get::<_, i64>(0)?).unwrap_or(0), r.try_get(1)?)))
                    .collect()
            })
            .map_err(backend)?;
        Ok(indexes.iter().map(|i| found.get(i).cloned()).collect())
    }

    fn scan_entries(&self, from: u64, limit: usize, visit: &mut VisitEntry<'_>) -> Result<(), LedgerStoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .read(|c| {
                Ok(c.query(
                    "SELECT idx, bytes, leaf FROM ledger_entries WHERE idx >= $1 ORDER BY idx LIMIT $2",
                    &[&int(from), &limit],
                )?)
            })
            .map_err(backend)?;
        for r in &rows {
            let idx: i64 = r.try_get(0).map_err(|e| LedgerStoreError::Backend(e.to_string()))?;
            let bytes: &[u8] = r.try_get(1).map_err(|e| LedgerStoreError::Backend(e.to_string()))?;
            let leaf: &[u8] = r.try_get(2).map_err(|e| LedgerStoreError::Backend(e.to_string()))?;
            visit(u64::try_from(idx).unwrap_or(0), bytes, <&Hash>::try_from(leaf).ok());
        }
        Ok(())
    }

    fn get_nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, LedgerStoreError> {
        let positions: Vec<Option<i64>> = ids.iter().map(|id| node_position(*id)).collect();
        let wanted: Vec<i64> = positions.iter().flatten().copied().collect();
        let leaves: Vec<i64> = ids
            .iter()
            .filter(|id| id.level == 0)
            .filter_map(|id| i64::try_from(id.index).ok())
            .collect();
        if wanted.is_empty() && leaves.is_empty() {
            return Ok(vec![None; ids.len()]);
        }
        // one round trip per table whatever the shape: dense runs for
        // verification, scattered nodes for proofs
        let (found, found_leaves) = self
            .read(|c| {
                let mut found: HashMap<i64, Hash> = HashMap::with_capacity(wanted.len());
                if !wanted.is_empty() {
                    for r in c.query("SELECT pos, hash FROM ledger_tree WHERE pos = ANY($1)", &[&wanted])? {
                        if let Ok(h) = <[u8; 32]>::try_from(r.try_get::<_, &[u8]>(1)?) {
                            found.insert(r.try_get::<_, i64>(0)?, h);
                        }
                    }
                }
                let mut found_leaves: HashMap<i64, Hash> = HashMap::with_capacity(leaves.len());
                if !leaves.is_empty() {
                    for r in c.query("SELECT idx, leaf FROM ledger_entries WHERE idx = ANY($1)", &[&leaves])? {
                        if let Ok(h) = <[u8; 32]>::try_from(r.try_get::<_, &[u8]>(1)?) {
                            found_leaves.insert(r.try_get::<_, i64>(0)?, h);
                        }
                    }
                }
                Ok((found, found_leaves))
            })
            .map_err(backend)?;
        Ok(ids
            .iter()
            .zip(&positions)
            .map(|(id, p)| match p {
                Some(p) => found.get(p).copied(),
                None if id.level == 0 => i64::try_from(id.index).ok().and_then(|i| found_leaves.get(&i).copied()),
                None => None,
            })
            .collect())
    }

    fn scan_checkpoints(&self, visit: &mut dyn FnMut(&StoredCheckpoint)) -> Result<(), LedgerStoreError> {
        let all = self
            .read(|c| {
                checkpoint_rows(&c.query("SELECT size, time_ms, text FROM ledger_checkpoints ORDER BY seq", &[])?)
            })
            .map_err(backend)?;
        all.iter().for_each(visit);
        Ok(())
    }

    fn multi_writer(&self) -> bool {
        true
    }

    /// A session-level advisory lock on a connection of its own, held while
    /// the ledger rereads the size and appends (on other connections of the
    /// pool). Writers queue on it, so a busy server cannot starve another.
    /// A connection that dies while holding it releases it on the server.
    fn append_turn(&self, append: &mut dyn FnMut() -> Result<(), LedgerStoreError>) -> Result<(), LedgerStoreError> {
        let mut conn = self.conn_on(Lane::Ledger).map_err(backend)?;
        conn.execute("SELECT pg_advisory_lock($1)", &[&LEDGER_TURN])
            .map_err(|e| backend(self.classify(PgFail::Pg(e))))?;
        let out = append();
        if conn.execute("SELECT pg_advisory_unlock($1)", &[&LEDGER_TURN]).is_err() {
            // normally the session is gone, and its lock with it; if not,
            // the pooled connection must not keep holding it
            let _ = conn.batch_execute("SELECT pg_advisory_unlock_all()");
        }
        out
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, LedgerStoreError> {
        self.read_on(Lane::Ledger, |c| {
            checkpoint_rows(&c.query(
                "SELECT size, time_ms, text FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1",
                &[],
            )?)
        })
        .map(|mut v| v.pop())
        .map_err(backend)
    }
}
