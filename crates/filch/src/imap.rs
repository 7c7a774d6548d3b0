//! `imap` and `imap_unordered`: lazy, memory-bounded parallel iterators.
//!
//! # The window
//! The consumer (the thread calling `next`) pulls the input itself, chunk
//! by chunk, and keeps at most `2 × threads` chunks in flight in a shared
//! window; each chunk is a pool job. So an infinite input is read at most
//! that many chunks ahead of what has been yielded (Python's `imap` reads
//! the whole input first).
//!
//! # Serial first
//! With automatic chunking, `next` first computes items itself, in batches
//! sized and timed like `map`'s probe, and only moves to the pool once the
//! work seen so far says it pays (`probe::PARALLEL_MIN_NS`). Chunks are then
//! sized to take about [`CHUNK_TARGET_NS`] each.
//!
//! # Claim or wait
//! Each window slot moves `Pending → Running → Done` under the window's
//! mutex. Whoever claims a `Pending` slot first runs it: a worker, or the
//! consumer itself when it needs that chunk next (ordered) or has nothing
//! finished to yield (unordered). So the consumer never waits for a job that
//! nobody has started, and a consumer on a 1-thread pool's own worker cannot
//! deadlock. A consumer only blocks while some other thread is running
//! the chunk it needs.
//!
//! # Cancellation
//! Dropping the iterator, or a panic reaching the consumer, clears the
//! window: pending chunks' inputs are dropped at once; running chunks finish
//! in the background and their outputs are dropped when they find their
//! slot gone. `drop` never waits for them.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::sync::{Condvar, Mutex};
use filch_scheduler::ThreadPool;

use crate::clock;
use crate::driver::Chunking;
use crate::events::call_span;
use crate::probe::{self, Verdict};

/// What a parallel chunk aims to cost: big enough that the per-chunk
/// overhead (a spawn, a lock, a wake-up: a few µs) is a few percent.
pub(crate) const CHUNK_TARGET_NS: u64 = 100_000;

/// Largest automatic chunk (items), bounding memory for the tiniest items.
pub(crate) const MAX_AUTO_CHUNK: usize = 16_384;

/// Largest serial batch (items) computed ahead of the consumer.
const MAX_SERIAL_BATCH: usize = 4_096;

/// Chunks in flight per worker: one running, one queued behind it.
const IN_FLIGHT_PER_THREAD: usize = 2;

type Payload = Box<dyn Any + Send>;

enum Slot<T, R> {
    Pending(Vec<T>),
    Running,
    Done(Result<Vec<R>, Payload>),
}

/// In-flight chunks; `slots[0]` has id `base`. `None` marks a chunk taken
/// out of order (unordered mode).
struct Window<T, R> {
    base: u64,
    slots: VecDeque<Option<Slot<T, R>>>,
}

impl<T, R> Window<T, R> {
    fn get_mut(&mut self, id: u64) -> Option<&mut Slot<T, R>> {
        let index = id.checked_sub(self.base)? as usize;
        self.slots.get_mut(index)?.as_mut()
    }

    /// Drops taken slots from the front.
    fn trim(&mut self) {
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.base += 1;
        }
    }
}

struct Shared<T, R> {
    window: Mutex<Window<T, R>>,
    done: Condvar,
}

/// Runs chunk `id` if still pending; called by pool jobs.
fn run_chunk<T, R, F: Fn(T) -> R>(shared: &Shared<T, R>, f: &F, id: u64) {
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
    let result = compute(f, items);
    let mut window = shared.window.lock();
    let leftover = match window.get_mut(id) {
        Some(slot) => {
            *slot = Slot::Done(result);
            None
        }
        None => Some(result), // cancelled meanwhile
    };
    drop(window);
    shared.done.notify_all();
    drop(leftover);
}

fn compute<T, R, F: Fn(T) -> R>(f: &F, items: Vec<T>) -> Result<Vec<R>, Payload> {
    panic::catch_unwind(AssertUnwindSafe(|| items.into_iter().map(f).collect()))
}

/// The consumer's side of the window: the next finished chunk, the oldest
/// (ordered) or any (unordered), running a pending one itself rather than
/// waiting for nobody. `None` once the window is empty.
fn take_chunk<T, R, F: Fn(T) -> R>(
    shared: &Shared<T, R>,
    f: &F,
    ordered: bool,
) -> Option<Result<Vec<R>, Payload>> {
    let mut window = shared.window.lock();
    loop {
        window.trim();
        if window.slots.is_empty() {
            return None;
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
            return Some(result);
        }
        if let Some(index) = position(&window, |s| matches!(s, Slot::Pending(_))) {
            let Some(Slot::Pending(items)) = window.slots[index].replace(Slot::Running) else {
                unreachable!("picked a Pending slot")
            };
            drop(window);
            let result = compute(f, items);
            let mut window = shared.window.lock();
            window.slots[index] = None; // still ours: only the consumer removes slots
            window.trim();
            return Some(result);
        }
        shared.done.wait(&mut window);
    }
}

