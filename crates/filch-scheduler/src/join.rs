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

use crate::job::StackJob;
use crate::waking_latch::FrameLatch;
use crate::worker::WorkerThread;

/// `join` on a worker of the pool that should run it. Always inlined: the
/// fork path is a few dozen instructions, and as a call of its own it adds
/// a frame, spills and a return to every fork of a recursive user function
/// (callgrind, fib(25) on one thread: 10.2M instructions out of line).
#[inline(always)]
pub(crate) fn join_in_worker<A, B, RA, RB>(worker: &WorkerThread, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let job_b = StackJob::new(b, FrameLatch::new());
    // SAFETY: `job_b` lives on this frame until this function returns or
    // unwinds, and every path below either takes the ref back (pop_frame
    // says private, or reclaim_or_wait returns true) or waits for its latch
    // first; on unwinding out of `a`, `FrameGuard` does the same.
    let job_b_ref = unsafe { job_b.as_job_ref() };
    let depth = worker.push_frame(job_b_ref);
    let guard = FrameGuard { job: &job_b };
    // No `catch_unwind` here: it would keep `a` from being inlined into the
    // fork. A panic in `a` unwinds through `guard` instead.
    let ra = a();
    std::mem::forget(guard);
    let promoted = worker.pop_frame(depth);
    if !promoted || worker.reclaim_or_wait(job_b_ref, job_b.latch.core()) {
        // SAFETY: the ref never left this thread, or was taken back from the
        // deque unexecuted: nobody else can run it.
        let b = unsafe { job_b.take_func() };
        (ra, b())
    } else {
        // SAFETY: `reclaim_or_wait` returned only after the latch was set.
        (ra, unsafe { job_b.into_result() }.into_return_value())
    }
}

/// Pops `join`'s frame if `a` unwinds, and makes sure nobody still runs `b`
/// (which may borrow the unwinding stack) before the unwinding goes on: a
/// promoted `b` is taken back unrun, or, if a thief has it, waited for. The
/// panic then continues with `a`'s original payload; `b`'s outcome, if any,
/// is dropped.
///
/// It holds only the job: the worker is this thread's, and the frame is the
/// newest open one (the joins nested in `a` closed theirs as they unwound).
/// Every field costs a store on every fork, for a path taken only by panics.
struct FrameGuard<'a, F: FnOnce() -> R, R> {
    job: &'a StackJob<FrameLatch, F, R>,
}

impl<F: FnOnce() -> R, R> Drop for FrameGuard<'_, F, R> {
    fn drop(&mut self) {
        let worker = WorkerThread::current().expect("a join frame unwinds on its own worker");
        let promoted = worker.pop_newest_frame();
        // SAFETY: the same ref `join_in_worker` published; recomputing it
        // only reads the job's address.
        let job = unsafe { self.job.as_job_ref() };
        if !promoted || worker.reclaim_or_wait(job, self.job.latch.core()) {
            // SAFETY: private or taken back: nobody else has it, and the
            // closure was never consumed.
            unsafe { self.job.drop_func() };
        } else {
            // SAFETY: a thief ran it and set the latch; nobody reads the
            // result: `a`'s panic is the one that goes on.
            unsafe { self.job.drop_result() };
        }
    }
}
