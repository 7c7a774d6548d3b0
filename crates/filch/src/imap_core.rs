//! The engine behind `imap` and `imap_unordered` (`imap.rs`): the consumer's
//! side of a lazy, memory-bounded parallel iteration over a window of chunks
//! (`imap_window.rs`), and the protocol both follow.
//!
//! # The window
//! The consumer (the thread calling `next`) pulls the input itself, chunk
//! by chunk, and keeps at most `4 × threads` chunks in flight in a shared
//! window; each chunk is a pool job. So an infinite input is read at most
//! that many chunks ahead of what has been yielded (Python's `imap` reads
//! the whole input first). A range or a slice's iterator is cut by index
//! instead of read (`imap_input.rs`): a chunk is the input's own iterator
//! over its sub-range, so the consumer copies no items and a worker reads
//! them where they lie.
//!
//! # Serial first
//! With automatic chunking, `next` first computes items itself, in batches
//! sized and timed like `map`'s probe, and only moves to the pool once the
//! work seen so far says it pays (`probe::PARALLEL_MIN_NS`). Chunks are then
//! sized to take about [`CHUNK_TARGET_NS`] each. As with `map`, a call from
//! outside the pool whose call site's last two first items were long (see
//! `history.rs`) goes parallel at once: it takes its first item, fills the
//! window with the rest, then computes the first item while the workers
//! start, and records it for the next call.
//!
//! The consumer's own loop bounds an ordered `imap` too: results reach the
//! caller no faster than it takes them. So the consumer also times what it
//! does with each batch it was handed ([`Drain`]), and stays serial while an
//! item costs less than [`CONSUMER_BOUND`] of that: the pool could save at
//! most one part in `CONSUMER_BOUND + 1` of the consumer's time, less than
//! reading results that another core wrote costs it. Collecting 10^6 `a + b`
//! into a `Vec` spends ~10 ns per item in the collect's own loop and page
//! faults against ~0.5 ns in the item.
//!
//! # Claim or wait
//! Each window slot moves `Pending → Running → Done` under the window's
//! mutex. Whoever claims a `Pending` slot first runs it: a worker, or the
//! consumer itself when it needs that chunk next (ordered `next`) or, on one
//! of the pool's own workers, has nothing finished to yield. So an ordered
//! consumer never waits for a job that nobody has started, and a consumer on
//! a 1-thread pool's own worker cannot deadlock. Otherwise the consumer
//! waits on the window's condition variable, which a finished chunk
//! notifies when the consumer can take it: any chunk for `imap_unordered`,
//! only the oldest for `imap` (the decision is made under the window's
//! mutex, as the consumer's decision to wait is, so no wake-up is lost).
//! Every pending chunk has its job queued, so some worker runs it. Before
//! it blocks, the consumer watches for a finished chunk for a few µs,
//! unless its last watches found none (`Watching`).
//!
//! # Completion order
//! `imap_unordered` from outside the pool never computes on its consumer:
//! a chunk it ran could hold back results the workers finish meanwhile
//! (a 600 ms item on the consumer hides 20 ms ones). With automatic
//! chunking it skips the serial probe too, unless the site's last first
//! items were short (`history.rs`): chunks start at one item and grow to
//! [`CHUNK_TARGET_NS`] by what the workers measure (`Window::timed`).
//! `next_timeout` computes nothing on its consumer either, so that it can
//! keep its deadline. A consumer on one of the pool's workers still helps:
//! its pool may have no other thread.
//!
//! # Failures
//! A panic of `f` keeps the chunk's results before it (`Computed`); a panic
//! of the input iterator keeps the items read before it, which form a last
//! chunk, and takes the next slot itself (`Slot::Failed`), taken only once
//! every slot before it is. Either way the consumer yields every result
//! before the failure, then resumes the panic, then is over.
//!
//! # Blocking items
//! Chunks whose items enter [`blocking`](crate::blocking) widen the window,
//! since a blocked thread computes nothing and a spare stands in for it:
//! - a chunk blocking on a worker counts in `Window::blocked` while it runs
//!   and wakes the consumer, which tops the window up by one more chunk;
//! - the consumer itself blocking (in a serial batch, or in a chunk it
//!   claimed) cannot top up while it waits, and only it may read the input
//!   (which need not be `Send`), so it reads ahead *before* it waits: the
//!   window widens by the pool's spare cap, and a call still in its serial
//!   phase goes parallel at once, one item per chunk.
//!
//! So ten blocking items on two threads all wait at once, and the
//! read-ahead stays bounded: at most `4 × threads + max_spare_threads`
//! chunks.
//!
//! # Cancellation
//! Dropping the iterator, or a panic reaching the consumer, clears the
//! window: pending chunks' inputs are dropped at once; running chunks finish
//! in the background and their outputs are dropped when they find their
//! slot gone. `drop` never waits for them.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::panic;
use std::sync::Arc;
use std::time::Instant;

