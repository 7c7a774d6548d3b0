//! `Pool` and `PoolBuilder`: the front door, shaped like Python's
//! `multiprocessing.Pool`.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use filch_scheduler::{
    BuildError, JoinContext, Pinning, PoolStats, Scope, ThreadPool, ThreadPoolBuilder,
};

use crate::args::Unpack;
use crate::async_result::AsyncResult;
use crate::clock;
use crate::driver::{Chunking, Target};
use crate::imap::{Imap, ImapUnordered};
use crate::imap_scope::ImapScope;
use crate::ops;

/// A pool of worker threads that maps functions over inputs.
///
/// Every combinator decides for itself whether the work is big enough to
/// be worth the pool: small calls run on the calling thread at the speed of
/// a plain loop. See the [crate docs](crate) for each combinator's order,
/// laziness and panic behaviour.
///
/// ```
/// use filch::Pool;
///
/// let pool = Pool::new();
/// let squares: Vec<u64> = pool.map(0..100u64, |x| x * x);
/// assert_eq!(squares[10], 100);
/// ```
#[derive(Debug)]
pub struct Pool {
    /// Shared with `AsyncResult`s, weakly: see `async_result.rs`.
    inner: Arc<ThreadPool>,
    /// Set by [`Pool::terminate`]: queued jobs of this handle's
    /// `apply_async`, `map_async` and `spawn` are dropped unrun.
    terminated: Arc<AtomicBool>,
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

impl Pool {
    /// A pool with one worker per available core.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// assert!(pool.threads() >= 1);
    /// ```
    ///
    /// # Panics
    /// If the OS refuses to start a thread. Use [`Pool::builder`] to get
    /// that as an error instead.
    pub fn new() -> Pool {
        match Pool::builder().build() {
            Ok(pool) => pool,
            Err(err) => panic!("filch: could not start a pool: {err}"),
        }
    }

    /// A builder for a pool with options; see [`PoolBuilder`].
    ///
    /// ```
    /// let pool = filch::Pool::builder().threads(4).build()?;
    /// assert_eq!(pool.threads(), 4);
    /// # Ok::<(), filch::BuildError>(())
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder {
            inner: ThreadPoolBuilder::new(),
        }
    }

    /// The number of workers.
    ///
    /// ```
    /// assert_eq!(filch::Pool::builder().threads(3).build().unwrap().threads(), 3);
    /// ```
    pub fn threads(&self) -> usize {
        self.inner.num_threads()
    }

    /// The underlying scheduler pool, for its lower-level API.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// assert_eq!(pool.scheduler().num_threads(), pool.threads());
    /// ```
    pub fn scheduler(&self) -> &ThreadPool {
        &self.inner
    }

