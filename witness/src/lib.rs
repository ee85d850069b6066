//! A C2SP tlog-witness (`POST /add-checkpoint`) issuing C2SP
//! `cosignature/v1` Ed25519 cosignatures.
//!
//! For every log it is configured with (by the log's signed-note vkey, whose
//! name is the log's origin) the witness keeps the latest checkpoint it
//! cosigned, one small file per log, and cosigns a new checkpoint only if
//! the log signed it and a consistency proof shows it extends the stored
//! one. The check and the durable update happen under one lock, and the new
//! checkpoint is on disk (fsync'd file, fsync'd directory) before the
//! cosignature is returned, so the witness never cosigns a tree smaller
//! than, or inconsistent with, one it cosigned before — across restarts too.
//!
//! [`Witness::add_checkpoint`] is the protocol, free of HTTP; [`router`]
//! and [`serve`] put it behind axum; [`spawn`] runs it on a background
//! thread (for tests and embedding).

use std::{
    collections::HashMap,
    fs,
    io::Write,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use ledger::{
    Checkpoint, NoteVerifier,
    cosignature::{AddCheckpointRequest, Cosigner, SIZE_CONTENT_TYPE, size_body},
    hash::{Hash, empty_root, sha256},
    merkle::verify_consistency,
};

/// The largest request body accepted (a checkpoint, 63 proof hashes and
/// many signatures fit many times over).
pub const BODY_LIMIT: usize = 256 * 1024;

/// Why a witness could not be set up or its state read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The state directory or a state file could not be read or written.
    #[error("witness state {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A state file does not hold a checkpoint for its log.
    #[error("witness state {path} is corrupt: {reason}")]
    CorruptState {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The configuration is unusable (no logs, say).
    #[error("{0}")]
    Config(String),
}

/// The latest checkpoint a witness cosigned for one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latest {
    /// Its tree size.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
    /// The signed note as it was submitted.
    pub note: String,
}

/// A reply to an `add-checkpoint` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` of the body.
    pub content_type: &'static str,
    /// The body: cosignature lines (200), the known size (409) or a message.
    pub body: String,
}

impl Reply {
    fn text(status: u16, message: impl std::fmt::Display) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{message}\n"),
        }
    }

    fn conflict(known: u64) -> Reply {
        Reply {
            status: 409,
            content_type: SIZE_CONTENT_TYPE,
            body: size_body(known),
        }
    }
}

/// A witness: its key, the logs it witnesses and its durable state.
#[derive(Debug)]
pub struct Witness {
    cosigner: Cosigner,
    logs: HashMap<String, Vec<NoteVerifier>>,
    dir: PathBuf,
    /// Held across check-and-persist (the spec's atomicity requirement).
    latest: Mutex<HashMap<String, Option<Latest>>>,
}

impl Witness {
    /// A witness signing with `cosigner`, witnessing the logs whose keys are
    /// given (several keys may share an origin), keeping state in `dir`
    /// (created if missing).
    ///
    /// # Errors
    ///
    /// [`WitnessError::Config`] without logs; [`WitnessError::Io`] if the
    /// directory cannot be created.
    pub fn new(
        cosigner: Cosigner,
        logs: Vec<NoteVerifier>,
        dir: impl Into<PathBuf>,
    ) -> Result<Self, WitnessError> {
        if logs.is_empty() {
            return Err(WitnessError::Config(
                "a witness needs at least one log key (--log)".into(),
            ));
        }
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| WitnessError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut by_origin: HashMap<String, Vec<NoteVerifier>> = HashMap::new();
        for v in logs {
            by_origin.entry(v.name().to_string()).or_default().push(v);
        }
        Ok(Witness {
            cosigner,
            logs: by_origin,
            dir,
            latest: Mutex::new(HashMap::new()),
        })
    }

    /// The witness's cosigner (its verifier's `Display` is the vkey).
    pub fn cosigner(&self) -> &Cosigner {
        &self.cosigner
    }

