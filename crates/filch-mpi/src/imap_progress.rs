//! An `imap`'s progress thread on rank 0: drives the call's coordinator
//! (`coordinator.rs`) while the consumer is busy with results, so the other
//! ranks get their next chunk when they run dry, not when the consumer next
//! calls `next()`.
//!
//! # How the two threads share the call
//! The progress thread owns the coordinator, the input and `f`; it alone
//! calls MPI while it runs, which MPI allows once initialised
//! `MPI_THREAD_SERIALIZED` (the cluster's own thread makes no MPI call
//! meanwhile: every other cluster call returns `ClusterError::Busy` while
//! an `imap` is open). It polls as `map` does, answering requests, but
//! leaves rank 0's own chunks to jobs on rank 0's pool (a chunk at a time),
//! so a request never waits for one of rank 0's items; it moves finished chunks,
//! in the order the consumer takes them, into a channel, keeping at most
//! [`CHANNEL_CHUNKS`] there: so the input is read at most the coordinator's
//! window plus that many chunks ahead of the consumer, as before.
//!
//! # How it ends
//! - The call completes or fails: the thread sends `Over` with the call's
//!   error, if any, and returns. After a failure it hands on no more
//!   chunks, as `next()` yields none after a failure.
//! - The input iterator panics: the thread ends the call on every rank
//!   (like a dropped `imap`) and sends the panic, which `next()` resumes on
//!   the consumer's thread.
//! - The consumer is gone (the `imap` dropped, or the `Cluster` dropping
//!   after an `imap` was forgotten): [`Progress::stop`] raises the cancel
//!   flag and joins the thread, which cancels the call (waiting for the
//!   chunks already out, then `End` to every rank) before it returns. So no
//!   MPI call of the thread outlives the `imap`, and none outlives the
//!   `Cluster`: its `drop` stops the thread before it finalises MPI.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use filch::{AsyncResult, Pool};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::backoff::Backoff;
use crate::coordinator::{Coordinator, Order, OwnJob, OwnShare};
use crate::error::panic_message;
use crate::error::ClusterError;
use crate::local::map_chunk;
use crate::owed_ends::OwedEnds;
use crate::transport::Transport;
use crate::wire::{CallId, ChunkOutcome};

/// Finished chunks the thread keeps in the channel ahead of the consumer.
const CHANNEL_CHUNKS: usize = 2;

/// What the progress thread tells the consumer.
pub(crate) enum Msg<R> {
    /// The next chunk's results, in the consumer's order.
    Chunk(Vec<R>),
    /// The call is over on every rank, with its error if it failed.
    Over(Option<ClusterError>),
    /// The input iterator panicked; the call is over on every rank.
    Panicked(Box<dyn Any + Send>),
}

