//! Helpers shared by filch's integration tests: a watchdog against hangs,
//! drop-counting values, pools built once per thread count and reused, a
//! panic hook that silences the panics the tests inject on purpose, and a
//! proptest runner that runs under the watchdog.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::any::Any;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Once, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use filch::Pool;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseResult, TestRunner};

/// How long one test body may run before the watchdog calls it a hang. The
/// bodies take a few seconds on the 2-core machine; this is an order of
/// magnitude above that so a slow CI box does not trip it.
pub(crate) const WATCHDOG: Duration = Duration::from_secs(60);

/// How long to wait for work that finishes in the background (chunks of a
/// dropped `imap`) to drop what it owns.
pub(crate) const SETTLE: Duration = Duration::from_secs(20);

/// Runs `body` on its own thread and waits at most [`WATCHDOG`] for it.
/// A panic in `body` is resumed here with its payload; a timeout fails the
/// test with a message naming it (the stuck thread is left behind).
pub(crate) fn watchdog<R, B>(name: &str, body: B) -> R
where
    R: Send + 'static,
    B: FnOnce() -> R + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(format!("watchdog:{name}"))
        .spawn(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(body));
            let _ = tx.send(outcome);
        })
        .expect("start the test body's thread");
    match rx.recv_timeout(WATCHDOG) {
        Ok(Ok(value)) => {
            handle.join().expect("the body's thread ends after sending");
            value
        }
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => {
            panic!("watchdog: `{name}` did not finish within {WATCHDOG:?}: a hang or a deadlock")
        }
    }
}

/// Runs a property under the watchdog: `cases` random cases of `strategy`,
/// each checked by `test`. Failures shrink for at most 20 s, then fail the
/// test with the minimal input found.
pub(crate) fn check<S, T>(name: &'static str, cases: u32, strategy: S, test: T)
where
    S: Strategy + Send + 'static,
    S::Value: Debug,
    T: Fn(S::Value) -> TestCaseResult + Send + 'static,
{
    // Under valgrind (`.ci/valgrind.sh`) every case is ~30x slower: the
    // script caps the case count so a property stays well inside the
    // watchdog. Unset, the count is the test's own.
    let cases = std::env::var("FILCH_TEST_MAX_CASES")
        .ok()
        .and_then(|cap| cap.parse::<u32>().ok())
        .map_or(cases, |cap| cases.min(cap));
    watchdog(name, move || {
        let config = Config {
            cases,
            max_shrink_time: 20_000,
            // The runner is used by hand (not through `proptest!`), so it
            // has no source file to persist regressions beside.
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        if let Err(err) = runner.run(&strategy, test) {
            panic!("property `{name}` failed: {err}");
        }
    });
}

/// A pool with `threads` workers (1 to 8), built on first use and shared by
/// every test of this binary: building a pool per case would dominate.
pub(crate) fn pool(threads: usize) -> &'static Pool {
    static POOLS: [OnceLock<Pool>; 8] = [const { OnceLock::new() }; 8];
    assert!(
        (1..=8).contains(&threads),
        "test pools have 1 to 8 threads, not {threads}"
    );
    POOLS[threads - 1].get_or_init(|| {
        Pool::builder()
            .threads(threads)
            .build()
            .unwrap_or_else(|err| panic!("build a {threads}-thread pool: {err}"))
    })
}

/// Busy-waits for `time`: per-item work heavy enough that the adaptive
/// probe sends the call to the pool (it does once the remaining work is
/// estimated at 60 µs or more).
pub(crate) fn spin_for(time: Duration) {
    let start = Instant::now();
    while start.elapsed() < time {
        std::hint::spin_loop();
    }
}

/// Per-item work of a "heavy" case, slept rather than spun: with 2 or more
/// such items the remaining work after the first is at least 100 µs, over
/// 3x the probe's threshold, so the call goes parallel even if the probe's
/// clock is off by 2x; and a sleeping caller leaves the CPU to the helpers,
/// which on a loaded 2-core machine otherwise may not get to run before
/// the caller has finished alone.
pub(crate) const HEAVY_ITEM: Duration = Duration::from_micros(100);

/// The payload of every panic the tests inject: the index of the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Boom(pub(crate) usize);

/// Panics with payload [`Boom(i)`](Boom).
pub(crate) fn boom(i: usize) -> ! {
    panic::panic_any(Boom(i))
}

/// The prefix of string panic messages the tests inject on purpose.
pub(crate) const INJECTED: &str = "filch-test injected";

/// Installs (once per process) a panic hook that stays silent for the
/// panics the tests inject ([`Boom`] payloads and messages starting with
/// [`INJECTED`]) and hands every other panic, such as a failed assertion,
/// to the hook that was installed before. The hook is never removed: each
/// test file is its own process, and chaining keeps other panics printed.
pub(crate) fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let injected = payload.is::<Boom>()
                || filch::scheduler::panic_message(payload).starts_with(INJECTED);
            if !injected {
                previous(info);
            }
        }));
    });
}

