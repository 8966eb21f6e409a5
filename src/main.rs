//! The `schleuse` command line: parses arguments and calls the library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use schleuse::config::{Config, Secret};

/// Default data folder of `schleuse serve` without arguments.
const DEFAULT_DIR: &str = "schleuse-data";

#[derive(Parser)]
#[command(
    name = "schleuse",
    version,
    about = "Privacy-compliance gateway for the WhatsApp Business Cloud API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data folder: config, generated secrets, one client.
    Init {
        /// Folder to create.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Run the gateway (without --config: ./schleuse-data, created if missing).
    Serve {
        /// Config file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Listen address, overriding server.listen (repeatable).
        #[arg(long)]
        listen: Vec<SocketAddr>,
    },
    /// Check a config file and print every problem found.
    CheckConfig {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Audit log tools for the data protection officer.
    Audit {
        /// Config file (default: ./schleuse-data/schleuse.toml).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: schleuse::audit::cli::AuditCommand,
    },
    /// Find and transform personal data in text (JSON lines on stdin).
    Pii {
        /// Config whose pseudonym key is used (default: ./schleuse-data/schleuse.toml
        /// if present, else a throwaway key).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: schleuse::pii::cli::PiiCommand,
    },
    /// Webhook delivery to internal systems.
    Webhook {
        /// Config file (default: ./schleuse-data/schleuse.toml).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Policy file tools.
    Policy {
        #[command(subcommand)]
        command: schleuse::policy::cli::PolicyCommand,
    },
    /// Consent ledger tools for operators and legal.
    Consent {
        /// Config file (default: ./schleuse-data/schleuse.toml).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        /// Recorded as the actor of changes (default: operator:$USER).
        #[arg(long, global = true)]
        actor: Option<String>,
        #[command(subcommand)]
        command: schleuse::consent::cli::ConsentCommand,
    },
    /// Post a customer's message to a running gateway as Meta would (signed);
    /// opens the customer-service window for replies in demos and tests.
    SimulateInbound {
        /// Config of the running gateway (default: ./schleuse-data/schleuse.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The customer's number, international form (+49…).
        #[arg(long)]
        from: String,
        /// The message text.
        #[arg(long)]
        text: String,
    },
    /// Run the sandbox upstream alone, as a stand-in for graph.facebook.com.
    Sandbox {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: SocketAddr,
        /// Phone-number id the sandbox owns (repeatable).
        #[arg(long = "phone-number-id", required = true)]
        phone_number_ids: Vec<String>,
        /// File holding the access token the sandbox expects.
        #[arg(long)]
        access_token_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Pending and parked deliveries per internal client.
    Status,
}

fn main() -> ExitCode {
    schleuse::observability::withhold_panic_messages();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init { dir } => {
            init(&dir)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { config, listen } => serve(config, listen),
        Command::CheckConfig { config } => {
            load_config(&config)?;
            println!("{}: ok", config.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { config, command } => audit(config, command),
        Command::Pii { config, command } => pii(config, command),
        Command::Webhook {
            config,
            command: WebhookCommand::Status,
        } => webhook_status(config),
        Command::Policy { command } => policy(command),
        Command::Consent {
            config,
            actor,
            command,
        } => consent(config, actor, command),
        Command::SimulateInbound { config, from, text } => simulate_inbound(config, &from, &text),
        Command::Sandbox {
            listen,
            phone_number_ids,
            access_token_file,
        } => sandbox(listen, phone_number_ids, &access_token_file),
    }
}

fn init(dir: &Path) -> anyhow::Result<()> {
    let out = schleuse::init::init(dir).context("initialising the data folder")?;
    println!("config: {}", out.config_path.display());
    println!("phone_number_id: {}", out.phone_number_id);
    println!("token: {}", out.token);
    Ok(())
}

fn serve(config: Option<PathBuf>, listen: Vec<SocketAddr>) -> anyhow::Result<ExitCode> {
    let path = match config {
        Some(path) => path,
        None => {
            let dir = PathBuf::from(DEFAULT_DIR);
            if !dir.join("schleuse.toml").exists() {
                init(&dir)?;
                println!("(the token above is shown only once; keep it)");
            }
            dir.join("schleuse.toml")
        }
    };
    let mut config = load_config(&path)?;
    if !listen.is_empty() {
        config.server.listen = listen;
    }
    schleuse::observability::init_tracing(&config.log);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime
        .block_on(schleuse::app::run_until_signal(&config))
        .context("running the gateway")?;
    Ok(ExitCode::SUCCESS)
}

fn audit(
    config: Option<PathBuf>,
    command: schleuse::audit::cli::AuditCommand,
) -> anyhow::Result<ExitCode> {
    let path = config.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR).join("schleuse.toml"));
    let config = load_config(&path)?;
    let settings = schleuse::app::audit_settings(&config);
    let key = settings.pseudonym_key.clone();
    let resolve = move |phone: &str| {
        schleuse::phone::E164::parse(phone)
            .map(|n| key.subject(n.as_str()))
            .map_err(|e| format!("--subject {e}"))
    };
    let mut stdout = std::io::stdout().lock();
    Ok(schleuse::audit::cli::run(
        command,
        settings,
        &mut stdout,
        &resolve,
    )?)
}

fn simulate_inbound(config: Option<PathBuf>, from: &str, text: &str) -> anyhow::Result<ExitCode> {
    let path = config.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR).join("schleuse.toml"));
    let config = load_config(&path)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let status = runtime.block_on(schleuse::sandbox::customer_writes(&config, from, text))?;
    println!("gateway answered {}", status.as_u16());
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn webhook_status(config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let path = config.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR).join("schleuse.toml"));
    let config = load_config(&path)?;
    let db = config.webhook_db_path();
    if !db.exists() {
        println!("no webhook has been received yet");
        return Ok(ExitCode::SUCCESS);
    }
    let queues = schleuse::webhook::queue_status(&db).context("reading the webhook outbox")?;
    println!("client\tpending\tparked\thead_attempts");
    for q in &queues {
        println!(
            "{}\t{}\t{}\t{}",
            q.client, q.pending, q.parked, q.head_attempts
        );
    }
    // Exit code 2 when something is parked, so monitoring can alert on it.
    let parked = queues.iter().any(|q| q.parked > 0);
    Ok(if parked {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn pii(
    config: Option<PathBuf>,
    command: schleuse::pii::cli::PiiCommand,
) -> anyhow::Result<ExitCode> {
    let default = PathBuf::from(DEFAULT_DIR).join("schleuse.toml");
    let path = config.or_else(|| default.exists().then_some(default));
    let secret = match path {
        Some(path) => load_config(&path)?.secrets.pseudonym_key.to_vec(),
        None => {
            eprintln!("note: no config; pseudonyms and encrypted tokens use a throwaway key");
            let mut key = vec![0u8; 32];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
                .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
            key
        }
    };
    let keys = schleuse::pii::PiiKeys::from_secret(&secret);
    let mut input = std::io::BufReader::new(std::io::stdin().lock());
    let mut output = std::io::stdout().lock();
    Ok(schleuse::pii::cli::run(
        command,
        &mut input,
        &mut output,
        &keys,
    )?)
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    Ok(Config::load(path, &|name| std::env::var(name).ok())?)
}

fn policy(command: schleuse::policy::cli::PolicyCommand) -> anyhow::Result<ExitCode> {
    use schleuse::policy::cli::{self, PolicyCommand};
    let mut stdout = std::io::stdout().lock();
    match command {
        PolicyCommand::Check { files } => Ok(if cli::check(&files, &mut stdout)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
        PolicyCommand::Explain {
            request,
            at,
            config,
        } => {
            let (config, policy, ledger) = open_ledger(config)?;
            let key = schleuse::pseudonym::PseudonymKey::new(&config.secrets.pseudonym_key);
            let body = std::fs::read(&request)
                .with_context(|| format!("reading {}", request.display()))?;
            let at = at.unwrap_or_else(jiff::Timestamp::now);
            let allowed = cli::explain(&policy, &ledger, &key, &body, at, &mut stdout)?;
            Ok(if allowed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}

fn consent(
    config: Option<PathBuf>,
    actor: Option<String>,
    command: schleuse::consent::cli::ConsentCommand,
) -> anyhow::Result<ExitCode> {
    let (config, policy, ledger) = open_ledger(config)?;
    let key = schleuse::pseudonym::PseudonymKey::new(&config.secrets.pseudonym_key);
    let actor = actor.unwrap_or_else(|| {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        format!("operator:{user}")
    });
    let ctx = schleuse::consent::cli::Context {
        policy: &policy,
        ledger: &ledger,
        key: &key,
        actor,
        now: jiff::Timestamp::now(),
    };
    let mut stdout = std::io::stdout().lock();
    Ok(schleuse::consent::cli::run(command, &ctx, &mut stdout)?)
}

/// Loads the config, its policy and the consent ledger it names.
fn open_ledger(
    config: Option<PathBuf>,
) -> anyhow::Result<(
    Config,
    schleuse::policy::Policy,
    schleuse::consent::SqliteLedger,
)> {
    let path = config.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR).join("schleuse.toml"));
    let config = load_config(&path)?;
    let policy = schleuse::policy::Policy::load(&config.policy_file)?;
    let db = config.consent_db_path();
    let ledger = schleuse::consent::SqliteLedger::open(&db)
        .with_context(|| format!("opening {}", db.display()))?;
    Ok((config, policy, ledger))
}

fn sandbox(listen: SocketAddr, ids: Vec<String>, token_file: &Path) -> anyhow::Result<ExitCode> {
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("reading {}", token_file.display()))?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        bail!("{} is empty", token_file.display());
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        println!("sandbox listening on http://{}", listener.local_addr()?);
        let sandbox = schleuse::sandbox::Sandbox::new(ids, Secret::new(token));
        tokio::select! {
            _ = schleuse::sandbox::serve(listener, sandbox) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(ExitCode::SUCCESS)
    })
}
