//! [`JoinContext`]: `join` for recursions so fine-grained that finding the
//! worker in thread-local state, and keeping the newest frame in it, cost more
//! than the work between forks. The worker travels down the recursion as an
//! argument instead, and the open frames form a chain through the stack.
//!
//! # The frame chain
//!
//! `ctx.join(a, b)` puts `b`'s job on its own stack frame, headed by a
//! [`ForkLatch`] whose state word, while the frame is private, holds the
//! address of the context's newest open frame (`fork_latch.rs`), and runs
//! `a` with a context whose newest frame is this one. The chain from any
//! live context is therefore exactly the open frames above it, newest
//! first, all on this thread's stack. Nothing is written to the worker: a
//! fork stores the job (the closure's captures, the latch's state with the
//! link in it, and the job's run function) and checks whether the worker's
//! deque is empty; closing it reads the state back. The implicit `join`
//! (`join.rs`) is the same fork with the newest frame kept in the worker,
//! which costs it a load and a store per fork and a thread-local lookup in
//! each half.
//!
//! When nothing of this worker's is on offer (its deque is empty), a fork
//! publishes the oldest private frame of its chain, as every `join` does
//! (`fork_latch.rs`, "Publication"). Publishing skips the lost-wake-up
//! fence: a frame nobody takes is run by its owner, so a missed wake-up
//! costs parallelism, never progress.
//!
//! # Closing a frame
//!
//! After `a`, the owner reads the latch's state. `PRIVATE`: nobody else
//! ever saw `b`, so it runs inline with the parent's context, rebuilt from
//! the link in that very state. Otherwise the owner pops its deque until it
//! finds the job (taken back: run inline, with an empty chain, since every
//! older frame was published before this one) or the deque is empty (a
//! thief has it: run other jobs until the latch is set), as the implicit
//! `join` does (`WorkerThread::reclaim_or_wait`). A
//! thief runs `b` with a fresh context of its own worker whose chain is
//! empty. The thief's own older frames need not be on it: the thief was
//! idle, or waiting on a frame of its own that had been published, and
//! oldest-first publication means every frame older than that one had been
//! published before it.
//!
//! # Why the chain cannot dangle
//!
//! The promoting walk dereferences every frame it passes, so each must be
//! open. A context is `!Send`, so it stays on its worker's thread, and the
//! closures receive contexts under a higher-ranked, invariant lifetime, so
//! no context outlives the call it was handed to, which ends before its
//! newest frame closes. A context used out of place (the parent's, captured
//! by `a`) links new frames past `a`'s own frame; the chain is then shorter
//! than the stack, which loses that frame's chance to be published, but
//! every frame on it is still open.

use std::fmt;
use std::marker::PhantomData;
use std::ptr;

use crate::fork_latch::ForkLatch;
use crate::job::{JobBody, JobRef, StackJob};
use crate::worker::WorkerThread;

/// A worker's handle for cheap forks: [`join`](Self::join) through it
/// stores `b`'s job on the stack and checks the worker's deque, with no
/// thread-local lookup and nothing written to the worker. Get one from
/// [`with_join_context`](crate::with_join_context) (or
/// [`ThreadPool::with_join_context`](crate::ThreadPool::with_join_context));
/// each half of a `join` receives its own.
///
/// Prefer it to [`join`](crate::join) for recursions whose forks are a few
/// nanoseconds of work apart (`fib` with no cut-off, a sum over a pointer
/// tree); elsewhere the two cost the same. Its first closure need not be
/// `Send`: it always runs on the calling thread.
///
/// It is `Copy`, but neither `Send` nor able to outlive the closure it was
/// handed to: it stands for a place in one worker's stack.
///
/// ```
/// use filch_scheduler::JoinContext;
///
/// fn fib(ctx: JoinContext<'_>, n: u64) -> u64 {
///     if n < 2 {
///         return n;
///     }
///     let (a, b) = ctx.join(move |ctx| fib(ctx, n - 1), move |ctx| fib(ctx, n - 2));
///     a + b
/// }
/// assert_eq!(filch_scheduler::with_join_context(|ctx| fib(ctx, 20)), 6765);
/// ```
///
/// A context cannot leave the closure it was given to:
///
/// ```compile_fail
/// filch_scheduler::with_join_context(|ctx| {
///     let mut kept = None;
///     ctx.join(|inner| kept = Some(inner), |_| ());
///     kept.unwrap().join(|_| (), |_| ());
/// });
/// ```
///
/// nor another thread:
///
/// ```compile_fail
/// filch_scheduler::with_join_context(|ctx| {
///     std::thread::scope(|s| {
///         s.spawn(move || ctx.join(|_| 1, |_| 2));
///     });
/// });
/// ```
#[derive(Clone, Copy)]
pub struct JoinContext<'f> {
    /// The worker this context's frames belong to.
    worker: &'f WorkerThread,
    /// The newest open frame of this chain, or null.
    newest: *const ForkLatch,
    /// Invariant in `'f`, so a context cannot be stretched to outlive it.
    _frame: PhantomData<fn(&'f ()) -> &'f ()>,
}

