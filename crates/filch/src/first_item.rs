//! The first item of a call, which the probe runs alone to time it, is run
//! *armed*: if it enters [`blocking`](crate::blocking), the rest of the
//! call is shared with the pool at once, while the first item waits.
//!
//! Why: the probe decides nothing before the first item returns. An item
//! that sleeps 200 ms would hold the whole call for 200 ms before any helper
//! is asked, so ten such items on two threads took two sleeps, not one
//! (see `docs/design.md`, section 6).
//!
//! # How
//! While the first item runs, `blocking`'s hook (`blocking.rs`) points at
//! the call's [`Standby`]: the rest of the input (borrowed, behind a lock),
//! where its outputs go, and the pool. `blocking` calls [`on_block`], which
//! opens a shared call (`shared_call.rs`) over the rest,
//! with one helper job per pool thread and adaptive claims (one item at a
//! time while items block, doubling while they do not). When the first
//! item returns, its thread joins that call as one more participant, then
//! closes it as its owner. A call whose first item does not block pays two
//! thread-local writes for this.
//!
//! A call from outside whose site's last two first items were long
//! (`history.rs`) opens the shared call *before* its first item, with one
//! helper fewer than the pool has threads (its own thread works too); if
//! that first item then blocks, one more helper is asked, once.
//!
//! Only the first item is armed: later probe batches run inside
//! `Vec::extend`, which borrows the iterator. A call whose items only start
//! blocking later goes parallel at the probe's next checkpoint.

use std::cell::{Cell, OnceCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use filch_scheduler::ThreadPool;

use crate::blocking::OnBlock;
use crate::leaves::Leaf;
use crate::output;
use crate::shared_call::{self, claim_buffer_items, Batching, Ctx, Outcome, Share};
use crate::sync::Mutex;

/// What a shared rest needs, prepared before the first item runs. The
/// rest's output slots are reserved only when the call is shared: a call
/// whose first item does not block reserves nothing here (an in-place map
/// allocates no output at all, `driver.rs`).
struct Standby<'a, J, R, M> {
    /// The rest of the input, until the shared call takes it.
    rest: Cell<Option<&'a mut J>>,
    /// Where the results go: slot 0 for the first item's, then the rest's.
    out: *mut Vec<R>,
    /// For a call mapped in place, the slot of the first item's result,
    /// the rest's results going to the slots after it instead of `out`.
    in_place: Option<*mut R>,
    make_leaf: &'a M,
    /// The shared call's borrowed side, made when it opens.
    ctx: OnceCell<Ctx<'a, &'a mut J, M>>,
    pool: &'a ThreadPool,
    n: usize,
    max_batch: usize,
    share: OnceCell<Arc<Share>>,
    /// Whether the first item's blocking asked for a helper to stand in
    /// for it in a call shared before it started.
    stand_in_asked: Cell<bool>,
}

impl<'a, J, R, M> Standby<'a, J, R, M> {
    /// Opens the shared call with `helpers` helper jobs.
    fn open<L>(&self, helpers: usize) -> &Arc<Share>
    where
        J: Iterator + Send,
        J::Item: Send,
        R: Send,
        M: Fn() -> L + Sync,
        L: Leaf<J::Item, Out = R>,
    {
        self.share.get_or_init(|| {
            let outputs = match self.in_place {
                // SAFETY: `run`'s contract: `n + 1` slots from `first`.
                Some(first) => unsafe { first.add(1) },
                None => {
                    // SAFETY: `out` is the caller's `Vec`, which nothing
                    // else touches until `run` returns (the first item's
                    // closure does not); this runs once.
                    let out = unsafe { &mut *self.out };
                    debug_assert!(out.is_empty());
                    output::reserve(out, self.n + 1);
                    // SAFETY: `reserve` made room for `n + 1` slots; slot
                    // 0 is the first item's.
                    unsafe { out.as_mut_ptr().add(1) }
                }
            };
            let ctx = self.ctx.get_or_init(|| Ctx {
                source: Mutex::new(self.rest.take().expect("the rest is shared once")),
                outputs: outputs.cast::<()>(),
                make_leaf: self.make_leaf,
            });
            let helpers = helpers.min(self.n);
            let batching = Batching {
                min: 1,
                max: self.max_batch,
                fixed: false,
            };
            let share = Share::new::<&mut J, R, M, L>(self.n, helpers + 1, batching, true, ctx);
            for _ in 0..helpers {
                self.pool.spawn(shared_call::helper_job(Arc::clone(&share)));
            }
            share
        })
    }
}

