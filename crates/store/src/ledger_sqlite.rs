//! The audit ledger's three tables in the SQLite database: entries with their
//! leaf hashes, the Merkle nodes above the leaves, and checkpoints.

use ledger::{
    AppendBatch, Hash, LedgerStore, NodeId, StoreError as LedgerStoreError, StoredCheckpoint, VisitEntry, Written,
};
use rusqlite::{params, OptionalExtension};

use crate::{SqliteStore, StoreError};

fn backend(e: StoreError) -> LedgerStoreError {
    LedgerStoreError::Backend(e.to_string())
}

fn size_of(conn: &rusqlite::Connection) -> rusqlite::Result<u64> {
    // cached: the committer asks before every batch
    conn.prepare_cached("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries")?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
}

/// Where a Merkle node of level 1 or up is stored in `ledger_tree`: `last
/// leaf it covers * 64 + level`. Nodes complete in append order of their last
/// leaf, so the nodes a batch writes are neighbours at the end of one B-tree
/// (a batch dirtied a page per tree level when they were keyed by level
/// first), and verification reads each chunk's nodes as one range. `None` for
/// a leaf (level 0: stored with its entry, in `ledger_entries.leaf`) and
/// beyond 2^57 leaves.
pub(crate) fn node_position(id: NodeId) -> Option<i64> {
    if id.level == 0 {
        return None;
    }
    let last_leaf = id
        .index
        .checked_add(1)?
        .checked_shl(u32::from(id.level))?
        .checked_sub(1)?;
    if id.level >= 64 || last_leaf >> id.level != id.index {
        return None;
    }
    i64::try_from(last_leaf.checked_mul(64)?.checked_add(u64::from(id.level))?).ok()
}

/// The `ledger_tree` positions of a batch's nodes, or why one has none.
pub(crate) fn batch_positions(nodes: &[(NodeId, Hash)]) -> Result<Vec<i64>, String> {
    nodes
        .iter()
        .map(|(id, _)| {
            node_position(*id).ok_or_else(|| match id.level {
                0 => format!(
                    "Merkle node at level 0 index {}: leaf hashes are stored with their entries",
                    id.index
                ),
                level => format!("Merkle node at level {level} index {} is beyond 2^57 leaves", id.index),
            })
        })
        .collect()
}

/// The 32 bytes of a stored hash; `None` for any other value (absent,
/// truncated, not a blob), which verification reports as a missing hash.
fn stored_hash(value: rusqlite::types::ValueRef<'_>) -> Option<&Hash> {
    value.as_blob().ok().and_then(|b| <&Hash>::try_from(b).ok())
}

/// Rows per multi-row INSERT (at most 3 parameters each, far below SQLite's limit).
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

/// Nodes of level 1 and up by `ledger_tree` position (`None` asks for
/// nothing and finds nothing), in the order asked.
fn tree_nodes(conn: &rusqlite::Connection, positions: &[Option<i64>]) -> rusqlite::Result<Vec<Option<Hash>>> {
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for p in positions.iter().flatten() {
        (lo, hi) = (lo.min(*p), hi.max(*p));
    }
    let count = positions.len() as i64;
    // Verification asks for every node above a run of leaves: one range
    // (about one node per leaf, 64 positions per leaf). Proofs ask for a
    // few scattered nodes: point reads.
    if count >= 8 && hi >= lo && hi - lo < 64 * 4 * count {
        let mut found: Vec<(i64, Hash)> = Vec::with_capacity(positions.len());
        let mut range = conn.prepare_cached("SELECT pos, hash FROM ledger_tree WHERE pos BETWEEN ?1 AND ?2")?;
        let mut rows = range.query(params![lo, hi])?;
        while let Some(row) = rows.next()? {
            if let Ok(h) = <[u8; 32]>::try_from(row.get_ref(1)?.as_blob()?) {
                found.push((row.get(0)?, h));
            }
        }
        // Rows come in position order, and verification asks in that
        // order too: walk both, searching only when asked out of order.
        let mut cursor = 0usize;
        Ok(positions
            .iter()
            .map(|p| {
                let p = (*p)?;
                match found.get(cursor) {
                    Some((pos, _)) if *pos <= p => {
                        while found.get(cursor).is_some_and(|(pos, _)| *pos < p) {
                            cursor += 1;
                        }
                    }
                    _ => cursor = found.partition_point(|(pos, _)| *pos < p),
                }
                found.get(cursor).filter(|(pos, _)| *pos == p).map(|(_, h)| *h)
            })
            .collect())
    } else {
        let wanted: Vec<i64> = positions.iter().flatten().copied().collect();
        let found = hashes_by_key(conn, "SELECT pos, hash FROM ledger_tree WHERE pos IN", &wanted)?;
        Ok(positions
            .iter()
            .map(|p| p.and_then(|p| found.get(&p).copied()))
            .collect())
    }
}

