//! `filch::blocking`: the scheduler's `blocking`, plus a hand to the call
//! that is blocking, so a stand-in thread can take over its items.

/// Runs `f`, a region that waits (I/O, a lock, a channel, a sleep), letting
/// the pool keep its configured number of threads computing meanwhile: a
/// spare thread stands in for a blocked worker, and the `map` (or `starmap`,
/// `try_map`, `map_init`, `imap` chunk) the blocked thread is working on
/// offers its remaining items to the stand-in: a call from outside the pool
/// queues one more helper; a call on a worker splits its rest into single
/// items once one of them has blocked. Off the pool it just runs `f`.
///
/// ```
/// use std::time::Duration;
///
/// let pool = filch::Pool::builder().threads(2).build()?;
/// // Ten items that wait 20 ms each: with `blocking`, far more than two wait at once.
/// let out: Vec<u32> = pool.with_chunk_size(1)?.map(0..10u32, |i| {
///     filch::blocking(|| std::thread::sleep(Duration::from_millis(20)));
///     i
/// });
/// assert_eq!(out, (0..10).collect::<Vec<_>>());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// See [`filch_scheduler::blocking`] for the spare protocol, and
/// [`PoolBuilder::max_spare_threads`](crate::PoolBuilder::max_spare_threads)
/// for the cap.
///
/// # Panics
/// Resumes a panic of `f` with its original payload.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    BLOCKS.with(|b| b.set(b.get().wrapping_add(1)));
    crate::share::offer_more_help();
    filch_scheduler::blocking(f)
}

thread_local! {
    /// How many times this thread has entered `blocking`: the engine reads
    /// it around a batch to learn that its items block.
    static BLOCKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// See [`BLOCKS`].
#[inline]
pub(crate) fn blocks_on_this_thread() -> u64 {
    BLOCKS.with(std::cell::Cell::get)
}
