//! The `schleuse audit …` subcommands for the DPO. `main.rs` parses the
//! global flags, builds [`AuditSettings`] and calls [`run`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::merkle::{self, Hash, leaf_hash};
use super::note::{Signer, VerifierKey};
use super::record::Kind;
use super::store::Store;
use super::{AuditError, AuditLog, AuditSettings, bench, verify};
use crate::pseudonym::{SubjectId, hex};

/// `schleuse audit <command>`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute every leaf and the tree, check every checkpoint signature
    /// and, with --checkpoint, that the log extends a checkpoint saved earlier.
    Verify {
        /// A checkpoint saved outside the gateway.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// Verifier key line (default: derived from the configured signing key).
        #[arg(long, value_name = "VKEY")]
        key: Option<String>,
    },
    /// Print the newest signed checkpoint (save it somewhere else).
    Checkpoint,
    /// Print an inclusion proof for one entry against the newest checkpoint.
    Proof {
        /// Entry index.
        index: u64,
    },
    /// Check a proof file against a checkpoint file.
    VerifyProof {
        /// Signed checkpoint (output of `audit checkpoint`).
        #[arg(long, value_name = "FILE")]
        checkpoint: PathBuf,
        /// Proof (output of `audit proof`).
        #[arg(long, value_name = "FILE")]
        proof: PathBuf,
        /// Verifier key line (default: derived from the configured signing key).
        #[arg(long, value_name = "VKEY")]
        key: Option<String>,
    },
    /// Export entries for review.
    Export {
        /// Earliest timestamp (RFC 3339, inclusive).
        #[arg(long)]
        from: Option<jiff::Timestamp>,
        /// Latest timestamp (RFC 3339, exclusive).
        #[arg(long)]
        to: Option<jiff::Timestamp>,
        /// Only entries of this kind.
        #[arg(long, value_enum)]
        kind: Option<Kind>,
        /// Only entries about this phone number (pseudonymised with the key).
        #[arg(long, value_name = "PHONE")]
        subject: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
    },
    /// Print the checkpoint verifier key for the DPO.
    PublicKey,
    /// Measure durable appends/s (writes real entries into the configured log).
    #[command(hide = true)]
    Bench {
        /// Entries to append.
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// Concurrent writers.
        #[arg(long, default_value_t = 256)]
        writers: usize,
        /// Write every acknowledged index to this file (one per line, flushed).
        #[arg(long, value_name = "FILE")]
        acked: Option<PathBuf>,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The canonical entry bytes, one per line.
    Jsonl,
    /// Main fields as CSV.
    Csv,
}

