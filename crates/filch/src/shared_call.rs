//! The parallel phase of a call made from a thread outside the pool: the
//! caller keeps working and `threads - 1` helper jobs join it, all claiming
//! batches of the remaining items from the input iterator itself, behind a
//! lock. Nothing is collected up front: a `map` over `0..10_000_000` does not
//! first write an 80 MB input buffer (which alone cost more than the loop it
//! was meant to speed up).
//!
//! Why not hand the whole rest to the pool and block: a parked worker takes
//! 10-50 µs to wake, and a caller that waits for it is idle all that time.
//! Here the caller never stops working; helpers add speed when they arrive,
//! and helpers that arrive after the work is gone do nothing. So going
//! parallel costs the caller one injection and wake-up call, never a wait
//! for a sleeping thread; and with `threads - 1` helpers plus the caller,
//! a pool sized to the machine is not oversubscribed.
//!
//! # Batches
//! A claim locks the iterator, pulls the batch into the participant's own
//! buffer and notes where its outputs go (the count handed out so far), so
//! batches are contiguous and in input order. The iterator's exact
//! `size_hint` sizes the output, but is not trusted for safety: an iterator
//! that ends early just ends the call early, and one that yields more is
//! left with its rest for the caller to finish.
//!
//! Guided self-scheduling: a claim takes `remaining / (2 × participants)`
//! items, at least `min_batch` (about `probe::BATCH_NS` of work) and at most
//! `max_batch` (about `probe::MAX_BATCH_NS`: a participant the OS
//! deschedules holds no more than that hostage), or exactly the explicit
//! chunk size. Claims are a CAS on one cursor, so there
//! are O(participants × log n) of them per call.
//!
//! # The helper protocol (`active`)
//! `active` counts helpers inside the call, plus a `CLOSED` bit.
//! 1. A helper job **enters** by CAS-incrementing the count, unless
//!    `CLOSED` is set: then it returns without touching the call's data.
//! 2. It claims and runs batches until the cursor is exhausted or `stop`.
//! 3. It **leaves** with `fetch_sub`; if it saw `CLOSED | 1` it was the last
//!    one out after the caller closed, and it signals `done`.
//! 4. The caller, out of work, sets `CLOSED` with `fetch_or`. If the count
//!    was 0 nobody is inside and nobody can enter; otherwise it waits for
//!    `done`. Either way, once this returns, no helper touches the
//!    caller's buffers again (a helper job that runs later sees `CLOSED`).
//!
//! The job closures own only an `Arc<Share>`: raw pointers and atomics, no
//! borrowed data, so they may outlive the call.
//!
//! # Drops after a panic or a `try_map` error
//! Every claimed batch either completes, or is *broken* (its function
//! panicked or stopped the call); a broken batch drops its own written
//! outputs and unconsumed inputs and records its range. The caller then
//! drops the outputs of every claimed, unbroken batch; inputs nobody claimed
//! are still in the iterator, which the caller gets back and drops. Each
//! item is dropped exactly once.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use filch_scheduler::ThreadPool;

use crate::sync::{AtomicBool, AtomicUsize, Condvar, Mutex};

use crate::blocking::OnBlock;
use crate::caller::{caller_pool, CallerScope};
use crate::leaves::Leaf;

const CLOSED: usize = 1 << (usize::BITS - 1);

type Payload = Box<dyn Any + Send>;

/// The most input a participant of a shared call copies out of the
/// iterator per claim, in bytes: half a typical L2 cache, so the copy is
/// read back from cache (seed 000's 10^6 one-nanosecond items ran at 0.6x
/// serial with claims of up to 256k items).
const CLAIM_BUFFER_BYTES: usize = 128 * 1024;

/// How many items fit the claim buffer (`CLAIM_BUFFER_BYTES`).
pub(crate) fn claim_buffer_items<T>() -> usize {
    (CLAIM_BUFFER_BYTES / std::mem::size_of::<T>().max(1)).max(1)
}

/// The borrowed side of a call, erased so that helper jobs are `'static`.
pub(crate) struct Ctx<'a, I, M> {
    pub(crate) source: Mutex<I>,
    pub(crate) outputs: *mut (),
    pub(crate) make_leaf: &'a M,
}

