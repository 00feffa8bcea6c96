//! The audit ledger's three tables in PostgreSQL (entries with their leaf
//! hashes, the Merkle nodes above the leaves, checkpoints), with several writers.
//!
//! Servers sharing a database append to one log: each batch takes a
//! transaction-scoped advisory lock, then checks that its first index is the
//! stored size. A writer whose view is stale gets [`LedgerStoreError::Conflict`]
//! and its [`ledger::Ledger`] reloads the tree and retries; no index is ever
//! used twice and the log stays totally ordered.

use std::collections::HashMap;

use ledger::{
    AppendBatch, Hash, LedgerStore, NodeId, StoreError as LedgerStoreError, StoredCheckpoint, TurnAppend, VisitEntry,
};

use crate::ledger_sqlite::{batch_positions, node_position};
use crate::postgres::{connection_lost, Lane, PgFail, LEDGER_LOCK, LEDGER_TURN};
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

impl PostgresStore {
    /// Sends `batch` once: `None` when it was written, else the stored size
    /// it did not start at (nothing written). One statement, so one
    /// transaction; synchronous_commit (on by default) returns after the WAL
    /// is flushed.
    fn send_batch(c: &mut Db, batch: &AppendBatch, positions: &[i64]) -> Result<Option<i64>, PgFail> {
        let idx: Vec<i64> = (0..batch.entries.len() as u64)
            .map(|i| int(batch.first_index + i))
            .collect();
        let bytes: Vec<&[u8]> = batch.entries.iter().map(|(bytes, _)| bytes.as_slice()).collect();
        let leaves: Vec<&[u8]> = batch.entries.iter().map(|(_, leaf)| &leaf[..]).collect();
        let hashes: Vec<&[u8]> = batch.nodes.iter().map(|(_, h)| &h[..]).collect();
        let cp = batch.checkpoint.as_ref();
        let (cp_size, cp_time, cp_text) = (cp.map(|c| int(c.size)), cp.map(|c| c.time), cp.map(|c| c.text.as_str()));
        Ok(c.query_one(
            "SELECT custodia_ledger_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &LEDGER_LOCK,
                &int(batch.first_index),
                &idx,
                &bytes,
                &leaves,
                &positions,
                &hashes,
                &cp_size,
                &cp_time,
                &cp_text,
            ],
        )?
        .try_get(0)?)
    }

    /// Sends `batch` again after its first attempt's connection was lost,
    /// when it may or may not have committed. Sending again is safe: the
    /// size check refuses it if the first attempt landed (its transaction
    /// lock makes this attempt wait for that one to end), and then the
    /// stored batch tells whether those entries are ours.
    fn send_batch_again(c: &mut Db, batch: &AppendBatch, positions: &[i64]) -> Result<Option<i64>, PgFail> {
        match Self::send_batch(c, batch, positions)? {
            Some(size) if Self::holds_batch(c, batch, size)? => {
                // The first attempt committed here but its reply was lost;
                // if that was while it waited for a synchronous standby,
                // nothing says the standby has it. A commit of our own waits
                // for the standby up to a point past it.
                c.execute("UPDATE schema_version SET version = version", &[])?;
                Ok(None)
            }
            outcome => Ok(outcome),
        }
    }

    /// Whether the store, now `store_size` entries long, holds `batch`:
    /// its entries at their indexes (by their leaf hashes, which cover the
    /// bytes), or for a batch of a checkpoint alone, that checkpoint.
    fn holds_batch(c: &mut Db, batch: &AppendBatch, store_size: i64) -> Result<bool, PgFail> {
        if batch.entries.is_empty() {
            let Some(cp) = &batch.checkpoint else {
                return Ok(true);
            };
            return Ok(c
                .query_opt(
                    "SELECT 1 FROM ledger_checkpoints WHERE size = $1 AND text = $2",
                    &[&int(cp.size), &cp.text],
                )?
                .is_some());
        }
        let end = batch.first_index + batch.entries.len() as u64;
        if u64::try_from(store_size).unwrap_or(0) < end {
            return Ok(false);
        }
        let rows = c.query(
            "SELECT leaf FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            &[&int(batch.first_index), &int(end)],
        )?;
        Ok(rows.len() == batch.entries.len()
            && rows
                .iter()
                .zip(&batch.entries)
                .all(|(r, (_, leaf))| r.try_get::<_, &[u8]>(0).is_ok_and(|stored| stored == &leaf[..])))
    }
}

/// A connection holding the ledger's append turn, released when dropped
/// (also when the ledger's closure panics), so a pooled connection never
/// goes back to the pool still holding it: session locks are re-entrant, so
/// a later turn on it would never release it and every other server would
/// wait for ever.
struct Turn(crate::postgres::Conn);

impl Drop for Turn {
    fn drop(&mut self) {
        if self
            .0
            .execute("SELECT pg_advisory_unlock($1)", &[&LEDGER_TURN])
            .is_err()
        {
            // normally the session is gone, and its lock with it; if not,
            // the connection must not keep holding it
            let _ = self.0.batch_execute("SELECT pg_advisory_unlock_all()");
        }
    }
}

