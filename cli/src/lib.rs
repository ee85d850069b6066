//! `cupass`: the command-line tool for every ledger user.
//!
//! Manufacturers issue passports, recyclers receive and grade scrap,
//! certifiers publish schemes and issue certificates, auditors verify
//! evidence bundles and the whole log offline. Every command that touches
//! the ledger works on a local ledger directory (`--dir`, embedded sled) or
//! on a node (`--node URL`) through the same [`backend::Backend`] trait, so
//! both modes give identical results.
//!
//! The binary is a thin wrapper around [`run`], which the integration
//! tests also call in-process. The CLI is the top layer: it parses
//! arguments and renders typed results; the ledger, the verifier and the
//! HTTP client are the `client` crate's. It may not depend on the server
//! crate (`node`) or link an async runtime.

pub mod args;
pub mod backend;
mod cmd;
pub mod demo;
pub mod error;
pub mod keys;
pub mod output;
pub mod parse;
pub mod readings;
pub mod time;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use client::Receipt;
use ledger::NoteSigner;
use passport_schema::{Event, EventBody};
use serde_json::{Value, json};

use crate::args::{Cli, Command};
use crate::backend::{Backend, Http, Local};
use crate::error::{CliError, EXIT_USAGE, Result};
use crate::output::{Report, Style};

/// Where the output goes and whether it is a terminal.
pub struct Term<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// Whether standard output is a terminal (enables colour).
    pub out_tty: bool,
    /// Whether standard error is a terminal (enables progress bars).
    pub err_tty: bool,
}

/// What every command can use: the mode, output options and the event time.
pub struct Ctx {
    /// Local ledger directory.
    pub dir: PathBuf,
    /// Node URL, if in node mode.
    pub node: Option<String>,
    /// `--json`.
    pub json: bool,
    /// Colour.
    pub style: Style,
    /// Whether to draw progress bars.
    pub progress: bool,
    /// `--at`, parsed.
    pub at: Option<i64>,
    /// Warnings to print on stderr.
    pub warnings: Vec<String>,
}

impl Ctx {
    /// The backend the global flags select.
    pub fn backend(&self) -> Result<Box<dyn Backend>> {
        match &self.node {
            Some(url) => Ok(Box::new(Http::new(url)?)),
            None => Ok(Box::new(Local::open(&self.dir)?)),
        }
    }

    /// The event time: `--at` or now.
    pub fn now(&self) -> i64 {
        self.at.unwrap_or_else(client::now_ms)
    }

    /// Reads a signing key file.
    pub fn signer(&mut self, path: &Path) -> Result<NoteSigner> {
        keys::read_signer(path, &mut self.warnings)
    }

    /// Builds the event, signs it with the key in `key` and submits it.
    pub fn sign_submit(
        &mut self,
        backend: &dyn Backend,
        key: &Path,
        body: EventBody,
    ) -> Result<Receipt> {
        let signer = self.signer(key)?;
        let event = Event::new(self.now(), body);
        let bytes = client::sign_event(&signer, &backend.origin()?, &event)?;
        backend.submit(&bytes)
    }
}

/// The standard report for an appended entry.
pub fn submitted(
    ctx: &Ctx,
    kind: &str,
    receipt: &Receipt,
    extra: &[(&str, String)],
    extra_json: Value,
) -> Report {
    let s = &ctx.style;
    let mut text = if receipt.duplicate {
        format!(
            "{} {kind} was already logged at index {} (identical entry)\n",
            s.mark(true),
            receipt.index
        )
    } else {
        format!(
            "{} {kind} appended at index {} (tree size {})\n",
            s.mark(true),
            receipt.index,
            receipt.inclusion_proof.tree_size
        )
    };
    if !extra.is_empty() {
        text.push_str(&output::fields(extra));
    }
    let mut j = json!({ "kind": kind, "index": receipt.index });
    if let (Some(m), Value::Object(x)) = (j.as_object_mut(), extra_json) {
        m.extend(x);
    }
    if let Some(m) = j.as_object_mut() {
        m.insert(
            "receipt".into(),
            serde_json::to_value(receipt).unwrap_or(Value::Null),
        );
    }
    Report::new(j, text)
}

