//! filch as a comparison system. **Every call into the `filch` crate is in this file**, so
//! a change in filch's API is a change here only.
//!
//! The pool is built with an explicit thread count (the same as the rayon pool's), never
//! `Pool::new()`'s default, so the two libraries always run on equally many threads.

use std::fmt;
use std::ops::Range;

use crate::workloads::{ForkJoinTask, Joiner};

/// A filch pool of a known size.
pub struct Filch {
    pool: filch::Pool,
}

impl fmt::Debug for Filch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filch")
            .field("threads", &self.pool.threads())
            .finish()
    }
}

impl Filch {
    /// A pool of `threads` threads.
    ///
    /// # Errors
    /// filch's `BuildError`, as text.
    pub fn new(threads: usize) -> Result<Filch, String> {
        filch::Pool::builder()
            .threads(threads)
            .build()
            .map(|pool| Filch { pool })
            .map_err(|e| format!("filch pool of {threads} threads: {e}"))
    }

    /// The pool's thread count.
    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    /// Checks up front that filch accepts `chunk` as an explicit chunk size, so the timed
    /// [`Filch::map_slice_chunked`] calls cannot fail half-way through a sweep.
    ///
    /// # Errors
    /// filch's `ChunkSizeError`, as text.
    pub fn check_chunk_size(&self, chunk: usize) -> Result<(), String> {
        self.pool
            .with_chunk_size(chunk)
            .map(|_| ())
            .map_err(|e| format!("chunk size {chunk}: {e}"))
    }

    /// The pool itself, for the big-input section, which writes each call as a user
    /// would.
    pub fn pool(&self) -> &filch::Pool {
        &self.pool
    }

    /// `pool.map(items, f)`: ordered, automatic chunking.
    pub fn map_slice<T, R, F>(&self, items: &[T], f: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync + Send,
    {
        self.pool.map(items, f)
    }

    /// `pool.install(|| pool.map(items, f))`: the call made on a worker.
    pub fn map_slice_on_worker<T, R, F>(&self, items: &[T], f: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync + Send,
    {
        self.pool.install(|| self.pool.map(items, f))
    }

    /// `pool.with_chunk_size(chunk)?.map(items, f)`.
    ///
    /// # Panics
    /// If filch rejects `chunk` (validate it first with [`Filch::check_chunk_size`]).
    pub fn map_slice_chunked<T, R, F>(&self, chunk: usize, items: &[T], f: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync + Send,
    {
        self.pool
            .with_chunk_size(chunk)
            .unwrap_or_else(|e| panic!("chunk size {chunk} rejected: {e}"))
            .map(items, f)
    }

    /// `pool.starmap(pairs, g)`: `g` receives each pair's elements as two arguments.
    pub fn starmap_pairs<G>(&self, pairs: &[(i64, i64)], g: G) -> Vec<i64>
    where
        G: Fn(i64, i64) -> i64 + Sync + Send,
    {
        self.pool.starmap(pairs.iter().copied(), g)
    }

    /// `pool.map(range, filch::partial(g, first))`: `g` with its first argument bound.
    /// Generic over `g`, so a function item stays a direct call, as in a user's code.
    pub fn map_partial_first<G>(&self, g: G, first: i64, range: Range<i64>) -> Vec<i64>
    where
        G: Fn(i64, i64) -> i64 + Clone + Send + Sync,
    {
        self.pool.map(range, filch::partial(g, first))
    }

    /// `pool.map(range, filch::partial_last(g, last))`: `g` with its last argument bound.
    pub fn map_partial_last<G>(&self, g: G, last: i64, range: Range<i64>) -> Vec<i64>
    where
        G: Fn(i64, i64) -> i64 + Clone + Send + Sync,
    {
        self.pool.map(range, filch::partial_last(g, last))
    }

    /// `pool.map(range, f)` over an integer range.
    pub fn map_range<R, F>(&self, range: Range<i64>, f: F) -> Vec<R>
    where
        R: Send,
        F: Fn(i64) -> R + Sync + Send,
    {
        self.pool.map(range, f)
    }

    /// `filch::blocking(f)`: marks a region that waits, so a spare stands in.
    pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
        filch::blocking(f)
    }

    /// A map of maps: `pool.map(outer, |o| filch::map(inner, |i| f(o, i)))`, the inner
    /// calls running on the same pool (filch nests without new threads).
    pub fn nested_map<F>(&self, outer: &[u64], inner: &[u64], f: F) -> Vec<Vec<f64>>
    where
        F: Fn(u64, u64) -> f64 + Sync + Send,
    {
        self.pool.map(outer, |&o| filch::map(inner, |&i| f(o, i)))
    }

    /// `pool.imap(items, f).collect()` over an owned `Vec`.
    pub fn imap_vec<T, R, F>(&self, items: Vec<T>, f: F) -> Vec<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        self.pool.imap(items, f).collect()
    }

    /// `pool.imap_unordered(items, f).collect()` over an owned `Vec`:
    /// results in completion order.
    pub fn imap_unordered_vec<T, R, F>(&self, items: Vec<T>, f: F) -> Vec<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        self.pool.imap_unordered(items, f).collect()
    }