impl fmt::Debug for JoinContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinContext")
            .field("newest_frame", &self.newest)
            .finish_non_exhaustive()
    }
}

impl<'f> JoinContext<'f> {
    /// A context with no open frame, on `worker`.
    #[inline]
    pub(crate) fn root(worker: &'f WorkerThread) -> Self {
        JoinContext {
            worker,
            newest: ptr::null(),
            _frame: PhantomData,
        }
    }

    /// Runs `a` and `b`, potentially in parallel, and returns both results.
    /// `a` always runs on this thread (so it need not be `Send`); `b` runs
    /// here too unless a peer took it while `a` ran (it is offered when
    /// nothing else of this worker's is).
    ///
    /// ```
    /// use filch_scheduler::{JoinContext, ThreadPool};
    ///
    /// struct Tree { value: u64, children: Option<Box<(Tree, Tree)>> }
    ///
    /// fn sum(ctx: JoinContext<'_>, tree: &Tree) -> u64 {
    ///     match &tree.children {
    ///         None => tree.value,
    ///         Some(pair) => {
    ///             let (l, r) = ctx.join(|ctx| sum(ctx, &pair.0), |ctx| sum(ctx, &pair.1));
    ///             tree.value + l + r
    ///         }
    ///     }
    /// }
    ///
    /// fn build(depth: u32) -> Tree {
    ///     let children = (depth > 0).then(|| Box::new((build(depth - 1), build(depth - 1))));
    ///     Tree { value: 1, children }
    /// }
    ///
    /// let pool = ThreadPool::builder().num_threads(2).build()?;
    /// let tree = build(10);
    /// assert_eq!(pool.with_join_context(|ctx| sum(ctx, &tree)), 2047);
    /// # Ok::<(), filch_scheduler::BuildError>(())
    /// ```
    ///
    /// # Panics
    /// As [`join`](crate::join): resumes a panic of `a` or `b` with its
    /// original payload, `a`'s if both panic; the other half has either
    /// finished or never started by then.
    #[inline(always)]
    pub fn join<A, B, RA, RB>(self, a: A, b: B) -> (RA, RB)
    where
        A: for<'g> FnOnce(JoinContext<'g>) -> RA,
        B: for<'g> FnOnce(JoinContext<'g>) -> RB + Send,
        RB: Send,
    {
        self.fork(a, b)
    }

    /// The fork itself, deliberately out of line. A recursive user function
    /// and an inlined `join` form a cycle that the compiler must cut
    /// somewhere; inlined, `join` leaves the cut at the user's function,
    /// whose every call, leaves included, then pays the prologue the fork
    /// needs (four pushes before the `n < 2` test in `fib`). Cut here, the
    /// user's function is inlined into the closures, so a leaf is a test and
    /// a return inside its parent's fork. callgrind, `fib(25)` on a 1-thread
    /// pool: 39 instructions per fork more than the plain recursion inlined,
    /// 27.4 out of line (the implicit `join`: 42; 26.5 since the link moved
    /// into the latch's state word).
    ///
    /// Two things keep values out of callee-saved registers, each a push and
    /// a pop on every fork (`docs/design.md`, section 4):
    /// - The publishing fork is a separate, cold copy reached by a tail
    ///   call, so this one calls nothing before `a`; a call there (however
    ///   rarely taken) kept `a`'s captures alive across it. 3.7 instructions
    ///   per fork (callgrind, `fib(25)`).
    /// - `b`'s context is rebuilt after `a` from the frame's own state word,
    ///   whose link is this context's newest frame, so `self.newest` need
    ///   not survive `a`. 3.4 instructions per fork more.
    ///
    /// With every function aligned to 64 bytes (as this workspace builds),
    /// `fib(30)` on a 1-thread pool took 1.15x-1.23x as long without the
    /// second, both forks interleaved on one pool.
    #[inline(never)]
    fn fork<A, B, RA, RB>(self, a: A, b: B) -> (RA, RB)
    where
        A: for<'g> FnOnce(JoinContext<'g>) -> RA,
        B: for<'g> FnOnce(JoinContext<'g>) -> RB + Send,
        RB: Send,
    {
        if !self.worker.offering() {
            return self.fork_publishing(a, b);
        }
        self.fork_frame::<false, A, B, RA, RB>(a, b)
    }

    /// The fork when nothing of this worker's is on offer: it publishes the
    /// oldest private frame of the chain, its own new frame included.
    #[cold]
    #[inline(never)]
    fn fork_publishing<A, B, RA, RB>(self, a: A, b: B) -> (RA, RB)
    where
        A: for<'g> FnOnce(JoinContext<'g>) -> RA,
        B: for<'g> FnOnce(JoinContext<'g>) -> RB + Send,
        RB: Send,
    {
        self.fork_frame::<true, A, B, RA, RB>(a, b)
    }

    /// One fork's frame: `b`'s job on the stack, then `a`, then `b` inline
    /// or a thief's result; with `PUBLISH`, the publication before `a`.
    #[inline(always)]
    fn fork_frame<const PUBLISH: bool, A, B, RA, RB>(self, a: A, b: B) -> (RA, RB)
    where
        A: for<'g> FnOnce(JoinContext<'g>) -> RA,
        B: for<'g> FnOnce(JoinContext<'g>) -> RB + Send,
        RB: Send,
    {
        let job_b = ForkJob {
            job: StackJob::new(
                SecondHalf(b),
                ForkLatch::new(
                    self.newest,
                    // A context's forks always frame themselves, so its
                    // chain's depth is never asked (`fork_latch.rs`).
                    0,
                    JobRef::trampoline::<StackJob<ForkLatch, SecondHalf<B>, RB>>(),
                ),
            ),
        };
        let frame: *const ForkLatch = &job_b.job.latch;
        if PUBLISH {
            // SAFETY: every frame on the chain of a live context is open on
            // this thread's stack (module docs, "Why the chain cannot
            // dangle") and stays in place until its owner closes it.
            unsafe { self.worker.publish_oldest_private(frame) };
        }
        // If `a` unwinds, `job_b`'s `Drop` settles `b` in place.
        let ra = a(JoinContext {
            worker: self.worker,
            newest: frame,
            _frame: PhantomData,
        });
        let b_context = match job_b.job.latch.private_link() {
            // Still private: the state holds the link `self.newest`, so `b`'s
            // context is rebuilt from it rather than kept across `a` (one
            // callee-saved register fewer; see `fork`).
            Some(link) => Some(JoinContext {
                worker: self.worker,
                newest: link,
                _frame: PhantomData,
            }),
            // Taken back from the deque unexecuted. Published frames are a
            // prefix of the chain, so every frame older than this one is
            // published too: `b` has nothing of the parent's chain to offer
            // and runs with an empty one.
            None if reclaim_or_wait(self.worker, &job_b.job) => {
                Some(JoinContext::root(self.worker))
            }
            // A thief ran it and set the latch.
            None => None,
        };
        if let Some(context) = b_context {
            // SAFETY: never published, or taken back from the deque
            // unexecuted: no other thread can run `b`.
            let SecondHalf(b) = unsafe { job_b.job.take_func() };
            std::mem::forget(job_b);
            (ra, b(context))
        } else {
            // SAFETY: `reclaim_or_wait` returned `false` only after the
            // latch was set, so the result is written and nobody touches it.
            let result = unsafe { job_b.job.read_result() };
            std::mem::forget(job_b);
            (ra, result.into_return_value())
        }
    }
}