/// The running thread, as the `Cluster` holds it.
pub(crate) struct Progress {
    cancel: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("cancelled", &self.cancel.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Progress {
    /// Cancels the call if it still runs and waits for the thread; a panic
    /// of the thread itself (a bug: every user panic is caught) is resumed.
    pub(crate) fn stop(self) {
        self.cancel.store(true, Ordering::Release);
        if let Err(payload) = self.thread.join() {
            panic::resume_unwind(payload);
        }
    }
}

/// The consumer's end of the channel.
#[derive(Debug)]
pub(crate) struct Results<R> {
    rx: mpsc::Receiver<Msg<R>>,
    in_channel: Arc<AtomicUsize>,
}

impl<R> Results<R> {
    /// Waits for the thread's next message.
    pub(crate) fn next(&self) -> Option<Msg<R>> {
        let msg = self.rx.recv().ok()?;
        if let Msg::Chunk(_) = msg {
            self.in_channel.fetch_sub(1, Ordering::AcqRel);
        }
        Some(msg)
    }
}

/// What the thread needs from the `Cluster`.
pub(crate) struct Link {
    pub(crate) transport: Arc<Transport>,
    pub(crate) owed: Arc<Mutex<OwedEnds>>,
    pub(crate) pool: Arc<Pool>,
}

/// Starts the progress thread of call `call` over `items`.
///
/// # Panics
/// If the operating system cannot start a thread.
pub(crate) fn start<It, F, R>(
    link: Link,
    call: CallId,
    items: It,
    window: usize,
    order: Order,
    f: F,
) -> (Progress, Results<R>)
where
    It: Iterator + Send + 'static,
    It::Item: Serialize + Send + 'static,
    F: Fn(It::Item) -> R + Send + Sync + 'static,
    R: DeserializeOwned + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let in_channel = Arc::new(AtomicUsize::new(0));
    let thread = {
        let (cancel, in_channel) = (Arc::clone(&cancel), Arc::clone(&in_channel));
        thread::Builder::new()
            .name("filch-mpi-progress".to_owned())
            .spawn(move || {
                let Link {
                    transport,
                    owed,
                    pool,
                } = link;
                let f = Arc::new(f);
                let mut coordinator =
                    Coordinator::new(&transport, &owed, call, items, Some(window));
                let (jobs, job_f) = (Arc::clone(&pool), Arc::clone(&f));
                coordinator.map_own_share_with(OwnShare::new(move |items| {
                    let (pool, f) = (Arc::clone(&jobs), Arc::clone(&job_f));
                    let job = jobs.apply_async(move || map_chunk(&pool, &*f, items));
                    Box::new(job) as Box<dyn OwnJob<R>>
                }));
                drive(coordinator, &pool, &*f, order, &tx, &cancel, &in_channel);
            })
            .expect("start the imap progress thread")
    };
    (Progress { cancel, thread }, Results { rx, in_channel })
}

/// The thread's loop: see the module docs.
fn drive<It, F, R>(
    mut coordinator: Coordinator<'_, It, R>,
    pool: &Pool,
    f: &F,
    order: Order,
    tx: &mpsc::Sender<Msg<R>>,
    cancel: &AtomicBool,
    in_channel: &AtomicUsize,
) where
    It: Iterator,
    It::Item: Serialize + Send,
    F: Fn(It::Item) -> R + Send + Sync,
    R: DeserializeOwned + Send,
{
    let mut backoff = Backoff::new();
    loop {
        if cancel.load(Ordering::Acquire) {
            coordinator.cancel(pool, f);
            return;
        }
        if coordinator.is_over() {
            // No more polling: the other ranks' next messages belong to
            // their next call. What finished is in memory already.
            if !coordinator.failed() {
                while let Some(chunk) = coordinator.take_next(order) {
                    in_channel.fetch_add(1, Ordering::AcqRel);
                    let _ = tx.send(Msg::Chunk(chunk));
                }
            }
            let _ = tx.send(Msg::Over(coordinator.error()));
            return;
        }
        let polled = panic::catch_unwind(AssertUnwindSafe(|| coordinator.poll(pool, f)));
        let mut progressed = match polled {
            Ok(progressed) => progressed,
            Err(payload) => {
                // Only the input iterator can panic here (`f`'s panics are
                // caught per chunk): end the call, then report it.
                coordinator.cancel(pool, f);
                let _ = tx.send(Msg::Panicked(payload));
                return;
            }
        };
        while !coordinator.failed() && in_channel.load(Ordering::Acquire) < CHANNEL_CHUNKS {
            let Some(chunk) = coordinator.take_next(order) else {
                break;
            };
            in_channel.fetch_add(1, Ordering::AcqRel);
            // A consumer gone without a word is about to raise `cancel`.
            let _ = tx.send(Msg::Chunk(chunk));
            progressed = true;
        }
        if progressed {
            backoff.reset();
        } else {
            backoff.snooze();
        }
    }
}

impl<R: Send + 'static> OwnJob<R> for AsyncResult<ChunkOutcome<R>> {
    fn ready(&self) -> bool {
        AsyncResult::ready(self)
    }

    fn outcome(self: Box<Self>) -> ChunkOutcome<R> {
        // `map_chunk` in the job catches `f`'s panics; what is left is a job
        // that never ran (its pool was terminated), which `get` reports.
        panic::catch_unwind(AssertUnwindSafe(|| self.get()))
            .unwrap_or_else(|payload| ChunkOutcome::Panicked(panic_message(&*payload)))
    }
}
