//! The latches a worker waits on while it keeps running other jobs, built
//! on [`CoreLatch`]: setting one wakes its owner if it sleeps, through the
//! owner's pool's [`Sleep`] (never the registry, so that latches sit below
//! it). The two rules of `latch.rs` hold for each.

use crate::latch::{CoreLatch, Latch};
use crate::sleep::Sleep;
use crate::sync::{Arc, AtomicUsize, Ordering};

/// The latch of a `join` frame's second half: only the state. A promoted
/// frame sits in its owner's deque, which only threads of the owner's pool
/// steal from, so whoever sets the latch is a worker of that pool and finds
/// it in its own thread-local state, and the owner's index travels in the
/// state word when the owner sleeps. So a fork stores one word for its
/// latch, not three, and a thief setting it clones no `Arc`.
#[derive(Debug)]
pub(crate) struct FrameLatch {
    core: CoreLatch,
}

impl FrameLatch {
    /// An unset latch of a frame not yet published, carrying `link`
    /// (`fork_latch.rs`).
    #[inline]
    pub(crate) fn new_private(link: usize) -> Self {
        FrameLatch {
            core: CoreLatch::new_private(link),
        }
    }

    /// The state machine, for `wait_until`.
    #[inline]
    pub(crate) fn core(&self) -> &CoreLatch {
        &self.core
    }
}

impl Latch for FrameLatch {
    unsafe fn set(this: *const Self) {
        // SAFETY: live on entry; `CoreLatch::set` does not touch it after.
        if let Some(owner) = unsafe { CoreLatch::set(&raw const (*this).core) } {
            // The pool outlives this call: this thread is one of its workers.
            Sleep::of_this_worker()
                .expect("a join frame runs on a worker of its owner's pool")
                .wake_specific(owner);
        }
    }
}

/// A latch a worker waits on: the core state plus its pool's sleep and
/// index to wake.
#[derive(Debug)]
pub(crate) struct WorkerLatch<'r> {
    core: CoreLatch,
    sleep: &'r Arc<Sleep>,
    worker: usize,
}

impl<'r> WorkerLatch<'r> {
    /// A latch owned by worker `worker` of the pool whose sleep is `sleep`.
    #[inline]
    pub(crate) fn new(sleep: &'r Arc<Sleep>, worker: usize) -> Self {
        WorkerLatch {
            core: CoreLatch::new(),
            sleep,
            worker,
        }
    }

    /// The state machine, for `wait_until`.
    #[inline]
    pub(crate) fn core(&self) -> &CoreLatch {
        &self.core
    }
}

impl Latch for WorkerLatch<'_> {
    unsafe fn set(this: *const Self) {
        // Keep the pool alive past the swap: once the latch is set the owner
        // may return, and in a cross-pool wait even the pool could go away.
        // SAFETY: live on entry per the contract; these reads precede the swap.
        let (sleep, worker) = unsafe { (Arc::clone((*this).sleep), (*this).worker) };
        // SAFETY: live on entry; `CoreLatch::set` does not touch it after.
        if unsafe { CoreLatch::set(&raw const (*this).core) }.is_some() {
            sleep.wake_specific(worker);
        }
    }
}

/// Counts outstanding jobs of a scope; when the count reaches zero it sets
/// the owner's latch and wakes the owner if it sleeps. Owns an `Arc` of its
/// pool's sleep (a scope outlives any one borrow of the worker).
#[derive(Debug)]
pub(crate) struct CountLatch {
    counter: AtomicUsize,
    core: CoreLatch,
    sleep: Arc<Sleep>,
    worker: usize,
}

impl CountLatch {
    /// Starts at one: the scope body itself counts until it returns.
    pub(crate) fn new(sleep: Arc<Sleep>, worker: usize) -> Self {
        CountLatch {
            counter: AtomicUsize::new(1),
            core: CoreLatch::new(),
            sleep,
            worker,
        }
    }

    /// One more job to wait for.
    #[inline]
    pub(crate) fn increment(&self) {
        let previous = self.counter.fetch_add(1, Ordering::Relaxed);
        debug_assert!(previous > 0, "increment after the count reached zero");
    }

    /// The state the owner waits on.
    pub(crate) fn core(&self) -> &CoreLatch {
        &self.core
    }
}

impl Latch for CountLatch {
    unsafe fn set(this: *const Self) {
        // SAFETY: live on entry. AcqRel: every job's writes happen-before the
        // owner's wake-up; only the decrement reaching zero goes on.
        let remaining = unsafe { (*this).counter.fetch_sub(1, Ordering::AcqRel) } - 1;
        if remaining == 0 {
            // SAFETY: live: the owner cannot return before the set below, so
            // these reads are safe; the registry clone outlives the latch.
            let (sleep, worker) = unsafe { (Arc::clone(&(*this).sleep), (*this).worker) };
            // SAFETY: live on entry; not touched after the swap.
            if unsafe { CoreLatch::set(&raw const (*this).core) }.is_some() {
                sleep.wake_specific(worker);
            }
        }
    }
}
