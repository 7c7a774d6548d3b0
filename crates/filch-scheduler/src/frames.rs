//! The private stack of `join` frames of one worker: which second halves
//! exist, oldest first, and how many of them (a prefix) have been promoted
//! to the public deque. Only the owning worker touches it.
//!
//! It is a fixed array, not a `Vec`: a fork must not pay for a capacity
//! check and a possible reallocation. Frames deeper than [`TRACKED_FRAMES`]
//! are not recorded and so never promoted; they still run correctly, inline,
//! and a `join` tree 64 levels deep has long since given every worker work.

use std::cell::Cell;

use crate::job::JobRef;

/// How many nested `join` frames a worker can publish. 2^64 leaves is far
/// more than any input; deeper recursion (a linear chain of joins) simply
/// keeps its deepest frames private.
pub(crate) const TRACKED_FRAMES: usize = 64;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct FrameStack {
    slots: [Cell<Option<JobRef>>; TRACKED_FRAMES],
    /// Frames currently open, tracked or not.
    len: Cell<usize>,
    /// `slots[..promoted]` have been pushed to the deque. Always
    /// `<= min(len, TRACKED_FRAMES)`.
    promoted: Cell<usize>,
}

impl FrameStack {
    pub(crate) fn new() -> Self {
        FrameStack {
            slots: [const { Cell::new(None) }; TRACKED_FRAMES],
            len: Cell::new(0),
            promoted: Cell::new(0),
        }
    }

    /// Opens a frame for `job`; returns its depth.
    #[inline]
    pub(crate) fn push(&self, job: JobRef) -> usize {
        let depth = self.len.get();
        if let Some(slot) = self.slots.get(depth) {
            slot.set(Some(job));
        }
        self.len.set(depth + 1);
        depth
    }

    /// Closes the newest frame, at `depth`; `true` if it had been promoted.
    #[inline]
    pub(crate) fn pop(&self, depth: usize) -> bool {
        debug_assert_eq!(self.len.get(), depth + 1, "join frames closed out of order");
        self.len.set(depth);
        if depth < self.promoted.get() {
            // The prefix rule: it was the last promoted frame.
            self.promoted.set(depth);
            true
        } else {
            false
        }
    }

    /// Closes the newest frame, whatever its depth; as [`pop`](Self::pop).
    pub(crate) fn pop_newest(&self) -> bool {
        let depth = self.len.get();
        assert!(depth > 0, "no join frame open");
        self.pop(depth - 1)
    }

    /// The oldest frame not yet promoted, marked promoted.
    #[inline]
    pub(crate) fn promote_oldest(&self) -> Option<JobRef> {
        let next = self.promoted.get();
        if next >= self.len.get() {
            return None;
        }
        let job = self.slots.get(next)?.get();
        self.promoted.set(next + 1);
        job
    }

    /// Whether no frame is open (a worker between jobs).
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len.get() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Job;

    struct Nop;
    impl Job for Nop {
        unsafe fn execute(_: *const Self) {}
    }

    fn job(n: &Nop) -> JobRef {
        // SAFETY: never executed.
        unsafe { JobRef::new(n) }
    }

    #[test]
    fn promotion_takes_the_oldest_private_frame_first() {
        let (a, b) = (Nop, Nop);
        let frames = FrameStack::new();
        let d0 = frames.push(job(&a));
        let d1 = frames.push(job(&b));
        assert!(frames.promote_oldest().is_some_and(|j| j.same_job(job(&a))));
        assert!(!frames.pop(d1), "the younger frame stayed private");
        assert!(frames.pop(d0), "the older frame was promoted");
        assert!(frames.is_empty());
        assert!(frames.promote_oldest().is_none());
    }

    #[test]
    fn frames_past_the_tracked_depth_stay_private() {
        let n = Nop;
        let frames = FrameStack::new();
        let depths: Vec<usize> = (0..TRACKED_FRAMES + 3)
            .map(|_| frames.push(job(&n)))
            .collect();
        let promoted = std::iter::from_fn(|| frames.promote_oldest()).count();
        assert_eq!(promoted, TRACKED_FRAMES);
        for &d in depths.iter().rev() {
            assert_eq!(frames.pop(d), d < TRACKED_FRAMES);
        }
    }
}
