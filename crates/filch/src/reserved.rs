//! Writing into a `Vec`'s reserved slots with the length kept in a local
//! ([`Tail`]): how `imap` and the streamed engine read their input
//! ([`fill`]) and the probe's serial batches write their results.
//!
//! `vec.extend(iter.by_ref().take(k))` runs an out-of-line `try_fold` that
//! keeps `Take`'s count behind a reference, and a push per item keeps a
//! borrowed `Vec`'s length in memory: either is a reload per item, ~2.5 ns
//! on the 2-vCPU Xeon VM, ten times a cheap item.

/// Moves up to `k` items of `input` into `items`' spare capacity (no more
/// than it has), after its current items; returns how many. If `input`
/// panics, the items moved before the panic stay in `items`.
pub(crate) fn fill<I: Iterator>(input: &mut I, items: &mut Vec<I::Item>, k: usize) -> usize {
    let mut tail = Tail::new(items, k);
    while !tail.is_full() {
        let Some(item) = input.next() else { break };
        // SAFETY: not full, checked just above.
        unsafe { tail.push(item) };
    }
    tail.written()
}

/// The next slots past a `Vec`'s length, within its capacity, written in
/// order with the count in this local; its `Drop` sets the `Vec`'s length,
/// when the writer is done or while a panic unwinds, so every value written
/// is kept (and later dropped) exactly once.
pub(crate) struct Tail<'a, T> {
    items: &'a mut Vec<T>,
    base: *mut T,
    start: usize,
    len: usize,
    end: usize,
}

impl<'a, T> Tail<'a, T> {
    /// The next `count` slots of `items`, or as many as its spare capacity
    /// holds.
    #[inline]
    pub(crate) fn new(items: &'a mut Vec<T>, count: usize) -> Self {
        let start = items.len();
        let end = start + count.min(items.capacity() - start);
        Tail {
            base: items.as_mut_ptr(),
            items,
            start,
            len: start,
            end,
        }
    }

    /// Every slot is written.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.len == self.end
    }

    /// Values written so far.
    #[inline]
    pub(crate) fn written(&self) -> usize {
        self.len - self.start
    }

    /// Writes the next slot.
    ///
    /// # Safety
    /// The tail must not be full (`!is_full()`). A checked push kept the
    /// tail's fields in memory across the items, and with items that clobber
    /// memory (the sweep's `black_box` spin) a serial batch took 1.5x the loop.
    #[inline]
    pub(crate) unsafe fn push(&mut self, value: T) {
        debug_assert!(self.len < self.end, "a full tail was written to");
        // SAFETY: `len < end <= capacity` (the caller's promise), past the
        // `Vec`'s length: a reserved, unused slot.
        unsafe { self.base.add(self.len).write(value) };
        self.len += 1;
    }
}

impl<T> Drop for Tail<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: slots below `start` are the `Vec`'s own; `start..len` were
        // written in order by `push`, within its capacity.
        unsafe { self.items.set_len(self.len) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::panic::{self, AssertUnwindSafe};
    use std::rc::Rc;

    #[test]
    fn fill_stops_at_k_at_the_end_and_at_the_capacity() {
        let mut items = Vec::with_capacity(4);
        let mut input = 0..10;
        assert_eq!(fill(&mut input, &mut items, 3), 3);
        assert_eq!(fill(&mut input, &mut items, 5), 1); // one slot left
        assert_eq!(items, [0, 1, 2, 3]);
        let mut short = Vec::with_capacity(8);
        assert_eq!(fill(&mut (0..2), &mut short, 8), 2);
        assert_eq!(short, [0, 1]);
    }

    #[test]
    fn items_moved_before_an_input_panic_are_kept_and_dropped_once() {
        let token = Rc::new(());
        let mut input = (0..10).map(|i| {
            assert!(i != 4, "input panics at 4");
            Rc::clone(&token)
        });
        let mut items = Vec::with_capacity(10);
        let caught = panic::catch_unwind(AssertUnwindSafe(|| fill(&mut input, &mut items, 10)));
        assert!(caught.is_err());
        assert_eq!(items.len(), 4);
        assert_eq!(Rc::strong_count(&token), 5);
        drop(items);
        assert_eq!(Rc::strong_count(&token), 1);
    }
}
