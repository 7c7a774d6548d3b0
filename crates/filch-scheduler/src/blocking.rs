//! `blocking`: mark a region of a job that waits (I/O, a lock, a channel, a
//! sleep) so the pool can start a spare worker in its place (`spare.rs`).

use crate::registry::Registry;
use crate::worker::WorkerThread;

/// Runs `f`, a region that blocks, telling the pool so that it can keep its
/// configured number of threads computing meanwhile: while `f` runs, a spare
/// thread takes this worker's place (woken if one is parked, started if not,
/// up to [`max_spare_threads`](crate::ThreadPoolBuilder::max_spare_threads)).
/// Before blocking, this worker publishes its not-yet-shared `join` halves so
/// the spare and the other workers can take them.
///
/// Off the pool it simply runs `f`. At the spare cap it runs `f` without a
/// stand-in (today's behaviour of any pool), never an error or a deadlock.
/// Waiting for a stolen `join` half or a scope is not blocking: the pool
/// already keeps such a worker busy.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::time::Duration;
///
/// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
/// let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
/// pool.scope(|s| {
///     for _ in 0..8 {
///         s.spawn(|_| {
///             filch_scheduler::blocking(|| {
///                 let n = now.fetch_add(1, Ordering::SeqCst) + 1;
///                 most.fetch_max(n, Ordering::SeqCst);
///                 std::thread::sleep(Duration::from_millis(50));
///                 now.fetch_sub(1, Ordering::SeqCst);
///             })
///         });
///     }
/// });
/// // Two workers, yet more than two jobs slept at once: spares stood in.
/// assert!(most.load(Ordering::SeqCst) > 2);
/// assert!(pool.stats().workers.iter().any(|w| w.spare && w.jobs > 0));
/// ```
///
/// # Panics
/// Resumes a panic of `f`, after telling the pool this worker is no longer
/// blocked.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match WorkerThread::current() {
        None => f(),
        Some(worker) => {
            worker.promote_all();
            let registry = worker.registry_arc();
            registry.enter_blocking();
            let _unblock = Unblock(registry);
            f()
        }
    }
}

/// Leaves the blocked region on every way out of `f`, unwinding included.
struct Unblock<'r>(&'r Registry);

impl Drop for Unblock<'_> {
    fn drop(&mut self) {
        self.0.leave_blocking();
    }
}
