//! filch as a comparison system: a pool of a known size and the [`Joiner`] that forks
//! with `filch::join`. Experiments call `filch::Pool` directly, as a user does; the pool is
//! built with an explicit thread count (the rayon pool's), never `Pool::new()`'s default,
//! so the two libraries always run on equally many threads.

use crate::workloads::{ForkJoinTask, Joiner};

/// A pool of `threads` threads.
///
/// # Errors
/// filch's `BuildError`, as text.
pub fn pool(threads: usize) -> Result<filch::Pool, String> {
    filch::Pool::builder()
        .threads(threads)
        .build()
        .map_err(|e| format!("filch pool of {threads} threads: {e}"))
}

/// Checks up front that filch accepts `chunk` as an explicit chunk size, so the timed
/// chunked maps cannot fail half-way through a sweep.
///
/// # Errors
/// filch's `ChunkSizeError`, as text.
pub fn check_chunk_size(pool: &filch::Pool, chunk: usize) -> Result<(), String> {
    pool.with_chunk_size(chunk)
        .map(|_| ())
        .map_err(|e| format!("chunk size {chunk}: {e}"))
}

/// Runs `task` inside the pool (`pool.install`) with [`filch::join`] forking.
pub fn run_task<T: ForkJoinTask>(pool: &filch::Pool, task: &T) -> T::Output {
    pool.install(|| task.run::<FilchJoin>())
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
    use crate::workloads::FibTask;

    #[test]
    fn the_pool_has_its_threads_and_chunk_sizes_are_checked() {
        let pool = pool(2).unwrap();
        assert_eq!(pool.threads(), 2);
        assert!(check_chunk_size(&pool, 0).is_err());
        check_chunk_size(&pool, 7).unwrap();
        assert_eq!(run_task(&pool, &FibTask(15)), 610);
    }
}
