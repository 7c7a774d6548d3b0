//! The lazy combinators: `Cluster::imap` and `Cluster::imap_unordered`, and
//! the iterator they return.
//!
//! On rank 0 a progress thread drives the protocol (`imap_progress.rs`):
//! it answers the other ranks and maps rank 0's own share while the
//! consumer does whatever it does with each result, and hands finished
//! chunks to `next()` through a channel. Where MPI offers less than
//! `MPI_THREAD_SERIALIZED`, the iterator drives the protocol from `next()`
//! on the calling thread instead, so a consumer that spends long on each
//! result leaves the other ranks idle once they finish their chunks. On the
//! other ranks the call serves chunks before it returns, and the iterator
//! only reports how the call ended.

use std::fmt;
use std::panic;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::backoff::Backoff;
use crate::cluster::Cluster;
use crate::coordinator::{Coordinator, Order};
use crate::error::ClusterError;
use crate::imap_progress::{self, Link, Msg, Results};
use crate::serve::serve;

/// Chunks rank 0 hands out ahead of the consumer, per rank: bounds how far
/// the input is read ahead (and how many results are buffered) to about
/// `READ_AHEAD_PER_RANK × size` chunks, as the local `imap` bounds it to
/// `2 × threads`.
const READ_AHEAD_PER_RANK: usize = 2;

impl Cluster {
    /// A lazy, ordered iterator of `f` over `items` across all ranks, like
    /// [`filch::Pool::imap`]. On rank 0 it yields `Ok(result)` in input
    /// order, reading the input only a bounded distance ahead of what has
    /// been consumed (about two chunks per rank); dropping it early cancels
    /// the work not yet handed out (the call still ends on every rank).
    /// On the other ranks the call serves chunks until rank 0 is done and
    /// the iterator yields nothing, or the call's error.
    ///
    /// After a failure the iterator yields `Err` once (on every rank) and
    /// then ends; results after it are dropped.
    ///
    /// On rank 0 a progress thread answers the other ranks and maps rank
    /// 0's share while the consumer does what it does with each result (an
    /// MPI library without `MPI_THREAD_SERIALIZED` support makes that
    /// happen inside `next()` instead). The input is read and `f` is called
    /// on other threads than the caller's, hence `Send + 'static`; a panic
    /// in the input ends the call on every rank and is resumed in `next()`.
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// // An infinite input is fine: rank 0 reads it lazily.
    /// let first: Vec<u64> = cluster
    ///     .imap(0u64.., |x| x * 2)
    ///     .take(if cluster.is_root() { 5 } else { usize::MAX })
    ///     .collect::<Result<_, _>>()?;
    /// if cluster.is_root() {
    ///     assert_eq!(first, [0, 2, 4, 6, 8]);
    /// }
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn imap<I, F, R>(&self, items: I, f: F) -> ClusterImap<'_, I::IntoIter, F, R>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: Serialize + DeserializeOwned + Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.lazy("imap", Order::Input, items.into_iter(), f)
    }

    /// Like [`imap`](Self::imap), yielding results as their chunks complete
    /// (within a chunk, in input order), like
    /// [`filch::Pool::imap_unordered`].
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// let mut all: Vec<u32> = cluster.imap_unordered(0..100u32, |x| x + 1).collect::<Result<_, _>>()?;
    /// all.sort();
    /// if cluster.is_root() {
    ///     assert_eq!(all, (1..=100).collect::<Vec<_>>());
    /// }
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn imap_unordered<I, F, R>(&self, items: I, f: F) -> ClusterImap<'_, I::IntoIter, F, R>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'static,
        I::Item: Serialize + DeserializeOwned + Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        self.lazy("imap_unordered", Order::Completion, items.into_iter(), f)
    }

    fn lazy<It, F, R>(&self, kind: &str, order: Order, items: It, f: F) -> ClusterImap<'_, It, F, R>
    where
        It: Iterator + Send + 'static,
        It::Item: Serialize + DeserializeOwned + Send + 'static,
        F: Fn(It::Item) -> R + Send + Sync + 'static,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let call = match self.begin::<It::Item, R>(kind) {
            Ok(call) => call,
            Err(err) => return ClusterImap::over(Some(err)),
        };
        if !self.is_root() {
            drop(items);
            let served = serve::<It::Item, R, F>(self.worker(), &call, &f);
            return ClusterImap::over(served.err());
        }
        self.lazy_open.set(true);
        let window = READ_AHEAD_PER_RANK * self.size();
        if self.background {
            let link = Link {
                transport: Arc::clone(self.transport()),
                owed: Arc::clone(self.owed()),
                pool: Arc::clone(self.pool_arc()),
            };
            let (progress, results) = imap_progress::start(link, call, items, window, order, f);
            *self.progress.borrow_mut() = Some(progress);
            return ClusterImap {
                state: State::Background(Background {
                    cluster: self,
                    results,
                    ready: Vec::new().into_iter(),
                }),
            };
        }
        ClusterImap {
            state: State::Root(Box::new(Root {
                cluster: self,
                coordinator: Coordinator::new(
                    self.transport(),
                    self.owed(),
                    call,
                    items,
                    Some(window),
                ),
                f,
                order,
                ready: Vec::new().into_iter(),
            })),
        }
    }
}