/// The shared state of one call.
pub(crate) struct Share {
    /// Output slots reserved (the input's size hint).
    n: usize,
    /// Claims are decided from this (set to `n` to stop handing out).
    cursor: AtomicUsize,
    /// Outputs handed out, in order: `0..claimed` belong to claimed batches.
    claimed: AtomicUsize,
    participants: usize,
    min_batch: usize,
    max_batch: usize,
    fixed_batch: bool,
    /// Claims start at one item and double while the claimer's items do
    /// not block (a call shared because its first item blocked, whose
    /// items' cost is unknown): blocking items are handed out one by one,
    /// cheap ones soon in big claims.
    adaptive: bool,
    stop: AtomicBool,
    active: AtomicUsize,
    done: Mutex<bool>,
    done_cond: Condvar,
    panic: Mutex<Option<Payload>>,
    broken: Mutex<Vec<(usize, usize)>>,
    /// Points to the caller's `Ctx`; valid while the call is not closed.
    ctx: *const (),
    /// Runs batches with the erased types restored.
    help: unsafe fn(&Arc<Share>),
}

// SAFETY: `ctx` is only dereferenced by a thread that entered the call
// (step 1) before it was closed, and the caller keeps the pointee alive until
// it has closed the call and every entered helper has left (step 4). All
// other fields are thread-safe.
unsafe impl Send for Share {}
// SAFETY: as for `Send`: shared access never dereferences `ctx` outside the
// entered window.
unsafe impl Sync for Share {}

impl Share {
    fn enter(&self) -> bool {
        let mut current = self.active.load(Ordering::Acquire);
        loop {
            if current & CLOSED != 0 {
                return false;
            }
            match self.active.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }

    fn leave(&self) {
        if self.active.fetch_sub(1, Ordering::AcqRel) == CLOSED | 1 {
            *self.done.lock() = true;
            self.done_cond.notify_one();
        }
    }

    fn close_and_wait(&self) {
        if self.active.fetch_or(CLOSED, Ordering::AcqRel) & !CLOSED == 0 {
            return;
        }
        let mut done = self.done.lock();
        while !*done {
            self.done_cond.wait(&mut done);
        }
    }

    /// How many items the next claim takes, with `start` handed out so far
    /// and `wish` the claimer's adaptive size (see `adaptive`).
    fn claim_size(&self, start: usize, wish: usize) -> usize {
        let left = self.n - start;
        if self.fixed_batch {
            self.min_batch
        } else {
            let guided = (left / (2 * self.participants)).clamp(self.min_batch, self.max_batch);
            if self.adaptive {
                guided.min(wish)
            } else {
                guided
            }
        }
        .min(left)
    }

    /// Claims the next batch into `buf`: its output range, or `None` when
    /// the input is exhausted or the call stopped.
    fn claim<I: Iterator>(
        &self,
        source: &Mutex<I>,
        buf: &mut Vec<I::Item>,
        wish: usize,
    ) -> Option<(usize, usize)> {
        let mut input = source.lock();
        let start = self.cursor.load(Ordering::Relaxed);
        if start >= self.n || self.stop.load(Ordering::Relaxed) {
            return None;
        }
        buf.extend(input.by_ref().take(self.claim_size(start, wish)));
        if buf.is_empty() {
            // Shorter than its size hint said: nothing more to hand out.
            self.cursor.store(self.n, Ordering::Relaxed);
            self.claimed.store(start, Ordering::Relaxed);
            return None;
        }
        let end = start + buf.len();
        self.cursor.store(end, Ordering::Relaxed);
        self.claimed.store(end, Ordering::Relaxed);
        Some((start, end))
    }

    pub(crate) fn keep_panic(&self, payload: Payload) {
        self.stop.store(true, Ordering::Relaxed);
        self.panic.lock().get_or_insert(payload);
    }
}

/// A helper job for `share`: enters the call unless it is closed, runs
/// batches, leaves.
pub(crate) fn helper_job(share: Arc<Share>) -> impl FnOnce() + Send + 'static {
    move || {
        if share.enter() {
            // SAFETY: entered before the call closed, so `ctx` is live (the
            // caller waits for this helper in `close_and_wait`).
            let result = panic::catch_unwind(AssertUnwindSafe(|| unsafe { (share.help)(&share) }));
            if let Err(payload) = result {
                share.keep_panic(payload);
            }
            share.leave();
        }
    }
}

