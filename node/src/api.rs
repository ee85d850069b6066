//! The HTTP API (axum): ingest, C2SP tiles, proofs and views.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use ledger::{
    Store,
    tiles::{TileId, TileKind},
};
use serde::{Deserialize, Serialize};
use tower_http::{
    limit::RequestBodyLimitLayer,
    timeout::TimeoutLayer,
    trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer},
};
use uuid::Uuid;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::pipeline::{PassportLedger, Submission, now_ms};
use crate::sequencer::Sequencer;
use crate::{Error, Result};

/// Everything a handler needs.
pub struct AppState<S> {
    /// The ledger.
    pub ledger: Arc<PassportLedger<S>>,
    /// The sequencer's queue.
    pub sequencer: Sequencer,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Settings.
    pub config: Config,
}

/// The JSON error body: `{"error": code, "message": text}`.
#[derive(Serialize, Deserialize, Debug)]
pub struct ErrorBody {
    /// A stable snake_case code.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: self.code().to_string(),
            message: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}

/// Builds the router.
pub fn router<S: Store + 'static>(state: Arc<AppState<S>>) -> Router {
    let body_limit = state.config.body_limit;
    let timeout = Duration::from_millis(state.config.request_timeout_ms);
    Router::new()
        .route("/v1/entries", post(submit::<S>))
        .route("/v1/entries/{index}", get(entry_raw::<S>))
        .route("/v1/entries/{index}/json", get(entry_json::<S>))
        .route("/v1/proofs/inclusion", get(inclusion::<S>))
        .route("/v1/proofs/consistency", get(consistency::<S>))
        .route("/v1/passports/{id}", get(passport::<S>))
        .route("/v1/lots/{id}", get(lot::<S>))
        .route("/v1/certificates/{id}", get(certificate::<S>))
        .route("/v1/certificates/{id}/bundle", get(bundle::<S>))
        .route("/v1/contracts/{id}/audit", get(contract_audit::<S>))
        .route("/checkpoint", get(checkpoint::<S>))
        .route("/tile/{*path}", get(tile::<S>))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics::<S>))
        .fallback(|| async { Error::NotFound("no such endpoint".into()) })
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(
            // Every request is logged at INFO with its status and latency.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

type St<S> = State<Arc<AppState<S>>>;

/// Runs blocking ledger work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::State(format!("worker failed: {e}")))?
}

async fn submit<S: Store + 'static>(
    State(app): St<S>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let result = submit_inner(&app, &headers, body).await;
    match result {
        Ok((status, receipt)) => {
            app.metrics.accepted(receipt.duplicate, started.elapsed());
            (status, Json(receipt)).into_response()
        }
        Err(e) => {
            app.metrics.rejected(e.code());
            tracing::info!(code = e.code(), "rejected submission: {e}");
            e.into_response()
        }
    }
}

async fn submit_inner<S: Store + 'static>(
    app: &Arc<AppState<S>>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, crate::pipeline::Receipt)> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.split(';').next().map(str::trim) != Some("application/cose") {
        return Err(Error::BadRequest(format!(
            "content type must be application/cose, not {ct:?}"
        )));
    }
    let ledger = Arc::clone(&app.ledger);
    let checked = blocking(move || ledger.check(&body, now_ms())).await?;
    match checked {
        Submission::Duplicate(index) => {
            let ledger = Arc::clone(&app.ledger);
            let receipt = blocking(move || ledger.duplicate_receipt(index)).await?;
            Ok((StatusCode::OK, receipt))
        }
        Submission::New(c) => {
            let receipt = app.sequencer.submit(*c).await?;
            let status = if receipt.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, receipt))
        }
    }
}

fn parse_index(s: &str) -> Result<u64> {
    s.parse()
        .map_err(|_| Error::BadRequest(format!("{s:?} is not an entry index")))
}

fn parse_id(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::BadRequest(format!("{s:?} is not a UUID")))
}

