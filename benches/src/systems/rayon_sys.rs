//! rayon as a comparison system: a dedicated `rayon::ThreadPool` with the same thread count
//! as the filch pool (never rayon's global pool, whose size and warm-up would differ), and
//! every operation run through `pool.install` so it executes on that pool.

use std::ops::Range;
use std::sync::mpsc;

use rayon::prelude::*;

use crate::workloads::{ForkJoinTask, Joiner};

/// A rayon thread pool of a known size.
#[derive(Debug)]
pub struct Rayon {
    pool: rayon::ThreadPool,
}

impl Rayon {
    /// A pool of `threads` threads.
    ///
    /// # Errors
    /// rayon's build error, as text.
    pub fn new(threads: usize) -> Result<Rayon, String> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("rayon-bench-{i}"))
            .build()
            .map(|pool| Rayon { pool })
            .map_err(|e| format!("rayon pool of {threads} threads: {e}"))
    }

    /// The pool's thread count.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// The pool itself, for the big-input section, which writes each call as a user
    /// would.
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// `items.par_iter().map(f).collect()` on this pool.
    pub fn map_slice<T, R, F>(&self, items: &[T], f: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync + Send,
    {
        self.pool.install(|| items.par_iter().map(f).collect())
    }

    /// A map of maps: nested `par_iter`s on this pool.
    pub fn nested_map<F>(&self, outer: &[u64], inner: &[u64], f: F) -> Vec<Vec<f64>>
    where
        F: Fn(u64, u64) -> f64 + Sync + Send,
    {
        self.pool.install(|| {
            outer
                .par_iter()
                .map(|&o| inner.par_iter().map(|&i| f(o, i)).collect())
                .collect()
        })
    }

    /// `range.into_par_iter().map(f).collect()` on this pool.
    pub fn map_range<R, F>(&self, range: Range<i64>, f: F) -> Vec<R>
    where
        R: Send,
        F: Fn(i64) -> R + Sync + Send,
    {
        self.pool.install(|| range.into_par_iter().map(f).collect())
    }

    /// Runs `task` inside the pool with [`rayon::join`] forking.
    pub fn run_task<T: ForkJoinTask>(&self, task: &T) -> T::Output {
        self.pool.install(|| task.run::<RayonJoin>())
    }

    /// One round trip to an idle pool: `pool.spawn` a job that sends `1` back over a channel,
    /// and wait for it. rayon has no future/handle type, so a channel is the idiomatic way.
    pub fn spawn_round_trip(&self) -> u64 {
        let (tx, rx) = mpsc::sync_channel(1);
        self.pool.spawn(move || {
            // The receiver outlives the job: we block on it right below.
            let _ = tx.send(1u64);
        });
        rx.recv()
            .expect("rayon job dropped its sender without sending")
    }
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
    let pool = Rayon::new(threads).expect("building a rayon pool");
    pool.map_slice(items, f)
}

/// The rayon [`Joiner`]: [`rayon::join`], which forks on the pool of the current worker.
#[derive(Debug, Clone, Copy, Default)]
pub struct RayonJoin;

impl Joiner for RayonJoin {
    #[inline]
    fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        rayon::join(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::FibTask;

    #[test]
    fn map_keeps_order_and_task_runs_on_the_pool() {
        let pool = Rayon::new(2).unwrap();
        assert_eq!(pool.threads(), 2);
        assert_eq!(pool.map_slice(&[1, 2, 3], |x| x + 1), vec![2, 3, 4]);
        assert_eq!(pool.map_range(0..3, |x| x * 2), vec![0, 2, 4]);
        assert_eq!(pool.run_task(&FibTask(15)), 610);
        assert_eq!(pool.spawn_round_trip(), 1);
    }
}
