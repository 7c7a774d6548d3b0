//! The per-piece function of a call ([`Leaf`]), which every parallel
//! phase (`split_by_index.rs`, `shared_call.rs`, `stream.rs`, `first_item.rs`) runs and
//! the driver picks: `map`'s, `try_map`'s, `map_init`'s and `map_reduce`'s.

use std::mem;
use std::sync::Mutex;

use crate::reserved::Tail;

/// The per-piece function of a combinator. `call` returning `None` stops
/// the whole call (used by `try_map` on its first error).
pub(crate) trait Leaf<T> {
    /// The result per item.
    type Out;

    /// Maps one item.
    fn call(&mut self, item: T) -> Option<Self::Out>;

    /// Maps up to `n` items from `iter` into `out`; `false` if stopped.
    ///
    /// Results go straight into reserved slots, the length kept in a local
    /// until the batch ends (as `Vec::extend` does for an iterator of known
    /// length), with no `Take`: `extend(iter.take(n))` runs an out-of-line
    /// `try_fold` that keeps `Take`'s count in memory, and a push per item
    /// keeps the borrowed `Vec`'s length there, a reload per item either
    /// way. On the 2-vCPU Xeon VM that cost ~2.4 ns per item of an integer
    /// range, ten times a cheap item, so the probe read such items as work
    /// worth sharing. Items beyond what the input promises (its size
    /// hint's lower bound) are pushed.
    #[inline]
    fn serial_batch<I: Iterator<Item = T>>(
        &mut self,
        iter: &mut I,
        n: usize,
        out: &mut Vec<Self::Out>,
    ) -> bool {
        let promised = iter.size_hint().0.min(n);
        out.reserve(promised);
        let mut tail = Tail::new(out, promised);
        while !tail.is_full() {
            let Some(item) = iter.next() else {
                return true; // the input ended early
            };
            let Some(value) = self.call(item) else {
                return false;
            };
            // SAFETY: not full, checked by the loop.
            unsafe { tail.push(value) };
        }
        drop(tail);
        for _ in promised..n {
            let Some(item) = iter.next() else { break };
            match self.call(item) {
                Some(value) => out.push(value),
                None => return false,
            }
        }
        true
    }

    /// Maps every item of `run`, which yields exactly `len` items, into
    /// consecutive slots from `out` on, and adds the number written to
    /// `written`, even if the function panics; `false` if stopped (the
    /// run's unrun items drop with it).
    ///
    /// The count lives in a local whose guard adds it on the way out, not
    /// in `*written` per item: a store through a reference per item keeps
    /// the loop from vectorising, and a function that cannot panic then
    /// pays nothing for the guard.
    ///
    /// # Safety
    /// `out` must be valid for as many uninitialised slots as `run` yields.
    #[inline]
    unsafe fn write_run<I: Iterator<Item = T>>(
        &mut self,
        run: I,
        _len: usize,
        out: *mut Self::Out,
        written: &mut usize,
    ) -> bool {
        let mut count = Count::new(written);
        for item in run {
            match self.call(item) {
                // SAFETY: slot `count.n` is within the run's slots.
                Some(value) => unsafe { out.add(count.n).write(value) },
                None => return false,
            }
            count.n += 1;
        }
        true
    }

    /// Maps the `len` inputs at `slots` in place: each slot's input is read,
    /// then its result written into the same slot. Adds the number written
    /// to `written`, even if the function panics; `false` if stopped. Inputs
    /// not read by then (after a stop or a panic) are dropped here.
    ///
    /// One pointer both reads and writes, so the compiler sees each result
    /// land where its input was and can vectorise the loop; a separate
    /// output pointer (as [`write_run`](Self::write_run) takes) would need
    /// an overlap check, which an in-place call always fails.
    ///
    /// # Safety
    /// `slots[..len]` must hold initialised inputs owned by the caller, and
    /// `Self::Out` must have `T`'s size and alignment.
    #[inline]
    unsafe fn write_in_place(&mut self, slots: *mut T, len: usize, written: &mut usize) -> bool {
        let mut run = InPlaceRun {
            slots,
            len,
            read: 0,
            count: Count::new(written),
        };
        while run.read < len {
            // SAFETY: `read < len`: within the run's slots.
            let slot = unsafe { slots.add(run.read) };
            // SAFETY: the slot holds an input this run owns; counted as read
            // before the function runs, so the guard does not drop it again.
            let item = unsafe { slot.read() };
            run.read += 1;
            match self.call(item) {
                // SAFETY: the input was moved out of this slot, which fits
                // an output (the caller's promise).
                Some(value) => unsafe { slot.cast::<Self::Out>().write(value) },
                None => return false,
            }
            run.count.n += 1;
        }
        true
    }