/// [`blocking`](crate::blocking)'s hook while a thread runs a batch: queues
/// one more helper job for the call, so that whoever stands in for the
/// blocked thread (an idle worker, or the spare the scheduler starts) can
/// join the call instead of finding nothing to run. A helper that arrives
/// after the call is over does nothing.
///
/// # Safety
/// `share` must point to a live `Arc<Share>`.
unsafe fn offer_more_help(share: *const ()) {
    // SAFETY: per the contract.
    let share = unsafe { &*share.cast::<Arc<Share>>() };
    if share.cursor.load(Ordering::Relaxed) >= share.n || share.stop.load(Ordering::Relaxed) {
        return;
    }
    let job = helper_job(Arc::clone(share));
    match caller_pool() {
        // The calling thread: queue it on the call's pool.
        Some(pool) if filch_scheduler::current_thread_index().is_none() => pool.spawn(job),
        // A worker (or spare) of the call's pool.
        _ => filch_scheduler::spawn(job),
    }
}

/// Runs batches until none is left. Any thread, caller or helper.
///
/// # Safety
/// `share.ctx` must point to a live `Ctx<I, M>` with these types, and the
/// caller must have entered the call (or be its owner).
pub(crate) unsafe fn participate<I, R, M, L>(share: &Arc<Share>)
where
    I: Iterator,
    M: Fn() -> L + Sync,
    L: Leaf<I::Item, Out = R>,
{
    // SAFETY: `share` outlives the guard, which this frame owns.
    let _on_block = unsafe { OnBlock::enter(ptr::from_ref(share).cast::<()>(), offer_more_help) };
    // SAFETY: per the contract.
    let ctx = unsafe { &*share.ctx.cast::<Ctx<'_, I, M>>() };
    let outputs = ctx.outputs.cast::<R>();
    let mut buf = Vec::new();
    let mut leaf = None;
    let mut wish = 1;
    while let Some((start, end)) = share.claim(&ctx.source, &mut buf, wish) {
        let blocks_before = crate::blocking::blocks_on_this_thread();
        let mut batch = Batch {
            outputs,
            start,
            end,
            written: start,
            share,
        };
        // Made after `batch`, whose guard marks the claimed range broken if
        // `make_leaf` (`map_init`'s `init`) panics; `buf` drops the inputs.
        let leaf = leaf.get_or_insert_with(ctx.make_leaf);
        let mut items = buf.drain(..);
        for item in items.by_ref() {
            match leaf.call(item) {
                // SAFETY: `written < end`: an unwritten slot this batch owns.
                Some(value) => unsafe { outputs.add(batch.written).write(value) },
                None => {
                    share.stop.store(true, Ordering::Relaxed);
                    break; // `batch`'s guard below breaks the batch
                }
            }
            batch.written += 1;
        }
        drop(items); // drops the inputs a `None` left unconsumed
        if batch.written == end {
            std::mem::forget(batch);
        } // else: dropping `batch` cleans up and records it as broken
        wish = if crate::blocking::blocks_on_this_thread() == blocks_before {
            wish.saturating_mul(2)
        } else {
            1
        };
    }
}

/// A claimed batch in progress; dropped only if it did not complete. Its
/// unconsumed inputs live in the participant's buffer, which drops them.
struct Batch<'s, R> {
    outputs: *mut R,
    start: usize,
    end: usize,
    /// Outputs before this are initialised (from `start`).
    written: usize,
    share: &'s Share,
}

impl<R> Drop for Batch<'_, R> {
    fn drop(&mut self) {
        self.share.stop.store(true, Ordering::Relaxed);
        // SAFETY: this batch owns outputs `start..written` (initialised);
        // nobody else touches them.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                self.outputs.add(self.start),
                self.written - self.start,
            ));
        }
        self.share.broken.lock().push((self.start, self.end));
    }
}

/// How a shared call sizes its claims.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Batching {
    /// The smallest claim, in items (the whole claim when `fixed`).
    pub(crate) min: usize,
    /// The largest claim, in items.
    pub(crate) max: usize,
    /// Every claim is exactly `min` items (an explicit chunk size).
    pub(crate) fixed: bool,
}

