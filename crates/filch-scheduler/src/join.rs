//! `join(a, b)`: run two closures, potentially in parallel, and return both
//! results.
//!
//! On a worker, `b` becomes a private frame on the fork's own stack frame,
//! the newest of the worker's chain (`fork_latch.rs`), and `a` runs inline.
//! If nobody wanted work meanwhile, `b` then runs inline too: the whole fork
//! stored the job and two words of the chain and checked the deque. If `b`
//! was promoted, the worker takes it back from its deque, or, if a thief
//! took it, runs other jobs until the thief sets `b`'s latch; it never
//! blocks its thread while work exists. Off the pool, `join` runs inside the
//! pool (the current one, or the global one) and the caller waits.
//!
//! A fork deep in a chain, with something of its worker's on offer, makes
//! no frame at all and runs `a` then `b` (`fork_latch.rs`, "Frameless
//! forks").
//!
//! The fork is the context `join`'s (`join_context.rs`), with the chain's
//! newest frame kept in the worker instead of an argument: out of line, so
//! that the compiler cuts a recursive user function's cycle at the fork
//! rather than at the user's function, and with the publishing case a cold
//! tail call, so that nothing is called before `a`.
//!
//! Panics: if `a` panics and `b` has not started, `b` is dropped unrun; if a
//! thief is running `b`, `join` waits for it (it may borrow the caller's
//! stack) and then resumes `a`'s panic. If only `b` panics, its panic is
//! resumed. Either way with the original payload.

use std::ptr;

use crate::fork_latch::{chain_depth, ForkLatch, FRAMED_DEPTH};
use crate::job::{JobRef, StackJob};
use crate::worker::WorkerThread;

/// `join` on a worker of the pool that should run it: the fork,
/// deliberately out of line (module docs), so that a leaf of a recursive
/// user function is a test and a return inside its parent's fork.
#[inline(never)]
pub(crate) fn join_in_worker<A, B, RA, RB>(worker: &WorkerThread, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    fork_inline(worker, a, b)
}

/// `join` from any thread: on a worker that `accept`s it (the worker's own
/// pool, or only a given pool's), the fork; elsewhere `elsewhere`.
///
/// Out of line, with the worker found inside: the thread-local read then
/// sits in the scheduler's own function, where the compiler inlines its
/// accessor. Found by the caller instead, it is inlined into the user's
/// recursive function along with `join`, and there the accessor stayed a
/// call on every fork (fib(30) through `join` took ~1.9x `JoinContext`'s
/// time on one thread, on the EPYC machine; `docs/design.md`).
#[inline(never)]
pub(crate) fn join_anywhere<A, B, RA, RB>(
    accept: impl FnOnce(&WorkerThread) -> bool,
    elsewhere: impl FnOnce(A, B) -> (RA, RB),
    a: A,
    b: B,
) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    match WorkerThread::current() {
        Some(worker) if accept(worker) => fork_inline(worker, a, b),
        _ => elsewhere(a, b),
    }
}

/// The fork: the body of [`join_in_worker`] and [`join_anywhere`].
#[inline(always)]
fn fork_inline<A, B, RA, RB>(worker: &WorkerThread, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if !worker.offering() {
        return fork_publishing(worker, a, b);
    }
    // SAFETY: the worker's chain holds open frames only (`fork_frame`'s
    // rule, kept by every fork restoring the link as it closes).
    if unsafe { chain_depth(worker.newest_frame()) } >= FRAMED_DEPTH {
        // Deep, with something on offer: no frame (`fork_latch.rs`).
        return (a(), b());
    }
    fork_frame::<false, A, B, RA, RB>(worker, a, b)
}

/// The fork when nothing of this worker's is on offer: it publishes the
/// oldest private frame of the chain, its own new frame included.
#[cold]
#[inline(never)]
fn fork_publishing<A, B, RA, RB>(worker: &WorkerThread, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    fork_frame::<true, A, B, RA, RB>(worker, a, b)
}