    fn target(&self) -> Target<'_> {
        Target::Pool(&self.inner)
    }

    /// Applies `f` to every item and returns the results in input order,
    /// like `Pool.map`. Small work runs on the calling thread; big work is
    /// split across the pool as workers become free.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let lengths: Vec<usize> = pool.map(vec!["a", "bb", "ccc"], |s| s.len());
    /// assert_eq!(lengths, [1, 2, 3]);
    /// ```
    ///
    /// An owned `Vec` whose items' slots fit the results (the same size and
    /// alignment) is mapped in place, as `into_iter().map().collect()` is:
    /// each result is written over its input and the `Vec`'s buffer is
    /// returned, so no output is allocated.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let xs: Vec<f64> = (0..100_000).map(f64::from).collect();
    /// let buffer = xs.as_ptr() as usize;
    /// let ys: Vec<f64> = pool.map(xs, |x| x * x + 0.5);
    /// assert_eq!(ys.as_ptr() as usize, buffer);
    /// assert_eq!(ys[3], 9.5);
    /// ```
    ///
    /// # Panics
    /// Resumes a panic of `f` with its original payload, after the items
    /// already running have finished; items not yet started are dropped
    /// unrun.
    pub fn map<I, F, R>(&self, items: I, f: F) -> Vec<R>
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) -> R + Sync + Send,
        R: Send,
    {
        ops::map(self.target(), Chunking::Auto, items, f)
    }

    /// Like [`map`](Self::map), with each item a tuple spread into `f`'s
    /// arguments (1 to 6), like `Pool.starmap`.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let s: Vec<i32> = pool.starmap(vec![(1, 2), (3, 4)], |a, b| a + b);
    /// assert_eq!(s, [3, 7]);
    /// ```
    ///
    /// # Panics
    /// As [`map`](Self::map).
    pub fn starmap<I, F, R>(&self, items: I, f: F) -> Vec<R>
    where
        I: IntoIterator,
        I::Item: Unpack<F, Output = R> + Send,
        I::IntoIter: Send,
        F: Sync + Send,
        R: Send,
    {
        ops::starmap(self.target(), Chunking::Auto, items, f)
    }

    /// Like [`map`](Self::map) for a fallible `f`: all `Ok` values in input
    /// order, or an `Err`. The first error stops new items from starting.
    /// Which error is returned when several items fail: the first one found
    /// in time, which for work small enough to run serially is the first in
    /// input order, and otherwise depends on scheduling.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let ok: Result<Vec<u32>, String> = pool.try_map(0..10u32, |x| Ok(x));
    /// assert_eq!(ok.unwrap().len(), 10);
    /// let err: Result<Vec<u32>, String> =
    ///     pool.try_map(0..10u32, |x| if x == 3 { Err(format!("bad {x}")) } else { Ok(x) });
    /// assert_eq!(err.unwrap_err(), "bad 3");
    /// ```
    ///
    /// # Panics
    /// As [`map`](Self::map).
    pub fn try_map<I, F, R, E>(&self, items: I, f: F) -> Result<Vec<R>, E>
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) -> Result<R, E> + Sync + Send,
        R: Send,
        E: Send,
    {
        ops::try_map(self.target(), Chunking::Auto, items, f)
    }

    /// Like [`map`](Self::map), with a mutable state per piece of work made
    /// by `init` (Python's `initializer=`): `init` runs once for each piece
    /// a thread takes (about once per thread, more when work is stolen
    /// often), never once per item.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let v: Vec<u64> = pool.map_init(0..100u64, || 0u64, |calls, x| { *calls += 1; x });
    /// assert_eq!(v, (0..100).collect::<Vec<_>>());
    /// ```
    ///
    /// # Panics
    /// As [`map`](Self::map); a panic of `init` likewise.
    pub fn map_init<I, INIT, S, F, R>(&self, items: I, init: INIT, f: F) -> Vec<R>
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        INIT: Fn() -> S + Sync + Send,
        F: Fn(&mut S, I::Item) -> R + Sync + Send,
        R: Send,
    {
        ops::map_init(self.target(), Chunking::Auto, items, init, f)
    }

    /// Calls `f` on every item, for its effect: [`map`](Self::map) without
    /// an output (nothing is allocated for the results). The same
    /// serial-first decision and splitting as `map`; items of an owned `Vec`,
    /// a range, or a slice of a primitive type, a pair or small array of
    /// numbers, or a string (by reference or by `&mut`)
    /// are split by index where they lie. No order among the calls; a
    /// panic is resumed here with its payload once the other pieces of work
    /// have stopped, and items not started are dropped unrun.
    ///
    /// In place, over `&mut [T]` or `&mut Vec<T>`, and row by row with
    /// `chunks_mut` (rayon's `par_iter_mut().for_each` and
    /// `par_chunks_mut`):
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let mut v: Vec<f64> = (0..1000).map(f64::from).collect();
    /// pool.for_each(&mut v, |x| *x = *x * 2.0 + 1.0);
    /// assert_eq!(v[10], 21.0);
    ///
    /// let width = 8;
    /// let mut grid = vec![0u32; width * 4];
    /// pool.for_each(grid.chunks_mut(width).enumerate(), |(y, row)| {
    ///     for (x, cell) in row.iter_mut().enumerate() {
    ///         *cell = (y * width + x) as u32;
    ///     }
    /// });
    /// assert_eq!(grid[width + 1], 9);
    /// ```
    ///
    /// # Panics
    /// As [`map`](Self::map).
    pub fn for_each<I, F>(&self, items: I, f: F)
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) + Sync + Send,
    {
        ops::for_each(self.target(), Chunking::Auto, items, f);
    }

    /// Maps every item with `f` and combines the results with `combine`,
    /// starting from `identity()`, without storing the mapped values
    /// (rayon's `map(f).reduce(identity, combine)`): a sum, a minimum, a
    /// histogram merge. Each piece of work folds its own items into an
    /// accumulator made by `identity`; the accumulators are combined at the
    /// end. `combine` must be associative and commutative, and `identity()`
    /// neutral for it: the pieces are combined in no particular order. The
    /// same serial-first decision and splitting as `map`; a panic is
    /// resumed here with its payload, and every accumulator made is dropped.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let sum_of_squares = pool.map_reduce(0..1000u64, |x| x * x, || 0, |a, b| a + b);
    /// assert_eq!(sum_of_squares, 332_833_500);
    ///
    /// let words = vec!["a", "bb", "a", "ccc"];
    /// let longest = pool.map_reduce(&words, |w| w.len(), || 0, usize::max);
    /// assert_eq!(longest, 3);
    /// ```
    ///
    /// # Panics
    /// As [`map`](Self::map).
    pub fn map_reduce<I, F, R, ID, C>(&self, items: I, f: F, identity: ID, combine: C) -> R
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) -> R + Sync + Send,
        ID: Fn() -> R + Sync + Send,
        C: Fn(R, R) -> R + Sync + Send,
        R: Send,
    {
        ops::map_reduce(self.target(), Chunking::Auto, items, f, identity, combine)
    }

    /// A lazy, ordered iterator of `f` over `items`, like `Pool.imap`: the
    /// input is read only a bounded distance ahead of what has been yielded
    /// (an infinite input is fine): at most `4 × threads` chunks, widened
    /// by up to [`max_spare_threads`](PoolBuilder::max_spare_threads) while
    /// items are inside [`blocking`](crate::blocking). Dropping the iterator
    /// cancels the work not yet started.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let first: Vec<u64> = pool.imap(0u64.., |x| x * 2).take(10).collect();
    /// assert_eq!(first, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    /// ```
    pub fn imap<I, F, R>(&self, items: I, f: F) -> Imap<'_, I::IntoIter, F, R>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        Imap::new(&self.inner, items.into_iter(), f, Chunking::Auto)
    }

    /// Runs `op` with an [`ImapScope`], whose `imap` and `imap_unordered`
    /// may borrow: their items (`&data`, `data.iter()`), their function
    /// and what it returns need only outlive the call, not be `'static`.
    /// Returns once `op` has returned and every chunk job its iterators
    /// started has finished, so nothing borrowed is touched after, even if
    /// an iterator was leaked with [`std::mem::forget`] (its unfinished
    /// chunks then run to their end before this returns). `op` runs on one
    /// of the pool's workers, as [`install`](Self::install) does.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let data: Vec<u64> = (1..=100).collect();
    /// let total: u64 = pool.imap_scope(|s| s.imap(&data, |&x| x * 2).sum());
    /// assert_eq!(total, 10_100);
    /// ```
    ///
    /// # Panics
    /// Resumes a panic of `op`, or of a chunk job, once every job has
    /// finished.
    pub fn imap_scope<'s, OP, T>(&self, op: OP) -> T
    where
        OP: for<'p> FnOnce(&ImapScope<'p, 's>) -> T + Send,
        T: Send,
    {
        self.scope_imaps(Chunking::Auto, op)
    }

    pub(crate) fn scope_imaps<'s, OP, T>(&self, chunking: Chunking, op: OP) -> T
    where
        OP: for<'p> FnOnce(&ImapScope<'p, 's>) -> T + Send,
        T: Send,
    {
        let pool: &ThreadPool = &self.inner;
        pool.scope(|scope| {
            op(&ImapScope {
                pool,
                scope,
                chunking,
            })
        })
    }

    /// Like [`imap`](Self::imap), yielding results as they complete, like
    /// `Pool.imap_unordered`. Called from outside the pool, the iterating
    /// thread runs no item itself (unless this call site's items were short
    /// on its last calls, when it times the first ones as `map` does), so a
    /// slow item cannot hold back finished results; on one of the pool's
    /// workers it runs chunks too, and a result may wait behind one.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let mut any: Vec<u64> = pool.imap_unordered(0..100u64, |x| x).collect();
    /// any.sort();
    /// assert_eq!(any, (0..100).collect::<Vec<_>>());
    /// ```
    pub fn imap_unordered<I, F, R>(&self, items: I, f: F) -> ImapUnordered<'_, I::IntoIter, F, R>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        ImapUnordered::new(&self.inner, items.into_iter(), f, Chunking::Auto)
    }

    /// Runs `f` on the pool and returns a handle to its result, like
    /// `Pool.apply_async`.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let h = pool.apply_async(|| 6 * 7);
    /// assert_eq!(h.get(), 42);
    /// ```
    pub fn apply_async<F, R>(&self, f: F) -> AsyncResult<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        AsyncResult::spawn(&self.inner, &self.terminated, f)
    }

    /// `Pool.map_async`: the whole [`map`](Self::map) runs in the
    /// background on this pool (its items spread over the workers like any
    /// map made on a worker); the handle collects the `Vec`. Dropping the
    /// handle before the map starts cancels it.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let squares = pool.map_async(0..100u64, |x| x * x);
    /// // ... other work ...
    /// assert_eq!(squares.get()[9], 81);
    /// ```
    pub fn map_async<I, F, R>(&self, items: I, f: F) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator + Send + 'static,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) -> R + Sync + Send + 'static,
        R: Send + 'static,
    {
        self.map_async_with(Chunking::Auto, items, f)
    }

    /// `Pool.starmap_async`: [`starmap`](Self::starmap) in the background,
    /// as [`map_async`](Self::map_async).
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let sums = pool.starmap_async(vec![(1, 2), (3, 4)], |a: i32, b: i32| a + b);
    /// assert_eq!(sums.get(), [3, 7]);
    /// ```
    pub fn starmap_async<I, F, R>(&self, items: I, f: F) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator + Send + 'static,
        I::Item: Unpack<F, Output = R> + Send,
        I::IntoIter: Send,
        F: Sync + Send + 'static,
        R: Send + 'static,
    {
        self.starmap_async_with(Chunking::Auto, items, f)
    }

    pub(crate) fn map_async_with<I, F, R>(
        &self,
        chunking: Chunking,
        items: I,
        f: F,
    ) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator + Send + 'static,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) -> R + Sync + Send + 'static,
        R: Send + 'static,
    {
        // `Current`: the job's pool, whether a worker runs it or a caller
        // claims it (see `async_result.rs`).
        self.apply_async(move || ops::map(Target::Current, chunking, items, f))
    }

    pub(crate) fn starmap_async_with<I, F, R>(
        &self,
        chunking: Chunking,
        items: I,
        f: F,
    ) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator + Send + 'static,
        I::Item: Unpack<F, Output = R> + Send,
        I::IntoIter: Send,
        F: Sync + Send + 'static,
        R: Send + 'static,
    {
        self.map_async_with(chunking, items, move |args: I::Item| args.call(&f))
    }

    /// Shuts the pool down without running the jobs still queued by this
    /// pool's [`apply_async`](Self::apply_async),
    /// [`map_async`](Self::map_async), [`starmap_async`](Self::starmap_async)
    /// and [`spawn`](Self::spawn), like Python's `Pool.terminate()`: each is
    /// dropped unrun (a handle's `get` then panics, saying so). Jobs already
    /// running finish first, and the call waits for the workers to exit, as
    /// dropping the pool does. Dropping the pool instead runs every queued
    /// job first.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let pool = filch::Pool::builder().threads(1).build()?;
    /// // Holds the only worker while the jobs below queue up.
    /// pool.spawn(|| std::thread::sleep(Duration::from_millis(100)));
    /// let ran = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..10 {
    ///     let ran = Arc::clone(&ran);
    ///     pool.spawn(move || { ran.fetch_add(1, Ordering::SeqCst); });
    /// }
    /// pool.terminate();
    /// assert_eq!(ran.load(Ordering::SeqCst), 0);
    /// # Ok::<(), filch::BuildError>(())
    /// ```
    pub fn terminate(self) {
        self.terminated.store(true, Ordering::Release);
    }

    /// Runs `a` and `b`, potentially in parallel, on this pool.
    ///
    /// ```
    /// let (a, b) = filch::Pool::new().join(|| 1, || 2);
    /// assert_eq!((a, b), (1, 2));
    /// ```
    ///
    /// # Panics
    /// Resumes a panic of either closure with its original payload.
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        self.inner.join(a, b)
    }

    /// Runs `op` on a worker of this pool with a [`JoinContext`], whose
    /// [`join`](JoinContext::join) is the cheapest fork filch has: for
    /// recursions that fork every few nanoseconds of work.
    ///
    /// ```
    /// use filch::JoinContext;
    ///
    /// fn fib(ctx: JoinContext<'_>, n: u64) -> u64 {
    ///     if n < 2 {
    ///         return n;
    ///     }
    ///     let (a, b) = ctx.join(move |ctx| fib(ctx, n - 1), move |ctx| fib(ctx, n - 2));
    ///     a + b
    /// }
    /// assert_eq!(filch::Pool::new().with_join_context(|ctx| fib(ctx, 20)), 6765);
    /// ```
    ///
    /// # Panics
    /// Resumes a panic of `op` with its original payload.
    pub fn with_join_context<OP, R>(&self, op: OP) -> R
    where
        OP: for<'f> FnOnce(JoinContext<'f>) -> R + Send,
        R: Send,
    {
        self.inner.with_join_context(op)
    }

    /// Runs `op` with a scope whose spawned jobs may borrow from the
    /// caller's stack; returns when all of them have finished.
    ///
    /// ```
    /// let mut halves = [0u64; 2];
    /// let (lo, hi) = halves.split_at_mut(1);
    /// filch::Pool::new().scope(|s| {
    ///     s.spawn(|_| lo[0] = (0..50u64).sum());
    ///     s.spawn(|_| hi[0] = (50..100u64).sum());
    /// });
    /// assert_eq!(halves[0] + halves[1], 4950);
    /// ```
    ///
    /// # Panics
    /// After every job has finished, resumes the first panic (the body's,
    /// else a job's) with its original payload.
    pub fn scope<'scope, OP, R>(&self, op: OP) -> R
    where
        OP: FnOnce(&Scope<'scope>) -> R + Send,
        R: Send,
    {
        self.inner.scope(op)
    }

    /// Runs `op` on a worker of this pool; `filch::join`, `filch::map` and
    /// friends called inside use this pool.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let total: u64 = pool.install(|| filch::join(|| 1u64, || 2u64)).0;
    /// assert_eq!(total, 1);
    /// ```
    ///
    /// # Panics
    /// Resumes a panic of `op` with its original payload.
    pub fn install<OP, R>(&self, op: OP) -> R
    where
        OP: FnOnce() -> R + Send,
        R: Send,
    {
        self.inner.install(op)
    }

    /// Runs `job` in the background; a panic goes to the pool's panic
    /// handler (see [`PoolBuilder::panic_handler`]).
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.spawn(move || tx.send(1).unwrap());
    /// assert_eq!(rx.recv().unwrap(), 1);
    /// ```
    pub fn spawn<F>(&self, job: F)
    where
        F: FnOnce() + Send + 'static,
    {
        let terminated = Arc::clone(&self.terminated);
        self.inner.spawn(move || {
            if !terminated.load(Ordering::Acquire) {
                job();
            }
        });
    }

    /// A snapshot of each worker's counters; prints as a table.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// pool.install(|| ());
    /// println!("{}", pool.stats());
    /// assert!(pool.stats().total().jobs >= 1);
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.inner.stats()
    }
}