async fn entry_raw<S: Store + 'static>(
    State(app): St<S>,
    Path(index): Path<String>,
) -> Result<Response> {
    let index = parse_index(&index)?;
    let bytes = blocking(move || Ok(app.ledger.log().entry(index)?)).await?;
    Ok(([(header::CONTENT_TYPE, "application/cose")], bytes).into_response())
}

#[derive(Serialize)]
struct EntryJson {
    index: u64,
    signer: String,
    event: serde_json::Value,
}

async fn entry_json<S: Store + 'static>(
    State(app): St<S>,
    Path(index): Path<String>,
) -> Result<Json<EntryJson>> {
    let index = parse_index(&index)?;
    let (event, signer) = blocking(move || app.ledger.event(index)).await?;
    let event = serde_json::to_value(&event).map_err(|e| Error::State(e.to_string()))?;
    Ok(Json(EntryJson {
        index,
        signer: hex::encode(signer),
        event,
    }))
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    tree_size: Option<u64>,
}

/// Query strings that do not parse get our JSON error, not axum's text.
fn query<T>(q: std::result::Result<Query<T>, QueryRejection>) -> Result<T> {
    q.map(|Query(t)| t)
        .map_err(|e| Error::BadRequest(e.body_text()))
}

async fn inclusion<S: Store + 'static>(
    State(app): St<S>,
    q: std::result::Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<ledger::InclusionProof>> {
    let q = query(q)?;
    let proof = blocking(move || {
        let log = app.ledger.log();
        let size = match q.tree_size {
            Some(s) => s,
            None => log.size()?,
        };
        Ok(log.inclusion_proof(q.index, size)?)
    })
    .await?;
    Ok(Json(proof))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

async fn consistency<S: Store + 'static>(
    State(app): St<S>,
    q: std::result::Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ledger::ConsistencyProof>> {
    let q = query(q)?;
    let proof = blocking(move || {
        let log = app.ledger.log();
        let new = match q.new {
            Some(n) => n,
            None => log.size()?,
        };
        Ok(log.consistency_proof(q.old, new)?)
    })
    .await?;
    Ok(Json(proof))
}

macro_rules! view_handler {
    ($name:ident, $view:path) => {
        async fn $name<S: Store + 'static>(
            State(app): St<S>,
            Path(id): Path<String>,
        ) -> Result<Response> {
            let id = parse_id(&id)?;
            let view = blocking(move || Ok($view(&app.ledger.state(), &id)?)).await?;
            Ok(Json(view).into_response())
        }
    };
}

view_handler!(passport, passport_schema::passport_view);
view_handler!(lot, passport_schema::lot_view);
view_handler!(certificate, passport_schema::certificate_view);
view_handler!(contract_audit, passport_schema::contract_audit);

async fn bundle<S: Store + 'static>(State(app): St<S>, Path(id): Path<String>) -> Result<Response> {
    let id = parse_id(&id)?;
    // The certificate must exist; a bundle of nothing is a 404, not an empty file.
    let bytes = blocking(move || {
        passport_schema::certificate_view(&app.ledger.state(), &id)?;
        app.ledger.bundle(&id)?.to_cbor()
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/vnd.cupass.bundle+cbor")],
        bytes,
    )
        .into_response())
}

async fn checkpoint<S: Store + 'static>(State(app): St<S>) -> Result<Response> {
    let note = app.ledger.log().checkpoint()?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        note,
    )
        .into_response())
}

async fn tile<S: Store + 'static>(State(app): St<S>, Path(path): Path<String>) -> Result<Response> {
    let (kind, id) = TileId::parse_path(&format!("tile/{path}"))
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    let full = u64::from(id.width) == ledger::tiles::TILE_WIDTH;
    let bytes = blocking(move || {
        let log = app.ledger.log();
        Ok(match kind {
            TileKind::Hashes => log.tile(id)?,
            TileKind::Entries => log.entry_bundle(id)?,
        })
    })
    .await?;
    // Full tiles never change; partial ones are superseded by wider ones.
    let cache = if full {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=60"
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        bytes,
    )
        .into_response())
}

async fn metrics<S: Store + 'static>(State(app): St<S>) -> Result<Response> {
    let size = app.ledger.log().size()?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(size),
    )
        .into_response())
}
