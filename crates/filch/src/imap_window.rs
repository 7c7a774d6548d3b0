//! The window of an `imap` call: the chunks in flight and their slots,
//! how a chunk is run (by a worker, or by the consumer) and taken, and how
//! the consumer waits for one. The protocol ("Claim or wait", "Failures",
//! "Blocking items", "Cancellation") is described in `imap_core.rs`, and
//! model-checked in `imap_loom_models.rs`.

use std::any::Any;
use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use std::sync::atomic::Ordering;

use crate::blocking::OnBlock;
use crate::clock;
use crate::sync::{AtomicUsize, Condvar, Mutex};

pub(crate) type Payload = Box<dyn Any + Send>;

/// A chunk's outputs: every result computed before a panic of `f`, then
/// that panic, if any (the chunk's later inputs are dropped unrun).
pub(crate) struct Computed<R> {
    pub(crate) values: Vec<R>,
    pub(crate) panic: Option<Payload>,
}

/// A chunk's inputs as the window holds them until someone runs it,
/// mapped by an `F` to `R`s.
pub(crate) trait Batch<F, R> {
    /// How many items.
    fn len(&self) -> usize;

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Maps every item in order into `out`; an unwinding `f` leaves the
    /// values computed before it in `out`, and drops the items after it.
    fn map_into(self, f: &F, out: &mut Vec<R>);
}

impl<T, R, F: Fn(T) -> R> Batch<F, R> for Vec<T> {
    fn len(&self) -> usize {
        self.len()
    }

    fn map_into(self, f: &F, out: &mut Vec<R>) {
        out.extend(self.into_iter().map(f));
    }
}

/// `B` is the chunk's inputs: a `Vec` of items, or a piece of an input cut
/// by index (`imap_input.rs`).
pub(crate) enum Slot<B, R> {
    Pending(B),
    Running,
    Done(Computed<R>),
    /// The input iterator panicked here: always the window's last slot,
    /// taken only once every slot before it has been.
    Failed(Payload),
}

/// In-flight chunks; `slots[0]` has id `base`. `None` marks a chunk taken
/// out of order (unordered mode).
pub(crate) struct Window<B, R> {
    pub(crate) base: u64,
    pub(crate) slots: VecDeque<Option<Slot<B, R>>>,
    /// The consumer takes chunks in order: it only ever waits for the
    /// oldest one (or for `blocked` to grow), so a chunk finishing behind
    /// it does not wake it. On a machine whose cores all run workers, each
    /// needless wake-up takes a core from one of them.
    pub(crate) ordered: bool,
    /// Whether the consumer watches before it blocks (see [`Watching`]).
    pub(crate) watching: Watching,
    /// Chunks running on workers that have entered `blocking`.
    pub(crate) blocked: usize,
    /// Clock ticks and items of every chunk a worker finished, for sizing
    /// the chunks of a call that never timed items on its consumer.
    pub(crate) timed: (u64, u64),
    /// The most ticks per item of any such chunk, for the site's history.
    pub(crate) longest: u64,
}

impl<B, R> Window<B, R> {
    pub(crate) fn new() -> Self {
        Window {
            base: 0,
            slots: VecDeque::new(),
            ordered: false,
            watching: Watching::default(),
            blocked: 0,
            timed: (0, 0),
            longest: 0,
        }
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut Slot<B, R>> {
        let index = id.checked_sub(self.base)? as usize;
        self.slots.get_mut(index)?.as_mut()
    }

    /// Drops taken slots from the front.
    pub(crate) fn trim(&mut self) {
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.base += 1;
        }
    }
}

pub(crate) struct Shared<B, R> {
    pub(crate) window: Mutex<Window<B, R>>,
    pub(crate) done: Condvar,
    /// Bumped with every notification of `done`, after the window's change
    /// is made and its mutex released, so a consumer can watch for news for
    /// a few µs before it blocks (see "Claim or wait").
    pub(crate) news: AtomicUsize,
}

impl<B, R> Shared<B, R> {
    pub(crate) fn new(window: Window<B, R>) -> Self {
        Shared {
            window: Mutex::new(window),
            done: Condvar::new(),
            news: AtomicUsize::new(0),
        }
    }

    /// Tells the consumer the window changed (after the change is made).
    pub(crate) fn announce(&self) {
        self.news.fetch_add(1, Ordering::Release);
        self.done.notify_all();
    }
}

/// How long a waiting consumer watches for news before it blocks on the
/// condvar: a chunk that a worker is finishing lands within µs, and a
/// blocked consumer pays a futex wake and a reschedule on top (10-50 µs
/// here, per chunk: most of a cheap `imap`'s time before it watched).
#[cfg(not(loom))]
pub(crate) const WATCH: std::time::Duration = std::time::Duration::from_micros(20);

