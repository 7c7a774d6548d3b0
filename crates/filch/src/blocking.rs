//! `filch::blocking`: the scheduler's `blocking`, plus a hand to the call
//! that is blocking, so a stand-in thread can take over its items.

/// Runs `f`, a region that waits (I/O, a lock, a channel, a sleep), letting
/// the pool keep its configured number of threads computing meanwhile: a
/// spare thread stands in for a blocked worker, and the call the blocked
/// thread is working on offers its remaining items to the stand-ins:
/// - `map`, `starmap`, `try_map`, `map_init`: if the first item blocks, the
///   rest of the call is shared at once (one item per claim while items
///   keep blocking); a participant that blocks later queues one more helper;
///   a call on a worker splits its rest into single items once one blocked.
/// - `imap`, `imap_unordered`: a blocking chunk widens the window by one
///   chunk while it runs; a blocking consumer reads ahead first, by up to
///   the pool's spare cap.
///
/// So ten items that each wait 200 ms take about 200 ms on a 2-thread pool,
/// with automatic chunking. Off the pool it just runs `f`.
///
/// ```
/// use std::time::Duration;
///
/// let pool = filch::Pool::builder().threads(2).build()?;
/// // Ten items that wait 20 ms each: with `blocking`, far more than two wait at once.
/// let out: Vec<u32> = pool.map(0..10u32, |i| {
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
    if let Some((data, hook)) = ON_BLOCK.with(Cell::get) {
        // SAFETY: installed by a live `OnBlock` on this thread, whose
        // creator promised `data` stays valid for `hook` while it lives.
        unsafe { hook(data) };
    }
    filch_scheduler::blocking(f)
}

/// What to do when this thread blocks, with its argument.
type Hook = (*const (), unsafe fn(*const ()));

thread_local! {
    /// The hook of the innermost piece of work this thread is running that
    /// can hand work to others when it blocks (`shared_call.rs`'s participants,
    /// `first_item.rs`'s armed first item, `imap_window.rs`'s chunks and
    /// `imap_core.rs`'s consumer). Innermost only: a hook is replaced, not
    /// stacked, while a nested piece runs, so `blocking` helps the work it is
    /// part of.
    static ON_BLOCK: Cell<Option<Hook>> = const { Cell::new(None) };
}

/// While alive, [`blocking`] on this thread calls its hook first (each time
/// it is entered: hooks make repeats cheap themselves).
pub(crate) struct OnBlock {
    previous: Option<Hook>,
}

impl OnBlock {
    /// Installs `hook(data)` until the guard drops.
    ///
    /// # Safety
    /// `hook(data)` must be sound to call on this thread for as long as the
    /// guard lives (usually: `data` points at a local that outlives it).
    #[inline]
    pub(crate) unsafe fn enter(data: *const (), hook: unsafe fn(*const ())) -> Self {
        OnBlock {
            previous: ON_BLOCK.with(|h| h.replace(Some((data, hook)))),
        }
    }
}

impl Drop for OnBlock {
    #[inline]
    fn drop(&mut self) {
        ON_BLOCK.with(|h| h.set(self.previous));
    }
}

use std::cell::Cell;

thread_local! {
    /// How many times this thread has entered `blocking`: the engine reads
    /// it around a batch to learn that its items block.
    static BLOCKS: Cell<u64> = const { Cell::new(0) };
}

/// See [`BLOCKS`].
#[inline]
pub(crate) fn blocks_on_this_thread() -> u64 {
    BLOCKS.with(Cell::get)
}
