//! The per-piece functions of `try_map`, `map_init` and `map_reduce`
//! (`map`'s own lives beside the driver, which it specialises).

use std::sync::Mutex;

use crate::driver::{Count, Leaf};

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
