//! A `join` frame's latch, which is also its link in its worker's chain of
//! open frames: the bookkeeping both joins (`join.rs`, `join_context.rs`)
//! share for deciding which frame to offer to thieves.
//!
//! # The chain
//!
//! A fork puts `b`'s job on its own stack frame, headed by a [`ForkLatch`].
//! While the frame is private (never published), the latch's state word
//! holds the address of the next older open frame of the same chain (0 for
//! none; see `latch.rs`, `PRIVATE`), so a fork stores one word for its latch
//! and its link together. The implicit `join` keeps the newest frame of its
//! chain in the worker (`WorkerThread::newest_frame`); a `JoinContext`
//! carries it as an argument. Either way, the chain from the newest frame is
//! made of frames open on this thread's stack, newest first.
//!
//! # Publication
//!
//! When nothing of its worker's is on offer (the deque is empty), a fork
//! publishes the **oldest** private frame of its chain: its latch goes from
//! `PRIVATE` to `UNSET` and its job is pushed onto the deque. Oldest first
//! keeps the published frames the oldest end of every chain, so a walk from
//! the newest frame stops at the first published one, and the biggest piece
//! of work is the one on offer. A frame whose state is still `PRIVATE` after
//! `a` was never seen by another thread; any other state means the owner
//! must take it back from the deque or wait for the thief.
//!
//! A chain may be shorter than the stack (a `b` taken back from the deque
//! starts an empty one, since every older frame of its chain was published
//! already); that only forgoes offers. What matters for safety is that every
//! frame on a chain is open when the walk reads it.
//!
//! # Frameless forks
//!
//! Each frame records its depth on the chain. Once a chain holds
//! [`FRAMED_DEPTH`] frames and something of the worker's is on offer, a
//! fork puts no frame on it: `a` and `b` simply run in turn, and the forks
//! below see the same newest frame, so they run frameless too. Nothing is
//! lost to a thief that such a frame could have given it: while something
//! is on offer a thief takes that, and as soon as nothing is, the next fork
//! frames itself and publishes the oldest private frame as before. What a
//! frameless fork gives up is an offer later on: a fork that finds the
//! deque empty cannot publish a frame that was never made, so once the
//! chain's frames are taken it offers its own, smaller piece. Four frames
//! on a balanced recursion offer its half, quarter, eighth and sixteenth,
//! and every thief that takes one starts a chain of its own. Only the
//! implicit `join` forks frameless: a `JoinContext` fork frames itself
//! always (`docs/design.md`, section 4, says why).

use std::ptr;

use crate::job::JobRef;
use crate::latch::{CoreLatch, Latch};
use crate::waking_latch::FrameLatch;

/// Frames a chain holds before its forks run frameless while the worker
/// has something on offer (module docs). callgrind, `fib(25)` on a
/// one-thread pool: 41.6 instructions per fork with every fork framed, 35.1
/// with 4, 46.3 with 16 (the depth each frame carries costs the framed
/// forks a load and a store, and few forks run 16 frames deep;
/// `docs/design.md`, section 4).
pub(crate) const FRAMED_DEPTH: u32 = 4;

/// The depth of the chain whose newest frame is `newest` (0 for none).
///
/// # Safety
/// `newest` must be null or a frame open on this thread's stack (every
/// frame a chain holds is: module docs).
#[inline(always)]
pub(crate) unsafe fn chain_depth(newest: *const ForkLatch) -> u32 {
    // SAFETY: the caller's promise.
    unsafe { newest.as_ref() }.map_or(0, |frame| frame.depth)
}

/// The latch of a `join` frame's job, and the frame's link in its chain.
/// It comes first in its `StackJob` (which is `repr(C)`), so its address is
/// the job's, and it keeps the job's run function, so the promoting walk
/// can rebuild the `JobRef` from the latch alone.
#[derive(Debug)]
pub(crate) struct ForkLatch {
    frame: FrameLatch,
    /// `JobRef::trampoline` of the job this latch heads.
    execute_fn: unsafe fn(*const ()),
    /// Frames on the chain from this one down (1 for a frame with no older
    /// frame); written once, before the frame can be published.
    depth: u32,
}

impl ForkLatch {
    /// The latch of a private frame whose next older frame is `link` (null
    /// for none), on a chain `link_depth` frames deep before it ([`chain_depth`]),
    /// heading a job that `execute_fn` runs.
    #[inline]
    pub(crate) fn new(
        link: *const ForkLatch,
        link_depth: u32,
        execute_fn: unsafe fn(*const ()),
    ) -> Self {
        ForkLatch {
            // The integer keeps the frame's provenance exposed;
            // `ptr::with_exposed_provenance` needs Rust 1.84.
            frame: FrameLatch::new_private(link as usize),
            execute_fn,
            depth: link_depth + 1,
        }
    }

