//! `cupass-witness`: run a C2SP tlog-witness, or make its key.

use std::{
    fs,
    io::Write,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use clap::{Parser, Subcommand};
use cupass_witness::{Witness, serve};
use ledger::{NoteVerifier, cosignature::Cosigner, keys};

/// A C2SP tlog-witness for cupass logs.
///
/// A witness cosigns a log's checkpoint only if the log signed it and it is
/// consistent with (extends, or equals) the last checkpoint the witness
/// cosigned for that log. Logs collect cosignatures from several witnesses
/// so that clients can refuse a split view.
///
/// Start here:
///
///   cupass-witness keygen --name witness.example/w1 --out w1.key
///
///   cupass-witness serve --listen 127.0.0.1:7380 --key w1.key \
///       --log 'example.org/log+1234abcd+AX...' --state ./w1-state
///
/// Exit codes: 0 ok, 1 failure, 2 usage error.
#[derive(Parser, Debug)]
#[command(name = "cupass-witness", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve POST /add-checkpoint (C2SP tlog-witness).
    ///
    /// Prints `listening on http://ADDR` once it accepts requests. State is
    /// one file per log in --state, fsync'd before each cosignature is
    /// returned; restart with the same --state to keep it.
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7380")]
        listen: SocketAddr,
        /// Witness key file written by `cupass-witness keygen`.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The witness name; if given, it must equal the key file's name.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// A log to witness, as its signed-note vkey
        /// `<origin>+<hex key id>+<base64 key>` (repeat for more logs, or
        /// for several keys of one log).
        #[arg(long = "log", value_name = "VKEY", required = true)]
        logs: Vec<String>,
        /// Directory for the witness's state (created if missing).
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
    /// Create a witness key file and print its vkey (type 0x04).
    ///
    /// The file holds the secret key; it is created with mode 0600 and an
    /// existing file is never overwritten. Put the printed vkey in the
    /// policy files of those who rely on this witness.
    Keygen {
        /// The witness name, e.g. witness.example/w1.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Where to write the key.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the vkey of a witness key file.
    Vkey {
        /// Witness key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cupass-witness: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn read_key(path: &Path) -> Result<Cosigner, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
    Cosigner::parse(text.trim()).map_err(|e| {
        format!(
            "{} is not a witness key ({e}); create one with `cupass-witness keygen`",
            path.display()
        )
    })
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Keygen { name, out } => {
            let cosigner = Cosigner::new(
                &name,
                keys::generate_signing_key().map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts
                .open(&out)
                .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            f.write_all(format!("{}\n", cosigner.to_secret_string()).as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!("{}", cosigner.verifier());
            Ok(())
        }
        Command::Vkey { key } => {
            println!("{}", read_key(&key)?.verifier());
            Ok(())
        }
        Command::Serve {
            listen,
            key,
            name,
            logs,
            state,
        } => {
            let cosigner = read_key(&key)?;
            if let Some(name) = name
                && name != cosigner.name()
            {
                return Err(format!(
                    "--name {name:?} differs from the key's name {:?}",
                    cosigner.name()
                ));
            }
            let logs = logs
                .iter()
                .map(|v| {
                    NoteVerifier::parse(v).map_err(|e| {
                        format!(
                            "--log {v:?} is not a log vkey (<origin>+<hex id>+<base64 key>): {e}"
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let vkey = cosigner.verifier().to_string();
            let witness = Witness::new(cosigner, logs, state).map_err(|e| e.to_string())?;
            let rt = tokio::runtime::Runtime::new()
                .map_err(|e| format!("cannot start the runtime: {e}"))?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                let addr = listener.local_addr().map_err(|e| e.to_string())?;
                println!("cupass-witness: vkey {vkey}");
                println!("cupass-witness: listening on http://{addr}");
                let _ = std::io::stdout().flush();
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                serve(listener, Arc::new(witness), shutdown)
                    .await
                    .map_err(|e| format!("server failed: {e}"))
            })
        }
    }
}