    /// The state file of a log.
    pub fn state_path(&self, origin: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.checkpoint",
            hex::encode(sha256(origin.as_bytes()))
        ))
    }

    /// The latest checkpoint cosigned for `origin`, read from disk.
    ///
    /// # Errors
    ///
    /// [`WitnessError::Io`] or [`WitnessError::CorruptState`].
    pub fn latest(&self, origin: &str) -> Result<Option<Latest>, WitnessError> {
        load(&self.state_path(origin), origin)
    }

    /// Handles one `add-checkpoint` request body, following C2SP
    /// tlog-witness: 400 malformed (or old size above the checkpoint's),
    /// 404 unknown origin, 403 no signature by a trusted key, 409 (with
    /// `text/x.tlog.size`) old size not the stored size or same size with
    /// another root, 422 bad consistency proof, 500 state failure, else 200
    /// with the cosignature line after the checkpoint is durably stored.
    pub fn add_checkpoint(&self, body: &[u8]) -> Reply {
        let req = match AddCheckpointRequest::parse(body) {
            Ok(r) => r,
            Err(e) => return Reply::text(400, e),
        };
        let claimed = match Checkpoint::parse_note_unverified(&req.note) {
            Ok(cp) => cp,
            Err(e) => return Reply::text(400, e),
        };
        let Some(keys) = self.logs.get(&claimed.origin) else {
            return Reply::text(404, format!("unknown log origin {:?}", claimed.origin));
        };
        // Signatures by unknown keys are ignored; one trusted key must verify.
        let Some(cp) = keys
            .iter()
            .find_map(|k| Checkpoint::open(&req.note, k).ok())
        else {
            return Reply::text(
                403,
                format!(
                    "no valid signature by a trusted key for {:?}",
                    claimed.origin
                ),
            );
        };
        if req.old_size > cp.size {
            return Reply::text(
                400,
                format!(
                    "old size {} is above the checkpoint size {}",
                    req.old_size, cp.size
                ),
            );
        }
        let mut latest = match self.latest.lock() {
            Ok(l) => l,
            Err(_) => return Reply::text(500, "witness state lock poisoned"),
        };
        let stored = match latest.get(&cp.origin) {
            Some(s) => s.clone(),
            None => match self.latest(&cp.origin) {
                Ok(s) => {
                    latest.insert(cp.origin.clone(), s.clone());
                    s
                }
                Err(e) => return Reply::text(500, e),
            },
        };
        let (known_size, known_root) = stored
            .as_ref()
            .map_or((0, empty_root()), |s| (s.size, s.root));
        if req.old_size != known_size {
            return Reply::conflict(known_size);
        }
        if let Err(why) = check_consistency(&req, &cp, known_size, &known_root) {
            return match why {
                Inconsistent::Fork => {
                    eprintln!(
                        "cupass-witness: {:?} signed two trees of size {}: possible fork",
                        cp.origin, cp.size
                    );
                    Reply::conflict(known_size)
                }
                Inconsistent::BadProof(e) => Reply::text(422, e),
            };
        }
        let new = Latest {
            size: cp.size,
            root: cp.root,
            note: req.note.clone(),
        };
        if let Err(e) = store(&self.dir, &self.state_path(&cp.origin), &new.note) {
            // The disk may or may not hold the new state: read it again next time.
            latest.remove(&cp.origin);
            return Reply::text(500, e);
        }
        latest.insert(cp.origin.clone(), Some(new));
        drop(latest);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let text = note_text(&req.note).map_or_else(|| cp.to_body(), str::to_string);
        match self.cosigner.cosign(&text, now) {
            Ok(line) => Reply {
                status: 200,
                content_type: "text/plain; charset=utf-8",
                body: line,
            },
            Err(e) => Reply::text(500, e),
        }
    }
}

/// The note text a cosignature covers: everything before the signatures,
/// extension lines included.
fn note_text(note: &str) -> Option<&str> {
    note.rfind("\n\n").and_then(|i| note.get(..=i))
}

enum Inconsistent {
    Fork,
    BadProof(String),
}

fn check_consistency(
    req: &AddCheckpointRequest,
    cp: &Checkpoint,
    known_size: u64,
    known_root: &Hash,
) -> Result<(), Inconsistent> {
    if req.old_size == 0 {
        if !req.proof.is_empty() {
            return Err(Inconsistent::BadProof(
                "the proof must be empty when the old size is 0".into(),
            ));
        }
        if cp.size == 0 && cp.root != empty_root() {
            return Err(Inconsistent::BadProof(
                "a tree of size 0 must have the empty root".into(),
            ));
        }
        return Ok(());
    }
    if cp.size == known_size {
        if !req.proof.is_empty() {
            return Err(Inconsistent::BadProof(
                "the proof must be empty when the sizes are equal".into(),
            ));
        }
        return if cp.root == *known_root {
            Ok(())
        } else {
            Err(Inconsistent::Fork)
        };
    }
    verify_consistency(known_size, cp.size, &req.proof, known_root, &cp.root)
        .map_err(|e| Inconsistent::BadProof(e.to_string()))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WitnessError + '_ {
    move |source| WitnessError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn load(path: &Path, origin: &str) -> Result<Option<Latest>, WitnessError> {
    let note = match fs::read_to_string(path) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let corrupt = |reason: String| WitnessError::CorruptState {
        path: path.to_path_buf(),
        reason,
    };
    let cp = Checkpoint::parse_note_unverified(&note).map_err(|e| corrupt(e.to_string()))?;
    if cp.origin != origin {
        return Err(corrupt(format!(
            "holds a checkpoint of {:?}, not {origin:?}",
            cp.origin
        )));
    }
    Ok(Some(Latest {
        size: cp.size,
        root: cp.root,
        note,
    }))
}

/// Write to a temporary file, fsync it, rename it over the state file and
/// fsync the directory: after this returns, a crash leaves the new state.
fn store(dir: &Path, path: &Path, note: &str) -> Result<(), WitnessError> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(note.as_bytes()).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err(path))?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// The HTTP interface: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(witness)
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    // Verification and fsync block: keep them off the async workers.
    let reply = match tokio::task::spawn_blocking(move || w.add_checkpoint(&body)).await {
        Ok(r) => r,
        Err(e) => Reply::text(500, format!("witness task failed: {e}")),
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, reply.content_type)],
        reply.body,
    )
        .into_response()
}

/// Serves the witness on `listener` until `shutdown` resolves.
///
/// # Errors
///
/// The server's I/O errors.
pub async fn serve(
    listener: tokio::net::TcpListener,
    witness: Arc<Witness>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A witness served on a background thread; dropping it stops the server.
#[derive(Debug)]
pub struct Spawned {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spawned {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The witness's submission prefix, `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Binds `addr` (port 0 for an ephemeral one) and serves `witness` on a
/// new thread with its own tokio runtime.
///
/// # Errors
///
/// If the runtime cannot be built or the address cannot be bound.
pub fn spawn(witness: Witness, addr: SocketAddr) -> std::io::Result<Spawned> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind(addr))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let witness = Arc::new(witness);
    let thread = std::thread::spawn(move || {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = rt.block_on(serve(listener, witness, shutdown)) {
            eprintln!("cupass-witness: server stopped: {e}");
        }
    });
    Ok(Spawned {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}
