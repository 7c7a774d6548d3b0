//! Rank 0's own share of the work: a thread that takes chunks from rank 0's
//! coordinator over a channel, maps them on the local pool, and sends back
//! the results, so rank 0 computes while its calling thread keeps answering
//! the other ranks. Remote ranks map their chunks the same way (`map_chunk`).

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use filch::Pool;

use crate::error::panic_message;
use crate::wire::ChunkOutcome;

/// A chunk for the lane: its index and items.
pub(crate) type LaneJob<T> = (u64, Vec<T>);

/// A chunk the lane finished: its index and outcome.
pub(crate) type LaneDone<R> = (u64, ChunkOutcome<R>);

/// Maps one chunk on `pool`, timing it and turning a panic of `f` into
/// [`ChunkOutcome::Panicked`] (the chunk's other results are dropped, as the
/// local pool's `map` drops them when it resumes a panic).
pub(crate) fn map_chunk<T, R, F>(pool: &Pool, f: &F, items: Vec<T>) -> ChunkOutcome<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync + Send,
{
    let start = Instant::now();
    match panic::catch_unwind(AssertUnwindSafe(|| pool.map(items, f))) {
        Ok(results) => ChunkOutcome::Done {
            results,
            elapsed_ns: u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
        },
        Err(payload) => ChunkOutcome::Panicked(panic_message(&*payload)),
    }
}

/// The lane's loop: runs until the coordinator drops its job sender (the
/// call is over) or stops listening for results.
pub(crate) fn run_lane<T, R, F>(
    pool: &Pool,
    f: &F,
    jobs: Receiver<LaneJob<T>>,
    done: Sender<LaneDone<R>>,
) where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync + Send,
{
    for (chunk, items) in jobs {
        if done.send((chunk, map_chunk(pool, f, items))).is_err() {
            return;
        }
    }
}