/// The consumer's record of whether watching pays. A watch that sees no
/// news spent [`WATCH`] of a core, which on a machine whose cores all run
/// workers is taken from one of them: so after `k ≥ 2` misses in a row
/// the consumer blocks at once for its next `2^(k-1) - 1` waits (at most
/// 15), and a watch that sees news starts the count again. Cheap chunks,
/// whose results land within a watch but for the odd miss, keep it at
/// every wait; items of half a millisecond watch at one wait in sixteen
/// instead of at every chunk.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Watching {
    misses: u32,
    skip: u32,
}

impl Watching {
    /// Most misses in a row counted: at most `2^4 - 1` waits skipped.
    const MAX_MISSES: u32 = 5;

    /// Whether to watch before this wait (if not, it counts as skipped).
    pub(crate) fn now(&mut self) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        true
    }

    /// Records whether a watch saw news.
    pub(crate) fn saw(&mut self, news: bool) {
        if news {
            self.misses = 0;
        } else {
            self.misses = (self.misses + 1).min(Self::MAX_MISSES);
            self.skip = (1 << (self.misses - 1)) - 1;
        }
    }
}

/// Whether `news` moved from `seen` within [`WATCH`].
#[cfg(not(loom))]
pub(crate) fn watch(news: &AtomicUsize, seen: usize) -> bool {
    let start = std::time::Instant::now();
    loop {
        for _ in 0..32 {
            if news.load(Ordering::Acquire) != seen {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= WATCH {
            return false;
        }
    }
}

/// Under loom (no clock): one look.
#[cfg(loom)]
pub(crate) fn watch(news: &AtomicUsize, seen: usize) -> bool {
    news.load(Ordering::Acquire) != seen
}

/// Runs chunk `id` if still pending; called by pool jobs.
pub(crate) fn run_chunk<B: Batch<F, R>, R, F>(shared: &Shared<B, R>, f: &F, id: u64) {
    let items = {
        let mut window = shared.window.lock();
        match window.get_mut(id) {
            Some(slot @ Slot::Pending(_)) => match std::mem::replace(slot, Slot::Running) {
                Slot::Pending(items) => items,
                _ => unreachable!("matched Pending above"),
            },
            _ => return, // claimed by the consumer, or cancelled
        }
    };
    let count = Batch::len(&items) as u64;
    let blocked = ChunkBlocked {
        shared,
        counted: Cell::new(false),
    };
    let start = clock::now();
    let result = {
        // SAFETY: `blocked` outlives the guard; the hook gets its types.
        let _on_block = unsafe {
            OnBlock::enter(
                std::ptr::from_ref(&blocked).cast::<()>(),
                ChunkBlocked::<B, R>::hook,
            )
        };
        compute(f, items)
    };
    let ticks = clock::now().wrapping_sub(start);
    let mut window = shared.window.lock();
    if blocked.counted.get() {
        window.blocked -= 1;
    }
    window.timed.0 = window.timed.0.saturating_add(ticks);
    window.timed.1 += count;
    window.longest = window.longest.max(ticks / count.max(1));
    // Decided under the lock, as the consumer decides to wait.
    let wakes = !window.ordered || id == window.base;
    let leftover = match window.get_mut(id) {
        Some(slot) => {
            *slot = Slot::Done(result);
            None
        }
        None => Some(result), // cancelled meanwhile
    };
    drop(window);
    if wakes {
        shared.announce();
    }
    drop(leftover);
}

/// `blocking`'s hook while a worker runs a chunk: counts the chunk as
/// blocked (once) and wakes the consumer to top the window up.
pub(crate) struct ChunkBlocked<'s, B, R> {
    pub(crate) shared: &'s Shared<B, R>,
    pub(crate) counted: Cell<bool>,
}

impl<B, R> ChunkBlocked<'_, B, R> {
    /// # Safety
    /// `this` must point to a live `ChunkBlocked<B, R>` on this thread.
    pub(crate) unsafe fn hook(this: *const ()) {
        // SAFETY: per the contract.
        let this = unsafe { &*this.cast::<Self>() };
        if !this.counted.replace(true) {
            this.shared.window.lock().blocked += 1;
            this.shared.announce();
        }
    }
}

/// Maps `items` in order, keeping what was computed before a panic.
pub(crate) fn compute<B: Batch<F, R>, R, F>(f: &F, items: B) -> Computed<R> {
    let mut values = Vec::with_capacity(items.len());
    let panic = panic::catch_unwind(AssertUnwindSafe(|| items.map_into(f, &mut values))).err();
    Computed { values, panic }
}