/// Keys asked per statement by [`hashes_by_key`]; a shorter list is padded
/// by repeating its last key, so one prepared statement serves every call.
const KEYS_PER_STATEMENT: usize = 32;

/// The 32-byte hashes of the rows with the given keys, by key, from
/// `select_in` (`SELECT key, hash FROM … WHERE key IN`). A proof asks for some
/// 25 scattered nodes: one statement for all of them instead of one query
/// each, whose binding, stepping and resetting cost more than the B-tree seek.
fn hashes_by_key(
    conn: &rusqlite::Connection,
    select_in: &str,
    keys: &[i64],
) -> rusqlite::Result<std::collections::HashMap<i64, Hash>> {
    let mut found = std::collections::HashMap::with_capacity(keys.len());
    if keys.is_empty() {
        return Ok(found);
    }
    let placeholders = vec!["?"; KEYS_PER_STATEMENT].join(",");
    let mut stmt = conn.prepare_cached(&format!("{select_in} ({placeholders})"))?;
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let last = chunk.last().copied().unwrap_or_default();
        let padded = chunk
            .iter()
            .copied()
            .chain(std::iter::repeat(last))
            .take(KEYS_PER_STATEMENT);
        let mut rows = stmt.query(rusqlite::params_from_iter(padded))?;
        while let Some(row) = rows.next()? {
            if let Some(hash) = stored_hash(row.get_ref(1)?) {
                found.insert(row.get(0)?, *hash);
            }
        }
    }
    Ok(found)
}

impl LedgerStore for SqliteStore {
    fn size(&self) -> Result<u64, LedgerStoreError> {
        self.ledger_read(size_of).map_err(backend)
    }

    fn append_batch(&self, batch: &AppendBatch) -> Result<(), LedgerStoreError> {
        self.write_batch(batch)?;
        self.sync()
    }

