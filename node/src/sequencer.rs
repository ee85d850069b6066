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

/// Committed receipts waiting for their witnesses, with their submitters.
struct Committed {
    results: Vec<Result<Receipt>>,
    replies: Vec<oneshot::Sender<Result<Receipt>>>,
}

async fn run<S: Store + 'static>(
    ledger: Arc<PassportLedger<S>>,
    mut rx: mpsc::Receiver<Job>,
    batch_max: usize,
    batch_delay: Duration,
    metrics: Arc<Metrics>,
    witnesses: Option<Arc<Witnesses>>,
) {
    // The witnesses get their own task, so a batch's commit never waits for
    // the previous batch's cosignatures: commits and witness round trips
    // overlap, and receipts are answered once cosigned.
    let (cosign_tx, cosign_task) = match witnesses {
        Some(w) => {
            let (tx, rx) = mpsc::unbounded_channel();
            let task = tokio::spawn(cosign(Arc::clone(&ledger), w, rx));
            (Some(tx), Some(task))
        }
        None => (None, None),
    };
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
        let results = tokio::task::spawn_blocking(move || l.commit_batch(checked)).await;
        metrics.batch(n, started.elapsed());
        match results {
            Ok(Ok(results)) => match &cosign_tx {
                Some(tx) => {
                    if let Err(mpsc::error::SendError(c)) = tx.send(Committed { results, replies })
                    {
                        answer(c);
                    }
                }
                None => answer(Committed { results, replies }),
            },
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
    drop(cosign_tx);
    if let Some(t) = cosign_task {
        let _ = t.await;
    }
    tracing::info!("sequencer stopped: last batch committed");
}

fn answer(c: Committed) {
    for (reply, r) in c.replies.into_iter().zip(c.results) {
        let _ = reply.send(r);
    }
}

/// Cosigns committed batches in order. When several are waiting, one round
/// trip covers them all: the latest checkpoint is cosigned and every
/// waiting receipt gets its inclusion proof against that checkpoint.
async fn cosign<S: Store + 'static>(
    ledger: Arc<PassportLedger<S>>,
    witnesses: Arc<Witnesses>,
    mut rx: mpsc::UnboundedReceiver<Committed>,
) {
    while let Some(first) = rx.recv().await {
        let mut waiting = vec![first];
        while let Ok(more) = rx.try_recv() {
            waiting.push(more);
        }
        let (l, w) = (Arc::clone(&ledger), Arc::clone(&witnesses));
        let done = tokio::task::spawn_blocking(move || {
            let note = w.cosign(&l);
            for c in &mut waiting {
                for r in c.results.iter_mut().flatten() {
                    attach(&l, &note, r);
                }
            }
            waiting
        })
        .await;
        match done {
            Ok(waiting) => waiting.into_iter().for_each(answer),
            Err(e) => {
                tracing::error!(error = %e, "cosigning task failed; its submitters see no answer")
            }
        }
    }
}

/// Puts the cosigned `note` on a receipt, with a proof against it when the
/// receipt's own checkpoint is an older one. A receipt that cannot be
/// moved keeps its log-signed checkpoint.
fn attach<S: Store>(ledger: &PassportLedger<S>, note: &str, r: &mut Receipt) {
    if crate::witnesses::same_checkpoint(&r.checkpoint, note) {
        r.checkpoint = note.to_string();
        r.inclusion_proof.checkpoint = Some(note.to_string());
        return;
    }
    let Ok(cp) = ledger::Checkpoint::parse_note_unverified(note) else {
        return;
    };
    if let Ok(mut proof) = ledger.log().inclusion_proof(r.index, cp.size) {
        proof.checkpoint = Some(note.to_string());
        r.inclusion_proof = proof;
        r.checkpoint = note.to_string();
    }
}
