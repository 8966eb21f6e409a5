//! Full verification of an audit database, independent of the writer.
//!
//! Recomputes every leaf from the stored bytes, rebuilds the tree and compares
//! every stored subtree hash, checks every checkpoint signature and root, and
//! (given a checkpoint saved elsewhere) proves the log still extends it.
//! Stored hashes are never trusted, only compared.

use std::fmt;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::merkle::{self, CompactRange, Hash, leaf_hash};
use super::note::{Checkpoint, VerifierKey};
use super::record::header_matches;
use super::store::{Store, node_seq};
use crate::pseudonym::hex;

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Number of entries checked.
    pub entries: u64,
    /// Root of the whole log, hex.
    pub root: String,
    /// Number of signed checkpoints checked.
    pub checkpoints: u64,
    /// Size of the newest stored checkpoint.
    pub latest_checkpoint_size: Option<u64>,
    /// Size of the saved checkpoint the log was proven consistent with.
    pub consistent_with_saved: Option<u64>,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailure {
    /// The first entry index affected, when one can be named.
    pub index: Option<u64>,
    /// What is wrong.
    pub reason: String,
}

/// Verifies the database at `db_path` against the checkpoint key and,
/// optionally, a checkpoint note saved earlier outside the gateway.
pub fn verify(
    db_path: &Path,
    key: &VerifierKey,
    saved_checkpoint: Option<&str>,
) -> Result<VerifyReport, VerifyFailure> {
    let conn = Connection::open_with_flags(db_path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| fail(None, format!("cannot open database: {e}")))?;
    // Memory-mapped reads avoid copying every page of a sequential scan.
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)
        .map_err(db)?;
    conn.execute_batch("BEGIN").map_err(db)?;
    let checkpoints = load_checkpoints(&conn, key)?;
    let saved = saved_checkpoint
        .map(|note| {
            key.verify_checkpoint(note)
                .map_err(|e| fail(None, format!("saved checkpoint rejected: {e}")))
        })
        .transpose()?;
    let mut anchors: Vec<Checkpoint> = checkpoints.clone();
    anchors.extend(saved.iter().cloned());
    anchors.sort_by_key(|c| c.size);
    let range = scan(&conn, &anchors)?;
    let n = range.size();
    if let Some(cp) = anchors.iter().find(|c| c.size > n) {
        return Err(fail(
            Some(n),
            format!(
                "log truncated: a checkpoint covers {} entries, only {n} are stored",
                cp.size
            ),
        ));
    }
    let store = Store { conn };
    if let Some(saved) = &saved {
        check_consistency(&store, saved, n, &range.root())?;
    }
    Ok(VerifyReport {
        entries: n,
        root: hex(&range.root()),
        checkpoints: checkpoints.len() as u64,
        latest_checkpoint_size: checkpoints.last().map(|c| c.size),
        consistent_with_saved: saved.map(|c| c.size),
    })
}

fn load_checkpoints(
    conn: &Connection,
    key: &VerifierKey,
) -> Result<Vec<Checkpoint>, VerifyFailure> {
    let mut stmt = conn
        .prepare("SELECT id, size, note FROM checkpoints ORDER BY id")
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut out: Vec<Checkpoint> = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        let id: i64 = row.get(0).map_err(db)?;
        let size: i64 = row.get(1).map_err(db)?;
        let note: String = row.get(2).map_err(db)?;
        let cp = key
            .verify_checkpoint(&note)
            .map_err(|e| fail(None, format!("checkpoint #{id}: {e}")))?;
        if cp.size != size as u64 {
            return Err(fail(
                None,
                format!("checkpoint #{id}: size column differs from signed size"),
            ));
        }
        if out.last().is_some_and(|prev| prev.size > cp.size) {
            return Err(fail(
                Some(cp.size),
                format!("checkpoint #{id}: tree size went backwards"),
            ));
        }
        out.push(cp);
    }
    Ok(out)
}

