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
use crate::reserved;
use crate::sync::{AtomicUsize, Condvar, Mutex};

pub(crate) type Payload = Box<dyn Any + Send>;

/// A chunk's outputs: every result computed before a panic of `f`, then
/// that panic, if any (the chunk's later inputs are dropped unrun).
pub(crate) struct Computed<R> {
    pub(crate) values: Vec<R>,
    pub(crate) panic: Option<Payload>,
}

pub(crate) enum Slot<T, R> {
    Pending(Vec<T>),
    Running,
    Done(Computed<R>),
    /// The input iterator panicked here: always the window's last slot,
    /// taken only once every slot before it has been.
    Failed(Payload),
}

/// In-flight chunks; `slots[0]` has id `base`. `None` marks a chunk taken
/// out of order (unordered mode).
pub(crate) struct Window<T, R> {
    pub(crate) base: u64,
    pub(crate) slots: VecDeque<Option<Slot<T, R>>>,
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

impl<T, R> Window<T, R> {
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

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut Slot<T, R>> {
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

pub(crate) struct Shared<T, R> {
    pub(crate) window: Mutex<Window<T, R>>,
    pub(crate) done: Condvar,
    /// Bumped with every notification of `done`, after the window's change
    /// is made and its mutex released, so a consumer can watch for news for
    /// a few µs before it blocks (see "Claim or wait").
    pub(crate) news: AtomicUsize,
}

impl<T, R> Shared<T, R> {
    pub(crate) fn new(window: Window<T, R>) -> Self {
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
pub(crate) fn run_chunk<T, R, F: Fn(T) -> R>(shared: &Shared<T, R>, f: &F, id: u64) {
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
    let count = items.len() as u64;
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
                ChunkBlocked::<T, R>::hook,
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
pub(crate) struct ChunkBlocked<'s, T, R> {
    pub(crate) shared: &'s Shared<T, R>,
    pub(crate) counted: Cell<bool>,
}

impl<T, R> ChunkBlocked<'_, T, R> {
    /// # Safety
    /// `this` must point to a live `ChunkBlocked<T, R>` on this thread.
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
pub(crate) fn compute<T, R, F: Fn(T) -> R>(f: &F, items: Vec<T>) -> Computed<R> {
    let mut values = Vec::with_capacity(items.len());
    // `extend` keeps the values pushed before an unwinding `f`.
    let panic =
        panic::catch_unwind(AssertUnwindSafe(|| values.extend(items.into_iter().map(f)))).err();
    Computed { values, panic }
}

/// Reads up to `n` items, keeping those read before a panic of the input
/// iterator, and that panic. The items the input promises (its size
/// hint's lower bound) go into reserved slots (`reserved.rs`); only items
/// beyond the promise are pushed.
pub(crate) fn pull<I: Iterator>(input: &mut I, n: usize) -> (Vec<I::Item>, Option<Payload>) {
    let promised = input.size_hint().0.min(n);
    let mut items: Vec<I::Item> = Vec::with_capacity(promised);
    let panic = panic::catch_unwind(AssertUnwindSafe(|| {
        if reserved::fill(input, &mut items, promised) < promised {
            return; // the input ended early
        }
        for _ in promised..n {
            let Some(item) = input.next() else { break };
            items.push(item);
        }
    }))
    .err();
    (items, panic)
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
pub(crate) fn take_chunk<T, R, C: FnMut(Vec<T>) -> Computed<R>>(
    shared: &Shared<T, R>,
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
        let position = |window: &Window<T, R>, want: fn(&Slot<T, R>) -> bool| {
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
    use std::rc::Rc;

    /// An input that promises its whole length, yields `Rc` clones (so
    /// every item's drop is counted) and panics at item `panic_at`.
    fn input(len: usize, panic_at: usize, token: &Rc<()>) -> impl Iterator<Item = Rc<()>> + '_ {
        (0..len).map(move |i| {
            assert!(i != panic_at, "input panics at {i}");
            Rc::clone(token)
        })
    }

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

    #[test]
    fn pull_keeps_every_item_read_before_an_input_panic_and_drops_each_once() {
        let token = Rc::new(());
        let mut it = input(10, 6, &token);
        let (items, panic) = pull(&mut it, 8);
        assert_eq!(items.len(), 6);
        assert!(panic.is_some());
        assert_eq!(Rc::strong_count(&token), 7);
        drop(items);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn pull_reads_past_the_promise_and_stops_at_the_end_or_at_n() {
        let token = Rc::new(());
        // A lower bound of 0: every item goes through the push path.
        let mut unsized_input = input(5, usize::MAX, &token).filter(|_| true);
        let (items, panic) = pull(&mut unsized_input, 3);
        assert_eq!((items.len(), panic.is_none()), (3, true));
        let (rest, _) = pull(&mut unsized_input, 10);
        assert_eq!(rest.len(), 2);
        let mut exact = input(5, usize::MAX, &token);
        assert_eq!(pull(&mut exact, 4).0.len(), 4);
        assert_eq!(pull(&mut exact, 4).0.len(), 1);
        drop((items, rest));
        assert_eq!(Rc::strong_count(&token), 1);
    }
}

/// loom models of the window protocol: run with
/// `RUSTFLAGS="--cfg loom" cargo test -p filch --release --lib loom`.
#[cfg(all(test, loom))]
#[path = "imap_loom_models.rs"]
mod loom_models;
