//! Latches: one-shot "it is done" signals between the thread that finishes a
//! job and the thread waiting for it.
//!
//! Every latch obeys two rules:
//! - **Ordering**: setting is a `Release` (or stronger) store and probing an
//!   `Acquire` load, so everything the setter wrote before `set` (a job's
//!   result) is visible to a waiter that sees the latch set.
//! - **Lifetime**: the waiter may free the latch the instant it sees it set,
//!   so `set` touches the latch's memory for the last time in the store that
//!   sets it; whatever it needs afterwards (the pool to wake a sleeper) it
//!   copies out or keeps alive beforehand.
//!
//! [`CoreLatch`] is the state machine a *worker* waits on while it keeps
//! running other jobs; the latches built on it, which wake their owner
//! when it sleeps, are in `waking_latch.rs`. [`LockLatch`] is for threads
//! outside the pool, which block on a condvar.

use crate::sync::{AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};

/// Something a finished job can set.
pub(crate) trait Latch {
    /// Marks the latch set and wakes its waiter.
    ///
    /// # Safety
    /// `this` must be live on entry; it may be freed by the waiter during the
    /// call, so implementations must not touch it after the setting store.
    unsafe fn set(this: *const Self);
}

// The state word: its low two bits say which state, the rest carries what
// that state needs.
/// `link | PRIVATE`: a context `join` frame (`join_context.rs`) nobody else has
/// seen yet, carrying the frame's link to the next older one (an address,
/// so its low two bits are free; 0 for none). The owner moves it to `UNSET`
/// before publishing the frame, so no other thread ever reads it; a
/// published frame's link is never needed again (the chain walk stops at
/// it). Tag 0, so the state word *is* the link: a fork stores one word for
/// both, and "still private?" is one `test`.
const PRIVATE: usize = 0;
const UNSET: usize = 1;
const SET: usize = 2;
/// `(i << 2) | SLEEPING`: the owner, worker `i`, sleeps on the latch.
/// Carrying the index in the state lets a `FrameLatch` store nothing else.
const SLEEPING: usize = 3;
const TAG: usize = 3;

/// The state a worker-owned latch moves through: (`PRIVATE` →)? `UNSET` →
/// (`SLEEPING` ↔ `UNSET`)* → `SET`. Only the owner, worker `i`, moves it to
/// and from `SLEEPING` (under the sleep mutex); only the setter moves it to
/// `SET`.
#[derive(Debug)]
pub(crate) struct CoreLatch {
    state: AtomicUsize,
}

impl CoreLatch {
    /// An unset latch.
    #[inline]
    pub(crate) fn new() -> Self {
        CoreLatch {
            state: AtomicUsize::new(UNSET),
        }
    }

    /// An unset latch that only its owner knows of yet, carrying `link` (an
    /// address aligned to at least 4, or 0) until
    /// [`publish`](Self::publish).
    #[inline]
    pub(crate) fn new_private(link: usize) -> Self {
        debug_assert_eq!(link & TAG, 0, "a link is an aligned address");
        CoreLatch {
            state: AtomicUsize::new(link | PRIVATE),
        }
    }

    /// Owner only: the link of a latch whose job was never published, or
    /// `None` once it was. (`Relaxed`: only the owner writes `PRIVATE` and
    /// moves out of it, so it reads its own last store or a setter's later
    /// one.)
    #[inline]
    pub(crate) fn private_link(&self) -> Option<usize> {
        let state = self.state.load(Ordering::Relaxed);
        (state & TAG == PRIVATE).then_some(state & !TAG)
    }

    /// Owner only: has this latch's job never been published?
    #[inline]
    pub(crate) fn is_private(&self) -> bool {
        self.private_link().is_some()
    }

    /// Owner only, before it publishes the job: `PRIVATE` → `UNSET`.
    /// (`Relaxed`: the publishing push is a release that a thief's steal
    /// acquires, so a thief never sees `PRIVATE`.)
    #[inline]
    pub(crate) fn publish(&self) {
        debug_assert!(self.is_private(), "a frame is published once");
        self.state.store(UNSET, Ordering::Relaxed);
    }

    /// Has it been set? (`Acquire`: the setter's writes are visible after.)
    #[inline]
    pub(crate) fn probe(&self) -> bool {
        self.state.load(Ordering::Acquire) == SET
    }