/// Streams entries and nodes once, checking rows, leaves, subtrees and
/// checkpoint roots (sorted by size) as the tree grows.
fn scan(conn: &Connection, anchors: &[Checkpoint]) -> Result<CompactRange, VerifyFailure> {
    let mut entries = conn
        .prepare("SELECT idx, ts, body, leaf_hash FROM entries ORDER BY idx")
        .map_err(db)?;
    let mut nodes = conn
        .prepare("SELECT seq, hash FROM nodes ORDER BY seq")
        .map_err(db)?;
    let mut entry_rows = entries.query([]).map_err(db)?;
    let mut node_rows = nodes.query([]).map_err(db)?;
    let mut range = CompactRange::default();
    let mut emitted: Vec<(u32, u64, Hash)> = Vec::with_capacity(64);
    let mut next_anchor = 0usize;
    let mut last_good = 0u64;
    while let Some(cp) = anchors.get(next_anchor).filter(|c| c.size == 0) {
        if cp.root != merkle::empty_root() {
            return Err(fail(
                Some(0),
                "empty-tree checkpoint has a wrong root".into(),
            ));
        }
        next_anchor += 1;
    }
    while let Some(row) = entry_rows.next().map_err(db)? {
        let index = range.size();
        let idx: i64 = row.get(0).map_err(db)?;
        if idx as u64 != index {
            return Err(fail(
                Some(index),
                format!("entry missing (next stored index is {idx})"),
            ));
        }
        let ts = std::str::from_utf8(bytes_at(row, 1, index)?)
            .map_err(|_| fail(Some(index), "timestamp is not text".into()))?;
        let body = bytes_at(row, 2, index)?;
        if !header_matches(body, index, ts) {
            return Err(fail(
                Some(index),
                "entry bytes do not carry this index and timestamp".into(),
            ));
        }
        let leaf = leaf_hash(body);
        let stored = bytes_at(row, 3, index)?;
        if stored != leaf {
            return Err(fail(
                Some(index),
                "entry bytes do not match the stored leaf hash".into(),
            ));
        }
        emitted.clear();
        range.push(leaf, |level, j, h| emitted.push((level, j, *h)));
        for (level, j, hash) in &emitted {
            check_node(node_rows.next().map_err(db)?, *level, *j, hash)?;
        }
        while let Some(cp) = anchors.get(next_anchor).filter(|c| c.size == range.size()) {
            if cp.root != range.root() {
                return Err(fail(
                    Some(last_good),
                    format!(
                        "root differs from the signed checkpoint at size {}: entries {last_good}..{} were rewritten",
                        cp.size, cp.size
                    ),
                ));
            }
            last_good = cp.size;
            next_anchor += 1;
        }
    }
    if node_rows.next().map_err(db)?.is_some() {
        return Err(fail(
            Some(range.size()),
            "stored subtree hashes beyond the last entry".into(),
        ));
    }
    Ok(range)
}

fn check_node(
    row: Option<&rusqlite::Row<'_>>,
    level: u32,
    j: u64,
    hash: &Hash,
) -> Result<(), VerifyFailure> {
    let first = j << level;
    let last = ((j + 1) << level) - 1;
    let what = || format!("stored subtree hash for entries {first}..={last}");
    let Some(row) = row else {
        return Err(fail(Some(first), format!("{} is missing", what())));
    };
    let seq: i64 = row.get(0).map_err(db)?;
    let stored = bytes_at(row, 1, first)?;
    if seq != node_seq(level, j) || stored != hash {
        return Err(fail(
            Some(first),
            format!("{} does not match the entries", what()),
        ));
    }
    Ok(())
}

fn check_consistency(
    store: &Store,
    saved: &Checkpoint,
    n: u64,
    root: &Hash,
) -> Result<(), VerifyFailure> {
    let proof = merkle::consistency_proof(store, saved.size, n)
        .map_err(db)?
        .map_err(|e| {
            fail(
                Some(n),
                format!("no consistency proof from the saved checkpoint: {e}"),
            )
        })?;
    merkle::verify_consistency(saved.size, n, &saved.root, root, &proof).map_err(|e| {
        fail(
            None,
            format!("log is not an extension of the saved checkpoint: {e}"),
        )
    })
}

/// Column bytes whether stored as BLOB or TEXT (an attacker may change the
/// type); anything else fails at `index`.
fn bytes_at<'r>(
    row: &'r rusqlite::Row<'_>,
    col: usize,
    index: u64,
) -> Result<&'r [u8], VerifyFailure> {
    match row.get_ref(col).map_err(db)? {
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b),
        _ => Err(fail(
            Some(index),
            format!("column {col} has the wrong type"),
        )),
    }
}

fn fail(index: Option<u64>, reason: String) -> VerifyFailure {
    VerifyFailure { index, reason }
}

fn db(e: rusqlite::Error) -> VerifyFailure {
    fail(None, format!("database error: {e}"))
}

const MMAP_BYTES: i64 = 1 << 40;

// === impl VerifyFailure ===

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "entry {i}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for VerifyFailure {}