use filch_scheduler::ThreadPool;

use crate::blocking::OnBlock;
use crate::caller::CallerScope;
use crate::clock;
use crate::driver::Chunking;
use crate::events::call_span;
use crate::history::Site;
use crate::imap_input::{Chunk, Input};
use crate::imap_jobs::Jobs;
use crate::imap_window::{
    compute, run_chunk, take_chunk, Batch, Computed, Payload, Shared, Slot, Taken, Wait, Window,
};
use crate::probe::{self, Verdict};

/// What a parallel chunk aims to cost: big enough that the per-chunk
/// overhead (a spawn, a lock, a wake-up: a few µs) is a few percent.
pub(crate) const CHUNK_TARGET_NS: u64 = 100_000;

/// Largest automatic chunk (items), bounding memory for the tiniest items.
pub(crate) const MAX_AUTO_CHUNK: usize = 16_384;

/// The automatic chunk size for items of `ns_per_item`: about
/// [`CHUNK_TARGET_NS`] of work, at least one item, at most
/// [`MAX_AUTO_CHUNK`].
fn auto_chunk(ns_per_item: u64) -> usize {
    let items = CHUNK_TARGET_NS / ns_per_item.max(1);
    usize::try_from(items).map_or(MAX_AUTO_CHUNK, |n| n.clamp(1, MAX_AUTO_CHUNK))
}

/// Largest serial batch (items) computed ahead of the consumer.
const MAX_SERIAL_BATCH: usize = 4_096;

/// A call stays serial while its items cost less than this fraction of the
/// consumer's own time per result (see "Serial first").
const CONSUMER_BOUND: u64 = 8;

/// Results the consumer must have taken before its time per result counts.
const DRAIN_MIN_ITEMS: u64 = 256;

/// The consumer's own time per result: clock ticks between handing it a
/// batch and its next call for one, summed, and the results in them.
#[derive(Clone, Copy, Debug, Default)]
struct Drain {
    /// When the batch at hand was handed over, until the consumer took it all.
    handed: Option<u64>,
    ticks: u64,
    /// Results in the batches taken all: `Core::taken` when the last was.
    items: u64,
}

impl Drain {
    /// Whether items of `ns_per_item` cost less than `1 / CONSUMER_BOUND`
    /// of what the consumer has spent per result so far.
    fn bounds(&self, ns_per_item: u64) -> bool {
        self.items >= DRAIN_MIN_ITEMS
            && ns_per_item
                .saturating_mul(CONSUMER_BOUND)
                .saturating_mul(self.items)
                <= clock::nanos(self.ticks)
    }
}

/// Chunks in flight per worker. Two (one running, one queued) left the
/// log-loop seed's `imap` 10-20% behind `map`: the consumer also runs
/// chunks, time-sliced with the workers, and while its chunk lagged the
/// finished ones behind it filled the window and the workers idled. With
/// four, `imap` matched `map` (median ratio ~0.99 over 4 runs of the seeds
/// section on the 2-core VM, against ~0.86 with two).
const IN_FLIGHT_PER_THREAD: usize = 4;

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Computing on the consumer; `compute_ns` is the time spent so far.
    Serial {
        batch: usize,
        done: usize,
        compute_ns: u64,
    },
    /// Chunks of this size go to the pool. With `adapt`, the size follows
    /// what the workers measured (the call never timed items itself).
    Parallel { chunk: usize, adapt: bool },
}

