//! `cupass-load`: a load generator for a running node. Its one job is
//! traffic: it signs through the `client` crate and sends with an async
//! HTTP client, and nothing depends on it.
//!
//! It registers a load-test refiner with the operator key, pre-signs N
//! primary-lot registrations (signing is not timed), then submits them over
//! HTTP with C requests in flight and reports accepted submissions per
//! second, latency percentiles from submission to durable, checkpointed
//! receipt, and the node's resident memory from `/metrics`.
//!
//!   cupass-node init --dir /tmp/load --origin load.cupass.example/log
//!   cupass-node --dir /tmp/load --listen 127.0.0.1:8080 &
//!   cupass-load --node http://127.0.0.1:8080 --operator-key /tmp/load/operator.key --count 100000

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use ledger::NoteSigner;
use passport_schema::{Bytes32, Composition, Event, GrantRole, PrimaryLot, RegisterActor, Role};
use tokio::sync::Semaphore;

/// Load generator for a cupass node (see the module docs for an example).
#[derive(Parser, Debug)]
#[command(name = "cupass-load", version)]
struct Args {
    /// The node's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The operator key file (to register the load-test actor).
    #[arg(long)]
    operator_key: PathBuf,
    /// How many entries to submit.
    #[arg(long, default_value_t = 50_000)]
    count: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Open-loop mode: submit at this many entries per second on a fixed
    /// schedule (entry i is due at start + i/N), still with at most
    /// `--concurrency` in flight. Latency is measured from each entry's due
    /// time, so a stalled node shows up as latency, not as a slower sender.
    /// Without it, the run is closed-loop: a new request as soon as one ends.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    rate: Option<u64>,
    /// Seed for the load-test actor's key (use a new one per run on the same ledger).
    #[arg(long, default_value_t = 1)]
    seed: u8,
    /// Soak mode: for this many seconds, send a mix of valid and hostile
    /// requests at a steady rate and sample the node's RSS and open file
    /// descriptors every 10 s (instead of the throughput run).
    #[arg(long)]
    soak_secs: Option<u64>,
    /// In soak mode, how many of each burst's 64 valid entries are new; the
    /// rest resubmit entries of the first burst (answered 200 with their
    /// original index). 0 stops the ledger growing, so any growth in memory
    /// is the node's, not the data's.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(0..=64))]
    soak_new: u32,
}

type Fail = Box<dyn std::error::Error + Send + Sync>;

async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<u16, Fail> {
    let r = client
        .post(format!("{url}/v1/entries"))
        .header("content-type", "application/cose")
        .body(body)
        .send()
        .await?;
    let status = r.status().as_u16();
    let _ = r.bytes().await?;
    Ok(status)
}

fn now_ms() -> i64 {
    client::now_ms()
}

