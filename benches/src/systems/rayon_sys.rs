//! rayon as a comparison system: a dedicated `rayon::ThreadPool` with the same thread count
//! as the filch pool (never rayon's global pool, whose size and warm-up would differ), every
//! operation run through `pool.install` so it executes on that pool.

use std::sync::mpsc;

use crate::workloads::{ForkJoinTask, Joiner};

/// A pool of `threads` threads.
///
/// # Errors
/// rayon's build error, as text.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("rayon-bench-{i}"))
        .build()
        .map_err(|e| format!("rayon pool of {threads} threads: {e}"))
}

/// Runs `task` inside the pool with [`rayon::join`] forking.
pub fn run_task<T: ForkJoinTask>(pool: &rayon::ThreadPool, task: &T) -> T::Output {
    pool.install(|| task.run::<RayonJoin>())
}

/// One round trip to an idle pool: `pool.spawn` a job that sends `1` back over a channel,
/// and wait for it. rayon has no future/handle type, so a channel is the idiomatic way.
pub fn spawn_round_trip(pool: &rayon::ThreadPool) -> u64 {
    let (tx, rx) = mpsc::sync_channel(1);
    pool.spawn(move || {
        // The receiver outlives the job: it is waited on right below.
        let _ = tx.send(1u64);
    });
    rx.recv()
        .expect("rayon job dropped its sender without sending")
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
    fn tasks_and_round_trips_run_on_the_pool() {
        let pool = pool(2).unwrap();
        assert_eq!(pool.current_num_threads(), 2);
        assert_eq!(run_task(&pool, &FibTask(15)), 610);
        assert_eq!(spawn_round_trip(&pool), 1);
    }
}