    /// `pool.imap(items, |x| filch::blocking(|| f(x))).collect()`: every item marked as
    /// a region that waits, so spares stand in for the workers it holds.
    pub fn imap_blocking_vec<T, R, F>(&self, items: Vec<T>, f: F) -> Vec<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        self.pool
            .imap(items, move |x| filch::blocking(|| f(x)))
            .collect()
    }

    /// `pool.imap_unordered(items, |x| filch::blocking(|| f(x))).collect()`: as
    /// [`Filch::imap_blocking_vec`], results in completion order.
    pub fn imap_unordered_blocking_vec<T, R, F>(&self, items: Vec<T>, f: F) -> Vec<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        self.pool
            .imap_unordered(items, move |x| filch::blocking(|| f(x)))
            .collect()
    }

    /// `pool.imap(range, f).collect()`: the lazy, ordered iterator, drained.
    pub fn imap_range<R, F>(&self, range: Range<i64>, f: F) -> Vec<R>
    where
        R: Send + 'static,
        F: Fn(i64) -> R + Send + Sync + 'static,
    {
        self.pool.imap(range, f).collect()
    }

    /// Runs `task` inside the pool (`pool.install`) with [`filch::join`] forking.
    pub fn run_task<T: ForkJoinTask>(&self, task: &T) -> T::Output {
        self.pool.install(|| task.run::<FilchJoin>())
    }

    /// Runs `task`'s [`JoinContext`](filch::JoinContext) twin on the pool
    /// (`pool.with_join_context`).
    pub fn run_task_in_context<T: ForkJoinTask>(&self, task: &T) -> T::Output {
        self.pool.with_join_context(|ctx| task.run_in(ctx))
    }

    /// One round trip to the pool: `pool.apply_async(|| 1).get()`.
    pub fn apply_async_round_trip(&self) -> u64 {
        self.pool.apply_async(|| 1u64).get()
    }

    /// The pool's counters (`pool.stats()`), rendered with their `Display`.
    pub fn stats(&self) -> String {
        self.pool.stats().to_string()
    }
}

/// `filch::map(items, f)`: the global pool.
pub fn global_map_slice<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync + Send,
{
    filch::map(items, f)
}

/// Builds a fresh pool of `threads`, maps `f` over `items` on it and drops it: the cost a
/// Python script pays with `with Pool(12) as p: p.map(f, xs)`.
///
/// # Panics
/// If the pool cannot be built.
pub fn fresh_pool_map<T, R, F>(threads: usize, items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync + Send,
{
    let pool = Filch::new(threads).expect("building a filch pool");
    pool.map_slice(items, f)
}

/// The filch [`Joiner`]: [`filch::join`], which forks on the current worker's pool.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilchJoin;

impl Joiner for FilchJoin {
    #[inline]
    fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        filch::join(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::{add, FibTask};

    #[test]
    fn every_wrapped_operation_gives_the_serial_answer() {
        let pool = Filch::new(2).unwrap();
        assert_eq!(pool.threads(), 2);
        let items: Vec<u64> = (0..1000).collect();
        let want: Vec<u64> = items.iter().map(|x| x * 3).collect();
        assert_eq!(pool.map_slice(&items, |x| x * 3), want);
        assert!(pool.check_chunk_size(0).is_err());
        pool.check_chunk_size(7).unwrap();
        assert_eq!(pool.map_slice_chunked(7, &items, |x| x * 3), want);
        assert_eq!(global_map_slice(&items, |x| x * 3), want);
        assert_eq!(pool.starmap_pairs(&[(1, 2), (3, 4)], add), vec![3, 7]);
        assert_eq!(pool.map_partial_first(add, 2, 0..3), vec![2, 3, 4]);
        assert_eq!(pool.map_partial_last(add, 3, 0..3), vec![3, 4, 5]);
        assert_eq!(pool.imap_range(0..4, |x| x + 1), vec![1, 2, 3, 4]);
        assert_eq!(
            pool.imap_blocking_vec(vec![1, 2, 3], |x| x * 2),
            vec![2, 4, 6]
        );
        let mut unordered = pool.imap_unordered_blocking_vec(vec![1, 2, 3], |x| x * 2);
        unordered.sort_unstable();
        assert_eq!(unordered, vec![2, 4, 6]);
        assert_eq!(pool.run_task(&FibTask(15)), 610);
        assert_eq!(pool.apply_async_round_trip(), 1);
        assert!(!pool.stats().is_empty());
    }
}
