//! Mapping one chunk on this rank's pool. Worker ranks map a whole chunk at
//! once (`map_chunk`); rank 0 maps its own chunks a *slice* at a time
//! (`LocalChunk`), answering the other ranks between slices, so its calling
//! thread both computes and coordinates without a second thread.
//!
//! Why not a separate thread for rank 0's share: that thread and the
//! coordinating thread then compete for the cores with the pool, and on a
//! busy host a woken coordinator waited milliseconds for a core while the
//! compute thread ran dry (seen as 4–6 ms gaps in a trace of the
//! `cluster-threshold` bench on the 2-core VM). Slicing bounds the time a
//! request waits by the slice length, whatever the OS scheduler does. On
//! `cluster-threshold --work 1000,3000,10000,30000,100000` (1000 items, 2
//! ranks × 1 thread, two A/B runs) the cluster went from 0.32–0.45x of a
//! serial loop to 0.77x at 1 µs per item, from 0.23–0.62x to 1.24–1.27x at
//! 3 µs, from 0.88x to 1.44–1.50x at 10 µs and from 1.01–1.09x to 1.70x at
//! 30 µs.

use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use filch::Pool;

use crate::error::panic_message;
use crate::wire::ChunkOutcome;

/// The wall time of one slice of rank 0's chunk, in ns: how long a worker's
/// request can wait while rank 0 computes. Small against a chunk's ~5 ms,
/// large against the cost of one `Pool::map` call (~1 µs from outside a
/// 1-thread pool, tens of µs to fork and join several threads).
pub(crate) const SLICE_NS: f64 = 250_000.0;

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
            elapsed_ns: elapsed_ns(start),
        },
        Err(payload) => ChunkOutcome::Panicked(panic_message(&*payload)),
    }
}

/// Wall time since `start` in ns, saturating.
pub(crate) fn elapsed_ns(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A chunk rank 0 is mapping itself, a slice per call to [`step`](Self::step).
#[derive(Debug)]
pub(crate) struct LocalChunk<T, R> {
    /// The chunk's index in the call.
    pub(crate) chunk: u64,
    /// Its number of items.
    pub(crate) items: usize,
    todo: std::vec::IntoIter<T>,
    results: Vec<R>,
    /// Time spent mapping slices (not coordinating), for the chunk sizer.
    busy_ns: u64,
}

impl<T: Send, R: Send> LocalChunk<T, R> {
    /// Chunk number `chunk` with `items`, nothing mapped yet.
    pub(crate) fn new(chunk: u64, items: Vec<T>) -> Self {
        LocalChunk {
            chunk,
            items: items.len(),
            results: Vec::with_capacity(items.len()),
            todo: items.into_iter(),
            busy_ns: 0,
        }
    }

    /// Maps the next `slice` items (at least one); once the chunk is done
    /// or `f` panicked, returns its outcome.
    pub(crate) fn step<F>(&mut self, pool: &Pool, f: &F, slice: usize) -> Option<ChunkOutcome<R>>
    where
        F: Fn(T) -> R + Sync + Send,
    {
        let start = Instant::now();
        let slice: Vec<T> = self.todo.by_ref().take(slice.max(1)).collect();
        match panic::catch_unwind(AssertUnwindSafe(|| pool.map(slice, f))) {
            Ok(results) => self.results.extend(results),
            Err(payload) => return Some(ChunkOutcome::Panicked(panic_message(&*payload))),
        }
        self.busy_ns = self.busy_ns.saturating_add(elapsed_ns(start));
        if self.todo.len() > 0 {
            return None;
        }
        Some(ChunkOutcome::Done {
            results: std::mem::take(&mut self.results),
            elapsed_ns: self.busy_ns,
        })
    }
}
