//! Minimal CLI for the PII engine on the `pii` branch; the integrator
//! replaces this with the real CLI and mounts `PiiCommand` under `pii`.

use std::io::{BufReader, stdin, stdout};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use schleuse::pii::PiiKeys;
use schleuse::pii::cli::{PiiCommand, run};

#[derive(Parser)]
#[command(name = "schleuse")]
struct Cli {
    /// File with the pseudonym key secret (>= 32 bytes). Without it a
    /// random key is used, so pseudonyms differ between runs.
    #[arg(long, global = true)]
    key_file: Option<std::path::PathBuf>,
    #[command(subcommand)]
    cmd: Top,
}

#[derive(Subcommand)]
enum Top {
    /// Find and transform personal data.
    #[command(subcommand)]
    Pii(PiiCommand),
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let secret = match &cli.key_file {
        Some(p) => std::fs::read(p).context("reading the key file")?,
        None => {
            let mut k = vec![0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut k)
                .map_err(|_| anyhow::anyhow!("no system randomness"))?;
            k
        }
    };
    let keys = PiiKeys::from_secret(&secret);
    let Top::Pii(cmd) = cli.cmd;
    let mut input = BufReader::new(stdin().lock());
    run(cmd, &mut input, &mut stdout().lock(), &keys).context("pii command failed")
}
