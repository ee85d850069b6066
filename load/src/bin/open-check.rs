//! `cupass-open-check`: measures what opening a ledger costs, in a fresh
//! process, split into the log's own check and the replay check of the
//! views.
//!
//!   cupass-open-check build --dir /tmp/open100k --count 100000
//!   cupass-open-check measure --dir /tmp/open100k
//!
//! `build` makes a ledger of `count` entries in a new directory through
//! the ingest pipeline (an operator-registered refiner, then primary-lot
//! registrations signed by it, committed 1,024 to a batch: the stream the
//! node's load test sends). `measure` opens it as the node does and prints
//! wall time, CPU time (user + system of the whole process, all threads,
//! from `/proc/self/stat`: what `getrusage(RUSAGE_SELF)` reports) per
//! phase and per entry, and the peak RSS (`VmHWM`) after each phase.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use client::keyfile::Permissions;
use client::pipeline::{Checked, Submission};
use ledger::{Log, NoteSigner, OpenCheck, SledStore};
use passport_schema::{Bytes32, Event, GrantRole, PrimaryLot, RegisterActor, Role, kid_of};

/// Measures the start-up checks of a ledger.
#[derive(Parser, Debug)]
#[command(name = "cupass-open-check", version)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Builds a ledger of `count` entries in a new directory.
    Build {
        /// The new data directory.
        #[arg(long)]
        dir: PathBuf,
        /// Entries in all (the genesis and the refiner's setup included).
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Entries per committed batch (the node's batches at 5,000/s hold
        /// about 110).
        #[arg(long, default_value_t = 1024)]
        batch: u64,
    },
    /// Opens the ledger and reports what each check cost.
    Measure {
        /// The data directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

type Fail = Box<dyn std::error::Error + Send + Sync>;

fn build(dir: &std::path::Path, count: u64, batch_size: u64) -> Result<(), Fail> {
    let options = client::Options::default();
    client::init(
        dir,
        "open-check.cupass.example/log",
        "Operator",
        "CN",
        &options,
    )?;
    let ledger = client::open(dir, &options, Permissions::Strict)?;
    let operator = client::keyfile::read_key_file(
        &client::DataDir(dir.to_path_buf()).operator_key(),
        Permissions::Strict,
    )?;
    let refiner = NoteSigner::new("Refiner", ed25519_dalek::SigningKey::from_bytes(&[7; 32]))?;
    let public = Bytes32(*refiner.verifier().key().as_bytes());
    let now = client::now_ms();
    for ev in [
        Event::new(
            now,
            RegisterActor {
                name: "Refiner".into(),
                country: "CN".into(),
                public_key: public,
            },
        ),
        Event::new(
            now,
            GrantRole {
                actor: Bytes32(kid_of(&public.0)),
                role: Role::Refiner,
            },
        ),
    ] {
        ledger.submit(&client::sign_event(&operator, &ledger.origin()?, &ev)?)?;
    }
    let origin = ledger.origin()?;
    // (wall s, CPU s, entries) of every commit: the sequencer's own cost.
    let mut commits: Vec<(f64, f64, usize)> = Vec::new();
    let t = Instant::now();
    while ledger.log().size()? < count {
        let left = count - ledger.log().size()?;
        let k = usize::try_from(left.min(batch_size.max(1)))?;
        // Sign and check on both cores; commit in order.
        let halves: Vec<Result<Vec<Checked>, Fail>> = std::thread::scope(|s| {
            let handles: Vec<_> = [k / 2, k - k / 2]
                .into_iter()
                .map(|n| {
                    let (ledger, refiner, origin) = (&ledger, &refiner, &origin);
                    s.spawn(move || -> Result<Vec<Checked>, Fail> {
                        let now = client::now_ms();
                        (0..n)
                            .map(|_| {
                                let lot = PrimaryLot::new(1_000_000, "CN", "Open Check Cathode");
                                let bytes =
                                    client::sign_event(refiner, origin, &Event::new(now, lot))?;
                                match ledger.check(&bytes, now)? {
                                    Submission::New(c) => Ok(*c),
                                    Submission::Duplicate(i) => {
                                        Err(format!("a fresh lot is a duplicate of {i}").into())
                                    }
                                }
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("a signing thread failed".into()))
                })
                .collect()
        });
        let mut batch = Vec::with_capacity(k);
        for h in halves {
            batch.extend(h?);
        }
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        for r in ledger.commit_batch(batch)? {
            r?;
        }
        commits.push((wall.elapsed().as_secs_f64(), cpu_seconds() - cpu, k));
        let size = ledger.log().size()?;
        if size % 65_536 < 1024 {
            eprintln!("{size} entries, {:.1?}", t.elapsed());
        }
    }
    println!(
        "built {} entries in {} in {:.1?}",
        ledger.log().size()?,
        dir.display(),
        t.elapsed()
    );
    let entries: usize = commits.iter().map(|c| c.2).sum();
    let (wall, cpu): (f64, f64) = commits
        .iter()
        .fold((0.0, 0.0), |a, c| (a.0 + c.0, a.1 + c.1));
    let mut walls: Vec<f64> = commits.iter().map(|c| c.0).collect();
    walls.sort_by(f64::total_cmp);
    let p99 = walls
        .get(walls.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or(0.0);
    println!(
        "commit_batch: {} commits of up to {batch_size}: mean {:.2} ms, p99 {:.2} ms; \
         {:.1} µs wall and {:.1} µs CPU (process) per entry",
        commits.len(),
        wall * 1e3 / commits.len().max(1) as f64,
        p99 * 1e3,
        wall * 1e6 / entries.max(1) as f64,
        cpu * 1e6 / entries.max(1) as f64,
    );
    Ok(())
}

/// User + system CPU seconds of this process, all threads.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here; in
    // clock ticks of 1/100 s on Linux.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// Peak resident set size so far, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn measure(dir: &std::path::Path) -> Result<(), Fail> {
    let data = client::DataDir(dir.to_path_buf());
    let options = client::Options::default();
    let log_key = client::keyfile::read_key_file(&data.log_key(), Permissions::Strict)?;
    let (t0, c0) = (Instant::now(), cpu_seconds());
    let store = SledStore::open(
        data.store(),
        &ledger::SledConfig {
            cache_capacity: options.cache_capacity,
        },
    )?;
    let log = Log::open(store, log_key, OpenCheck::Full)?;
    let n = log.size()?;
    let (t1, c1, rss1) = (Instant::now(), cpu_seconds(), peak_rss_mib());
    let checked = client::view_check::check(log.store(), n)?;
    let (t2, c2, rss2) = (Instant::now(), cpu_seconds(), peak_rss_mib());
    let per = |s: f64| s * 1e6 / n.max(1) as f64;
    let log_wall = (t1 - t0).as_secs_f64();
    let view_wall = (t2 - t1).as_secs_f64();
    println!("entries: {n}, view records compared: {}", checked.records);
    println!(
        "log check (OpenCheck::Full): wall {log_wall:.2} s ({:.2} us/entry), CPU {:.2} s ({:.2} us/entry), peak RSS {rss1:.0} MiB",
        per(log_wall),
        c1 - c0,
        per(c1 - c0)
    );
    println!(
        "view check (replay + compare): wall {view_wall:.2} s ({:.2} us/entry), CPU {:.2} s ({:.2} us/entry), peak RSS {rss2:.0} MiB",
        per(view_wall),
        c2 - c1,
        per(c2 - c1)
    );
    println!(
        "open in all: wall {:.2} s, CPU {:.2} s",
        log_wall + view_wall,
        c2 - c0
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let r = match args.command {
        Cmd::Build { dir, count, batch } => build(&dir, count, batch),
        Cmd::Measure { dir } => measure(&dir),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cupass-open-check: {e}");
            ExitCode::FAILURE
        }
    }
}