/// The input side, touched only by the consumer (also from its `blocking`
/// hook, in the middle of computing: hence the `RefCell` around it).
struct Feed<I: Iterator> {
    input: Input<I>,
    input_done: bool,
    next_id: u64,
    /// Items read from the input so far (for `size_hint`).
    items_read: usize,
    /// The input's panic during a serial batch, raised after that batch.
    failed: Option<Payload>,
}

/// A chunk of an `imap`'s input `I`, mapped by `F` to `R`s.
type ChunkOf<I, F, R> = Chunk<<I as Iterator>::Item, F, R>;

/// The window's slots, taken out of it.
type Slots<I, F, R> = VecDeque<Option<Slot<ChunkOf<I, F, R>, R>>>;

/// The machinery shared by [`Imap`] and [`ImapUnordered`]; `J` queues the
/// chunk jobs (`imap_scope.rs`).
pub(crate) struct Core<'p, J, I: Iterator, F, R> {
    pool: &'p ThreadPool,
    jobs: J,
    feed: RefCell<Feed<I>>,
    f: Arc<F>,
    shared: Arc<Shared<ChunkOf<I, F, R>, R>>,
    ready: std::vec::IntoIter<R>,
    /// A panic to resume once `ready` is drained; the call is over.
    held: Option<Payload>,
    phase: Cell<Phase>,
    max_in_flight: usize,
    /// The consumer is one of the pool's workers: it must run pending
    /// chunks itself when it waits (its pool may have no other thread).
    on_worker: bool,
    /// The consumer is inside `blocking`: the window may widen by the
    /// pool's spare cap (see "Blocking items").
    consumer_blocked: Cell<bool>,
    /// The consumer's own time per result (see "Serial first").
    drain: Cell<Drain>,
    finished: bool,
    /// Results moved into `ready` so far (for `size_hint`).
    taken: usize,
    /// This call site, for the first-item history (see "Serial first").
    site: Site,
}

