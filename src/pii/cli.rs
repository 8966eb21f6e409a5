//! `schleuse pii scan` and `schleuse pii redact`: the engine on stdin.
//!
//! `scan` reads JSON lines `{"text": "..."}` and writes one line per input,
//! `{"spans":[{"start":S,"end":E,"label":"L","score":X}]}` in Unicode
//! character offsets. `redact` reads all of stdin as one text and writes it
//! transformed by the outbound rules of `--policy` (a policy file with a
//! `[pii.outbound]` table, or a plain rules table); without a policy every
//! label is replaced by its placeholder.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use super::{Engine, PiiError, PiiKeys, Rules, transform};

/// The `pii` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PiiCommand {
    /// Read JSON lines {"text": "..."} and write the spans found per line.
    Scan,
    /// Apply the outbound operators to the text on stdin.
    Redact {
        /// Policy TOML: a `[pii.outbound]` table or a plain LABEL = "op" table.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
}

#[derive(Deserialize)]
struct Input {
    text: String,
}

#[derive(Serialize)]
struct Output {
    spans: Vec<Span>,
}

#[derive(Serialize)]
struct Span {
    start: usize,
    end: usize,
    label: &'static str,
    score: f32,
}

/// Runs one `pii` subcommand.
pub fn run(
    cmd: PiiCommand,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
    keys: &PiiKeys,
) -> Result<ExitCode, PiiError> {
    let engine = Engine::new()?;
    match cmd {
        PiiCommand::Scan => scan(&engine, stdin, out)?,
        PiiCommand::Redact { policy } => {
            let rules = match policy {
                Some(path) => load_rules(&path)?,
                None => Rules::default(),
            };
            let mut text = String::new();
            stdin.read_to_string(&mut text)?;
            let findings = engine.detect(&text);
            let done = transform(&text, &findings, &rules, keys)?;
            out.write_all(done.text.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn scan(engine: &Engine, stdin: &mut dyn BufRead, out: &mut dyn Write) -> Result<(), PiiError> {
    let mut line = String::new();
    let mut n = 0;
    loop {
        line.clear();
        if stdin.read_line(&mut line)? == 0 {
            return Ok(());
        }
        n += 1;
        if line.trim().is_empty() {
            continue;
        }
        let input: Input =
            serde_json::from_str(&line).map_err(|_| PiiError::InputLineInvalid { line: n })?;
        let spans = engine
            .detect(&input.text)
            .into_iter()
            .map(|f| Span {
                start: f.start,
                end: f.end,
                label: f.label.as_str(),
                score: f.score,
            })
            .collect();
        serde_json::to_writer(&mut *out, &Output { spans }).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
}

fn load_rules(path: &std::path::Path) -> Result<Rules, PiiError> {
    let invalid = |reason: String| PiiError::PolicyInvalid {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
    Rules::from_toml(&text).map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> PiiKeys {
        PiiKeys::from_secret(&[7u8; 32])
    }

    #[test]
    fn scan_writes_one_line_per_input_with_char_offsets() {
        let mut input: &[u8] = b"{\"text\": \"M\xc3\xbcller: IBAN DE89 3704 0044 0532 0130 00\"}\n{\"text\": \"nichts\"}\n";
        let mut out = Vec::new();
        let code = run(PiiCommand::Scan, &mut input, &mut out, &keys());
        assert!(code.is_ok());
        let text = String::from_utf8(out).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].contains("\"start\":13,\"end\":40,\"label\":\"IBAN_CODE\""),
            "{}",
            lines[0]
        );
        assert_eq!(lines[1], "{\"spans\":[]}");
    }

    #[test]
    fn a_bad_line_names_its_number_but_not_its_text() {
        let mut input: &[u8] = b"{\"text\": \"ok\"}\nsecret DE89370400440532013000\n";
        let mut out = Vec::new();
        let err = run(PiiCommand::Scan, &mut input, &mut out, &keys()).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(!msg.contains("DE89"));
    }
}