    /// The state machine, for waiting on a published frame.
    #[inline]
    pub(crate) fn core(&self) -> &CoreLatch {
        self.frame.core()
    }

    /// Owner only: the next older frame of a frame never published (null
    /// for none), or `None` once it was published.
    #[inline]
    pub(crate) fn private_link(&self) -> Option<*const ForkLatch> {
        self.core()
            .private_link()
            .map(|link| link as *const ForkLatch)
    }

    /// Owner only: marks the frame published and returns its job, for the
    /// deque.
    ///
    /// # Safety
    /// The frame must be private, and its job must stay in place until its
    /// owner takes it back from the deque or sees this latch set.
    #[inline]
    pub(crate) unsafe fn publish(&self) -> JobRef {
        self.core().publish();
        // SAFETY: the latch heads its `StackJob` (`repr(C)`, latch first),
        // `execute_fn` is that job's trampoline, and the job stays in place
        // (the caller's promise).
        unsafe { JobRef::from_parts(ptr::from_ref(self).cast(), self.execute_fn) }
    }
}

impl Latch for ForkLatch {
    unsafe fn set(this: *const Self) {
        // SAFETY: live on entry, per the contract; `FrameLatch::set` does
        // not touch it after the setting store.
        unsafe { FrameLatch::set(&raw const (*this).frame) }
    }
}

/// The oldest private frame of the chain that ends at `newest`, if any.
///
/// # Safety
/// Every frame on the chain must be open (module docs).
#[inline]
pub(crate) unsafe fn oldest_private<'a>(newest: *const ForkLatch) -> Option<&'a ForkLatch> {
    let mut oldest = None;
    let mut next = newest;
    // SAFETY: every frame on the chain is open (the caller's promise).
    while let Some(frame) = unsafe { next.as_ref() } {
        let Some(older) = frame.private_link() else {
            break;
        };
        oldest = Some(frame);
        next = older;
    }
    oldest
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Never run: the frames below are published, not executed.
    unsafe fn never_run(_: *const ()) {
        unreachable!("a test frame was executed");
    }

    /// [`oldest_private`] over a chain of this test's own latches.
    fn oldest(newest: *const ForkLatch) -> Option<&'static ForkLatch> {
        // SAFETY: every chain the tests build is of latches that live on
        // the test's stack until it ends, each linking to an older one or
        // to null; the `'static` result is only compared before then.
        unsafe { oldest_private(newest) }
    }

    #[test]
    fn publication_takes_the_oldest_private_frame_first() {
        assert!(oldest(ptr::null()).is_none());
        let oldest_frame = ForkLatch::new(ptr::null(), 0, never_run);
        let middle = ForkLatch::new(&oldest_frame, 1, never_run);
        let newest = ForkLatch::new(&middle, 2, never_run);
        // SAFETY: null, or latches of this test, alive until it ends.
        let depths = unsafe {
            [
                chain_depth(ptr::null()),
                chain_depth(&middle),
                chain_depth(&newest),
            ]
        };
        assert_eq!(
            depths,
            [0, 2, 3],
            "a frame's depth counts the frames below it"
        );
        for (published, frame) in [&oldest_frame, &middle, &newest].into_iter().enumerate() {
            let found = oldest(&newest).expect("a private frame is left");
            assert!(
                ptr::eq(found, frame),
                "after {published} publications, the oldest private frame is next"
            );
            // SAFETY: private (just found so), and never executed.
            let job = unsafe { found.publish() };
            assert!(
                found.private_link().is_none(),
                "published frames are not private"
            );
            // SAFETY: only compared, never executed.
            let expected_job =
                unsafe { JobRef::from_parts(ptr::from_ref(found).cast(), never_run) };
            assert!(job.same_job(expected_job), "the job is the frame's own");
        }
        assert!(oldest(&newest).is_none(), "every frame is published");
    }

    #[test]
    fn a_private_frame_keeps_its_link() {
        let older = ForkLatch::new(ptr::null(), 0, never_run);
        let newer = ForkLatch::new(&older, 1, never_run);
        assert_eq!(newer.private_link(), Some(ptr::from_ref(&older)));
        assert_eq!(older.private_link(), Some(ptr::null()));
    }
}