/// `b`'s job on the forking frame. Its `Drop` is the unwinding path only:
/// every normal path forgets the job once `b` is settled. Dropped in place,
/// its address is a known stack offset, so unlike a guard holding a
/// reference it costs a fork no store.
///
/// It does not hold its worker (that field would be a store on every fork):
/// the unwinding path finds the worker in thread-local state.
struct ForkJob<B, RB>
where
    B: for<'g> FnOnce(JoinContext<'g>) -> RB,
{
    job: StackJob<ForkLatch, SecondHalf<B>, RB>,
}

impl<B, RB> Drop for ForkJob<B, RB>
where
    B: for<'g> FnOnce(JoinContext<'g>) -> RB,
{
    /// `a` unwound: make sure nobody still runs `b` (which may borrow the
    /// unwinding stack), then drop `b` or its outcome; `a`'s panic goes on.
    fn drop(&mut self) {
        let worker = WorkerThread::current().expect("a context frame unwinds on its worker");
        let job = &self.job;
        // The rule of `fork_frame`'s normal path: still ours if never
        // published, or taken back from the deque unexecuted.
        if job.latch.private_link().is_some() || reclaim_or_wait(worker, job) {
            // SAFETY: never published, or taken back: nobody else has it,
            // and the closure was never consumed.
            unsafe { job.drop_func() };
        } else {
            // SAFETY: a thief ran it and set the latch; nobody reads the
            // result.
            unsafe { job.drop_result() };
        }
    }
}

/// `b` as a job body: a thief runs it with a context of its own worker.
struct SecondHalf<B>(B);

impl<B, R> JobBody for SecondHalf<B>
where
    B: for<'g> FnOnce(JoinContext<'g>) -> R,
{
    type Output = R;

    fn run(self) -> R {
        let worker = WorkerThread::current().expect("a context frame runs on a worker of its pool");
        (self.0)(JoinContext::root(worker))
    }
}

/// After `a`, for a published `b`: `true` if it was taken back unexecuted,
/// `false` once a thief ran it and set its latch.
#[cold]
#[inline(never)]
fn reclaim_or_wait<F: JobBody<Output = R>, R>(
    worker: &WorkerThread,
    job: &StackJob<ForkLatch, F, R>,
) -> bool {
    // SAFETY: the job stays in place until this returns; recomputing the
    // ref only reads its address.
    let job_ref = unsafe { job.as_job_ref() };
    worker.reclaim_or_wait(job_ref, job.latch.core())
}