impl<'p, 's, J, I, F, R> Core<'p, J, I, F, R>
where
    J: Jobs<'s>,
    I: Iterator,
    I::Item: Send + 's,
    F: Fn(I::Item) -> R + Send + Sync + 's,
    R: Send + 's,
{
    pub(crate) fn new(
        pool: &'p ThreadPool,
        jobs: J,
        input: I,
        f: F,
        chunking: Chunking,
        ordered: bool,
    ) -> Self {
        // `run_chunk` has the user's function inlined: an address unique
        // to the call site's code, as `drive` is for `map`.
        let site = Site::new(
            run_chunk::<ChunkOf<I, F, R>, R, F> as fn(&Shared<ChunkOf<I, F, R>, R>, &F, u64)
                as usize,
        );
        let on_worker = pool.current_thread_index().is_some();
        let phase = match chunking {
            Chunking::Fixed(chunk) => Phase::Parallel {
                chunk: chunk.get(),
                adapt: false,
            },
            // Completion order from outside: the consumer computes nothing
            // it could be stuck in, not even a probe batch, unless this
            // site's last first items were short (see "Completion order").
            Chunking::Auto if !ordered && !on_worker && !known_short(site) => Phase::Parallel {
                chunk: 1,
                adapt: true,
            },
            Chunking::Auto => Phase::Serial {
                batch: 1,
                done: 0,
                compute_ns: 0,
            },
        };
        Core {
            pool,
            jobs,
            feed: RefCell::new(Feed {
                input: Input::new(input),
                input_done: false,
                next_id: 0,
                items_read: 0,
                failed: None,
            }),
            f: Arc::new(f),
            shared: Arc::new(Shared::new(Window {
                ordered,
                ..Window::new()
            })),
            ready: Vec::new().into_iter(),
            held: None,
            phase: Cell::new(phase),
            max_in_flight: IN_FLIGHT_PER_THREAD * pool.num_threads(),
            on_worker,
            consumer_blocked: Cell::new(false),
            drain: Cell::new(Drain::default()),
            finished: false,
            taken: 0,
            site,
        }
    }

    /// The next result. `ordered`: the oldest; else any finished one. With
    /// a `deadline`, the consumer computes nothing and gives up at it
    /// (`Err(TimedOut)`); a consumer on a worker ignores the deadline.
    pub(crate) fn next(
        &mut self,
        ordered: bool,
        deadline: Option<Instant>,
    ) -> Result<Option<R>, TimedOut> {
        let deadline = deadline.filter(|_| !self.on_worker);
        // Items the consumer computes belong to the pool: a free function
        // they call goes to it, not to the global pool (`caller.rs`).
        let pool = self.pool;
        let _caller = (!self.on_worker).then(|| CallerScope::enter(pool));
        if deadline.is_some() {
            self.leave_serial_phase();
        }
        // The consumer may compute what it waits for when it needs that
        // very chunk (ordered), or when it is a worker (its pool may have
        // no other thread); else it waits, so that no finished result
        // waits behind a chunk it runs.
        let helps = deadline.is_none() && (ordered || self.on_worker);
        if self.ready.len() == 0 {
            self.drained();
        }
        loop {
            if let Some(item) = self.ready.next() {
                return Ok(Some(item));
            }
            if let Some(payload) = self.held.take() {
                panic::resume_unwind(payload);
            }
            if self.finished {
                return Ok(None);
            }
            let taken = match self.phase.get() {
                Phase::Serial { .. } => match self.serial_batch() {
                    Some(result) => Taken::Chunk(result),
                    None => Taken::Empty,
                },
                Phase::Parallel { .. } => {
                    self.fill();
                    self.next_chunk(ordered, helps, deadline)
                }
            };
            match taken {
                Taken::Chunk(Computed { values, panic }) => {
                    self.taken += values.len();
                    self.handed();
                    self.ready = values.into_iter();
                    let input_failed = self.feed.get_mut().failed.take();
                    if let Some(payload) = panic.or(input_failed) {
                        self.fail(payload);
                    }
                }
                Taken::Failed(payload) => self.fail(payload),
                Taken::Refill => {}
                Taken::Empty => self.finished = true,
                Taken::TimedOut => return Err(TimedOut),
            }
        }
    }

    /// A lower bound on the results still to come (see `size_hint`).
    pub(crate) fn results_left(&self) -> usize {
        let ready = self.ready.len();
        if self.held.is_some() || self.finished {
            return ready;
        }
        let Ok(feed) = self.feed.try_borrow() else {
            return ready;
        };
        if feed.failed.is_some() {
            return ready;
        }
        let unread = if feed.input_done {
            0
        } else {
            match feed.input.size_hint() {
                (low, Some(high)) if low == high => low,
                _ => return ready,
            }
        };
        let in_window = feed.items_read.saturating_sub(self.taken);
        ready.saturating_add(in_window).saturating_add(unread)
    }

    /// `next` once the chunk at hand is used up (kept out of line, so the
    /// per-item path stays a slice read).
    #[inline(never)]
    pub(crate) fn next_slow(&mut self, ordered: bool) -> Option<R> {
        let _span = call_span!("imap.next_chunk");
        match self.next(ordered, None) {
            Ok(next) => next,
            Err(TimedOut) => unreachable!("no deadline, no time-out"),
        }
    }

    /// Ends the call on a panic: nothing more is computed or read; what
    /// `ready` holds (every result before the panic) is still yielded,
    /// then the panic is resumed, then the iterator is over.
    fn fail(&mut self, payload: Payload) {
        self.held = Some(payload);
        self.finished = true;
        self.feed.get_mut().input_done = true;
        drop(self.take_slots());
    }

    /// Moves a call still probing on its consumer to the pool, its chunks
    /// sized by what the probe measured (or by the workers if nothing was).
    fn leave_serial_phase(&self) {
        if let Phase::Serial {
            done, compute_ns, ..
        } = self.phase.get()
        {
            let phase = match done {
                0 => Phase::Parallel {
                    chunk: 1,
                    adapt: true,
                },
                done => Phase::Parallel {
                    chunk: auto_chunk(compute_ns / done as u64),
                    adapt: false,
                },
            };
            self.phase.set(phase);
        }
    }

    /// Serial phase: computes a batch on the consumer, then consults the
    /// probe (unless the batch blocked, which made the call parallel).
    /// `None` once the input is exhausted.
    fn serial_batch(&self) -> Option<Computed<R>> {
        let Phase::Serial {
            batch,
            done,
            compute_ns,
        } = self.phase.get()
        else {
            unreachable!("serial_batch outside the serial phase")
        };
        let items = {
            let mut feed = self.feed.borrow_mut();
            let (items, panic) = feed.input.pull(batch);
            feed.items_read += items.len();
            if panic.is_some() {
                feed.input_done = true;
                feed.failed = panic;
            }
            items
        };
        if items.is_empty() {
            return self.feed.borrow().failed.is_some().then(|| Computed {
                values: Vec::new(),
                panic: None,
            });
        }
        let count = items.len();
        let first_item = done == 0 && count == 1;
        let shared_at_once = first_item && self.share_at_once();
        let start = clock::now();
        let result = self.compute_here(items);
        let ticks = clock::now().wrapping_sub(start);
        if first_item {
            self.site.record_first_item(ticks);
        }
        if shared_at_once {
            // Shared on the history's word: size the chunks still to come
            // by what this call's own first item took.
            let chunk = auto_chunk(clock::nanos(ticks));
            self.phase.set(Phase::Parallel {
                chunk,
                adapt: false,
            });
        }
        if !matches!(self.phase.get(), Phase::Serial { .. }) {
            return Some(result); // shared at once, or it blocked: parallel already
        }
        let compute_ns = compute_ns + clock::nanos(ticks);
        let done = done + count;
        let remaining = match self.feed.borrow().input.size_hint() {
            (lo, Some(hi)) if lo == hi => Some(lo),
            _ => None,
        };
        let phase = match probe::decide(
            compute_ns,
            done,
            probe::Recent::WHOLE,
            remaining,
            &probe::Rule::OUTSIDE_NS,
        ) {
            Verdict::Serial(next) => Phase::Serial {
                batch: next.min(MAX_SERIAL_BATCH),
                done,
                compute_ns,
            },
            Verdict::Parallel { ns_per_item } if self.drain.get().bounds(ns_per_item) => {
                Phase::Serial {
                    batch: MAX_SERIAL_BATCH,
                    done,
                    compute_ns,
                }
            }
            Verdict::Parallel { ns_per_item } => Phase::Parallel {
                chunk: auto_chunk(ns_per_item),
                adapt: false,
            },
        };
        self.phase.set(phase);
        Some(result)
    }

    /// Notes that the consumer was handed a batch now.
    fn handed(&self) {
        let mut drain = self.drain.get();
        drain.handed = Some(clock::now());
        self.drain.set(drain);
    }

    /// Counts the time since the last batch was handed over, now that the
    /// consumer has taken all of it, as its own.
    fn drained(&self) {
        let mut drain = self.drain.get();
        if let Some(handed) = drain.handed.take() {
            drain.ticks = drain
                .ticks
                .saturating_add(clock::now().wrapping_sub(handed));
            drain.items = self.taken as u64;
            self.drain.set(drain);
        }
    }

    /// Before the first item: goes parallel at once (and fills the window)
    /// if this call is from outside a pool of two or more threads and
    /// `map`'s rule ([`probe::Probe::share_at_once`]) says so for this site
    /// and the items the input still promises (its size hint's lower
    /// bound). Chunks are sized by the site's last first items. As for
    /// `map`, a wrong guess costs one window of chunks spawned, and this
    /// call's own record corrects it.
    fn share_at_once(&self) -> bool {
        if self.pool.num_threads() < 2 || self.on_worker {
            return false;
        }
        let rest = self.feed.borrow().input.size_hint().0;
        let share = probe::Probe::start(probe::Rules::Unsized).share_at_once(self.site, rest);
        match self.site.last_first_item() {
            Some(first) if share => {
                let chunk = auto_chunk(clock::nanos(first));
                self.phase.set(Phase::Parallel {
                    chunk,
                    adapt: false,
                });
                self.fill();
                true
            }
            _ => false,
        }
    }

    /// Computes `items` on the consumer, with the consumer's `blocking`
    /// hook installed.
    fn compute_here(&self, items: ChunkOf<I, F, R>) -> Computed<R> {
        let result = {
            // SAFETY: `self` outlives the guard; the hook gets its types.
            let _on_block = unsafe {
                OnBlock::enter(std::ptr::from_ref(self).cast::<()>(), Self::consumer_blocks)
            };
            compute(&*self.f, items)
        };
        self.consumer_blocked.set(false);
        result
    }

    /// `blocking`'s hook on the consumer: read ahead now, since nobody else
    /// can while it waits (see "Blocking items").
    ///
    /// # Safety
    /// `this` must point to a live `Self` on this thread.
    unsafe fn consumer_blocks(this: *const ()) {
        // SAFETY: per the contract.
        let this = unsafe { &*this.cast::<Self>() };
        if this.consumer_blocked.replace(true) {
            return;
        }
        if let Phase::Serial { .. } = this.phase.get() {
            this.phase.set(Phase::Parallel {
                chunk: 1,
                adapt: false,
            });
        }
        this.fill();
    }

    /// Tops the window up (see "Blocking items" for its size), spawning a
    /// job per chunk. An input that panics ends the input: the items read
    /// before the panic form a last chunk, and the panic takes the slot
    /// after it.
    fn fill(&self) {
        let Phase::Parallel { mut chunk, adapt } = self.phase.get() else {
            return;
        };
        if adapt {
            let (ticks, items) = self.shared.window.lock().timed;
            if let Some(per_item) = ticks.checked_div(items) {
                chunk = auto_chunk(clock::nanos(per_item));
                self.phase.set(Phase::Parallel { chunk, adapt });
            }
        }
        // Busy only if the input's own `next` blocked inside a fill.
        let Ok(mut feed) = self.feed.try_borrow_mut() else {
            return;
        };
        let room = if self.consumer_blocked.get() {
            self.max_in_flight + self.pool.max_spare_threads()
        } else {
            self.max_in_flight
        };
        while !feed.input_done {
            {
                let window = self.shared.window.lock();
                if window.slots.len() >= room + window.blocked {
                    break;
                }
            }
            let (items, panic) = feed.input.pull(chunk);
            feed.items_read += items.len();
            if items.len() < chunk {
                feed.input_done = true;
            }
            if !items.is_empty() {
                let id = feed.next_id;
                feed.next_id += 1;
                self.shared
                    .window
                    .lock()
                    .slots
                    .push_back(Some(Slot::Pending(items)));
                let (shared, f) = (Arc::clone(&self.shared), Arc::clone(&self.f));
                self.jobs.queue(move || run_chunk(&shared, &*f, id));
            }
            if let Some(payload) = panic {
                feed.next_id += 1;
                self.shared
                    .window
                    .lock()
                    .slots
                    .push_back(Some(Slot::Failed(payload)));
                self.shared.announce();
            }
        }
    }

    /// The next finished chunk: the oldest (ordered) or any (unordered).
    /// With `helps`, runs a pending chunk itself rather than wait.
    fn next_chunk(&self, ordered: bool, helps: bool, deadline: Option<Instant>) -> Taken<R> {
        let refill_below = (!self.feed.borrow().input_done).then_some(self.max_in_flight);
        let compute_here = |items| self.compute_here(items);
        let wait = if helps {
            Wait::Help(compute_here)
        } else {
            Wait::Pool(deadline)
        };
        take_chunk(&self.shared, ordered, refill_below, wait)
    }
}