/// How a shared call ended.
pub(crate) enum Outcome {
    /// The first `count` output slots are initialised, for the first
    /// `count` items of the input.
    Complete(usize),
    /// A function returned `None`; everything claimed was dropped.
    Stopped,
}

/// Maps up to `n` items of `input` into `outputs` with `pool`'s help, and
/// gives the iterator back (with whatever it still holds).
///
/// # Safety
/// `outputs[..n]` must be valid for writes and uninitialised, and stay
/// allocated until this returns; or slot `i` may be where the input's
/// `i`-th item lies until it is yielded (an owned `Vec` mapped in place):
/// a claim moves its whole batch out of the iterator before any of the
/// batch's slots is written. On `Complete(count)` the first `count` are
/// initialised and owned by the caller; on `Stopped` nothing is.
///
/// # Panics
/// Resumes the first panic of the user's function, after every participant
/// has stopped and every claimed item has been dropped.
pub(crate) unsafe fn run<I, R, M, L>(
    pool: &ThreadPool,
    input: I,
    n: usize,
    outputs: *mut R,
    make_leaf: &M,
    batching: Batching,
) -> (Outcome, I)
where
    I: Iterator + Send,
    I::Item: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<I::Item, Out = R>,
{
    let min_batch = batching.min.max(1);
    let helpers = (pool.num_threads() - 1).min(n.div_ceil(min_batch).saturating_sub(1));
    let ctx = Ctx {
        source: Mutex::new(input),
        outputs: outputs.cast::<()>(),
        make_leaf,
    };
    let share = Share::new(n, helpers + 1, batching, false, &ctx);
    for _ in 0..helpers {
        pool.spawn(helper_job(Arc::clone(&share)));
    }
    // SAFETY: `ctx` lives on this frame for the whole call.
    unsafe { participate_as_owner::<I, R, M, L>(pool, &share) };
    // SAFETY: `outputs` is as this function requires; the caller is done.
    let outcome = unsafe { conclude(&share, outputs) };
    (outcome, ctx.source.into_inner())
}

/// The owner's own part of a call: it participates with `pool` as the
/// current pool of its nested free-function calls, and keeps a panic of
/// its items for [`conclude`] rather than unwinding past its helpers.
///
/// # Safety
/// As [`participate`].
pub(crate) unsafe fn participate_as_owner<I, R, M, L>(pool: &ThreadPool, share: &Arc<Share>)
where
    I: Iterator,
    M: Fn() -> L + Sync,
    L: Leaf<I::Item, Out = R>,
{
    let caller_scope = CallerScope::enter(pool);
    // SAFETY: per the contract.
    let result = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
        participate::<I, R, M, L>(share)
    }));
    drop(caller_scope);
    if let Err(payload) = result {
        share.keep_panic(payload);
    }
}

impl Share {
    /// A call over `n` items for `participants` threads, whose borrowed
    /// side is `ctx`, which must outlive every entered helper (the owner
    /// calls [`conclude`] before `ctx` goes).
    pub(crate) fn new<I, R, M, L>(
        n: usize,
        participants: usize,
        batching: Batching,
        adaptive: bool,
        ctx: &Ctx<'_, I, M>,
    ) -> Arc<Share>
    where
        I: Iterator,
        M: Fn() -> L + Sync,
        L: Leaf<I::Item, Out = R>,
    {
        let min_batch = batching.min.max(1);
        Arc::new(Share {
            n,
            cursor: AtomicUsize::new(0),
            claimed: AtomicUsize::new(0),
            participants,
            min_batch,
            max_batch: batching.max.max(min_batch),
            fixed_batch: batching.fixed,
            adaptive,
            stop: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            done: Mutex::new(false),
            done_cond: Condvar::new(),
            panic: Mutex::new(None),
            broken: Mutex::new(Vec::new()),
            ctx: ptr::from_ref(ctx).cast::<()>(),
            help: participate::<I, R, M, L>,
        })
    }

