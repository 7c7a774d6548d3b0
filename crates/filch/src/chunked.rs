//! Explicit chunk sizes, like `Pool.map(..., chunksize=n)`: the
//! [`Chunked`] view, and the `Pool` methods that make it (here rather than
//! in `pool.rs`, so that the view depends on the pool and not both ways).

use std::fmt;
use std::num::NonZeroUsize;

use crate::args::Unpack;
use crate::async_result::AsyncResult;
use crate::driver::{Chunking, Target};
use crate::imap::{Imap, ImapUnordered};
use crate::imap_scope::ImapScope;
use crate::ops;
use crate::pool::Pool;

/// A chunk size of 0 was asked for. Every chunk must hold at least one item.
///
/// ```
/// let pool = filch::Pool::new();
/// let err = pool.with_chunk_size(0).unwrap_err();
/// assert!(err.to_string().contains("chunk size 0"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkSizeError;

impl fmt::Display for ChunkSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chunk size 0 is not allowed: a chunk must hold at least 1 item"
        )
    }
}

impl std::error::Error for ChunkSizeError {}

impl Pool {
    /// A view of this pool whose combinators use a fixed chunk size, like
    /// `Pool.map(..., chunksize=n)`.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let v: Vec<u64> = pool.with_chunk_size(10)?.map(0..100u64, |x| x + 1);
    /// assert_eq!(v.len(), 100);
    /// assert!(pool.with_chunk_size(0).is_err());
    /// # Ok::<(), filch::ChunkSizeError>(())
    /// ```
    ///
    /// # Errors
    /// [`ChunkSizeError`] for a chunk size of 0.
    pub fn with_chunk_size(&self, chunk_size: usize) -> Result<Chunked<'_>, ChunkSizeError> {
        Chunked::new(self, chunk_size)
    }

    /// [`with_chunk_size`](Self::with_chunk_size) for a size that cannot be
    /// 0, so there is no error to handle (a literal checked at compile
    /// time, or a size already validated).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    ///
    /// const ROWS: NonZeroUsize = NonZeroUsize::new(16).unwrap();
    /// let pool = filch::Pool::new();
    /// let v: Vec<u64> = pool.chunked(ROWS).map(0..100u64, |x| x + 1);
    /// assert_eq!(v.len(), 100);
    /// ```
    pub fn chunked(&self, chunk_size: NonZeroUsize) -> Chunked<'_> {
        Chunked::of(self, chunk_size)
    }
}

/// A pool view whose combinators use a fixed chunk size: each worker takes
/// at least `chunk_size` items at a time, and the input is never split
/// between chunk boundaries. No serial probe runs: the call goes to the pool
/// as asked. Made by [`Pool::with_chunk_size`].
///
/// ```
/// let pool = filch::Pool::new();
/// let squares: Vec<u64> = pool.with_chunk_size(64)?.map(0..1000u64, |x| x * x);
/// assert_eq!(squares[999], 998_001);
/// # Ok::<(), filch::ChunkSizeError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Chunked<'p> {
    pool: &'p Pool,
    chunk: NonZeroUsize,
}

impl<'p> Chunked<'p> {
    pub(crate) fn new(pool: &'p Pool, chunk_size: usize) -> Result<Self, ChunkSizeError> {
        let chunk = NonZeroUsize::new(chunk_size).ok_or(ChunkSizeError)?;
        Ok(Chunked::of(pool, chunk))
    }

    pub(crate) fn of(pool: &'p Pool, chunk: NonZeroUsize) -> Self {
        Chunked { pool, chunk }
    }

    /// The chunk size.
    ///
    /// ```
    /// assert_eq!(filch::Pool::new().with_chunk_size(8).unwrap().chunk_size(), 8);
    /// ```
    pub fn chunk_size(&self) -> usize {
        self.chunk.get()
    }