    /// The batch's transaction commits at `synchronous=NORMAL`: in the
    /// write-ahead log, visible, and durable after the next [`Self::sync`].
    fn write_batch(&self, batch: &AppendBatch) -> Result<Written, LedgerStoreError> {
        let positions = batch_positions(&batch.nodes).map_err(LedgerStoreError::Backend)?;
        let mut conflict = None;
        self.ledger_write(|conn| {
            let tx = conn.transaction()?;
            let size = size_of(&tx)?;
            if size != batch.first_index {
                conflict = Some(size);
                return Ok(());
            }
            {
                // Many rows per statement: a batch of 256 entries writes some 512
                // rows, and one statement per row spent more time in SQLite's
                // statement machinery than in the B-tree. Only full chunks use the
                // multi-row form, so the statement cache holds one of each.
                let entries: Vec<(i64, &(Vec<u8>, Hash))> = batch
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, entry)| ((batch.first_index + i as u64) as i64, entry))
                    .collect();
                insert_rows(
                    &tx,
                    "INSERT",
                    "ledger_entries (idx, bytes, leaf)",
                    "(?, ?, ?)",
                    &entries,
                    |stmt, at, (idx, (bytes, leaf))| {
                        stmt.raw_bind_parameter(at, idx)?;
                        stmt.raw_bind_parameter(at + 1, bytes)?;
                        stmt.raw_bind_parameter(at + 2, &leaf[..])
                    },
                )?;
                // A renumbered batch may write a node again, so nodes replace.
                let nodes: Vec<(i64, &Hash)> = positions
                    .iter()
                    .copied()
                    .zip(batch.nodes.iter().map(|(_, h)| h))
                    .collect();
                insert_rows(
                    &tx,
                    "INSERT OR REPLACE",
                    "ledger_tree (pos, hash)",
                    "(?, ?)",
                    &nodes,
                    |stmt, at, (pos, hash)| {
                        stmt.raw_bind_parameter(at, pos)?;
                        stmt.raw_bind_parameter(at + 1, &hash[..])
                    },
                )?;
                if let Some(cp) = &batch.checkpoint {
                    tx.prepare_cached("INSERT INTO ledger_checkpoints (size, time_ms, text) VALUES (?1, ?2, ?3)")?
                        .execute(params![cp.size as i64, cp.time, cp.text])?;
                }
            }
            tx.commit()
        })
        .map_err(backend)?;
        match conflict {
            Some(store_size) => Err(LedgerStoreError::Conflict {
                batch_first: batch.first_index,
                store_size,
            }),
            None => Ok(Written::AwaitingSync),
        }
    }

    fn sync(&self) -> Result<(), LedgerStoreError> {
        self.ledger_sync().map_err(backend)
    }

    fn get_entries(&self, indexes: &[u64]) -> Result<Vec<Option<Vec<u8>>>, LedgerStoreError> {
        self.ledger_read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT bytes FROM ledger_entries WHERE idx = ?1")?;
            indexes
                .iter()
                .map(|i| stmt.query_row([*i as i64], |r| r.get(0)).optional())
                .collect()
        })
        .map_err(backend)
    }

    fn scan_entries(&self, from: u64, limit: usize, visit: &mut VisitEntry<'_>) -> Result<(), LedgerStoreError> {
        self.ledger_read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT idx, bytes, leaf FROM ledger_entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2")?;
            let mut rows = stmt.query(params![from as i64, limit as i64])?;
            while let Some(row) = rows.next()? {
                let idx: i64 = row.get(0)?;
                let bytes = row.get_ref(1)?.as_blob()?;
                visit(idx as u64, bytes, stored_hash(row.get_ref(2)?));
            }
            Ok(())
        })
        .map_err(backend)
    }

    fn get_nodes(&self, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, LedgerStoreError> {
        let positions: Vec<Option<i64>> = ids.iter().map(|id| node_position(*id)).collect();
        self.ledger_read(|conn| {
            let mut found = tree_nodes(conn, &positions)?;
            // Leaves (proofs ask for one or two): from the entries' rows.
            let leaf_rows: Vec<i64> = ids
                .iter()
                .filter(|id| id.level == 0)
                .filter_map(|id| i64::try_from(id.index).ok())
                .collect();
            let leaves = hashes_by_key(conn, "SELECT idx, leaf FROM ledger_entries WHERE idx IN", &leaf_rows)?;
            for (id, slot) in ids.iter().zip(&mut found) {
                if id.level == 0 {
                    *slot = i64::try_from(id.index).ok().and_then(|idx| leaves.get(&idx).copied());
                }
            }
            Ok(found)
        })
        .map_err(backend)
    }

    fn scan_checkpoints(&self, visit: &mut dyn FnMut(&StoredCheckpoint)) -> Result<(), LedgerStoreError> {
        self.ledger_read(|conn| {
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
        self.ledger_read(|conn| {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What makes a batch's nodes neighbours: positions rise in the order the
    /// tree completes nodes, and no two nodes share one. Leaves have none.
    #[test]
    fn node_positions_rise_in_completion_order() {
        let mut frontier = ledger::merkle::Frontier::new();
        let mut positions = Vec::new();
        for i in 0u64..5000 {
            frontier.push(ledger::leaf_hash(&i.to_le_bytes()), |id, _| {
                positions.push(node_position(id))
            });
        }
        let positions: Vec<i64> = positions.into_iter().flatten().collect();
        // one node above the leaves per leaf, but for the frontier's
        assert_eq!(positions.len(), 5000 - 5000u32.count_ones() as usize);
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(node_position(NodeId { level: 0, index: 3 }), None);
        assert_eq!(node_position(NodeId { level: 1, index: 3 }), Some(7 * 64 + 1));
        assert_eq!(node_position(NodeId { level: 2, index: 1 }), Some(7 * 64 + 2));
        assert_eq!(node_position(NodeId { level: 64, index: 0 }), None);
        assert_eq!(
            node_position(NodeId {
                level: 1,
                index: u64::MAX >> 1
            }),
            None
        );
    }
}