/// The iterator of [`Cluster::imap`] and [`Cluster::imap_unordered`]:
/// `Ok(result)`s on rank 0, then `Err` once if the call failed.
#[must_use = "on rank 0 nothing is mapped until the iterator is consumed"]
pub struct ClusterImap<'c, It, F, R>
where
    It: Iterator,
    It::Item: Serialize + Send,
    F: Fn(It::Item) -> R + Send + Sync,
    R: DeserializeOwned + Send,
{
    state: State<'c, It, F, R>,
}

enum State<'c, It, F, R>
where
    It: Iterator,
    It::Item: Serialize + Send,
    F: Fn(It::Item) -> R + Send + Sync,
    R: DeserializeOwned + Send,
{
    /// Rank 0 while the call is on, driving it from `next()`.
    Root(Box<Root<'c, It, F, R>>),
    /// Rank 0 while the call is on, driven by a progress thread.
    Background(Background<'c, R>),
    /// The call is over; the error still to yield, if any.
    Over(Option<ClusterError>),
}

struct Root<'c, It, F, R>
where
    It: Iterator,
    It::Item: Serialize + Send,
    F: Fn(It::Item) -> R + Send + Sync,
    R: DeserializeOwned + Send,
{
    cluster: &'c Cluster,
    coordinator: Coordinator<'c, It, R>,
    f: F,
    order: Order,
    /// Results of the chunk being yielded.
    ready: std::vec::IntoIter<R>,
}

struct Background<'c, R> {
    cluster: &'c Cluster,
    results: Results<R>,
    /// Results of the chunk being yielded.
    ready: std::vec::IntoIter<R>,
}

impl<It, F, R> fmt::Debug for ClusterImap<'_, It, F, R>
where
    It: Iterator,
    It::Item: Serialize + Send,
    F: Fn(It::Item) -> R + Send + Sync,
    R: DeserializeOwned + Send,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Root(_) => "running on rank 0",
            State::Background(_) => "running on rank 0, in the background",
            State::Over(Some(_)) => "over, error pending",
            State::Over(None) => "over",
        };
        f.debug_struct("ClusterImap")
            .field("state", &state)
            .finish()
    }
}

impl<It, F, R> ClusterImap<'_, It, F, R>
where
    It: Iterator,
    It::Item: Serialize + Send,
    F: Fn(It::Item) -> R + Send + Sync,
    R: DeserializeOwned + Send,
{
    fn over(error: Option<ClusterError>) -> Self {
        ClusterImap {
            state: State::Over(error),
        }
    }

    /// Ends the call on every rank (cancelling what was not handed out) and
    /// marks the cluster free for calls.
    fn finish(&mut self) {
        match &mut self.state {
            State::Root(root) => {
                root.coordinator.cancel(root.cluster.pool(), &root.f);
                root.cluster.lazy_open.set(false);
            }
            State::Background(background) => {
                background.cluster.stop_progress();
                background.cluster.lazy_open.set(false);
            }
            State::Over(_) => return,
        }
        self.state = State::Over(None);
    }
}

impl<It, F, R> Iterator for ClusterImap<'_, It, F, R>
where
    It: Iterator,
    It::Item: Serialize + Send,
    F: Fn(It::Item) -> R + Send + Sync,
    R: DeserializeOwned + Send,
{
    type Item = Result<R, ClusterError>;

    fn next(&mut self) -> Option<Self::Item> {
        let root = match &mut self.state {
            State::Over(error) => return error.take().map(Err),
            State::Root(root) => root,
            State::Background(background) => loop {
                if let Some(result) = background.ready.next() {
                    return Some(Ok(result));
                }
                match background.results.next() {
                    Some(Msg::Chunk(chunk)) => background.ready = chunk.into_iter(),
                    Some(Msg::Over(error)) => {
                        self.finish();
                        return error.map(Err);
                    }
                    Some(Msg::Panicked(payload)) => {
                        self.finish();
                        panic::resume_unwind(payload);
                    }
                    // The thread ended without a word: only `stop` does that.
                    None => {
                        self.finish();
                        return None;
                    }
                }
            },
        };
        let mut backoff = Backoff::new();
        loop {
            if root.coordinator.failed() {
                root.coordinator.run_to_end(root.cluster.pool(), &root.f);
            } else {
                if let Some(result) = root.ready.next() {
                    return Some(Ok(result));
                }
                if let Some(chunk) = root.coordinator.take_next(root.order) {
                    root.ready = chunk.into_iter();
                    continue;
                }
            }
            if root.coordinator.is_over() {
                let error = root.coordinator.error();
                self.finish();
                return error.map(Err);
            }
            if root.coordinator.poll(root.cluster.pool(), &root.f) {
                backoff.reset();
            } else {
                backoff.snooze();
            }
        }
    }
}

impl<It, F, R> Drop for ClusterImap<'_, It, F, R>
where
    It: Iterator,
    It::Item: Serialize + Send,
    F: Fn(It::Item) -> R + Send + Sync,
    R: DeserializeOwned + Send,
{
    /// On rank 0, waits for the chunks already handed out to other ranks,
    /// then ends the call on every rank.
    fn drop(&mut self) {
        self.finish();
    }
}
