//! `ThreadPool`: the handle users hold. Everything it offers forwards to its
//! registry; dropping it shuts the pool down and joins the workers.
//!
//! # Shutdown protocol
//! 1. `drop` sets the registry's terminate flag and wakes every sleeper.
//! 2. Each worker keeps running jobs while it finds any (its own deque,
//!    peers', the injector); queued and spawned work therefore all runs.
//! 3. A worker that finds nothing and sees the flag runs its exit hook and
//!    returns; one that is still running a job finishes it first (and drains
//!    whatever that job pushed onto its own deque).
//! 4. `drop` joins every thread. Detached jobs hold an `Arc` of the registry,
//!    so its memory outlives them too.
//!
//! Dropping a pool from inside one of its own workers cannot join that
//! worker (a thread cannot join itself): the pool is told to terminate and
//! the threads exit on their own once the work runs out.

use std::ptr;
use std::thread::JoinHandle;

use crate::builder::ThreadPoolBuilder;
use crate::error::BuildError;
use crate::join::{join_anywhere, join_in_worker};
use crate::join_context::JoinContext;
use crate::registry::Registry;
use crate::scope::{scope_in_worker, Scope};
use crate::spawn::spawn_in;
use crate::stats::PoolStats;
use crate::sync::Arc;
use crate::worker::WorkerThread;

