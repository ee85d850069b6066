//! The single sequencer: collects checked entries into batches (up to
//! `batch_max` entries or `batch_delay_ms`), commits each batch durably, and
//! answers every submitter only after the commit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger::Store;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::witnesses::Witnesses;
use client::pipeline::{Checked, PassportLedger, Receipt};
use client::{Error, Result};

struct Job {
    checked: Checked,
    reply: oneshot::Sender<Result<Receipt>>,
}

/// Hands entries to the sequencer task.
#[derive(Clone)]
pub struct Sequencer {
    tx: mpsc::Sender<Job>,
}

impl Sequencer {
    /// Starts the sequencer task. It ends once every `Sequencer` clone is
    /// dropped and the last batch is committed and answered.
    pub fn spawn<S: Store + 'static>(
        ledger: Arc<PassportLedger<S>>,
        batch_max: usize,
        batch_delay: Duration,
        metrics: Arc<Metrics>,
        witnesses: Option<Arc<Witnesses>>,
    ) -> (Sequencer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(batch_max.saturating_mul(4).max(16));
        let task = tokio::spawn(run(ledger, rx, batch_max, batch_delay, metrics, witnesses));
        (Sequencer { tx }, task)
    }

    /// Queues an entry and waits for its commit.
    pub async fn submit(&self, checked: Checked) -> Result<Receipt> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { checked, reply })
            .await
            .map_err(|_| Error::ShuttingDown)?;
        answer.await.map_err(|_| Error::ShuttingDown)?
    }
}

async fn run<S: Store + 'static>(
    ledger: Arc<PassportLedger<S>>,
    mut rx: mpsc::Receiver<Job>,
    batch_max: usize,
    batch_delay: Duration,
    metrics: Arc<Metrics>,
    witnesses: Option<Arc<Witnesses>>,
) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let deadline = tokio::time::Instant::now() + batch_delay;
        while jobs.len() < batch_max {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(job)) => jobs.push(job),
                // Channel closed or time is up: commit what we have.
                Ok(None) | Err(_) => break,
            }
        }
        let (checked, replies): (Vec<Checked>, Vec<_>) =
            jobs.into_iter().map(|j| (j.checked, j.reply)).unzip();
        let n = checked.len();
        let started = Instant::now();
        let l = Arc::clone(&ledger);
        let w = witnesses.clone();
        let results = tokio::task::spawn_blocking(move || {
            let mut results = l.commit_batch(checked)?;
            // Durable first; then the witnesses, whose cosignatures the
            // receipts carry.
            if let Some(w) = w {
                w.cosign(&l);
                for r in results.iter_mut().flatten() {
                    r.checkpoint = w.cosigned(&r.checkpoint);
                    if let Some(c) = &mut r.inclusion_proof.checkpoint {
                        *c = w.cosigned(c);
                    }
                }
            }
            Ok::<_, Error>(results)
        })
        .await;
        metrics.batch(n, started.elapsed());
        match results {
            Ok(Ok(results)) => {
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "batch commit failed; nothing from it was appended");
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(Error::State(format!("batch commit failed: {msg}"))));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "batch commit task panicked");
                for reply in replies {
                    let _ = reply.send(Err(Error::State("batch commit task failed".into())));
                }
            }
        }
    }
    tracing::info!("sequencer stopped: last batch committed");
}