enum Phase {
    /// Computing on the consumer; `compute_ns` is the time spent so far.
    Serial {
        batch: usize,
        done: usize,
        compute_ns: u64,
    },
    /// Chunks of this size go to the pool.
    Parallel { chunk: usize },
}

/// The machinery shared by [`Imap`] and [`ImapUnordered`].
struct Core<'p, I: Iterator, F, R> {
    pool: &'p ThreadPool,
    input: I,
    input_done: bool,
    f: Arc<F>,
    shared: Arc<Shared<I::Item, R>>,
    next_id: u64,
    ready: std::vec::IntoIter<R>,
    phase: Phase,
    max_in_flight: usize,
    finished: bool,
}

impl<'p, I, F, R> Core<'p, I, F, R>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> R + Send + Sync + 'static,
    R: Send + 'static,
{
    fn new(pool: &'p ThreadPool, input: I, f: F, chunking: Chunking) -> Self {
        let phase = match chunking {
            Chunking::Auto => Phase::Serial {
                batch: 1,
                done: 0,
                compute_ns: 0,
            },
            Chunking::Fixed(chunk) => Phase::Parallel { chunk: chunk.get() },
        };
        Core {
            pool,
            input,
            input_done: false,
            f: Arc::new(f),
            shared: Arc::new(Shared {
                window: Mutex::new(Window {
                    base: 0,
                    slots: VecDeque::new(),
                }),
                done: Condvar::new(),
            }),
            next_id: 0,
            ready: Vec::new().into_iter(),
            phase,
            max_in_flight: IN_FLIGHT_PER_THREAD * pool.num_threads(),
            finished: false,
        }
    }

    fn next(&mut self, ordered: bool) -> Option<R> {
        loop {
            if let Some(item) = self.ready.next() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            let chunk = match self.phase {
                Phase::Serial { .. } => self.serial_batch(),
                Phase::Parallel { chunk } => {
                    self.fill(chunk);
                    self.next_chunk(ordered)
                }
            };
            match chunk {
                Some(Ok(values)) => self.ready = values.into_iter(),
                Some(Err(payload)) => {
                    self.cancel();
                    panic::resume_unwind(payload);
                }
                None => self.finished = true,
            }
        }
    }

    /// Serial phase: computes a batch on the consumer, then consults the
    /// probe. `None` once the input is exhausted.
    fn serial_batch(&mut self) -> Option<Result<Vec<R>, Payload>> {
        let Phase::Serial {
            batch,
            done,
            compute_ns,
        } = &mut self.phase
        else {
            unreachable!("serial_batch outside the serial phase")
        };
        let items: Vec<I::Item> = self.input.by_ref().take(*batch).collect();
        if items.is_empty() {
            return None;
        }
        let count = items.len();
        let start = clock::now();
        let result = compute(&*self.f, items);
        *compute_ns += clock::nanos(clock::now().wrapping_sub(start));
        *done += count;
        let remaining = match self.input.size_hint() {
            (lo, Some(hi)) if lo == hi => Some(lo),
            _ => None,
        };
        match probe::decide(
            *compute_ns,
            *done,
            remaining,
            probe::PARALLEL_MIN_NS,
            probe::CHECK_FLOOR_NS,
        ) {
            Verdict::Serial(next) => *batch = next.min(MAX_SERIAL_BATCH),
            Verdict::Parallel { ns_per_item } => {
                let chunk = (CHUNK_TARGET_NS / ns_per_item.max(1)) as usize;
                self.phase = Phase::Parallel {
                    chunk: chunk.clamp(1, MAX_AUTO_CHUNK),
                };
            }
        }
        Some(result)
    }

    /// Tops the window up to `max_in_flight` chunks, spawning a job each.
    fn fill(&mut self, chunk: usize) {
        while !self.input_done && self.shared.window.lock().slots.len() < self.max_in_flight {
            let items: Vec<I::Item> = self.input.by_ref().take(chunk).collect();
            if items.len() < chunk {
                self.input_done = true;
            }
            if items.is_empty() {
                break;
            }
            let id = self.next_id;
            self.next_id += 1;
            self.shared
                .window
                .lock()
                .slots
                .push_back(Some(Slot::Pending(items)));
            let (shared, f) = (Arc::clone(&self.shared), Arc::clone(&self.f));
            self.pool.spawn(move || run_chunk(&shared, &*f, id));
        }
    }

    /// The next finished chunk: the oldest (ordered) or any (unordered).
    /// Runs a pending chunk itself rather than wait for nobody.
    fn next_chunk(&mut self, ordered: bool) -> Option<Result<Vec<R>, Payload>> {
        take_chunk(&self.shared, &*self.f, ordered)
    }

    /// Drops everything not yet yielded; running chunks finish unobserved.
    fn cancel(&mut self) {
        self.finished = true;
        self.input_done = true;
        let slots = std::mem::take(&mut self.shared.window.lock().slots);
        drop(slots);
        self.ready = Vec::new().into_iter();
    }
}

impl<I: Iterator, F, R> Drop for Core<'_, I, F, R> {
    fn drop(&mut self) {
        let slots = {
            let mut window = self.shared.window.lock();
            window.base += window.slots.len() as u64;
            std::mem::take(&mut window.slots)
        };
        drop(slots);
    }
}

