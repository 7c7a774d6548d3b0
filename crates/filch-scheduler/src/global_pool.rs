//! The global pool, built on first use, and the free functions that find
//! "the current pool": the worker's own inside a pool, the global one outside.

use std::sync::OnceLock;

use crate::builder::ThreadPoolBuilder;
use crate::join::{join_anywhere, join_in_worker};
use crate::join_context::JoinContext;
use crate::pool::ThreadPool;
use crate::registry::Registry;
use crate::scope::{scope_in_worker, Scope};
use crate::spawn::spawn_in;
use crate::sync::Arc;
use crate::worker::WorkerThread;

static GLOBAL: OnceLock<ThreadPool> = OnceLock::new();

/// The global pool, started with default options on first use. It lives as
/// long as the process (statics are never dropped, so its workers are never
/// joined).
///
/// ```
/// let pool = filch_scheduler::global_pool();
/// assert_eq!(pool.install(|| 2 + 2), 4);
/// ```
///
/// # Panics
/// If the OS refuses to start the global pool's threads.
pub fn global_pool() -> &'static ThreadPool {
    GLOBAL.get_or_init(|| match ThreadPoolBuilder::new().build() {
        Ok(pool) => pool,
        Err(err) => panic!("filch: could not start the global thread pool: {err}"),
    })
}

/// The global pool's registry.
pub(crate) fn registry() -> &'static Arc<Registry> {
    global_pool().registry()
}

/// The registry of the calling worker, or the global one.
pub(crate) fn current_registry() -> &'static Registry {
    match WorkerThread::current() {
        Some(worker) => worker.registry(),
        None => registry(),
    }
}

/// The index of the calling thread within its pool, or `None` off-pool.
///
/// ```
/// assert_eq!(filch_scheduler::current_thread_index(), None);
/// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
/// let index = pool.install(filch_scheduler::current_thread_index).unwrap();
/// assert!(index < 2);
/// ```
#[inline]
pub fn current_thread_index() -> Option<usize> {
    WorkerThread::current().map(WorkerThread::index)
}

/// The number of workers of the current pool (the global pool off-pool).
///
/// ```
/// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
/// assert_eq!(pool.install(filch_scheduler::current_num_threads), 3);
/// ```
pub fn current_num_threads() -> usize {
    current_registry().num_threads()
}

/// Inside a worker: is another worker of this pool idle and waiting for work
/// that this worker has not yet published? Lazy splitters (a loop that would
/// hand half its remaining range to `join` only when it helps) poll this
/// between items; it costs one relaxed load. Always `false` off-pool.
///
/// ```
/// // Off-pool there is never a thief to feed.
/// assert!(!filch_scheduler::work_wanted());
/// ```
#[inline]
pub fn work_wanted() -> bool {
    WorkerThread::current().is_some_and(WorkerThread::work_wanted)
}

/// Inside a worker: is no peer of this pool awake and looking for work,
/// while at least one is asleep? Always `false` off-pool. Two relaxed loads.
///
/// For lazy splitters whose remaining work would pay for a peer's wake-up
/// (tens of µs): [`work_wanted`] counts only awake peers, so a splitter that
/// polls it alone never splits while its peers sleep, and runs everything
/// itself. When this says `true` and the work is worth it, split anyway:
/// `join` publishes its second half and, with nobody awake to take it,
/// wakes a sleeper, which finds it waiting. (Waking a peer first and
/// splitting once it looks would lose it again: a woken peer that finds
/// nothing goes back to sleep before a splitter with long items checks.)
/// A woken peer no longer counts as asleep, so one split wakes one peer.
///
/// ```
/// // Off-pool there is no peer.
/// assert!(!filch_scheduler::peer_asleep());
/// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
/// // A one-worker pool has no peer either.
/// assert!(!pool.install(filch_scheduler::peer_asleep));
/// ```
#[inline]
pub fn peer_asleep() -> bool {
    WorkerThread::current().is_some_and(WorkerThread::peer_asleep)
}

/// Runs `op` with a [`JoinContext`] on a worker: this worker's pool if
/// called on one, the global pool otherwise (the caller then waits).
///
/// ```
/// fn sum(ctx: filch_scheduler::JoinContext<'_>, values: &[u64]) -> u64 {
///     if values.len() <= 1 {
///         return values.iter().sum();
///     }
///     let (left, right) = values.split_at(values.len() / 2);
///     let (a, b) = ctx.join(move |ctx| sum(ctx, left), move |ctx| sum(ctx, right));
///     a + b
/// }
/// let values: Vec<u64> = (1..=1000).collect();
/// assert_eq!(filch_scheduler::with_join_context(|ctx| sum(ctx, &values)), 500_500);
/// ```
///
/// # Panics
/// Resumes a panic of `op` with its original payload.
pub fn with_join_context<OP, R>(op: OP) -> R
where
    OP: for<'f> FnOnce(JoinContext<'f>) -> R + Send,
    R: Send,
{
    match WorkerThread::current() {
        Some(worker) => op(JoinContext::root(worker)),
        None => registry().in_worker(|worker| op(JoinContext::root(worker))),
    }
}

