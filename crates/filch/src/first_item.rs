//! The first item of a call, which the probe runs alone to time it, is run
//! *armed*: if it enters [`blocking`](crate::blocking), the rest of the
//! call is shared with the pool at once, while the first item waits.
//!
//! Why: the probe decides nothing before the first item returns. An item
//! that sleeps 200 ms would hold the whole call for 200 ms before any helper
//! is asked, so ten such items on two threads took two sleeps, not one
//! (issue 6).
//!
//! # How
//! While the first item runs, `blocking`'s hook (`blocking.rs`) points at
//! the call's [`Standby`]: the rest of the input (borrowed, behind a lock),
//! where its outputs go, and the pool. `blocking` calls [`open`], which
//! opens a shared call (`share.rs`) over the rest,
//! with one helper job per pool thread and adaptive claims (one item at a
//! time while items block, doubling while they do not). When the first
//! item returns, its thread joins that call as one more participant, then
//! closes it as its owner. A call whose first item does not block pays two
//! thread-local writes for this.
//!
//! Only the first item is armed: later probe batches run inside
//! `Vec::extend`, which borrows the iterator. A call whose items only start
//! blocking later goes parallel at the probe's next checkpoint.

use std::cell::OnceCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use filch_scheduler::ThreadPool;

use crate::blocking::OnBlock;
use crate::driver::Leaf;
use crate::share::{self, Batching, Ctx, Outcome, Share};
use crate::sync::Mutex;

/// What a shared rest needs, prepared before the first item runs.
struct Standby<'a, J, M> {
    ctx: Ctx<'a, &'a mut J, M>,
    pool: &'a ThreadPool,
    n: usize,
    max_batch: usize,
    share: OnceCell<Arc<Share>>,
}

/// Opens `standby`'s shared call unless it is open already.
///
/// # Safety
/// `standby` must point to a live `Standby<J, M>` whose types match, on
/// this thread (it is only reached through the `OnBlock` hook).
unsafe fn open<J, R, M, L>(standby: *const ())
where
    J: Iterator + Send,
    J::Item: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<J::Item, Out = R>,
{
    // SAFETY: per the contract.
    let standby = unsafe { &*standby.cast::<Standby<'_, J, M>>() };
    standby.share.get_or_init(|| {
        // The first item's thread waits, so every pool thread may help.
        let helpers = standby.pool.num_threads().min(standby.n);
        let batching = Batching {
            min: 1,
            max: standby.max_batch,
            fixed: false,
        };
        let share =
            Share::new::<&mut J, R, M, L>(standby.n, helpers + 1, batching, true, &standby.ctx);
        for _ in 0..helpers {
            standby.pool.spawn(share::helper_job(Arc::clone(&share)));
        }
        share
    });
}

/// How the first item went.
pub(crate) enum First<R> {
    /// It did not block: its result (`None`: it stopped the call); the rest
    /// of the input is untouched.
    Alone(Option<R>),
    /// It blocked and the rest was shared: its result, and how the rest
    /// (outputs `0..n`) ended. The call is closed.
    Shared(Option<R>, Outcome),
}

/// Runs `first` armed, with `rest` (exactly `n` items by its size hint,
/// not trusted for safety) the remainder of the call.
///
/// # Safety
/// `outputs[..n]` must be valid for writes, uninitialised, and stay
/// allocated until this returns; on `Shared(_, Complete(count))` the first
/// `count` are initialised and owned by the caller.
///
/// # Panics
/// Resumes a panic of `first`, or the first panic of the shared rest, after
/// every helper has left and every claimed item has been dropped.
pub(crate) unsafe fn run<J, R, M, L>(
    pool: &ThreadPool,
    rest: &mut J,
    n: usize,
    outputs: *mut R,
    make_leaf: &M,
    max_batch: usize,
    first: impl FnOnce() -> Option<R>,
) -> First<R>
where
    J: Iterator + Send,
    J::Item: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<J::Item, Out = R>,
{
    let standby = Standby {
        ctx: Ctx {
            source: Mutex::new(rest),
            outputs: outputs.cast::<()>(),
            make_leaf,
        },
        pool,
        n,
        max_batch,
        share: OnceCell::new(),
    };
    let value = {
        // SAFETY: `standby` outlives the guard; `open` gets its types.
        let _armed = unsafe {
            OnBlock::enter(
                std::ptr::from_ref(&standby).cast::<()>(),
                open::<J, R, M, L>,
            )
        };
        panic::catch_unwind(AssertUnwindSafe(first))
    };
    let Some(share) = standby.share.into_inner() else {
        return First::Alone(value.unwrap_or_else(|payload| panic::resume_unwind(payload)));
    };
    let value = match value {
        Ok(Some(value)) => {
            // SAFETY: `standby.ctx` lives on this frame until the call is
            // concluded below.
            unsafe { share::participate_as_owner::<&mut J, R, M, L>(pool, &share) };
            Some(value)
        }
        Ok(None) => {
            share.stop();
            None
        }
        Err(payload) => {
            share.keep_panic(payload);
            None
        }
    };
    // A worker that waited here for the helpers as a plain thread would
    // leave its pool a thread short (on a 1-thread pool, with nobody to run
    // a job a helper waits for): it waits as a blocked worker instead, so a
    // spare stands in for it meanwhile.
    // SAFETY: `outputs` is as this function requires; our part is over.
    let outcome = filch_scheduler::blocking(|| unsafe { share::conclude(&share, outputs) });
    First::Shared(value, outcome)
}