/// The first item blocks: opens `standby`'s shared call, or, if it was
/// opened before the first item ran, asks for one more helper (once) to
/// take this thread's place.
///
/// # Safety
/// `standby` must point to a live `Standby<J, R, M>` whose types match, on
/// this thread (it is only reached through the `OnBlock` hook).
unsafe fn on_block<J, R, M, L>(standby: *const ())
where
    J: Iterator + Send,
    J::Item: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<J::Item, Out = R>,
{
    // SAFETY: per the contract.
    let standby = unsafe { &*standby.cast::<Standby<'_, J, R, M>>() };
    match standby.share.get() {
        Some(share) if !standby.stand_in_asked.replace(true) => {
            standby
                .pool
                .spawn(shared_call::helper_job(Arc::clone(share)));
        }
        Some(_) => {}
        // The first item's thread waits, so every pool thread may help.
        None => {
            standby.open::<L>(standby.pool.num_threads());
        }
    }
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
/// not trusted for safety) the remainder of the call. With `share_at_once`
/// (a caller outside the pool whose first item is expected to be long) the
/// rest is shared before `first` runs.
///
/// `out` must be empty. If the rest is shared, room for `n + 1` results is
/// reserved in it; on `Shared(_, Complete(count))` its slots `1..=count`
/// are then initialised and owned by the caller (who sets the length).
/// With `in_place` (a call that maps an owned `Vec` in place), the rest's
/// results go to the slots after `in_place` instead, and `out` is not
/// touched.
///
/// # Safety
/// If `in_place` is given, it must point to `n + 1` slots for `R`s that
/// stay allocated until this returns, slot 0 free and slot `i` holding the
/// `i`-th item `rest` yields until it yields it (a claim moves its batch
/// out before writing any of its slots, `shared_call.rs`).
///
/// # Panics
/// Resumes a panic of `first`, or the first panic of the shared rest, after
/// every helper has left and every claimed item has been dropped.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn run<J, R, M, L>(
    pool: &ThreadPool,
    rest: &mut J,
    n: usize,
    out: &mut Vec<R>,
    in_place: Option<*mut R>,
    make_leaf: &M,
    share_at_once: bool,
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
        rest: Cell::new(Some(rest)),
        out: std::ptr::from_mut(out),
        in_place,
        make_leaf,
        ctx: OnceCell::new(),
        pool,
        n,
        max_batch: claim_buffer_items::<J::Item>(),
        share: OnceCell::new(),
        stand_in_asked: Cell::new(false),
    };
    if share_at_once {
        // This thread is no worker and works on the call too.
        standby.open::<L>(pool.num_threads().saturating_sub(1).max(1));
    }
    let value = {
        // SAFETY: `standby` outlives the guard; `on_block` gets its types.
        let _armed = unsafe {
            OnBlock::enter(
                std::ptr::from_ref(&standby).cast::<()>(),
                on_block::<J, R, M, L>,
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
            unsafe { shared_call::participate_as_owner::<&mut J, R, M, L>(pool, &share) };
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
    let outputs = standby
        .ctx
        .get()
        .expect("an open call has its context")
        .outputs
        .cast::<R>();
    // SAFETY: `outputs` are the `n` slots reserved in `out` when the call
    // opened, or the in-place slots (the caller's promise), which stay
    // allocated until this returns; this call's part is over.
    let outcome = filch_scheduler::blocking(|| unsafe { shared_call::conclude(&share, outputs) });
    First::Shared(value, outcome)
}