/// Whether this site's last first items on this thread were short enough
/// that a probe batch on the consumer cannot hold a result back for long.
fn known_short(site: Site) -> bool {
    site.last_first_item()
        .is_some_and(|ticks| ticks < clock::ticks(probe::SHARE_AT_ONCE_FIRST_NS))
}

impl<J, I: Iterator, F, R> Core<'_, J, I, F, R> {
    /// The next result already out of the window, if any: the fast path of
    /// `next`, inlined into the consumer's loop.
    #[inline]
    pub(crate) fn next_ready(&mut self) -> Option<R> {
        self.ready.next()
    }

    /// Every result already out of the window, taken at once (for `fold`).
    #[inline]
    pub(crate) fn take_ready(&mut self) -> std::vec::IntoIter<R> {
        std::mem::take(&mut self.ready)
    }

    /// The id of the next chunk to read from the input, unless the input is
    /// being read right now (for `Debug`).
    pub(crate) fn next_chunk_id(&self) -> Option<u64> {
        self.feed.try_borrow().map(|feed| feed.next_id).ok()
    }

    /// Whether the iteration is over (for `Debug`).
    pub(crate) fn finished(&self) -> bool {
        self.finished
    }

    /// Empties the window: pending chunks are returned (for the caller to
    /// drop, outside the lock); a running chunk finds its slot gone and
    /// drops its own output.
    fn take_slots(&self) -> Slots<I, F, R> {
        let mut window = self.shared.window.lock();
        window.base += window.slots.len() as u64;
        std::mem::take(&mut window.slots)
    }
}