/// The item index carried by an injected panic's payload.
pub(crate) fn boom_index(payload: &(dyn Any + Send)) -> usize {
    match payload.downcast_ref::<Boom>() {
        Some(Boom(i)) => *i,
        None => panic!(
            "expected a Boom payload, got a different one: {:?}",
            filch::scheduler::panic_message(payload)
        ),
    }
}

/// Runs `op`, returning the payload of its panic, if any.
pub(crate) fn catch<R>(op: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    panic::catch_unwind(AssertUnwindSafe(op))
}

/// Checks that `pool` still works after a panic: a normal map gives the
/// right answer, with the parallel path forced by a chunk size of 1.
pub(crate) fn assert_pool_works(pool: &Pool) {
    let expected: Vec<u64> = (0..200u64).map(|x| x * x + 1).collect();
    assert_eq!(
        pool.map(0..200u64, |x| x * x + 1),
        expected,
        "pool.map after a panic"
    );
    let chunked = pool.with_chunk_size(1).expect("chunk size 1 is valid");
    assert_eq!(
        chunked.map(0..200u64, |x| x * x + 1),
        expected,
        "chunked map after a panic"
    );
}

/// Counts the creation and drops of [`Tracked`] values, per value, so a
/// leak and a double drop are both caught (even when they cancel out).
#[derive(Debug)]
pub(crate) struct Ledger {
    name: &'static str,
    created: AtomicUsize,
    dropped: AtomicUsize,
    /// Drops per value id; ids are handed out in creation order.
    drops: Box<[AtomicU32]>,
}

impl Ledger {
    /// A ledger for at most `capacity` values.
    pub(crate) fn new(name: &'static str, capacity: usize) -> Arc<Ledger> {
        Arc::new(Ledger {
            name,
            created: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            drops: (0..capacity).map(|_| AtomicU32::new(0)).collect(),
        })
    }

    /// A new value holding `value`, counted as created.
    pub(crate) fn make(self: &Arc<Self>, value: u64) -> Tracked {
        let id = self.created.fetch_add(1, Ordering::SeqCst);
        assert!(
            id < self.drops.len(),
            "ledger `{}` is full ({} values)",
            self.name,
            self.drops.len()
        );
        Tracked {
            value,
            id,
            ledger: Arc::clone(self),
        }
    }

    /// Values created so far.
    pub(crate) fn created(&self) -> usize {
        self.created.load(Ordering::SeqCst)
    }

    /// Drops so far.
    pub(crate) fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Whether every value created was dropped exactly once.
    pub(crate) fn problems(&self) -> Option<String> {
        let created = self.created();
        let bad: Vec<(usize, u32)> = (0..created)
            .map(|id| (id, self.drops[id].load(Ordering::SeqCst)))
            .filter(|&(_, n)| n != 1)
            .take(8)
            .collect();
        if bad.is_empty() {
            None
        } else {
            Some(format!(
                "ledger `{}`: {created} created, {} dropped; (id, drops) not dropped exactly once: {bad:?}",
                self.name,
                self.dropped()
            ))
        }
    }

