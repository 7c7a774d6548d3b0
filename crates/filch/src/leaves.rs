//! The per-piece functions of `try_map` and `map_init` (`map`'s own lives
//! beside the driver, which it specialises).

use std::sync::Mutex;

use crate::driver::Leaf;

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
