//! Free functions: the combinators, `join`, `scope` and `spawn` on "the
//! current pool": the calling worker's own inside a pool, the pool whose
//! call a non-worker thread is working on, and the global pool (built on
//! first use) elsewhere.

use filch_scheduler::{Scope, ThreadPool};

use crate::caller::caller_pool;
use crate::clock;
use crate::driver::{Chunking, Target};
use crate::ops;

/// [`Pool::map`](crate::Pool::map) on the current pool.
///
/// ```
/// let v: Vec<u64> = filch::map(0..100u64, |x| x + 1);
/// assert_eq!(v[0], 1);
/// // Nested: a call inside a worker runs on that worker's pool.
/// let nested: Vec<Vec<u64>> = filch::map(0..3u64, |i| filch::map(0..3u64, move |j| i * j));
/// assert_eq!(nested[2], [0, 2, 4]);
/// ```
///
/// # Panics
/// As [`Pool::map`](crate::Pool::map).
pub fn map<I, F, R>(items: I, f: F) -> Vec<R>
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    F: Fn(I::Item) -> R + Sync + Send,
    R: Send,
{
    clock::calibrate();
    ops::map(Target::Current, Chunking::Auto, items, f)
}

/// [`Pool::try_map`](crate::Pool::try_map) on the current pool.
///
/// ```
/// let r: Result<Vec<u8>, std::num::TryFromIntError> = filch::try_map(250..260u32, u8::try_from);
/// assert!(r.is_err());
/// ```
///
/// # Panics
/// As [`Pool::map`](crate::Pool::map).
pub fn try_map<I, F, R, E>(items: I, f: F) -> Result<Vec<R>, E>
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    F: Fn(I::Item) -> Result<R, E> + Sync + Send,
    R: Send,
    E: Send,
{
    clock::calibrate();
    ops::try_map(Target::Current, Chunking::Auto, items, f)
}

/// [`Pool::for_each`](crate::Pool::for_each) on the current pool.
///
/// ```
/// let mut v = vec![1u32, 2, 3];
/// filch::for_each(&mut v, |x| *x *= 10);
/// assert_eq!(v, [10, 20, 30]);
/// ```
///
/// # Panics
/// As [`Pool::map`](crate::Pool::map).
pub fn for_each<I, F>(items: I, f: F)
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    F: Fn(I::Item) + Sync + Send,
{
    clock::calibrate();
    ops::for_each(Target::Current, Chunking::Auto, items, f);
}

/// [`Pool::map_reduce`](crate::Pool::map_reduce) on the current pool.
///
/// ```
/// let total = filch::map_reduce(1..=100u64, |x| x, || 0, |a, b| a + b);
/// assert_eq!(total, 5050);
/// ```
///
/// # Panics
/// As [`Pool::map`](crate::Pool::map).
pub fn map_reduce<I, F, R, ID, C>(items: I, f: F, identity: ID, combine: C) -> R
where
    I: IntoIterator,
    I::Item: Send,
    I::IntoIter: Send,
    F: Fn(I::Item) -> R + Sync + Send,
    ID: Fn() -> R + Sync + Send,
    C: Fn(R, R) -> R + Sync + Send,
    R: Send,
{
    clock::calibrate();
    ops::map_reduce(Target::Current, Chunking::Auto, items, f, identity, combine)
}

/// The pool a free function called here uses when the thread is no worker
/// but is working on a pool's call (a map's caller, or an `AsyncResult`
/// run by `get`): that pool, so nested work stays on it. `None` on a worker
/// (the scheduler uses the worker's own pool) and on a plain thread (the
/// global pool).
#[inline]
fn caller_pool_off_worker() -> Option<&'static ThreadPool> {
    caller_pool().filter(|_| filch_scheduler::current_thread_index().is_none())
}

/// Runs `a` and `b`, potentially in parallel, and returns `(a(), b())`.
///
/// On a worker it uses that worker's pool; on a thread working on a pool's
/// call (the caller of a `map`, or `get` running an `AsyncResult`'s job)
/// that pool; elsewhere the global pool. Forks are cheap when the pool is
/// busy: recursing with `join` down to single items is fine.
///
/// ```
/// fn fib(n: u64) -> u64 {
///     if n < 2 { return n; }
///     let (a, b) = filch::join(|| fib(n - 1), || fib(n - 2));
///     a + b
/// }
/// assert_eq!(fib(20), 6765);
/// ```
///
/// # Panics
/// Resumes a panic of `a` or `b` with its original payload; if both panic,
/// `a`'s. The other closure has either finished or never started by then.
#[inline]
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    // The caller's pool is looked up only off the pool: a fork on a worker
    // costs one thread-local read, as the scheduler's own `join`.
    filch_scheduler::join_off_pool_on(caller_pool, a, b)
}

/// Runs `op` with a [`Scope`] on the current pool (chosen as for
/// [`join`]) and returns its result once every job spawned on the scope
/// has finished.
///
/// ```
/// let data = vec![1, 2, 3];
/// let mut doubled = vec![0; 3];
/// filch::scope(|s| {
///     for (out, x) in doubled.iter_mut().zip(&data) {
///         s.spawn(move |_| *out = x * 2);
///     }
/// });
/// assert_eq!(doubled, [2, 4, 6]);
/// ```
///
/// # Panics
/// Resumes the first panic of `op` or of a spawned job, once all have
/// finished.
pub fn scope<'scope, OP, R>(op: OP) -> R
where
    OP: FnOnce(&Scope<'scope>) -> R + Send,
    R: Send,
{
    match caller_pool_off_worker() {
        Some(pool) => pool.scope(op),
        None => filch_scheduler::scope(op),
    }
}

/// Runs `job` in the background on the current pool (chosen as for
/// [`join`]). A panic in it goes to the pool's panic handler.
///
/// ```
/// use std::sync::mpsc;
///
/// let (tx, rx) = mpsc::channel();
/// filch::spawn(move || tx.send(6 * 7).unwrap());
/// assert_eq!(rx.recv().unwrap(), 42);
/// ```
pub fn spawn<F>(job: F)
where
    F: FnOnce() + Send + 'static,
{
    match caller_pool_off_worker() {
        Some(pool) => pool.spawn(job),
        None => filch_scheduler::spawn(job),
    }
}