    /// Maps everything `iter` still holds into `out`; `false` if stopped.
    /// Taking the iterator by value matters for cheap items: a batch taken
    /// through `&mut I` pays a bound check and a write-back of the
    /// iterator's state per item (~7 instructions per item for a slice,
    /// twice the cost of a 1 ns item), the by-value loop neither.
    fn serial_rest<I: Iterator<Item = T>>(
        &mut self,
        mut iter: I,
        out: &mut Vec<Self::Out>,
    ) -> bool {
        self.serial_batch(&mut iter, usize::MAX, out)
    }
}

/// Counts the slots a run wrote, and adds them to its target when dropped
/// (at the end of the run, or while unwinding out of the function).
pub(crate) struct Count<'a> {
    pub(crate) n: usize,
    target: &'a mut usize,
}

impl<'a> Count<'a> {
    #[inline]
    pub(crate) fn new(target: &'a mut usize) -> Self {
        Count { n: 0, target }
    }
}

impl Drop for Count<'_> {
    #[inline]
    fn drop(&mut self) {
        *self.target += self.n;
    }
}

/// The slots of one [`Leaf::write_in_place`]: drops the inputs not read
/// yet when the run ends early (a stop, or a panic of the function), and
/// counts the results written.
struct InPlaceRun<'a, T> {
    slots: *mut T,
    len: usize,
    read: usize,
    count: Count<'a>,
}

impl<T> Drop for InPlaceRun<'_, T> {
    fn drop(&mut self) {
        // SAFETY: `slots[read..len]` still hold inputs this run owns.
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                self.slots.add(self.read),
                self.len - self.read,
            ));
        }
    }
}

/// A leaf stopped the call (`try_map`'s error is kept by the leaf).
#[derive(Debug)]
pub(crate) struct Stopped;

/// `map`'s leaf: the user's function, with a vectorisable serial batch.
pub(crate) struct MapLeaf<'f, F>(pub(crate) &'f F);

impl<T, R, F: Fn(T) -> R> Leaf<T> for MapLeaf<'_, F> {
    type Out = R;

    #[inline]
    fn call(&mut self, item: T) -> Option<R> {
        Some((self.0)(item))
    }

    #[inline]
    fn serial_rest<I: Iterator<Item = T>>(&mut self, iter: I, out: &mut Vec<R>) -> bool {
        out.extend(iter.map(self.0));
        true
    }

    /// Results that take no memory and need no drop (`for_each`'s `()`)
    /// are counted after the run rather than per item: a second counter in
    /// the loop made the compiler unroll it twice, spilling registers around
    /// each call the item makes (a `for_each` whose item calls `trunc` spent
    /// ~10% more time per item in the loop than the same loop in rayon). If the
    /// function panics, nothing is counted, and nothing needed dropping.
    #[inline]
    unsafe fn write_run<I: Iterator<Item = T>>(
        &mut self,
        run: I,
        len: usize,
        out: *mut R,
        written: &mut usize,
    ) -> bool {
        if mem::size_of::<R>() == 0 && !mem::needs_drop::<R>() {
            for item in run {
                mem::forget((self.0)(item));
            }
            *written += len;
            return true;
        }
        let mut count = Count::new(written);
        for item in run {
            // SAFETY: slot `count.n` is within the run's slots.
            unsafe { out.add(count.n).write((self.0)(item)) };
            count.n += 1;
        }
        true
    }
}