    /// Stops handing out items (the owner's own part failed).
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The owner's end of a call: closes it, waits for every entered helper,
/// and says how it ended.
///
/// # Safety
/// `outputs` must be the call's output slots, as in [`run`]; the owner's
/// own participation must be over.
///
/// # Panics
/// Resumes the first kept panic, after every claimed item is dropped.
pub(crate) unsafe fn conclude<R>(share: &Arc<Share>, outputs: *mut R) -> Outcome {
    share.close_and_wait();
    if !share.stop.load(Ordering::Relaxed) {
        return Outcome::Complete(share.claimed.load(Ordering::Relaxed));
    }
    // SAFETY: every participant has left; the ranges below are owned here.
    unsafe { drop_leftovers(share, outputs) };
    let payload = share.panic.lock().take();
    match payload {
        Some(payload) => panic::resume_unwind(payload),
        None => Outcome::Stopped,
    }
}

/// After a stop: drops the outputs of claimed batches that completed.
///
/// # Safety
/// No participant may still be running; `outputs` is as in `run`.
unsafe fn drop_leftovers<R>(share: &Share, outputs: *mut R) {
    let claimed = share.claimed.load(Ordering::Relaxed);
    let mut broken = std::mem::take(&mut *share.broken.lock());
    broken.sort_unstable();
    let mut from = 0;
    for (start, end) in broken
        .into_iter()
        .chain(std::iter::once((claimed, claimed)))
    {
        // SAFETY: `from..start` are complete batches: initialised outputs
        // that nobody else owns.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                outputs.add(from),
                start - from,
            ))
        };
        from = end;
    }
}

/// loom models of the helper protocol (`active`, `CLOSED`) and the claims:
/// run with `RUSTFLAGS="--cfg loom" cargo test -p filch --release --lib
/// loom_models`.
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use crate::leaves::MapLeaf;
    use loom::thread;
    use std::sync::atomic::Ordering::SeqCst;

    /// `participate` with `M` and `L` inferred from `make_leaf`.
    ///
    /// # Safety
    /// As `participate`.
    unsafe fn participate_as<I, R, M, L>(share: &Arc<Share>, _make_leaf: &M)
    where
        I: Iterator,
        M: Fn() -> L + Sync,
        L: Leaf<I::Item, Out = R>,
    {
        // SAFETY: per the contract.
        unsafe { participate::<I, R, M, L>(share) }
    }

    /// The caller and one helper job share a 3-item call, one item per
    /// claim: every item is mapped exactly once into its own slot, the call
    /// completes, and no item is mapped once the caller has concluded (so no
    /// helper touches the caller's frame after `conclude` returns). Without
    /// the wait in `close_and_wait`, loom finds an interleaving where a
    /// helper maps its last claim after that.
    #[test]
    fn no_helper_maps_an_item_after_the_call_is_concluded() {
        loom::model(|| {
            let concluded = Arc::new(AtomicBool::new(false));
            let calls = Arc::new(AtomicUsize::new(0));
            let f = {
                let (concluded, calls) = (Arc::clone(&concluded), Arc::clone(&calls));
                move |x: u32| {
                    assert!(!concluded.load(SeqCst), "an item ran after conclude");
                    calls.fetch_add(1, SeqCst);
                    x + 1
                }
            };
            let make_leaf = || MapLeaf(&f);
            let mut outputs = vec![0u32; 3];
            let ctx = Ctx {
                source: Mutex::new(0..3u32),
                outputs: outputs.as_mut_ptr().cast::<()>(),
                make_leaf: &make_leaf,
            };
            let batching = Batching {
                min: 1,
                max: 1,
                fixed: false,
            };
            let share = Share::new::<_, u32, _, _>(3, 2, batching, false, &ctx);
            let helper = thread::spawn(helper_job(Arc::clone(&share)));
            // SAFETY: `ctx` and `outputs` outlive the call: the helper is
            // joined below, and `conclude` waits for it to leave.
            unsafe { participate_as::<std::ops::Range<u32>, u32, _, _>(&share, &make_leaf) };
            // SAFETY: as above; the caller's part is over.
            let outcome = unsafe { conclude(&share, outputs.as_mut_ptr()) };
            concluded.store(true, SeqCst);
            helper.join().unwrap();
            assert!(matches!(outcome, Outcome::Complete(3)));
            assert_eq!(outputs, [1, 2, 3]);
            assert_eq!(calls.load(SeqCst), 3);
        });
    }
}