/// Runs one command. Returns exit code 1 when verification fails. Must not be
/// called from inside a tokio runtime's async context only for `bench`, which
/// runs its own runtime on a separate thread (so it is safe either way).
pub fn run(
    cmd: AuditCommand,
    settings: AuditSettings,
    out: &mut dyn Write,
    resolve_subject: &dyn Fn(&str) -> Result<SubjectId, String>,
) -> Result<ExitCode, AuditError> {
    match cmd {
        AuditCommand::Verify { checkpoint, key } => {
            let key = key_for(&settings, key.as_deref())?;
            let saved = checkpoint.map(fs::read_to_string).transpose()?;
            run_verify(&settings.db_path, &key, saved.as_deref(), out)
        }
        AuditCommand::Checkpoint => {
            let store = Store::open_existing(&settings.db_path)?;
            let cp = store.latest_checkpoint()?;
            let cp = cp.ok_or_else(|| AuditError::Invalid("no checkpoint signed yet".into()))?;
            out.write_all(cp.note.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Proof { index } => {
            out.write_all(proof_text(&settings.db_path, index)?.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::VerifyProof {
            checkpoint,
            proof,
            key,
        } => {
            let key = key_for(&settings, key.as_deref())?;
            let (cp, proof) = (fs::read_to_string(checkpoint)?, fs::read_to_string(proof)?);
            match check_proof(&key, &cp, &proof) {
                Ok((index, size)) => {
                    writeln!(
                        out,
                        "ok: entry {index} is in the signed tree of size {size}"
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(reason) => {
                    writeln!(out, "FAIL: {reason}")?;
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Export {
            from,
            to,
            kind,
            subject,
            format,
        } => {
            let subject = subject
                .map(|p| resolve_subject(&p))
                .transpose()
                .map_err(AuditError::Invalid)?;
            let filter = Filter {
                from,
                to,
                kind,
                subject,
            };
            export(&settings.db_path, &filter, format, out)?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::PublicKey => {
            writeln!(out, "{}", key_for(&settings, None)?.to_note_line())?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Bench {
            entries,
            writers,
            acked,
        } => run_bench(settings, entries, writers, acked, out),
    }
}

/// Builds the inclusion-proof text for entry `index` against the newest
/// checkpoint: `key=value` lines, hashes in hex, the entry in base64.
pub fn proof_text(db_path: &Path, index: u64) -> Result<String, AuditError> {
    let store = Store::open_existing(db_path)?;
    let cp = store.latest_checkpoint()?;
    let cp = cp.ok_or_else(|| AuditError::Invalid("no checkpoint signed yet".into()))?;
    if index >= cp.size {
        return Err(AuditError::Invalid(format!(
            "entry {index} is not yet covered by a checkpoint (newest size {})",
            cp.size
        )));
    }
    let body = store.entry_body(index)?;
    let body = body.ok_or_else(|| AuditError::Invalid(format!("no entry {index}")))?;
    let path = merkle::inclusion_proof(&store, index, cp.size)?
        .map_err(|e| AuditError::Invalid(e.to_string()))?;
    let mut text = format!(
        "leaf_index={index}\ntree_size={}\nentry={}\n",
        cp.size,
        B64.encode(&body)
    );
    for h in path {
        text.push_str(&format!("node_hash={}\n", hex(&h)));
    }
    Ok(text)
}

/// Checks a proof text against a signed checkpoint; returns (index, size).
pub fn check_proof(key: &VerifierKey, checkpoint: &str, proof: &str) -> Result<(u64, u64), String> {
    let cp = key
        .verify_checkpoint(checkpoint)
        .map_err(|e| e.to_string())?;
    let (mut index, mut size, mut entry, mut path) = (None, None, None, Vec::new());
    for line in proof.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k {
            "leaf_index" => index = v.parse::<u64>().ok(),
            "tree_size" => size = v.parse::<u64>().ok(),
            "entry" => entry = B64.decode(v).ok(),
            "node_hash" => path.push(unhex32(v).ok_or("bad node_hash")?),
            _ => {}
        }
    }
    let (Some(index), Some(size), Some(entry)) = (index, size, entry) else {
        return Err("proof needs leaf_index, tree_size and entry".into());
    };
    if size != cp.size {
        return Err(format!(
            "proof is for size {size}, checkpoint has {}",
            cp.size
        ));
    }
    merkle::verify_inclusion(index, size, &leaf_hash(&entry), &path, &cp.root)
        .map_err(|e| format!("inclusion proof: {e}"))?;
    Ok((index, size))
}

fn run_verify(
    db: &Path,
    key: &VerifierKey,
    saved: Option<&str>,
    out: &mut dyn Write,
) -> Result<ExitCode, AuditError> {
    match verify(db, key, saved) {
        Ok(r) => {
            writeln!(
                out,
                "ok: {} entries, root {}, {} checkpoints verified",
                r.entries, r.root, r.checkpoints
            )?;
            if let Some(size) = r.consistent_with_saved {
                writeln!(out, "ok: log extends the saved checkpoint of size {size}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            match f.index {
                Some(i) => writeln!(out, "FAIL: first bad entry {i}: {}", f.reason)?,
                None => writeln!(out, "FAIL: {}", f.reason)?,
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

struct Filter {
    from: Option<jiff::Timestamp>,
    to: Option<jiff::Timestamp>,
    kind: Option<Kind>,
    subject: Option<SubjectId>,
}

fn export(
    db: &Path,
    f: &Filter,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<(), AuditError> {
    let store = Store::open_existing(db)?;
    let mut stmt = store
        .conn
        .prepare("SELECT ts, body FROM entries ORDER BY idx")?;
    let mut rows = stmt.query([])?;
    if format == ExportFormat::Csv {
        writeln!(
            out,
            "index,timestamp,kind,actor,direction,subject,decision,rule_ids,correlation_id"
        )?;
    }
    while let Some(row) = rows.next()? {
        let ts: String = row.get(0)?;
        let body: Vec<u8> = row.get(1)?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(AuditError::Encode)?;
        if !f.matches(&ts, &v)? {
            continue;
        }
        match format {
            ExportFormat::Jsonl => {
                out.write_all(&body)?;
                out.write_all(b"\n")?;
            }
            ExportFormat::Csv => writeln!(out, "{}", csv_line(&v))?,
        }
    }
    Ok(())
}

impl Filter {
    fn matches(&self, ts: &str, v: &serde_json::Value) -> Result<bool, AuditError> {
        let ts: jiff::Timestamp = ts
            .parse()
            .map_err(|e| AuditError::Invalid(format!("stored timestamp: {e}")))?;
        let kind_ok = self
            .kind
            .is_none_or(|k| serde_json::to_value(k).is_ok_and(|kv| v.get("kind") == Some(&kv)));
        let subject_ok = self
            .subject
            .as_ref()
            .is_none_or(|s| v.get("subject").and_then(|x| x.as_str()) == Some(s.as_str()));
        Ok(self.from.is_none_or(|f| ts >= f)
            && self.to.is_none_or(|t| ts < t)
            && kind_ok
            && subject_ok)
    }
}

fn csv_line(v: &serde_json::Value) -> String {
    let field = |k: &str| match v.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        Some(other) => other.to_string(),
    };
    [
        "index",
        "timestamp",
        "kind",
        "actor",
        "direction",
        "subject",
        "decision",
        "rule_ids",
        "correlation_id",
    ]
    .iter()
    .map(|k| csv_escape(&field(k)))
    .collect::<Vec<_>>()
    .join(",")
}

fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn run_bench(
    settings: AuditSettings,
    entries: u64,
    writers: usize,
    acked: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<ExitCode, AuditError> {
    let acked: Option<Box<dyn Write + Send>> = match acked {
        Some(p) => Some(Box::new(fs::File::create(p)?)),
        None => None,
    };
    // Own runtime on its own thread, so `run` works inside or outside tokio.
    let report = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let log = AuditLog::open(settings)?;
            let report = bench::run_appends(&log, entries, writers, acked).await?;
            log.shutdown().await?;
            Ok::<_, AuditError>(report)
        })
    })
    .join()
    .map_err(|_| AuditError::Invalid("bench thread panicked".into()))??;
    writeln!(
        out,
        "appended {} entries with {} writers in {:.2} s: {:.0} appends/s",
        report.entries,
        report.writers,
        report.elapsed.as_secs_f64(),
        report.per_second()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn key_for(settings: &AuditSettings, vkey: Option<&str>) -> Result<VerifierKey, AuditError> {
    match vkey {
        Some(text) => Ok(VerifierKey::parse(text)?),
        None => Ok(Signer::from_seed(&settings.origin, &settings.signing_seed)?.verifier_key()),
    }
}

fn unhex32(s: &str) -> Option<Hash> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
