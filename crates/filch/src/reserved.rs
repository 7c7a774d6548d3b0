//! Moving an iterator's items into a `Vec`'s reserved slots with the
//! length kept in a local: how `imap` and the streamed engine read their
//! input.
//!
//! `vec.extend(iter.by_ref().take(k))` runs an out-of-line `try_fold` that
//! keeps `Take`'s count behind a reference, and a push per item keeps a
//! borrowed `Vec`'s length in memory: either is a reload per item, ~2.5 ns
//! on the 2-vCPU Xeon VM, ten times a cheap item.

/// Moves up to `k` items of `input` into `items`' spare capacity (no more
/// than it has), after its current items; returns how many. If `input`
/// panics, the items moved before the panic stay in `items`.
pub(crate) fn fill<I: Iterator>(input: &mut I, items: &mut Vec<I::Item>, k: usize) -> usize {
    let start = items.len();
    let room = k.min(items.capacity() - start);
    let mut tail = Tail {
        base: items.as_mut_ptr(),
        items,
        len: start,
    };
    while tail.len < start + room {
        let Some(item) = input.next() else { break };
        // SAFETY: `len < start + room <= capacity`, past the `Vec`'s
        // length: a reserved, unused slot.
        unsafe { tail.base.add(tail.len).write(item) };
        tail.len += 1;
    }
    tail.len - start
}

/// The slots [`fill`] writes; its `Drop` sets the `Vec`'s length, when
/// the fill ends or while the input's panic unwinds, so every item moved
/// in is kept (and later dropped) exactly once.
struct Tail<'a, T> {
    items: &'a mut Vec<T>,
    base: *mut T,
    len: usize,
}

impl<T> Drop for Tail<'_, T> {
    fn drop(&mut self) {
        // SAFETY: slots up to `len` are the `Vec`'s own items and the ones
        // `fill` wrote after them, in order, within its capacity.
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