/// What the consumer got from the window.
pub(crate) enum Taken<R> {
    /// A finished chunk.
    Chunk(Computed<R>),
    /// The input's panic, after every chunk read before it.
    Failed(Payload),
    /// The window is empty.
    Empty,
    /// Blocked chunks made room: top the window up, then ask again.
    Refill,
    /// The deadline passed first.
    TimedOut,
}

/// How the consumer waits for a chunk it needs.
pub(crate) enum Wait<C> {
    /// Runs a pending chunk itself (with this function) rather than wait
    /// for nobody.
    Help(C),
    /// Waits for the pool, at most until the deadline if one is given.
    Pool(Option<Instant>),
}

/// The consumer's side of the window: the next finished chunk, the oldest
/// (ordered) or any (unordered), running a pending one itself if `wait`
/// says so. With `refill_below` (the window's normal size, while the input
/// has more), a wait ends with `Refill` once blocked chunks leave room.
pub(crate) fn take_chunk<B, R, C: FnMut(B) -> Computed<R>>(
    shared: &Shared<B, R>,
    ordered: bool,
    refill_below: Option<usize>,
    mut wait: Wait<C>,
) -> Taken<R> {
    let mut window = shared.window.lock();
    // Finished chunks wake the consumer by the window's rule: the two must
    // agree, or a chunk would not wake the consumer waiting for it.
    debug_assert_eq!(
        ordered, window.ordered,
        "the window's order is the consumer's"
    );
    let mut may_watch = true;
    loop {
        window.trim();
        if window.slots.is_empty() {
            return Taken::Empty;
        }
        let candidates = if ordered { 1 } else { window.slots.len() };
        let position = |window: &Window<B, R>, want: fn(&Slot<B, R>) -> bool| {
            window
                .slots
                .iter()
                .take(candidates)
                .position(|s| s.as_ref().is_some_and(want))
        };
        if let Some(index) = position(&window, |s| matches!(s, Slot::Done(_))) {
            let Some(Slot::Done(result)) = window.slots[index].take() else {
                unreachable!("picked a Done slot")
            };
            window.trim();
            return Taken::Chunk(result);
        }
        if let Some(Some(Slot::Failed(_))) = window.slots.front() {
            let Some(Some(Slot::Failed(payload))) = window.slots.pop_front() else {
                unreachable!("the front is Failed")
            };
            window.base += 1;
            return Taken::Failed(payload);
        }
        if let Wait::Help(compute_here) = &mut wait {
            if let Some(index) = position(&window, |s| matches!(s, Slot::Pending(_))) {
                let Some(Slot::Pending(items)) = window.slots[index].replace(Slot::Running) else {
                    unreachable!("picked a Pending slot")
                };
                drop(window);
                let result = compute_here(items);
                let mut window = shared.window.lock();
                window.slots[index] = None; // still ours: only the consumer removes slots
                window.trim();
                return Taken::Chunk(result);
            }
        }
        if refill_below.is_some_and(|size| window.slots.len() < size + window.blocked) {
            return Taken::Refill;
        }
        if may_watch && window.watching.now() {
            // Watch for news unlocked, then look again from the top; block
            // only once a watch saw nothing (or watching has not paid).
            let seen = shared.news.load(Ordering::Relaxed);
            drop(window);
            may_watch = watch(&shared.news, seen);
            window = shared.window.lock();
            window.watching.saw(may_watch);
            continue;
        }
        match wait {
            Wait::Pool(Some(deadline)) => {
                if shared.done.wait_until(&mut window, deadline).timed_out() {
                    return Taken::TimedOut;
                }
            }
            _ => shared.done.wait(&mut window),
        }
        may_watch = true;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn watching_backs_off_after_misses_in_a_row_and_resumes_on_news() {
        let mut w = Watching::default();
        // Pattern of `now()` over `waits` waits, each watch seeing `news`.
        let mut run = |waits: usize, news: bool| -> String {
            (0..waits)
                .map(|_| {
                    if w.now() {
                        w.saw(news);
                        'w'
                    } else {
                        '.'
                    }
                })
                .collect()
        };
        // One miss skips nothing; then 1, 3, 7 and at most 15 waits.
        assert_eq!(run(1, false), "w");
        assert_eq!(run(30, false), "w.w...w.......w...............");
        assert_eq!(run(1, false), "w");
        // News at a watch: back to watching at every wait.
        assert_eq!(run(16, true), "...............w");
        assert_eq!(run(3, true), "www");
        assert_eq!(run(2, false), "ww");
    }
}

/// loom models of the window protocol: run with
/// `RUSTFLAGS="--cfg loom" cargo test -p filch --release --lib loom`.
#[cfg(all(test, loom))]
#[path = "imap_loom_models.rs"]
mod loom_models;