    fn target(&self) -> Target<'p> {
        Target::Pool(self.pool.scheduler())
    }

    fn chunking(&self) -> Chunking {
        Chunking::Fixed(self.chunk)
    }

    /// [`Pool::map`] with this chunk size.
    ///
    /// ```
    /// let v: Vec<i32> = filch::Pool::new().with_chunk_size(2).unwrap().map(0..5, |x| x + 1);
    /// assert_eq!(v, [1, 2, 3, 4, 5]);
    /// ```
    pub fn map<I, F, R>(&self, items: I, f: F) -> Vec<R>
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) -> R + Sync + Send,
        R: Send,
    {
        ops::map(self.target(), self.chunking(), items, f)
    }

    /// [`Pool::starmap`] with this chunk size.
    ///
    /// ```
    /// let v: Vec<i32> = filch::Pool::new().with_chunk_size(1).unwrap().starmap(vec![(1, 2)], |a, b| a * b);
    /// assert_eq!(v, [2]);
    /// ```
    pub fn starmap<I, F, R>(&self, items: I, f: F) -> Vec<R>
    where
        I: IntoIterator,
        I::Item: Unpack<F, Output = R> + Send,
        I::IntoIter: Send,
        F: Sync + Send,
        R: Send,
    {
        ops::starmap(self.target(), self.chunking(), items, f)
    }

    /// [`Pool::for_each`] with this chunk size.
    ///
    /// ```
    /// let mut v = vec![1u64; 100];
    /// filch::Pool::new().with_chunk_size(16)?.for_each(&mut v, |x| *x += 1);
    /// assert!(v.iter().all(|&x| x == 2));
    /// # Ok::<(), filch::ChunkSizeError>(())
    /// ```
    pub fn for_each<I, F>(&self, items: I, f: F)
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) + Sync + Send,
    {
        ops::for_each(self.target(), self.chunking(), items, f);
    }

    /// [`Pool::map_reduce`] with this chunk size.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let sum = pool.with_chunk_size(100)?.map_reduce(0..1000u64, |x| x, || 0, |a, b| a + b);
    /// assert_eq!(sum, 499_500);
    /// # Ok::<(), filch::ChunkSizeError>(())
    /// ```
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
        ops::map_reduce(self.target(), self.chunking(), items, f, identity, combine)
    }

    /// [`Pool::imap_scope`] with this chunk size for its iterators.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let data = vec![1u64, 2, 3, 4];
    /// let v: Vec<u64> = pool.with_chunk_size(2)?.imap_scope(|s| s.imap(&data, |&x| x + 1).collect());
    /// assert_eq!(v, [2, 3, 4, 5]);
    /// # Ok::<(), filch::ChunkSizeError>(())
    /// ```
    pub fn imap_scope<'s, OP, T>(&self, op: OP) -> T
    where
        OP: for<'a> FnOnce(&ImapScope<'a, 's>) -> T + Send,
        T: Send,
    {
        self.pool.scope_imaps(self.chunking(), op)
    }

    /// [`Pool::map_async`] with this chunk size.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let handle = pool.with_chunk_size(4)?.map_async(0..10u64, |x| x + 1);
    /// assert_eq!(handle.get()[9], 10);
    /// # Ok::<(), filch::ChunkSizeError>(())
    /// ```
    pub fn map_async<I, F, R>(&self, items: I, f: F) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator + Send + 'static,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) -> R + Sync + Send + 'static,
        R: Send + 'static,
    {
        self.pool.map_async_with(self.chunking(), items, f)
    }

    /// [`Pool::starmap_async`] with this chunk size.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let handle = pool.with_chunk_size(1)?.starmap_async(vec![(2, 3)], |a: i32, b: i32| a * b);
    /// assert_eq!(handle.get(), [6]);
    /// # Ok::<(), filch::ChunkSizeError>(())
    /// ```
    pub fn starmap_async<I, F, R>(&self, items: I, f: F) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator + Send + 'static,
        I::Item: Unpack<F, Output = R> + Send,
        I::IntoIter: Send,
        F: Sync + Send + 'static,
        R: Send + 'static,
    {
        self.pool.starmap_async_with(self.chunking(), items, f)
    }

    /// [`Pool::try_map`] with this chunk size.
    ///
    /// ```
    /// let r: Result<Vec<u32>, String> =
    ///     filch::Pool::new().with_chunk_size(4).unwrap().try_map(0..10u32, |x| Ok(x));
    /// assert_eq!(r.unwrap().len(), 10);
    /// ```
    pub fn try_map<I, F, R, E>(&self, items: I, f: F) -> Result<Vec<R>, E>
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        F: Fn(I::Item) -> Result<R, E> + Sync + Send,
        R: Send,
        E: Send,
    {
        ops::try_map(self.target(), self.chunking(), items, f)
    }

    /// [`Pool::map_init`] with this chunk size.
    ///
    /// ```
    /// let v: Vec<u64> = filch::Pool::new()
    ///     .with_chunk_size(16)
    ///     .unwrap()
    ///     .map_init(0..100u64, || 1u64, |one, x| x * *one);
    /// assert_eq!(v[99], 99);
    /// ```
    pub fn map_init<I, INIT, S, F, R>(&self, items: I, init: INIT, f: F) -> Vec<R>
    where
        I: IntoIterator,
        I::Item: Send,
        I::IntoIter: Send,
        INIT: Fn() -> S + Sync + Send,
        F: Fn(&mut S, I::Item) -> R + Sync + Send,
        R: Send,
    {
        ops::map_init(self.target(), self.chunking(), items, init, f)
    }

    /// [`Pool::imap`] with this chunk size.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let v: Vec<u64> = pool.with_chunk_size(3).unwrap().imap(0u64.., |x| x * 2).take(5).collect();
    /// assert_eq!(v, [0, 2, 4, 6, 8]);
    /// ```
    pub fn imap<I, F, R>(&self, items: I, f: F) -> Imap<'p, I::IntoIter, F, R>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        Imap::new(self.pool.scheduler(), items.into_iter(), f, self.chunking())
    }

    /// [`Pool::imap_unordered`] with this chunk size.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// let mut v: Vec<u64> = pool.with_chunk_size(3).unwrap().imap_unordered(0..10u64, |x| x).collect();
    /// v.sort();
    /// assert_eq!(v, (0..10).collect::<Vec<_>>());
    /// ```
    pub fn imap_unordered<I, F, R>(&self, items: I, f: F) -> ImapUnordered<'p, I::IntoIter, F, R>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        ImapUnordered::new(self.pool.scheduler(), items.into_iter(), f, self.chunking())
    }
}