    /// Owner `worker`, under the sleep mutex: announce it is about to sleep.
    /// `false` if the latch was set meanwhile (then it must not sleep).
    pub(crate) fn try_mark_sleeping(&self, worker: usize) -> bool {
        self.state
            .compare_exchange(UNSET, sleeping(worker), Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Owner `worker`, after waking or declining to sleep: back to `UNSET`
    /// unless the latch was set meanwhile.
    pub(crate) fn unmark_sleeping(&self, worker: usize) {
        let _ = self.state.compare_exchange(
            sleeping(worker),
            UNSET,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// Setter: mark it set; `Some(i)` if the owner, worker `i`, was asleep
    /// and needs waking.
    ///
    /// # Safety
    /// `this` must be live on entry; it is not touched after the swap.
    #[inline]
    pub(crate) unsafe fn set(this: *const Self) -> Option<usize> {
        // SAFETY: live on entry per the contract; the swap is the last access.
        let previous = unsafe { (*this).state.swap(SET, Ordering::AcqRel) };
        debug_assert_ne!(
            previous & TAG,
            PRIVATE,
            "a latch is set only after publishing"
        );
        (previous & TAG == SLEEPING).then_some(previous >> 2)
    }
}

/// The state of a latch whose owner, worker `worker`, sleeps on it.
#[inline]
fn sleeping(worker: usize) -> usize {
    (worker << 2) | SLEEPING
}

/// A latch for a thread outside the pool: it watches a flag for a few
/// microseconds, then blocks on a condvar.
///
/// Why watch first: a short job sent from outside (`install`, `join`) comes
/// back within a few µs when a worker is awake, and a thread that blocked
/// pays a futex wake and a reschedule on top (~10 µs here, twice the job's
/// trip). The flag is set under the mutex, and the waiter takes the mutex
/// before it returns, so the setter's unlock stays its last access.
#[derive(Debug)]
pub(crate) struct LockLatch {
    done: Mutex<bool>,
    cond: Condvar,
    /// `*done`, readable without the mutex.
    set: AtomicBool,
}

/// How long a waiter watches the flag before it blocks: about what blocking
/// adds to a short job's trip, so a long job costs the waiter at most that
/// much CPU and a short one never blocks.
#[cfg(not(loom))]
const LOCK_LATCH_WATCH: std::time::Duration = std::time::Duration::from_micros(10);

/// Polls of the flag between two looks at the clock (~0.1-1 µs of `pause`).
#[cfg(not(loom))]
const LOCK_LATCH_POLLS: u32 = 32;

impl LockLatch {
    /// An unset latch.
    pub(crate) fn new() -> Self {
        LockLatch {
            done: Mutex::new(false),
            cond: Condvar::new(),
            set: AtomicBool::new(false),
        }
    }

    /// Blocks until set.
    pub(crate) fn wait(&self) {
        if self.watch() {
            // The setter may still hold the mutex: wait for its unlock.
            drop(self.done.lock());
            return;
        }
        let mut done = self.done.lock();
        while !*done {
            self.cond.wait(&mut done);
        }
    }
}

impl LockLatch {
    /// Watches the flag for [`LOCK_LATCH_WATCH`]; whether it was set.
    #[cfg(not(loom))]
    fn watch(&self) -> bool {
        let start = std::time::Instant::now();
        loop {
            for _ in 0..LOCK_LATCH_POLLS {
                if self.set.load(Ordering::Acquire) {
                    return true;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= LOCK_LATCH_WATCH {
                return false;
            }
        }
    }

    /// Under loom (no clock): one look, which covers the path.
    #[cfg(loom)]
    fn watch(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }
}

impl Latch for LockLatch {
    unsafe fn set(this: *const Self) {
        // SAFETY: live on entry. The waiter cannot return (and free the latch)
        // before it acquires the mutex, which happens only after the guard
        // below is released; the mutex's unlock is the last access.
        let this = unsafe { &*this };
        let mut done = this.done.lock();
        *done = true;
        this.set.store(true, Ordering::Release);
        this.cond.notify_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_private_latch_carries_its_link_until_published() {
        for link in [0usize, 8, 0x7fff_ffff_fff8] {
            let latch = CoreLatch::new_private(link);
            assert_eq!(latch.private_link(), Some(link));
            assert!(!latch.probe());
            latch.publish();
            assert_eq!(latch.private_link(), None);
            assert!(!latch.probe());
        }
    }

    #[test]
    fn setting_reports_the_sleeping_owner_whatever_its_index() {
        for worker in [0usize, 1, 2, 3, 4, 1000] {
            let latch = CoreLatch::new();
            assert!(!latch.is_private());
            assert!(latch.try_mark_sleeping(worker));
            // SAFETY: `latch` lives on this frame.
            assert_eq!(unsafe { CoreLatch::set(&latch) }, Some(worker));
            assert!(latch.probe());
            let awake = CoreLatch::new();
            assert!(awake.try_mark_sleeping(worker));
            awake.unmark_sleeping(worker);
            // SAFETY: as above.
            assert_eq!(unsafe { CoreLatch::set(&awake) }, None);
            assert!(
                !awake.try_mark_sleeping(worker),
                "a set latch is not slept on"
            );
        }
    }
}
