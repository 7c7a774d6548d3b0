//! The global pool, built on first use, and the free functions that find
//! "the current pool": the worker's own inside a pool, the global one outside.

use std::sync::OnceLock;

use crate::builder::ThreadPoolBuilder;
use crate::pool::ThreadPool;
use crate::registry::Registry;
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