/// Runs the CLI with `args` (including the program name) and returns the exit status.
pub fn run<I, T>(args: I, term: &mut Term<'_>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            let text = if term.out_tty {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = write!(term.out, "{text}");
                    0
                }
                _ => {
                    let _ = write!(term.err, "{text}");
                    EXIT_USAGE
                }
            };
        }
    };
    let json = cli.json;
    let color = term.out_tty && !json && std::env::var_os("NO_COLOR").is_none();
    let at = match cli.at.as_deref().map(time::parse_time).transpose() {
        Ok(a) => a,
        Err(e) => return report_error(term, json, &e, Style { color: false }),
    };
    let mut ctx = Ctx {
        dir: cli.dir.clone(),
        node: cli.node.clone(),
        json,
        style: Style { color },
        progress: term.err_tty && !json,
        at,
        warnings: Vec::new(),
    };
    let result = dispatch(&mut ctx, cli.command);
    for w in &ctx.warnings {
        let _ = writeln!(term.err, "warning: {w}");
    }
    match result {
        Ok(report) => {
            if json {
                let s = serde_json::to_string_pretty(&report.json).unwrap_or_default();
                let _ = writeln!(term.out, "{s}");
            } else {
                let _ = write!(term.out, "{}", report.text);
            }
            report.exit
        }
        Err(e) => report_error(term, json, &e, ctx.style),
    }
}

fn report_error(term: &mut Term<'_>, json: bool, e: &CliError, style: Style) -> i32 {
    if json {
        let j = json!({ "error": e.code, "message": e.message });
        let _ = writeln!(
            term.out,
            "{}",
            serde_json::to_string_pretty(&j).unwrap_or_default()
        );
    } else if e.exit == EXIT_USAGE {
        let _ = writeln!(term.err, "error: {}", e.message);
    } else {
        let _ = writeln!(
            term.err,
            "{} refused ({}): {}",
            style.mark(false),
            e.code,
            e.message
        );
    }
    e.exit
}

fn dispatch(ctx: &mut Ctx, command: Command) -> Result<Report> {
    match command {
        Command::Key(c) => cmd::keys::key(ctx, c),
        Command::Init(a) => cmd::keys::init(ctx, a),
        Command::Actor(c) => cmd::keys::actor(ctx, c),
        Command::Lot(c) => cmd::material::lot(ctx, c),
        Command::Process(a) => cmd::material::process(ctx, a),
        Command::Passport(c) => cmd::material::passport(ctx, c),
        Command::Transfer(a) => cmd::material::transfer(ctx, a),
        Command::Service(a) => cmd::material::service(ctx, a),
        Command::Retire(a) => cmd::material::retire(ctx, a),
        Command::Submit(a) => cmd::material::submit(ctx, a),
        Command::Scrap(c) => cmd::scrap::scrap(ctx, c),
        Command::Rules(c) => cmd::scrap::rules(ctx, c),
        Command::Scheme(c) => cmd::certs::scheme(ctx, c),
        Command::Cert(c) => cmd::certs::cert(ctx, c),
        Command::Verify(a) => cmd::certs::verify(ctx, a),
        Command::Status(a) => cmd::certs::status(ctx, a),
        Command::Contract(c) => cmd::certs::contract(ctx, c),
        Command::Log(c) => cmd::log::log(ctx, c),
        Command::Demo(a) => demo::demo(ctx, a),
    }
}

/// Runs with the process's arguments, stdout and stderr (what `main` calls).
pub fn main_with_env() -> i32 {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let out_tty = stdout.is_terminal();
    let err_tty = stderr.is_terminal();
    // Not locked: the progress bar draws to stderr too.
    let mut out = stdout;
    let mut err = stderr;
    let mut term = Term {
        out: &mut out,
        err: &mut err,
        out_tty,
        err_tty,
    };
    let code = run(std::env::args_os(), &mut term);
    let _ = term.out.flush();
    code
}
