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
use client::wire::EntryJson;
use ledger::{
    Store,
    tiles::{TileId, TileKind},
};
use serde::Deserialize;
use tower_http::{
    limit::RequestBodyLimitLayer,
    timeout::TimeoutLayer,
    trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer},
};
use uuid::Uuid;

use client::pipeline::{PassportLedger, Receipt, Submission};
use client::{Error, now_ms};

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::sequencer::Sequencer;

type Result<T, E = ApiError> = std::result::Result<T, E>;

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
    /// The witnesses, if the node has a policy.
    pub witnesses: Option<Arc<crate::witnesses::Witnesses>>,
}

impl<S> AppState<S> {
    /// `note` with the witness cosignatures collected for it.
    fn cosigned(&self, note: &str) -> String {
        match &self.witnesses {
            Some(w) => w.cosigned(note),
            None => note.to_string(),
        }
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
        .route("/v1/status/{kind}/{id}", get(status::<S>))
        .route("/v1/contracts/{id}/audit", get(contract_audit::<S>))
        .route("/v1/rulesets/{id}", get(rule_set::<S>))
        .route("/v1/rulesets/{id}/{version}", get(rule_set_version::<S>))
        .route("/v1/schemes/{id}", get(scheme::<S>))
        .route("/v1/schemes/{id}/{version}", get(scheme_version::<S>))
        .route("/checkpoint", get(checkpoint::<S>))
        .route("/tile/{*path}", get(tile::<S>))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics::<S>))
        .fallback(|| async { ApiError(Error::NotFound("no such endpoint".into())) })
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
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> client::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::State(format!("worker failed: {e}")))?
        .map_err(ApiError)
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
            app.metrics.rejected(e.0.code());
            tracing::info!(code = e.0.code(), "rejected submission: {}", e.0);
            e.into_response()
        }
    }
}

async fn submit_inner<S: Store + 'static>(
    app: &Arc<AppState<S>>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Receipt)> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.split(';').next().map(str::trim) != Some("application/cose") {
        return Err(ApiError(Error::BadRequest(format!(
            "content type must be application/cose, not {ct:?}"
        ))));
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
        .map_err(|_| ApiError(Error::BadRequest(format!("{s:?} is not an entry index"))))
}

fn parse_id(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError(Error::BadRequest(format!("{s:?} is not a UUID"))))
}

fn parse_version(s: &str) -> Result<u32> {
    s.parse()
        .map_err(|_| ApiError(Error::BadRequest(format!("{s:?} is not a version number"))))
}

async fn entry_raw<S: Store + 'static>(
    State(app): St<S>,
    Path(index): Path<String>,
) -> Result<Response> {
    let index = parse_index(&index)?;
    let bytes = blocking(move || Ok(app.ledger.log().entry(index)?)).await?;
    Ok(([(header::CONTENT_TYPE, "application/cose")], bytes).into_response())
}

async fn entry_json<S: Store + 'static>(
    State(app): St<S>,
    Path(index): Path<String>,
) -> Result<Json<EntryJson>> {
    let index = parse_index(&index)?;
    let (event, signer) = blocking(move || app.ledger.event(index)).await?;
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
        .map_err(|e| ApiError(Error::BadRequest(e.body_text())))
}

async fn inclusion<S: Store + 'static>(
    State(app): St<S>,
    q: std::result::Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<ledger::InclusionProof>> {
    let q = query(q)?;
    let proof = blocking(move || app.ledger.inclusion_proof(q.index, q.tree_size)).await?;
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
    let proof = blocking(move || app.ledger.consistency_proof(q.old, q.new)).await?;
    Ok(Json(proof))
}

macro_rules! view_handler {
    ($name:ident, $read:ident) => {
        async fn $name<S: Store + 'static>(
            State(app): St<S>,
            Path(id): Path<String>,
        ) -> Result<Response> {
            let id = parse_id(&id)?;
            let view = blocking(move || app.ledger.$read(&id)).await?;
            Ok(Json(view).into_response())
        }
    };
}

view_handler!(passport, passport);
view_handler!(lot, lot);
view_handler!(certificate, certificate);
view_handler!(contract_audit, contract_audit);

async fn rule_set<S: Store + 'static>(
    State(app): St<S>,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let record = blocking(move || app.ledger.rule_set(&id, None)).await?;
    Ok(Json(record).into_response())
}

async fn rule_set_version<S: Store + 'static>(
    State(app): St<S>,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response> {
    let (id, version) = (parse_id(&id)?, parse_version(&version)?);
    let record = blocking(move || app.ledger.rule_set(&id, Some(version))).await?;
    Ok(Json(record).into_response())
}

async fn scheme<S: Store + 'static>(State(app): St<S>, Path(id): Path<String>) -> Result<Response> {
    let id = parse_id(&id)?;
    let record = blocking(move || app.ledger.scheme(&id, None)).await?;
    Ok(Json(record).into_response())
}

async fn scheme_version<S: Store + 'static>(
    State(app): St<S>,
    Path((id, version)): Path<(String, String)>,
) -> Result<Response> {
    let (id, version) = (parse_id(&id)?, parse_version(&version)?);
    let record = blocking(move || app.ledger.scheme(&id, Some(version))).await?;
    Ok(Json(record).into_response())
}

async fn bundle<S: Store + 'static>(State(app): St<S>, Path(id): Path<String>) -> Result<Response> {
    let id = parse_id(&id)?;
    // The certificate must exist; a bundle of nothing is a 404, not an empty file.
    let bytes = blocking(move || {
        app.ledger.certificate(&id)?;
        let mut b = app.ledger.bundle(&id)?;
        b.checkpoint = app.cosigned(&b.checkpoint);
        b.to_cbor()
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/vnd.cupass.bundle+cbor")],
        bytes,
    )
        .into_response())
}

/// The current status of a certificate, key or material, with its proof
/// (a proof of absence when no such record exists).
async fn status<S: Store + 'static>(
    State(app): St<S>,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response> {
    let key =
        client::status::parse_status_key(&kind, &id).map_err(|e| ApiError(Error::BadRequest(e)))?;
    let bytes = blocking(move || {
        let mut a = app.ledger.status_answer(&key)?;
        a.checkpoint = app.cosigned(&a.checkpoint);
        a.to_cbor()
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/vnd.cupass.status+cbor")],
        bytes,
    )
        .into_response())
}

async fn checkpoint<S: Store + 'static>(State(app): St<S>) -> Result<Response> {
    let note = app.cosigned(&app.ledger.log().checkpoint()?);
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
        .map_err(|e| ApiError(Error::BadRequest(e.to_string())))?;
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
