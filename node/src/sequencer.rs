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

/// Where the commit thread sends a batch's results.
type Done = oneshot::Sender<Result<Vec<Result<Receipt>>>>;

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
    let cosign_tx = match witnesses {
        Some(w) => {
            let (tx, rx) = std::sync::mpsc::channel();
            let l = Arc::clone(&ledger);
            match std::thread::Builder::new()
                .name("cupass-cosigner".into())
                .spawn(move || cosign(&l, &w, &rx))
            {
                Ok(_) => Some(tx),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the cosigning thread; receipts go without cosignatures");
                    None
                }
            }
        }
        None => None,
    };
    // Commits run on a thread of their own, not on the blocking pool: there
    // they would queue behind every request's signature check.
    let (committer, batches) = std::sync::mpsc::channel::<(Vec<Checked>, Done)>();
    let l = Arc::clone(&ledger);
    let commit_thread = std::thread::Builder::new()
        .name("cupass-sequencer".into())
        .spawn(move || {
            for (batch, done) in batches {
                let _ = done.send(l.commit_batch(batch));
            }
        });
    let committer = match commit_thread {
        Ok(_) => committer,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the sequencer thread");
            return;
        }
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
        let (done_tx, done) = oneshot::channel();
        let results = match committer.send((checked, done_tx)) {
            Ok(()) => done.await,
            Err(_) => Ok(Err(Error::ShuttingDown)),
        };
        metrics.batch(n, started.elapsed());
        match results {
            Ok(Ok(results)) => match &cosign_tx {
                Some(tx) => {
                    if let Err(std::sync::mpsc::SendError(c)) =
                        tx.send(Committed { results, replies })
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
    // The cosigning thread answers what is left, then ends.
    drop(cosign_tx);
    tracing::info!("sequencer stopped: last batch committed");
}

fn answer(c: Committed) {
    for (reply, r) in c.replies.into_iter().zip(c.results) {
        let _ = reply.send(r);
    }
}

/// Cosigns committed batches in order (on a thread of its own). When
/// several are waiting, one round trip covers them all: the latest
/// checkpoint is cosigned and every waiting receipt gets its inclusion
/// proof against that checkpoint.
fn cosign<S: Store>(
    ledger: &PassportLedger<S>,
    witnesses: &Witnesses,
    rx: &std::sync::mpsc::Receiver<Committed>,
) {
    while let Ok(first) = rx.recv() {
        let mut waiting = vec![first];
        while let Ok(more) = rx.try_recv() {
            waiting.push(more);
        }
        let note = witnesses.cosign(ledger);
        for c in &mut waiting {
            for r in c.results.iter_mut().flatten() {
                attach(ledger, &note, r);
            }
        }
        waiting.into_iter().for_each(answer);
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