impl<J, I: Iterator, F, R> Drop for Core<'_, J, I, F, R> {
    /// Cancels what is left; a call sized by its workers records the most
    /// any item took on average in a chunk as its site's first item, so a
    /// site whose items are sometimes long keeps its consumer out of the
    /// work (the consumer's history is its own thread's).
    fn drop(&mut self) {
        let longest = self.shared.window.lock().longest;
        let slots = self.take_slots();
        if longest > 0 && matches!(self.phase.get(), Phase::Parallel { adapt: true, .. }) {
            self.site.record_first_item(longest);
        }
        drop(slots);
    }
}

/// What [`Imap::next_timeout`](crate::Imap::next_timeout) and
/// [`ImapUnordered::next_timeout`](crate::ImapUnordered::next_timeout)
/// return when no result is ready in time. The iterator stays usable: the work
/// goes on, and a later call may return the result.
///
/// ```
/// let err = filch::TimedOut;
/// assert_eq!(err.to_string(), "no result within the timeout");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no result within the timeout")
    }
}

impl std::error::Error for TimedOut {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A consumer record of `items` results taken in `ns` in all.
    fn drained(items: u64, ns: u64) -> Drain {
        Drain {
            ticks: clock::ticks(ns),
            items,
            ..Drain::default()
        }
    }

    #[test]
    fn a_consumer_bounds_the_call_only_when_its_items_are_a_small_part_of_its_own_time() {
        // 10 ns a result (a collect into fresh pages) against 0.5-1 ns items.
        let collect = drained(4_096, 41_000);
        assert!(collect.bounds(1));
        // Items of an eighth of the consumer's time or more still go parallel.
        assert!(!collect.bounds(2));
        // A consumer that only sums (under 1 ns a result) never bounds it.
        assert!(!drained(4_096, 3_000).bounds(1));
        // Too few results taken to say.
        assert!(!drained(DRAIN_MIN_ITEMS - 1, 1_000_000).bounds(1));
        assert!(!Drain::default().bounds(0));
    }
}