/// `try_map`'s leaf: stops the call at the first `Err`, keeping the first
/// error stored (in time) for the caller.
pub(crate) struct TryLeaf<'f, F, E> {
    pub(crate) f: &'f F,
    pub(crate) error: &'f Mutex<Option<E>>,
}

impl<T, R, E, F: Fn(T) -> Result<R, E>> Leaf<T> for TryLeaf<'_, F, E> {
    type Out = R;

    #[inline]
    fn call(&mut self, item: T) -> Option<R> {
        match (self.f)(item) {
            Ok(value) => Some(value),
            Err(err) => {
                let mut slot = self
                    .error
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                slot.get_or_insert(err);
                None
            }
        }
    }
}

/// `map_init`'s leaf: a state made by `init` once per piece of work.
pub(crate) struct InitLeaf<'f, S, F> {
    pub(crate) state: S,
    pub(crate) f: &'f F,
}

impl<T, R, S, F: Fn(&mut S, T) -> R> Leaf<T> for InitLeaf<'_, S, F> {
    type Out = R;

    #[inline]
    fn call(&mut self, item: T) -> Option<R> {
        Some((self.f)(&mut self.state, item))
    }
}

/// `map_reduce`'s leaf: folds its items into an accumulator that starts
/// at `identity()`, and hands the accumulator to `done` when dropped (at
/// the end of its piece of work, before the call returns). Its outputs are
/// `()`, which take no memory: the mapped values are never stored.
pub(crate) struct FoldLeaf<'f, R, F, C> {
    /// `None` only between taking the accumulator and putting it back.
    pub(crate) acc: Option<R>,
    pub(crate) f: &'f F,
    pub(crate) combine: &'f C,
    pub(crate) done: &'f crate::sync::Mutex<Vec<R>>,
}

impl<R, F, C> FoldLeaf<'_, R, F, C> {
    /// Folds `items` into the accumulator, counting them into `count`.
    #[inline]
    fn fold<T, I>(&mut self, items: I, count: &mut usize)
    where
        I: Iterator<Item = T>,
        F: Fn(T) -> R,
        C: Fn(R, R) -> R,
    {
        let acc = self
            .acc
            .take()
            .expect("the accumulator is put back after each fold");
        let (f, combine) = (self.f, self.combine);
        let acc = items.fold(acc, |acc, item| {
            *count += 1;
            combine(acc, f(item))
        });
        self.acc = Some(acc);
    }
}

impl<T, R, F: Fn(T) -> R, C: Fn(R, R) -> R> Leaf<T> for FoldLeaf<'_, R, F, C> {
    type Out = ();

    #[inline]
    fn call(&mut self, item: T) -> Option<()> {
        self.fold(std::iter::once(item), &mut 0);
        Some(())
    }

    #[inline]
    fn serial_batch<I: Iterator<Item = T>>(
        &mut self,
        iter: &mut I,
        n: usize,
        out: &mut Vec<()>,
    ) -> bool {
        let mut count = 0;
        self.fold(iter.take(n), &mut count);
        // The driver counts items by its output's length.
        out.resize(out.len() + count, ());
        true
    }

    #[inline]
    fn serial_rest<I: Iterator<Item = T>>(&mut self, iter: I, out: &mut Vec<()>) -> bool {
        let mut count = 0;
        self.fold(iter, &mut count);
        out.resize(out.len() + count, ());
        true
    }

    #[inline]
    unsafe fn write_run<I: Iterator<Item = T>>(
        &mut self,
        run: I,
        _len: usize,
        _out: *mut (),
        written: &mut usize,
    ) -> bool {
        // Outputs are `()`: nothing to write, only the count to keep.
        let mut count = Count::new(written);
        self.fold(run, &mut count.n);
        true
    }
}

impl<R, F, C> Drop for FoldLeaf<'_, R, F, C> {
    fn drop(&mut self) {
        if let Some(acc) = self.acc.take() {
            self.done.lock().push(acc);
        }
    }
}
