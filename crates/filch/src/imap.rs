//! `imap` and `imap_unordered`: lazy, memory-bounded parallel iterators
//! ([`Imap`], [`ImapUnordered`]), each a thin shell over the engine in
//! `imap_core.rs`, whose module docs describe the window protocol; the
//! window itself is `imap_window.rs`, its loom models `imap_loom_models.rs`.

use std::fmt;
use std::time::{Duration, Instant};

use filch_scheduler::ThreadPool;

use crate::driver::Chunking;
use crate::events::call_span;
use crate::imap_core::Core;
pub use crate::imap_core::TimedOut;
use crate::imap_jobs::{Jobs, PoolJobs};

/// The lazy, ordered iterator of [`Pool::imap`](crate::Pool::imap).
///
/// ```
/// let pool = filch::Pool::new();
/// let mut it = pool.imap(0u64.., |x| x * 2); // an infinite input is fine
/// assert_eq!(it.next(), Some(0));
/// assert_eq!(it.take(3).collect::<Vec<_>>(), [2, 4, 6]);
/// ```
///
/// `J` says where its chunk jobs run: detached on the pool
/// ([`PoolJobs`], for `'static` data), or on a scope made by
/// [`Pool::imap_scope`](crate::Pool::imap_scope) ([`ScopeJobs`], for
/// borrowed data).
///
/// [`ScopeJobs`]: crate::ScopeJobs
pub struct Imap<'p, I: Iterator, F, R, J = PoolJobs<'p>> {
    core: Core<'p, J, I, F, R>,
}

/// The lazy iterator of [`Pool::imap_unordered`](crate::Pool::imap_unordered):
/// results in completion order.
///
/// ```
/// let pool = filch::Pool::new();
/// let mut v: Vec<u64> = pool.imap_unordered(0..100u64, |x| x).collect();
/// v.sort();
/// assert_eq!(v, (0..100).collect::<Vec<_>>());
/// ```
///
/// `J` as for [`Imap`].
pub struct ImapUnordered<'p, I: Iterator, F, R, J = PoolJobs<'p>> {
    core: Core<'p, J, I, F, R>,
}

macro_rules! imap_iterator {
    ($name:ident, $ordered:expr) => {
        impl<'p, I, F, R> $name<'p, I, F, R>
        where
            I: Iterator,
            I::Item: Send + 'static,
            F: Fn(I::Item) -> R + Send + Sync + 'static,
            R: Send + 'static,
        {
            pub(crate) fn new(pool: &'p ThreadPool, input: I, f: F, chunking: Chunking) -> Self {
                Self::with_jobs(pool, PoolJobs(pool), input, f, chunking)
            }
        }

        impl<'p, 's, I, F, R, J> $name<'p, I, F, R, J>
        where
            J: Jobs<'s>,
            I: Iterator,
            I::Item: Send + 's,
            F: Fn(I::Item) -> R + Send + Sync + 's,
            R: Send + 's,
        {
            pub(crate) fn with_jobs(
                pool: &'p ThreadPool,
                jobs: J,
                input: I,
                f: F,
                chunking: Chunking,
            ) -> Self {
                $name {
                    core: Core::new(pool, jobs, input, f, chunking, $ordered),
                }
            }

            /// The next result, waiting at most `timeout` for it, like
            /// Python's `IMapIterator.next(timeout)`: `Ok(None)` at the end,
            /// `Err(TimedOut)` if no result was ready in time, after which
            /// the iterator goes on as before. Until a result is ready the
            /// calling thread computes nothing (so it can keep the
            /// deadline): a call still probing on it moves its work to the
            /// pool. On one of the pool's own workers, which may have to
            /// run the work itself, the timeout is not kept and this is
            /// `Ok(self.next())`.
            ///
            /// ```
            /// use std::time::Duration;
            ///
            /// let pool = filch::Pool::new();
            /// let mut it = pool.imap(0..3u64, |x| x + 1);
            /// let mut got = Vec::new();
            /// while let Some(x) = it.next_timeout(Duration::from_secs(10))? {
            ///     got.push(x);
            /// }
            /// assert_eq!(got, [1, 2, 3]);
            /// # Ok::<(), filch::TimedOut>(())
            /// ```
            ///
            /// # Errors
            /// [`TimedOut`] when no result was ready within `timeout`.
            ///
            /// # Panics
            /// As [`next`](Iterator::next).
            pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<R>, TimedOut> {
                let _span = call_span!("imap.next_timeout");
                self.core.next($ordered, Some(Instant::now() + timeout))
            }
        }

        impl<'s, I, F, R, J> Iterator for $name<'_, I, F, R, J>
        where
            J: Jobs<'s>,
            I: Iterator,
            I::Item: Send + 's,
            F: Fn(I::Item) -> R + Send + Sync + 's,
            R: Send + 's,
        {
            type Item = R;

            /// The next result. After a panic of the user's function, or of
            /// the input iterator, every result before it is yielded first
            /// (ordered: every earlier item's; unordered: every result
            /// finished before the panic was reached), then the panic is
            /// resumed with its original payload, then the iterator is
            /// over: `None` from then on.
            #[inline]
            fn next(&mut self) -> Option<R> {
                // Most calls take a result of the chunk at hand: that path
                // is inlined into the consumer's loop, the rest is not.
                match self.core.next_ready() {
                    Some(item) => Some(item),
                    None => self.core.next_slow($ordered),
                }
            }

            /// At least the results at hand, plus, while no panic is
            /// pending and the input says exactly how long it is, every
            /// item read and not yet yielded and every item still to read:
            /// so `collect` into a `Vec` allocates once.
            fn size_hint(&self) -> (usize, Option<usize>) {
                (self.core.results_left(), None)
            }

            /// Drains each chunk's results in one pass rather than a call
            /// per item: what `sum`, `count`, `for_each` and `fold` use.
            #[inline]
            fn fold<B, G>(mut self, init: B, mut g: G) -> B
            where
                G: FnMut(B, R) -> B,
            {
                let mut acc = init;
                loop {
                    acc = self.core.take_ready().fold(acc, &mut g);
                    match self.core.next_slow($ordered) {
                        Some(item) => acc = g(acc, item),
                        None => return acc,
                    }
                }
            }
        }

        impl<I: Iterator, F, R, J> fmt::Debug for $name<'_, I, F, R, J> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("next_chunk_id", &self.core.next_chunk_id())
                    .field("finished", &self.core.finished())
                    .finish_non_exhaustive()
            }
        }
    };
}

imap_iterator!(Imap, true);
imap_iterator!(ImapUnordered, false);