/// One fork's frame: `b`'s job on the stack as the chain's newest frame,
/// then `a`, then `b` inline or a thief's result; with `PUBLISH`, the
/// publication before `a`.
#[inline(always)]
fn fork_frame<const PUBLISH: bool, A, B, RA, RB>(worker: &WorkerThread, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let newest = worker.newest_frame();
    let job_b = ForkJob {
        job: StackJob::new(
            b,
            ForkLatch::new(
                newest,
                // SAFETY: as in `fork_inline`.
                unsafe { chain_depth(newest) },
                JobRef::trampoline::<StackJob<ForkLatch, B, RB>>(),
            ),
        ),
    };
    let frame: *const ForkLatch = &job_b.job.latch;
    worker.set_newest_frame(frame);
    if PUBLISH {
        // SAFETY: the chain ends at this open frame, and every older frame
        // on it is open below this one (`set_newest_frame`'s rule, kept by
        // every fork restoring the link as it closes); each stays in place
        // until closed, and this one closes only through the paths below.
        unsafe { worker.publish_oldest_private(frame) };
    }
    // If `a` unwinds, `job_b`'s `Drop` restores the chain and settles `b`.
    let ra = a();
    // Found again rather than kept across `a`: one callee-saved register
    // fewer, a push and a pop on every fork.
    // SAFETY: this thread was `worker` before `a`, and `a` returned on it.
    let worker = unsafe { WorkerThread::current_unchecked() };
    let inline = match job_b.job.latch.private_link() {
        // Still private: the chain goes back to what it was before the fork.
        Some(link) => {
            worker.set_newest_frame(link);
            true
        }
        // Published, so every older frame of the chain was too: `b` and what
        // follows have nothing of it to offer and go on with an empty chain.
        None => {
            worker.set_newest_frame(ptr::null());
            reclaim_or_wait(worker, &job_b.job)
        }
    };
    if inline {
        // SAFETY: never published, or taken back from the deque unexecuted:
        // no other thread can run `b`.
        let b = unsafe { job_b.job.take_func() };
        std::mem::forget(job_b);
        (ra, b())
    } else {
        // SAFETY: `reclaim_or_wait` returned `false` only after the latch
        // was set, so the result is written and nobody touches it.
        let result = unsafe { job_b.job.read_result() };
        std::mem::forget(job_b);
        (ra, result.into_return_value())
    }
}

/// `b`'s job on the forking frame. Its `Drop` is the unwinding path only
/// (`a` panicked): every normal path forgets the job once `b` is settled.
/// Dropped in place, its address is a known stack offset, so unlike a guard
/// holding a reference it costs a fork no store. It does not hold its
/// worker either (a store per fork); the panic path finds it again.
///
/// Panics: if `a` panics and `b` has not started, `b` is dropped unrun; if a
/// thief is running `b`, the unwinding waits for it (it may borrow the
/// unwinding stack) and drops its outcome; `a`'s panic then goes on with
/// its original payload.
struct ForkJob<B: FnOnce() -> RB, RB> {
    job: StackJob<ForkLatch, B, RB>,
}

impl<B: FnOnce() -> RB, RB> Drop for ForkJob<B, RB> {
    fn drop(&mut self) {
        let worker = WorkerThread::current().expect("a join frame unwinds on its own worker");
        let job = &self.job;
        // The rule of `fork_frame`'s normal path: the chain goes back to the
        // frame's link if it is private, else to an empty one; `b` is still
        // ours if never published, or taken back from the deque unexecuted.
        let ours = match job.latch.private_link() {
            Some(link) => {
                worker.set_newest_frame(link);
                true
            }
            None => {
                worker.set_newest_frame(ptr::null());
                reclaim_or_wait(worker, job)
            }
        };
        if ours {
            // SAFETY: nobody else has it, and the closure was never consumed.
            unsafe { job.drop_func() };
        } else {
            // SAFETY: a thief ran it and set the latch; nobody reads the
            // result: `a`'s panic is the one that goes on.
            unsafe { job.drop_result() };
        }
    }
}

/// After `a`, for a published `b`: `true` if it was taken back unexecuted,
/// `false` once a thief ran it and set its latch.
#[cold]
#[inline(never)]
fn reclaim_or_wait<B: FnOnce() -> RB, RB>(
    worker: &WorkerThread,
    job: &StackJob<ForkLatch, B, RB>,
) -> bool {
    // SAFETY: the job stays in place until this returns; recomputing the
    // ref only reads its address.
    let job_ref = unsafe { job.as_job_ref() };
    worker.reclaim_or_wait(job_ref, job.latch.core())
}
