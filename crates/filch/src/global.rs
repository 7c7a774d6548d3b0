//! Free functions: the combinators on "the current pool", the calling
//! worker's own inside a pool and the global pool (built on first use)
//! outside.

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