    /// Asserts that every value created was dropped exactly once.
    pub(crate) fn assert_balanced(&self) {
        if let Some(problem) = self.problems() {
            panic!("{problem}");
        }
    }

    /// Waits (at most [`SETTLE`]) for background work to drop what it owns,
    /// then asserts that every value was dropped exactly once.
    pub(crate) fn settle(&self) {
        let start = Instant::now();
        wait_until(SETTLE, || self.dropped() >= self.created());
        if let Some(problem) = self.problems() {
            panic!("{problem} (after waiting {:?} to settle)", start.elapsed());
        }
    }
}

/// Polls `cond` every 100 µs until it holds (`true`) or `limit` has passed
/// (`false`): every bounded wait of these tests, so that a lost wake-up or a
/// missing helper fails an assertion instead of hanging.
pub(crate) fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_micros(100));
    }
}

/// A value whose drop is counted by its [`Ledger`].
#[derive(Debug)]
pub(crate) struct Tracked {
    /// The payload the test computes with.
    pub(crate) value: u64,
    id: usize,
    ledger: Arc<Ledger>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.ledger.drops[self.id].fetch_add(1, Ordering::SeqCst);
        self.ledger.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Inputs `0..len` as tracked values.
pub(crate) fn tracked_inputs(ledger: &Arc<Ledger>, len: usize) -> Vec<Tracked> {
    (0..len as u64).map(|v| ledger.make(v)).collect()
}

/// The values of tracked outputs, consuming (and so dropping) them.
pub(crate) fn values(outputs: Vec<Tracked>) -> Vec<u64> {
    outputs.into_iter().map(|t| t.value).collect()
}

/// The function every property maps: cheap, and not the identity, so a
/// result in the wrong slot is caught.
pub(crate) fn serial_f(x: u64) -> u64 {
    x.wrapping_mul(2_654_435_761).rotate_left(7) ^ x
}

/// Records whether any item ran on a pool worker.
#[derive(Debug, Default)]
pub(crate) struct WorkerSeen(std::sync::atomic::AtomicBool);

impl WorkerSeen {
    /// Call inside the mapped function.
    pub(crate) fn note(&self) {
        if filch::current_thread_index().is_some() {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    /// Whether an item ran on a worker.
    pub(crate) fn seen(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The shape of one property case: which pool, how long an input, how it
/// is chunked, how costly each item is, who calls.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    /// Workers in the pool (1 to 8).
    pub(crate) threads: usize,
    /// Items in the input.
    pub(crate) len: usize,
    /// An explicit chunk size, or `None` for automatic chunking.
    pub(crate) chunk: Option<usize>,
    /// Whether each item sleeps for [`HEAVY_ITEM`] (inputs are then short).
    pub(crate) heavy: bool,
    /// Whether the input reports its exact length.
    pub(crate) exact: bool,
    /// With an exact length: whether the input is the `Vec` itself, which
    /// the call splits in place, rather than an iterator over it.
    pub(crate) owned_vec: bool,
    /// Whether the call is made on one of the pool's workers (inside
    /// `pool.install`), which takes the lazy-splitting path, rather than
    /// from an outside thread, which shares the work with helper jobs.
    pub(crate) from_worker: bool,
}

impl Shape {
    /// Whether some items of this call should run on pool workers other
    /// than the caller, so the parallel path is exercised: an outside call
    /// with at least two threads and enough heavy items that the probe goes
    /// parallel (see [`HEAVY_ITEM`]; without an exact length the probe
    /// first spends its threshold serially, hence 6 items) and more than one
    /// chunk.
    /// Helpers may still arrive too late on a loaded machine, so callers
    /// count this over many cases with [`Coverage`] rather than per case.
    pub(crate) fn expects_helpers(&self) -> bool {
        !self.from_worker
            && self.threads >= 2
            && self.heavy
            && self.len >= 6
            && self.chunk.is_none_or(|c| c < self.len)
    }

    /// The per-item cost of this case.
    pub(crate) fn work(&self) {
        if self.heavy {
            thread::sleep(HEAVY_ITEM);
        }
    }

    /// Whether [`feed!`] passes the `Vec` itself.
    pub(crate) fn passes_vec(&self) -> bool {
        self.exact && self.owned_vec
    }

    /// The input as an iterator, with or without an exact length (see
    /// [`feed!`] for the `Vec` itself).
    pub(crate) fn input<T: Send + 'static>(
        &self,
        items: Vec<T>,
    ) -> Box<dyn Iterator<Item = T> + Send> {
        if self.exact {
            Box::new(items.into_iter())
        } else {
            Box::new(items.into_iter().filter(|_| true))
        }
    }

    /// Runs `op` as this shape's caller: on a worker of its pool, or here.
    pub(crate) fn call<R: Send>(&self, op: impl FnOnce() -> R + Send) -> R {
        if self.from_worker {
            pool(self.threads).install(op)
        } else {
            op()
        }
    }
}

/// Random shapes: lengths 0..2000 (0 and 1 often), chunk sizes small and
/// large or automatic, 1 to 8 threads, a third of the cases heavy (with
/// inputs under 48 items so a case stays within a few ms), a third called
/// from a worker, two in five passing the `Vec` itself.
pub(crate) fn shapes() -> impl Strategy<Value = Shape> {
    use proptest::prelude::*;
    (
        1..=8usize,
        prop_oneof![1 => Just(0usize), 1 => Just(1usize), 6 => 0..2000usize],
        prop_oneof![
            2 => Just(None::<usize>),
            1 => (1..8usize).prop_map(Some),
            1 => (8..600usize).prop_map(Some),
        ],
        prop::bool::weighted(0.35),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.5),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(threads, len, chunk, heavy, exact, owned_vec, from_worker)| Shape {
                threads,
                len: if heavy { len % 48 } else { len },
                chunk,
                heavy,
                exact,
                owned_vec,
                from_worker,
            },
        )
}

/// Evaluates `$body` with `$input` bound to the `Vec` `$items` as the
/// shape's input: the `Vec` itself (split in place) or an iterator over it
/// ([`Shape::input`]). A macro, since the two are different types.
#[allow(unused_macros)] // each test file uses a different subset
macro_rules! feed {
    ($shape:expr, $items:expr, |$input:ident| $body:expr) => {{
        let items = $items;
        if $shape.passes_vec() {
            let $input = items;
            $body
        } else {
            let $input = $shape.input(items);
            $body
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use feed;

/// Counts, over the cases of a property, those that should have used pool
/// workers and those that did: so a property fails if its parallel path
/// was never exercised, without failing a case whose helpers were late.
#[derive(Debug, Default)]
pub(crate) struct Coverage {
    expected: AtomicUsize,
    seen: AtomicUsize,
}

impl Coverage {
    /// Records one case.
    pub(crate) fn record(&self, expected: bool, seen: bool) {
        if expected {
            self.expected.fetch_add(1, Ordering::Relaxed);
            if seen {
                self.seen.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Fails unless, of the cases that should have run items on workers
    /// (about 10% of random shapes, so there are some in every run of 64 or
    /// more but for a chance below 1e-4), at least one did.
    pub(crate) fn assert_exercised(&self, what: &str) {
        let (expected, seen) = (
            self.expected.load(Ordering::Relaxed),
            self.seen.load(Ordering::Relaxed),
        );
        assert!(
            expected >= 1,
            "{what}: only {expected} cases should have gone parallel; the shapes are too small"
        );
        assert!(seen >= 1, "{what}: none of {expected} cases ran an item on a worker: the parallel path was not tested");
    }
}