/// Runs `a` and `b`, potentially in parallel, and returns `(a(), b())`.
///
/// Inside a worker it uses that worker's pool; elsewhere the global pool
/// (built on first use with default options). Forks are cheap when the pool
/// is busy: recursing with `join` down to single items is fine.
///
/// ```
/// fn fib(n: u64) -> u64 {
///     if n < 2 { return n; }
///     let (a, b) = filch_scheduler::join(|| fib(n - 1), || fib(n - 2));
///     a + b
/// }
/// assert_eq!(fib(20), 6765);
/// ```
///
/// # Panics
/// Resumes a panic of `a` or `b` with its original payload; if both panic,
/// `a`'s. The other closure has either finished or never started by then.
#[inline]
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    join_off_pool_on(|| None, a, b)
}

/// [`join`], except that off the pool it runs on the pool `off_pool()`
/// names, if any, rather than the global one: for a layer above that keeps
/// its own idea of the calling thread's pool (a thread working on a pool's
/// call from outside it). `off_pool` is asked only off the pool, so a fork
/// on a worker costs what [`join`]'s does.
///
/// ```
/// let pool = filch_scheduler::ThreadPool::builder().num_threads(2).build().unwrap();
/// let (a, b) = filch_scheduler::join_off_pool_on(|| Some(&pool), || 1, || 2);
/// assert_eq!((a, b), (1, 2));
/// ```
///
/// # Panics
/// As [`join`].
#[inline]
pub fn join_off_pool_on<'p, P, A, B, RA, RB>(off_pool: P, a: A, b: B) -> (RA, RB)
where
    P: FnOnce() -> Option<&'p ThreadPool>,
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    join_anywhere(|_| true, |a, b| join_off_pool(off_pool, a, b), a, b)
}

/// [`join_off_pool_on`] off the pool.
#[cold]
#[inline(never)]
fn join_off_pool<'p, P, A, B, RA, RB>(off_pool: P, a: A, b: B) -> (RA, RB)
where
    P: FnOnce() -> Option<&'p ThreadPool>,
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    match off_pool() {
        Some(pool) => pool.join(a, b),
        None => registry().in_worker(|worker| join_in_worker(worker, a, b)),
    }
}

/// Runs `op` with a [`Scope`] on the current pool (the global pool
/// off-pool) and returns its result once every spawned job has finished.
///
/// ```
/// let data = vec![1, 2, 3];
/// let mut doubled = vec![0; 3];
/// filch_scheduler::scope(|s| {
///     for (out, x) in doubled.iter_mut().zip(&data) {
///         s.spawn(move |_| *out = x * 2);
///     }
/// });
/// assert_eq!(doubled, [2, 4, 6]);
/// ```
///
/// # Panics
/// After every job has finished, resumes the body's panic, else the first
/// job panic, with its original payload.
pub fn scope<'scope, OP, R>(op: OP) -> R
where
    OP: FnOnce(&Scope<'scope>) -> R + Send,
    R: Send,
{
    match WorkerThread::current() {
        Some(worker) => scope_in_worker(worker, op),
        None => registry().in_worker(|worker| scope_in_worker(worker, op)),
    }
}

/// Runs `job` on the current pool (the global pool off-pool) in the
/// background. A panic in it goes to the pool's panic handler.
///
/// ```
/// use std::sync::mpsc;
///
/// let (tx, rx) = mpsc::channel();
/// filch_scheduler::spawn(move || tx.send(6 * 7).unwrap());
/// assert_eq!(rx.recv().unwrap(), 42);
/// ```
pub fn spawn<F>(job: F)
where
    F: FnOnce() + Send + 'static,
{
    match WorkerThread::current() {
        Some(worker) => spawn_in(worker.registry_arc(), job),
        None => spawn_in(registry(), job),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::fork_latch::{chain_depth, FRAMED_DEPTH};

    /// The depth of the calling worker's chain, `depth` forks down a
    /// recursion through `join`.
    fn depth_at_the_bottom(depth: u32) -> u32 {
        if depth == 0 {
            let worker = WorkerThread::current().expect("on a worker");
            // SAFETY: the worker's chain holds open frames only.
            return unsafe { chain_depth(worker.newest_frame()) };
        }
        let (bottom, _) = join(|| depth_at_the_bottom(depth - 1), || 0);
        bottom
    }

    #[test]
    fn forks_below_the_framed_depth_make_no_frame_while_something_is_on_offer() {
        let pool = ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let deep = FRAMED_DEPTH + 6;
        let offered = pool.install(|| {
            scope(|s| {
                // On offer, and never taken: the pool's one worker runs the
                // recursion, and the job only when the scope waits.
                s.spawn(|_| ());
                depth_at_the_bottom(deep)
            })
        });
        assert_eq!(
            offered, FRAMED_DEPTH,
            "the chain stops growing at the framed depth"
        );
        // With nothing on offer, the first fork publishes its own frame, and
        // the rest run with it on offer: the chain stops there too.
        let alone = pool.install(|| depth_at_the_bottom(deep));
        assert_eq!(alone, FRAMED_DEPTH);
        // Shallower than the framed depth, every fork keeps its frame.
        let shallow = pool.install(|| depth_at_the_bottom(FRAMED_DEPTH - 1));
        assert_eq!(shallow, FRAMED_DEPTH - 1);
    }
}