/// A work-stealing thread pool.
///
/// ```
/// use filch_scheduler::ThreadPoolBuilder;
///
/// let pool = ThreadPoolBuilder::new().num_threads(2).build()?;
/// let (a, b) = pool.join(|| 1 + 1, || 2 + 2);
/// assert_eq!((a, b), (2, 4));
/// # Ok::<(), filch_scheduler::BuildError>(())
/// ```
#[derive(Debug)]
pub struct ThreadPool {
    registry: Arc<Registry>,
    threads: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    /// A builder with default options; see [`ThreadPoolBuilder`].
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(1).build().unwrap();
    /// assert_eq!(pool.num_threads(), 1);
    /// ```
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::new()
    }

    pub(crate) fn from_builder(builder: ThreadPoolBuilder) -> Result<Self, BuildError> {
        let (registry, threads) = Registry::start(builder)?;
        Ok(ThreadPool { registry, threads })
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The number of workers.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(4).build().unwrap();
    /// assert_eq!(pool.num_threads(), 4);
    /// ```
    pub fn num_threads(&self) -> usize {
        self.registry.num_threads()
    }

    /// The most spare threads that may stand in for workers blocked in
    /// [`blocking`](crate::blocking) at once (the builder's
    /// [`max_spare_threads`](crate::ThreadPoolBuilder::max_spare_threads)).
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().max_spare_threads(3).build().unwrap();
    /// assert_eq!(pool.max_spare_threads(), 3);
    /// ```
    pub fn max_spare_threads(&self) -> usize {
        self.registry.workers.len() - self.registry.num_threads()
    }

    /// The calling thread's index if it is one of this pool's workers.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
    /// assert_eq!(pool.current_thread_index(), None);
    /// assert!(pool.install(|| pool.current_thread_index()).is_some());
    /// ```
    #[inline]
    pub fn current_thread_index(&self) -> Option<usize> {
        WorkerThread::current()
            .filter(|w| std::ptr::eq(w.registry(), &*self.registry))
            .map(WorkerThread::index)
    }

    /// Runs `op` on one of this pool's workers and returns its result; free
    /// functions (`join`, `scope`, `spawn`) called inside use this pool.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
    /// let n = pool.install(filch_scheduler::current_num_threads);
    /// assert_eq!(n, 2);
    /// ```
    ///
    /// # Panics
    /// Resumes a panic of `op` with its original payload.
    pub fn install<OP, R>(&self, op: OP) -> R
    where
        OP: FnOnce() -> R + Send,
        R: Send,
    {
        self.registry.in_worker(|_| op())
    }

    /// Wakes up to `count` sleeping workers, which then look for work
    /// before going back to sleep. For a caller about to hand the pool work
    /// that will split at once (a big parallel loop through
    /// [`install`](Self::install)): the workers then wake while the first
    /// one starts, instead of one after another as the work splits.
    /// Returns how many were asleep and woken.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
    /// assert!(pool.wake_sleepers(2) <= 2);
    /// ```
    pub fn wake_sleepers(&self, count: usize) -> usize {
        let sleep = self.registry.sleep();
        (0..count).take_while(|_| sleep.wake_one()).count()
    }

    /// [`with_join_context`](crate::with_join_context) on this pool: runs
    /// `op` on one of its workers with a [`JoinContext`], for the cheapest
    /// forks.
    ///
    /// ```
    /// use filch_scheduler::JoinContext;
    ///
    /// fn count(ctx: JoinContext<'_>, depth: u32) -> u64 {
    ///     if depth == 0 {
    ///         return 1;
    ///     }
    ///     let (a, b) = ctx.join(move |ctx| count(ctx, depth - 1), move |ctx| count(ctx, depth - 1));
    ///     a + b
    /// }
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
    /// assert_eq!(pool.with_join_context(|ctx| count(ctx, 12)), 4096);
    /// ```
    ///
    /// # Panics
    /// Resumes a panic of `op` with its original payload.
    pub fn with_join_context<OP, R>(&self, op: OP) -> R
    where
        OP: for<'f> FnOnce(JoinContext<'f>) -> R + Send,
        R: Send,
    {
        self.registry
            .in_worker(|worker| op(JoinContext::root(worker)))
    }

    /// [`join`](crate::join) on this pool.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
    /// assert_eq!(pool.join(|| "a", || "b"), ("a", "b"));
    /// ```
    ///
    /// # Panics
    /// As [`join`](crate::join).
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        let ours = |worker: &WorkerThread| ptr::eq(worker.registry(), &*self.registry);
        let elsewhere = |a, b| {
            self.registry
                .in_worker(|worker| join_in_worker(worker, a, b))
        };
        join_anywhere(ours, elsewhere, a, b)
    }

    /// [`scope`](crate::scope) on this pool.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
    /// let mut v = vec![0; 8];
    /// pool.scope(|s| {
    ///     for (i, x) in v.iter_mut().enumerate() {
    ///         s.spawn(move |_| *x = i);
    ///     }
    /// });
    /// assert_eq!(v, [0, 1, 2, 3, 4, 5, 6, 7]);
    /// ```
    ///
    /// # Panics
    /// As [`scope`](crate::scope).
    pub fn scope<'scope, OP, R>(&self, op: OP) -> R
    where
        OP: FnOnce(&Scope<'scope>) -> R + Send,
        R: Send,
    {
        self.registry
            .in_worker(|worker| scope_in_worker(worker, op))
    }

    /// Runs `job` in the background on this pool. A panic goes to the
    /// pool's panic handler (see [`ThreadPoolBuilder::panic_handler`]).
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.spawn(move || tx.send("done").unwrap());
    /// assert_eq!(rx.recv().unwrap(), "done");
    /// ```
    pub fn spawn<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        spawn_in(&self.registry, job);
    }

    /// A snapshot of every worker's counters.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
    /// pool.install(|| ());
    /// assert!(pool.stats().total().jobs >= 1);
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.registry.stats()
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.registry.terminate();
        let own_worker = self.current_thread_index().is_some();
        if own_worker {
            // Cannot join ourselves; the threads exit once work runs out.
            return;
        }
        for handle in self.threads.drain(..) {
            // A worker thread only ends by returning from its loop; a panic
            // there would already have aborted the process.
            let _ = handle.join();
        }
        // Spares: no new ones start once terminating, so this list is final.
        for handle in self.registry.take_spare_handles() {
            let _ = handle.join();
        }
    }
}

/// Written here rather than in `builder.rs`, so that the builder, which
/// the registry reads, does not depend on the pool built from it.
impl ThreadPoolBuilder {
    /// Validates the options and starts the workers.
    ///
    /// # Errors
    /// A [`BuildError`] naming the first bad option: 0 threads, a stack below
    /// [`MIN_STACK_SIZE`](crate::MIN_STACK_SIZE), an empty or disallowed core list, or the OS
    /// refusing a thread or a pin. No thread is left running on error.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(2).build()?;
    /// assert_eq!(pool.install(|| 6 * 7), 42);
    /// # Ok::<(), filch_scheduler::BuildError>(())
    /// ```
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        ThreadPool::from_builder(self)
    }
}