/// Configures a [`Pool`]. Defaults: one thread per available core, threads
/// named `filch-worker-{i}`, the platform's stack size, no pinning, no
/// hooks, panics in `spawn` printed to stderr.
///
/// ```
/// use filch::{Pinning, Pool};
///
/// let pool = Pool::builder()
///     .threads(2)
///     .thread_name(|i| format!("mapper-{i}"))
///     .pinning(Pinning::Off)
///     .build()?;
/// assert_eq!(pool.threads(), 2);
/// # Ok::<(), filch::BuildError>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PoolBuilder {
    inner: ThreadPoolBuilder,
}

impl PoolBuilder {
    /// The number of workers; more than the machine's cores is allowed.
    ///
    /// ```
    /// let err = filch::Pool::builder().threads(0).build().unwrap_err();
    /// assert!(err.to_string().contains("0 threads"));
    /// ```
    pub fn threads(self, n: usize) -> Self {
        PoolBuilder {
            inner: self.inner.num_threads(n),
        }
    }

    /// The most spare threads the pool starts to stand in for workers blocked
    /// in [`blocking`](crate::blocking) (default
    /// [`DEFAULT_MAX_SPARE_THREADS`](filch_scheduler::DEFAULT_MAX_SPARE_THREADS));
    /// 0 turns spares off.
    ///
    /// ```
    /// let pool = filch::Pool::builder().threads(2).max_spare_threads(8).build().unwrap();
    /// assert_eq!(pool.install(|| filch::blocking(|| 1)), 1);
    /// ```
    pub fn max_spare_threads(self, n: usize) -> Self {
        PoolBuilder {
            inner: self.inner.max_spare_threads(n),
        }
    }