impl LedgerStore for PostgresStore {
    fn size(&self) -> Result<u64, LedgerStoreError> {
        self.read_on(Lane::Ledger, size_of).map_err(backend)
    }

    fn append_batch(&self, batch: &AppendBatch) -> Result<(), LedgerStoreError> {
        let positions = batch_positions(&batch.nodes).map_err(LedgerStoreError::Backend)?;
        let mut conn = self.conn_on(Lane::Ledger).map_err(backend)?;
        let outcome = match Self::send_batch(&mut conn, batch, &positions) {
            Err(PgFail::Pg(e)) if connection_lost(&e) => {
                drop(conn);
                let mut fresh = self.live_conn(Lane::Ledger).map_err(backend)?;
                Self::send_batch_again(&mut fresh, batch, &positions)
            }
            other => other,
        };
        match outcome {
            Ok(None) => Ok(()),
            Ok(Some(store_size)) => Err(LedgerStoreError::Conflict {
                batch_first: batch.first_index,
                store_size: u64::try_from(store_size).unwrap_or(0),
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

    /// A session-level advisory lock on a connection of its own, taken in
    /// the statement that reads what other writers appended since `from`;
    /// held while the ledger appends (on other connections of the pool).
    /// Writers queue on it, so a busy server cannot starve another. A
    /// connection that dies while holding it releases it on the server.
    fn append_turn(&self, from: u64, limit: usize, append: &mut TurnAppend<'_>) -> Result<(), LedgerStoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let take_turn = |c: &mut Db| -> Result<Vec<(u64, Vec<u8>)>, PgFail> {
            c.query(
                "SELECT idx, bytes FROM custodia_ledger_turn($1, $2, $3)",
                &[&LEDGER_TURN, &int(from), &limit],
            )?
            .iter()
            .map(|r| Ok((u64::try_from(r.try_get::<_, i64>(0)?).unwrap_or(0), r.try_get(1)?)))
            .collect()
        };
        // Dropping the turn releases the lock, also after a failed turn
        // statement: the lock may have been granted before the read failed.
        let mut turn = Turn(self.conn_on(Lane::Ledger).map_err(backend)?);
        let taken = match take_turn(&mut turn.0) {
            // a dead session holds no lock: take the turn on a live one
            Err(PgFail::Pg(e)) if connection_lost(&e) => {
                turn = Turn(self.live_conn(Lane::Ledger).map_err(backend)?);
                take_turn(&mut turn.0)
            }
            other => other,
        };
        match taken {
            Ok(stored) => append(stored),
            Err(e) => Err(backend(self.classify(e))),
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ledger::{leaf_hash, AppendBatch, StoredCheckpoint};

    use crate::postgres::Lane;
    use crate::PostgresStore;

    /// Entries and a checkpoint, no tree nodes: the checks below read nothing else.
    fn batch(first_index: u64, texts: &[&str], checkpoint: Option<&str>) -> AppendBatch {
        AppendBatch {
            first_index,
            entries: texts
                .iter()
                .map(|t| (t.as_bytes().to_vec(), leaf_hash(t.as_bytes())))
                .collect(),
            checkpoint: checkpoint.map(|text| StoredCheckpoint {
                size: first_index + texts.len() as u64,
                time: 1,
                text: text.into(),
            }),
            ..AppendBatch::default()
        }
    }

    /// A batch sent again after its connection was lost: acknowledged when
    /// the first attempt had landed (and not written twice), refused when
    /// what is stored at its place is another writer's.
    #[test]
    fn a_batch_sent_again_is_acknowledged_only_when_it_landed() {
        let db = crate::testing::fresh_database();
        let store = PostgresStore::connect(db.url()).unwrap();
        let mut c = store.conn_on(Lane::Ledger).unwrap();
        let mut again = |b: &AppendBatch| {
            PostgresStore::send_batch_again(&mut c, b, &[])
                .map_err(|e| store.classify(e))
                .unwrap()
        };
        let ours = batch(0, &["a", "b"], Some("cp 2"));
        let mut first = store.conn_on(Lane::Ledger).unwrap();
        assert_eq!(
            PostgresStore::send_batch(&mut first, &ours, &[])
                .map_err(|e| store.classify(e))
                .unwrap(),
            None
        );
        assert_eq!(again(&ours), None, "landed: acknowledged");
        assert_eq!(
            again(&batch(0, &["a", "c"], None)),
            Some(2),
            "same indexes, other entries"
        );
        assert_eq!(
            again(&batch(0, &["a", "b", "c"], None)),
            Some(2),
            "longer than the store"
        );
        assert_eq!(again(&batch(1, &["a"], None)), Some(2), "another position");
        // a checkpoint alone, e.g. for `checkpoint_now`
        let alone = batch(2, &[], Some("cp 2 again"));
        assert_eq!(again(&alone), None);
        assert_eq!(again(&alone), None, "sent twice: written once");
        assert_eq!(again(&batch(1, &[], Some("stale"))), Some(2), "a stale one is refused");
        use ledger::LedgerStore;
        let mut texts = Vec::new();
        store.scan_checkpoints(&mut |cp| texts.push(cp.text.clone())).unwrap();
        assert_eq!(texts, ["cp 2", "cp 2 again"]);
        assert_eq!(store.size().unwrap(), 2);
    }
}