/// The lazy, ordered iterator of [`Pool::imap`](crate::Pool::imap).
///
/// ```
/// let pool = filch::Pool::new();
/// let mut it = pool.imap(0u64.., |x| x * 2); // an infinite input is fine
/// assert_eq!(it.next(), Some(0));
/// assert_eq!(it.take(3).collect::<Vec<_>>(), [2, 4, 6]);
/// ```
pub struct Imap<'p, I: Iterator, F, R> {
    core: Core<'p, I, F, R>,
}

/// The lazy iterator of [`Pool::imap_unordered`](crate::Pool::imap_unordered):
/// results in completion order.
///
/// ```
/// let pool = filch::Pool::new();
/// let mut v: Vec<u64> = pool.imap_unordered(0..100u64, |x| x).collect();
/// v.sort();
/// assert_eq!(v, (0..100).collect::<Vec<_>>());
/// ```
pub struct ImapUnordered<'p, I: Iterator, F, R> {
    core: Core<'p, I, F, R>,
}

macro_rules! imap_iterator {
    ($name:ident, $ordered:expr) => {
        impl<'p, I, F, R> $name<'p, I, F, R>
        where
            I: Iterator,
            I::Item: Send + 'static,
            F: Fn(I::Item) -> R + Send + Sync + 'static,
            R: Send + 'static,
        {
            pub(crate) fn new(pool: &'p ThreadPool, input: I, f: F, chunking: Chunking) -> Self {
                $name {
                    core: Core::new(pool, input, f, chunking),
                }
            }
        }

        impl<I, F, R> Iterator for $name<'_, I, F, R>
        where
            I: Iterator,
            I::Item: Send + 'static,
            F: Fn(I::Item) -> R + Send + Sync + 'static,
            R: Send + 'static,
        {
            type Item = R;

            /// The next result. Resumes, with its original payload, a panic
            /// of the user's function on an item this result depends on
            /// (any item, unordered); the iterator is finished after that.
            fn next(&mut self) -> Option<R> {
                let _span = call_span!("imap.next");
                self.core.next($ordered)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                (self.core.ready.len(), None)
            }
        }

        impl<I: Iterator, F, R> fmt::Debug for $name<'_, I, F, R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("next_chunk_id", &self.core.next_id)
                    .field("finished", &self.core.finished)
                    .finish_non_exhaustive()
            }
        }
    };
}

imap_iterator!(Imap, true);
imap_iterator!(ImapUnordered, false);

/// loom models of the window protocol: run with
/// `RUSTFLAGS="--cfg loom" cargo test -p filch --release --lib loom`.
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    /// An item that counts its drops.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn window_of<T, R>(chunks: Vec<Vec<T>>) -> Arc<Shared<T, R>> {
        Arc::new(Shared {
            window: Mutex::new(Window {
                base: 0,
                slots: chunks.into_iter().map(|c| Some(Slot::Pending(c))).collect(),
            }),
            done: Condvar::new(),
        })
    }

    /// A worker running chunks while the ordered consumer takes them: every
    /// chunk is computed exactly once, by one of the two, and the consumer
    /// gets them in order without waiting for nobody (loom reports a
    /// deadlock otherwise).
    #[test]
    fn ordered_consumer_and_worker_compute_each_chunk_once_in_order() {
        loom::model(|| {
            let calls = Arc::new(AtomicUsize::new(0));
            let shared = window_of::<u32, u32>(vec![vec![1], vec![2]]);
            let (c2, s2) = (Arc::clone(&calls), Arc::clone(&shared));
            let worker = thread::spawn(move || {
                let f = |x: u32| {
                    c2.fetch_add(1, Ordering::SeqCst);
                    x * 10
                };
                run_chunk(&s2, &f, 0);
                run_chunk(&s2, &f, 1);
            });
            let c3 = Arc::clone(&calls);
            let f = move |x: u32| {
                c3.fetch_add(1, Ordering::SeqCst);
                x * 10
            };
            let first = take_chunk(&shared, &f, true).map(|r| r.ok().unwrap());
            let second = take_chunk(&shared, &f, true).map(|r| r.ok().unwrap());
            assert_eq!((first, second), (Some(vec![10]), Some(vec![20])));
            assert!(take_chunk(&shared, &f, true).is_none());
            worker.join().unwrap();
            assert_eq!(calls.load(Ordering::SeqCst), 2);
        });
    }

    /// Cancelling (as dropping an `Imap` does) while a worker may be running
    /// a chunk: no deadlock, and every input is dropped exactly once, whether
    /// the worker computed it (and its output was dropped unobserved) or the
    /// cancel dropped it pending.
    #[test]
    fn cancel_while_a_worker_runs_drops_every_input_once() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let chunk = vec![Counted(Arc::clone(&drops))];
            let shared = window_of::<Counted, ()>(vec![chunk]);
            let s2 = Arc::clone(&shared);
            let worker = thread::spawn(move || run_chunk(&s2, &|item: Counted| drop(item), 0));
            let slots = std::mem::take(&mut shared.window.lock().slots);
            drop(slots);
            worker.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        });
    }
}