    /// Names worker `i`.
    ///
    /// ```
    /// let pool = filch::Pool::builder().threads(1).thread_name(|i| format!("w{i}")).build().unwrap();
    /// assert_eq!(pool.install(|| std::thread::current().name().unwrap().to_owned()), "w0");
    /// ```
    pub fn thread_name<F: FnMut(usize) -> String + 'static>(self, name: F) -> Self {
        PoolBuilder {
            inner: self.inner.thread_name(name),
        }
    }

    /// Each worker's stack size in bytes (at least
    /// [`MIN_STACK_SIZE`](filch_scheduler::MIN_STACK_SIZE)).
    ///
    /// ```
    /// let pool = filch::Pool::builder().stack_size(4 << 20).build().unwrap();
    /// assert!(pool.threads() >= 1);
    /// ```
    pub fn stack_size(self, bytes: usize) -> Self {
        PoolBuilder {
            inner: self.inner.stack_size(bytes),
        }
    }

    /// Where workers run; see [`Pinning`].
    ///
    /// ```
    /// let pool = filch::Pool::builder().threads(2).pinning(filch::Pinning::PerCore).build().unwrap();
    /// assert_eq!(pool.threads(), 2);
    /// ```
    pub fn pinning(self, pinning: Pinning) -> Self {
        PoolBuilder {
            inner: self.inner.pinning(pinning),
        }
    }

    /// Runs on each worker with its index before it takes any job.
    ///
    /// ```
    /// let pool = filch::Pool::builder().start_handler(|i| assert!(i < 64)).build().unwrap();
    /// drop(pool);
    /// ```
    pub fn start_handler<F: Fn(usize) + Send + Sync + 'static>(self, hook: F) -> Self {
        PoolBuilder {
            inner: self.inner.start_handler(hook),
        }
    }

    /// Runs on each worker with its index as it exits.
    ///
    /// ```
    /// let pool = filch::Pool::builder().exit_handler(|i| assert!(i < 64)).build().unwrap();
    /// drop(pool);
    /// ```
    pub fn exit_handler<F: Fn(usize) + Send + Sync + 'static>(self, hook: F) -> Self {
        PoolBuilder {
            inner: self.inner.exit_handler(hook),
        }
    }

    /// Receives the payload of a panic in [`Pool::spawn`].
    ///
    /// ```
    /// let pool = filch::Pool::builder().panic_handler(|_payload| {}).build().unwrap();
    /// pool.spawn(|| panic!("ignored"));
    /// ```
    pub fn panic_handler<F: Fn(Box<dyn Any + Send>) + Send + Sync + 'static>(
        self,
        handler: F,
    ) -> Self {
        PoolBuilder {
            inner: self.inner.panic_handler(handler),
        }
    }

    /// Starts the pool.
    ///
    /// # Errors
    /// A [`BuildError`] naming the bad option (0 threads, a stack too small,
    /// a core that is not allowed) or the OS's refusal to start a thread.
    ///
    /// ```
    /// let pool = filch::Pool::builder().threads(2).build()?;
    /// assert_eq!(pool.threads(), 2);
    /// # Ok::<(), filch::BuildError>(())
    /// ```
    pub fn build(self) -> Result<Pool, BuildError> {
        clock::calibrate();
        Ok(Pool {
            inner: Arc::new(self.inner.build()?),
            terminated: Arc::new(AtomicBool::new(false)),
        })
    }
}
