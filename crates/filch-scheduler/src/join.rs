//! `join(a, b)`: run two closures, potentially in parallel, and return both
//! results.
//!
//! On a worker, `b` becomes a private frame (see `worker.rs`) and `a` runs
//! inline. If nobody wanted work meanwhile, `b` then runs inline too: the
//! whole fork cost a `Vec` push and pop and one relaxed load. If `b` was
//! promoted, the worker takes it back from its deque, or, if a thief took
//! it, runs other jobs until the thief sets `b`'s latch; it never blocks its
//! thread while work exists. Off the pool, `join` runs inside the pool (the
//! current one, or the global one) and the caller waits.
//!
//! Panics: if `a` panics and `b` has not started, `b` is dropped unrun; if a
//! thief is running `b`, `join` waits for it (it may borrow the caller's
//! stack) and then resumes `a`'s panic. If only `b` panics, its panic is
//! resumed. Either way with the original payload.

use std::panic::{self, AssertUnwindSafe};

use crate::global;
use crate::job::StackJob;
use crate::latch::WorkerLatch;
use crate::worker::WorkerThread;

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
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    match WorkerThread::current() {
        Some(worker) => join_in_worker(worker, a, b),
        None => global::registry().in_worker(|worker| join_in_worker(worker, a, b)),
    }
}

/// `join` on a worker of the pool that should run it.
#[inline]
pub(crate) fn join_in_worker<A, B, RA, RB>(worker: &WorkerThread, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let job_b = StackJob::new(b, WorkerLatch::new(worker.registry_arc(), worker.index()));
    // SAFETY: `job_b` lives on this frame until this function returns, and
    // every path below either takes the ref back (pop_frame says private, or
    // reclaim_or_wait returns true) or waits for its latch before returning
    // or unwinding.
    let job_b_ref = unsafe { job_b.as_job_ref() };
    let depth = worker.push_frame(job_b_ref);
    let result_a = panic::catch_unwind(AssertUnwindSafe(a));
    let promoted = worker.pop_frame(depth);
    let reclaimed = !promoted || worker.reclaim_or_wait(job_b_ref, job_b.latch.core());
    if reclaimed {
        // SAFETY: the ref never left this thread, or was taken back from the
        // deque unexecuted: nobody else can run it.
        let b = unsafe { job_b.take_func() };
        match result_a {
            Ok(ra) => {
                let b = b.unwrap_or_else(|| unreachable_taken());
                (ra, b())
            }
            Err(payload) => panic::resume_unwind(payload),
        }
    } else {
        // SAFETY: `reclaim_or_wait` returned only after the latch was set.
        let result_b = unsafe { job_b.into_result() };
        match result_a {
            Ok(ra) => (ra, result_b.into_return_value()),
            Err(payload) => panic::resume_unwind(payload),
        }
    }
}

#[cold]
fn unreachable_taken() -> ! {
    crate::unwind::abort_on_broken_invariant("join's second half was taken twice")
}