/// The node's log origin (its checkpoint's first line), which every entry
/// signed for it must name.
async fn origin(client: &reqwest::Client, url: &str) -> Result<String, Fail> {
    let note = client
        .get(format!("{url}/checkpoint"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    Ok(client::checkpoint_origin(&note)?)
}

async fn run(args: Args) -> Result<(), Fail> {
    let operator =
        client::keyfile::read_key_file(&args.operator_key, client::keyfile::Permissions::Warn)?;
    let name = format!("load-{}", args.seed);
    let actor = NoteSigner::new(
        &name,
        ed25519_dalek::SigningKey::from_bytes(&[args.seed; 32]),
    )?;
    let public = Bytes32(*actor.verifier().key().as_bytes());
    let kid = Bytes32(passport_schema::kid_of(&public.0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let log = origin(&client, &args.node).await?;
    let reg = client::sign_event(
        &operator,
        &log,
        &Event::new(
            now_ms(),
            RegisterActor {
                name,
                country: "CN".into(),
                public_key: public,
            },
        ),
    )?;
    let grant = client::sign_event(
        &operator,
        &log,
        &Event::new(
            now_ms(),
            GrantRole {
                actor: kid,
                role: Role::Refiner,
            },
        ),
    )?;
    for e in [reg, grant] {
        let s = post(&client, &args.node, e).await?;
        if s != 201 && s != 200 {
            return Err(format!("setting up the load actor failed with status {s}").into());
        }
    }

    if let Some(secs) = args.soak_secs {
        return soak(&args, &client, &actor, &log, secs).await;
    }
    eprintln!("pre-signing {} entries...", args.count);
    let t = Instant::now();
    let entries: Vec<Vec<u8>> = (0..args.count)
        .map(|_| {
            let lot = PrimaryLot::new(1_000_000, "CN", "Load Test Cathode")
                .with_composition(Composition::new().with("Cu", 999_950));
            client::sign_event(&actor, &log, &Event::new(now_ms(), lot))
        })
        .collect::<Result<_, _>>()?;
    let size = entries.first().map(Vec::len).unwrap_or(0);
    eprintln!(
        "signed in {:.1?} ({size} bytes each); sending with {} in flight",
        t.elapsed(),
        args.concurrency
    );

    let gate = Arc::new(Semaphore::new(args.concurrency));
    let client = Arc::new(client);
    let url = Arc::new(args.node.clone());
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(entries.len());
    // Open loop: how many entries found all `--concurrency` slots taken at
    // their due time, and how late each one started.
    let (mut waited_for_slot, mut start_lags) = (0usize, Vec::new());
    let mut last_start = started;
    for (i, e) in entries.into_iter().enumerate() {
        let (permit, due) = match args.rate {
            None => (Arc::clone(&gate).acquire_owned().await?, None),
            Some(rate) => {
                let nanos = (i as u128).saturating_mul(1_000_000_000) / u128::from(rate);
                let due = started + Duration::from_nanos(u64::try_from(nanos)?);
                if due > Instant::now() {
                    tokio::time::sleep_until(due.into()).await;
                }
                let permit = match Arc::clone(&gate).try_acquire_owned() {
                    Ok(p) => p,
                    Err(_) => {
                        waited_for_slot += 1;
                        Arc::clone(&gate).acquire_owned().await?
                    }
                };
                last_start = Instant::now();
                start_lags.push(last_start.saturating_duration_since(due));
                (permit, Some(due))
            }
        };
        let (client, url) = (Arc::clone(&client), Arc::clone(&url));
        tasks.push(tokio::spawn(async move {
            let t = due.unwrap_or_else(Instant::now);
            let s = post(&client, &url, e).await;
            drop(permit);
            (s.ok(), t.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut accepted = 0usize;
    let mut other = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        let (status, latency) = t.await?;
        match status {
            Some(201) => {
                accepted += 1;
                latencies.push(latency);
            }
            Some(s) => *other.entry(s.to_string()).or_default() += 1,
            None => *other.entry("transport error".into()).or_default() += 1,
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| -> Duration {
        let i = ((latencies.len().saturating_sub(1)) as f64 * p).round() as usize;
        latencies.get(i).copied().unwrap_or_default()
    };
    let metrics = client
        .get(format!("{}/metrics", args.node))
        .send()
        .await?
        .text()
        .await?;
    let rss = metrics
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .and_then(|v| v.trim().parse::<u64>().ok());
    let tree = metrics
        .lines()
        .find_map(|l| l.strip_prefix("cupass_tree_size "))
        .unwrap_or("?");
    println!("submitted:   {}", accepted + other.values().sum::<usize>());
    println!("accepted:    {accepted} (201)");
    for (s, n) in &other {
        println!("other:       {n} ({s})");
    }
    println!("elapsed:     {elapsed:.2?}");
    println!(
        "throughput:  {:.0} accepted/s",
        accepted as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency:     p50 {:.1?}  p99 {:.1?}  max {:.1?}",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    if let Some(rate) = args.rate {
        let sent = start_lags.len();
        let send_secs = last_start.duration_since(started).as_secs_f64();
        start_lags.sort();
        let lag = |p: f64| -> Duration {
            let i = ((sent.saturating_sub(1)) as f64 * p).round() as usize;
            start_lags.get(i).copied().unwrap_or_default()
        };
        println!(
            "open loop:   {rate}/s scheduled; {sent} sent in {send_secs:.2} s = {:.0}/s sent",
            sent.saturating_sub(1) as f64 / send_secs.max(f64::EPSILON)
        );
        println!("             latency from each entry's due time (coordinated omission avoided)");
        println!(
            "latency:     p50 {:.1?}  p90 {:.1?}  p99 {:.1?}  p99.9 {:.1?}  max {:.1?}",
            pct(0.50),
            pct(0.90),
            pct(0.99),
            pct(0.999),
            pct(1.0)
        );
        println!(
            "late start:  {waited_for_slot} waited for a free slot (--concurrency {}); start lag p99 {:.1?}  max {:.1?}",
            args.concurrency,
            lag(0.99),
            lag(1.0)
        );
    }
    println!("tree size:   {tree}");
    match rss {
        Some(b) => println!("node RSS:    {:.1} MiB", b as f64 / (1024.0 * 1024.0)),
        None => println!("node RSS:    unknown"),
    }
    Ok(())
}

/// Reads one gauge from the node's /metrics.
async fn gauge(client: &reqwest::Client, url: &str, name: &str) -> Result<f64, Fail> {
    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let prefix = format!("{name} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("{name} missing from /metrics").into())
}

/// Mixed valid and hostile load for `secs` seconds, with RSS and file
/// descriptors sampled every 10 s. Fails if either keeps growing.
async fn soak(
    args: &Args,
    client: &reqwest::Client,
    actor: &NoteSigner,
    log: &str,
    secs: u64,
) -> Result<(), Fail> {
    let url = args.node.clone();
    let end = Instant::now() + Duration::from_secs(secs);
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        ("application/cose", b"garbage".to_vec()),
        ("application/cose", vec![0u8; 70_000]),
        ("text/plain", b"hello".to_vec()),
        (
            "application/cose",
            vec![
                0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        ),
    ];
    // Hostile requests use their own connections: a server may close a
    // connection it refused a body on, and an honest client's pool should
    // not inherit that race.
    let attacker = reqwest::Client::new();
    let mut samples: Vec<(u64, f64, f64, f64)> = Vec::new();
    let replay: Vec<Vec<u8>> = (0..64)
        .map(|_| {
            let lot = PrimaryLot::new(1_000_000, "CN", "Soak Cathode")
                .with_composition(Composition::new().with("Cu", 999_950));
            client::sign_event(actor, log, &Event::new(now_ms(), lot))
        })
        .collect::<Result<_, _>>()?;
    let mut first_burst = true;
    let mut slow_clients = tokio::task::JoinSet::new();
    let started = Instant::now();
    let mut next_sample = Instant::now();
    let (mut ok, mut refused, mut n, mut slowloris) = (0u64, 0u64, 0u64, 0u64);
    println!(
        "{:>6}  {:>10}  {:>9}  {:>10}  {:>9}",
        "t (s)", "RSS (MiB)", "open fds", "tree size", "requests"
    );
    while Instant::now() < end {
        if Instant::now() >= next_sample {
            let rss =
                gauge(client, &url, "process_resident_memory_bytes").await? / (1024.0 * 1024.0);
            let fds = gauge(client, &url, "process_open_fds").await?;
            let size = gauge(client, &url, "cupass_tree_size").await?;
            let t = started.elapsed().as_secs();
            println!("{t:>6}  {rss:>10.1}  {fds:>9.0}  {size:>10.0}  {n:>9}");
            samples.push((t, rss, fds, size));
            next_sample += Duration::from_secs(10);
        }
        // A burst: 64 valid entries and 16 hostile requests, concurrently.
        let mut tasks = Vec::new();
        for i in 0..80u32 {
            let client = if i < 64 {
                client.clone()
            } else {
                attacker.clone()
            };
            let url = url.clone();
            // The first burst submits the replay set; later ones resend it.
            let from_replay_set = first_burst || i >= args.soak_new;
            let (ct, body) = if i < 64 && from_replay_set {
                let e = replay.get(i as usize).ok_or("replay set too small")?;
                ("application/cose", e.clone())
            } else if i < 64 {
                let lot = PrimaryLot::new(1_000_000, "CN", "Soak Cathode")
                    .with_composition(Composition::new().with("Cu", 999_950));
                (
                    "application/cose",
                    client::sign_event(actor, log, &Event::new(now_ms(), lot))?,
                )
            } else {
                let (ct, b) = hostile
                    .get((i as usize) % hostile.len())
                    .ok_or("no hostile requests")?;
                (*ct, b.clone())
            };
            let valid = i < 64;
            tasks.push(tokio::spawn(async move {
                let status = match client
                    .post(format!("{url}/v1/entries"))
                    .header("content-type", ct)
                    .body(body)
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(e) => {
                        if valid {
                            eprintln!("transport error on a valid request: {e:?}");
                        }
                        0
                    }
                };
                (valid, status)
            }));
        }
        for t in tasks {
            match t.await? {
                (true, 201) => ok += 1,
                (true, 200) if !first_burst => ok += 1,
                // A server may close the connection on an oversized body
                // before the client has sent it all (status 0 here).
                (false, 400 | 413 | 0) => refused += 1,
                (valid, other) => {
                    let what = if valid { "a valid" } else { "a hostile" };
                    return Err(format!("unexpected status {other} for {what} request").into());
                }
            }
            n += 1;
        }
        first_burst = false;
        // A slowloris per burst: half a request line, then nothing. The node
        // must drop it after its header timeout.
        let addr = url.trim_start_matches("http://").to_string();
        slow_clients.spawn(slow_client(addr));
        while let Some(done) = slow_clients.try_join_next() {
            slowloris += 1;
            if !done? {
                return Err("the node kept a slowloris connection for over 60 s".into());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "accepted {ok}, refused as expected {refused}, slowloris connections dropped by the node {slowloris}, in {:.0?}",
        started.elapsed()
    );
    // Flat means: after the first minute of warm-up, the last sample is within
    // 15% (RSS) and 16 descriptors of the warm-up sample.
    let warm = samples
        .iter()
        .find(|s| s.0 >= 60)
        .or(samples.first())
        .copied();
    let last = samples.last().copied();
    if let (Some(w), Some(l)) = (warm, last) {
        println!(
            "RSS {:.1} -> {:.1} MiB, fds {:.0} -> {:.0} (from t={}s to t={}s)",
            w.1, l.1, w.2, l.2, w.0, l.0
        );
        if l.1 > w.1 * 1.15 || l.2 > w.2 + 16.0 {
            return Err("memory or file descriptors kept growing".into());
        }
    }
    Ok(())
}

/// Opens a connection, sends half a request line, and waits for the node
/// to close it. True if it did within 60 s.
async fn slow_client(addr: String) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(&addr).await else {
        return true;
    };
    if stream.write_all(b"POST /v1/entries HTT").await.is_err() {
        return true;
    }
    let mut sink = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut sink))
        .await
        .is_ok()
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cupass-load: {e}");
            ExitCode::FAILURE
        }
    }
}
