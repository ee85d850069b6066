//! `cupass-node`: serve a cupass ledger over HTTP, or create one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use client::keyfile::Permissions;
use node::Config;

/// The cupass ledger node.
///
/// Create a ledger once, then serve it:
///
///   cupass-node init --dir ./ledger-data --origin tongling.cupass.example/log
///   cupass-node --dir ./ledger-data --listen 127.0.0.1:8080
///
/// `init` prints the verifier key string auditors need to check checkpoints
/// offline. Settings come from flags, then CUPASS_* environment variables,
/// then a TOML file given with --config, then defaults.
#[derive(Parser, Debug)]
#[command(name = "cupass-node", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a new ledger: log key, operator key (mode 0600) and the genesis entry.
    Init(InitArgs),
}

#[derive(Args, Debug)]
struct InitArgs {
    /// Data directory to create.
    #[arg(long, env = "CUPASS_DIR", default_value = "cupass-data")]
    dir: PathBuf,
    /// The log's origin line, e.g. tongling.cupass.example/log.
    #[arg(long)]
    origin: String,
    /// The operator organisation's name.
    #[arg(long, default_value = "Ledger Operator")]
    operator_name: String,
    /// The operator's country (ISO 3166-1 alpha-2).
    #[arg(long, default_value = "CN")]
    operator_country: String,
    /// How many hours before the log's own time an event may be dated
    /// (written into the genesis; at most two years).
    #[arg(long, default_value_t = 72)]
    max_backdating_hours: i64,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Data directory holding the ledger.
    #[arg(long, env = "CUPASS_DIR", default_value = "cupass-data", global = true)]
    dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "CUPASS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// TOML settings file (batch_max, batch_delay_ms, clock_skew_ms, body_limit,
    /// request_timeout_ms, header_timeout_ms, max_connections, cache_capacity).
    #[arg(long, env = "CUPASS_CONFIG")]
    config: Option<PathBuf>,
    /// Most entries per committed batch.
    #[arg(long, env = "CUPASS_BATCH_MAX")]
    batch_max: Option<usize>,
    /// Milliseconds the sequencer waits to fill a batch.
    #[arg(long, env = "CUPASS_BATCH_DELAY_MS")]
    batch_delay_ms: Option<u64>,
    /// How far ahead of this clock an event may be dated (ms).
    #[arg(long, env = "CUPASS_CLOCK_SKEW_MS")]
    clock_skew_ms: Option<i64>,
    /// Largest request body in bytes.
    #[arg(long, env = "CUPASS_BODY_LIMIT")]
    body_limit: Option<usize>,
    /// Request timeout in ms, from the end of the headers (bounds slow bodies).
    #[arg(long, env = "CUPASS_REQUEST_TIMEOUT_MS")]
    request_timeout_ms: Option<u64>,
    /// Time a client has to send its request headers, in ms (and the idle
    /// keep-alive limit).
    #[arg(long, env = "CUPASS_HEADER_TIMEOUT_MS")]
    header_timeout_ms: Option<u64>,
    /// Most HTTP connections open at once; more are closed on accept.
    #[arg(long, env = "CUPASS_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// C2SP witness policy file (witness keys, URLs and quorum): every new
    /// checkpoint is sent to its witnesses and served with their cosignatures.
    #[arg(long, env = "CUPASS_WITNESS_POLICY")]
    witness_policy: Option<PathBuf>,
    /// Refuse key files that group or others can read (default: warn).
    #[arg(long)]
    strict: bool,
}

impl ServeArgs {
    fn config(&self) -> node::Result<Config> {
        let mut c = match &self.config {
            Some(p) => Config::from_toml_file(p)?,
            None => Config::default(),
        };
        if let Some(v) = &self.witness_policy {
            c.witness_policy = Some(v.clone());
        }
        if let Some(v) = self.batch_max {
            c.batch_max = v;
        }
        if let Some(v) = self.batch_delay_ms {
            c.batch_delay_ms = v;
        }
        if let Some(v) = self.clock_skew_ms {
            c.clock_skew_ms = v;
        }
        if let Some(v) = self.body_limit {
            c.body_limit = v;
        }
        if let Some(v) = self.request_timeout_ms {
            c.request_timeout_ms = v;
        }
        if let Some(v) = self.header_timeout_ms {
            c.header_timeout_ms = v;
        }
        if let Some(v) = self.max_connections {
            c.max_connections = v;
        }
        c.validate()?;
        Ok(c)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested: finishing the batch in flight");
}

async fn run(cli: Cli) -> node::Result<()> {
    match cli.command {
        Some(Command::Init(a)) => {
            let made = client::init(
                &a.dir,
                &a.origin,
                &a.operator_name,
                &a.operator_country,
                &client::Options {
                    max_backdating_ms: a.max_backdating_hours.saturating_mul(3_600_000),
                    ..Config::default().ledger_options()
                },
            )?;
            println!("created ledger in {}", a.dir.display());
            println!(
                "log verifier key (give this to auditors): {}",
                made.verifier_key
            );
            println!("operator kid: {}", made.operator_kid);
            println!(
                "operator key: {} (mode 0600; keep it off the node in production)",
                client::DataDir(a.dir.clone()).operator_key().display()
            );
            Ok(())
        }
        None => {
            let config = cli.serve.config()?;
            let perms = if cli.serve.strict {
                Permissions::Strict
            } else {
                Permissions::Warn
            };
            let dir = cli.serve.dir.clone();
            let options = config.ledger_options();
            let ledger = tokio::task::spawn_blocking(move || client::open(&dir, &options, perms))
                .await
                .map_err(|e| node::Error::State(e.to_string()))??;
            let listener = tokio::net::TcpListener::bind(cli.serve.listen).await?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, size = ledger.log().size()?, "serving");
            println!("listening on http://{addr}");
            node::serve(Arc::new(ledger), config, listener, shutdown_signal()).await?;
            tracing::info!("stopped cleanly");
            Ok(())
        }
    }
}

/// Blocking work (decoding, signature checks, commits) runs on a bounded
/// pool: an unbounded one grows to hundreds of threads under load, each
/// with its own stack and allocator arena, for no gain on two cores.
const MAX_BLOCKING_THREADS: usize = 8;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build();
    match runtime {
        Ok(rt) => rt.block_on(async_main()),
        Err(e) => {
            eprintln!("cupass-node: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn async_main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cupass-node: {e}");
            ExitCode::FAILURE
        }
    }
}
