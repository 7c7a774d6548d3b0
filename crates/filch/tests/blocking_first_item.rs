//! A first item that blocks shares the rest of its call at once:
//! the serial probe of `map`, `starmap`, `try_map` and `map_init` runs the
//! first item alone, *armed*, and if that item enters `filch::blocking` the
//! rest of a known-length input is handed to the pool while it waits.
//!
//! Covered here, through the public API only, every test under the
//! watchdog, and every wait for other items bounded (a wait that runs out
//! fails an assertion, it never hangs):
//! - the motivating shape, structurally: ten blocking items on a 2-thread pool
//!   are seen running at once, from outside the pool and from a worker;
//! - results in input order and every input and output dropped exactly
//!   once, for random lengths, thread counts, callers and patterns of
//!   blocking items (a property);
//! - a panic of the first item after it blocked, and of a helper's item
//!   while the first one is blocked: the payload reaches the caller, exact
//!   drops, and the pool works afterwards;
//! - `try_map` errors of the first item and of a later one while the first
//!   is blocked;
//! - `map_init` and `starmap` with a blocking first item;
//! - nested calls whose first items block;
//! - a 1-thread pool and pools without spare threads (no deadlock);
//! - inputs of unknown length, and inputs whose exact size hint is wrong;
//! - many callers at once, and maps nested four deep;
//! - `filch::blocking` after such calls (the first item's hook is gone).

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{
    assert_pool_works, boom, boom_index, catch, check, quiet_injected_panics, serial_f,
    tracked_inputs, values, wait_until, watchdog, Ledger, Tracked, INJECTED,
};
use filch::Pool;
use proptest::prelude::*;

/// The longest an item waits for other items before giving up (and the
/// test then fails an assertion). Far above what the waits take when the
/// rest of the call is shared (well under a millisecond to a few ms), far
/// below the watchdog.
const WAIT: Duration = Duration::from_secs(5);

/// A fresh pool (for tests that need one no other test of this binary
/// keeps busy, or a particular configuration).
fn fresh_pool(threads: usize, spares: Option<usize>) -> Pool {
    let builder = Pool::builder().threads(threads);
    let builder = match spares {
        Some(n) => builder.max_spare_threads(n),
        None => builder,
    };
    builder.build().expect("a valid pool configuration")
}

/// One fresh pool per thread count 1 to 4, owned by one test. The tests
/// that wait for other items to start do not share pools with the other
/// tests of this binary, which run at the same time: a pool busy with
/// another test's work may leave a blocked first item's helpers queued for
/// longer than the wait.
struct Pools(Vec<Pool>);

impl Pools {
    fn new() -> Pools {
        Pools((1..=4).map(|threads| fresh_pool(threads, None)).collect())
    }

    fn get(&self, threads: usize) -> &Pool {
        &self.0[threads - 1]
    }

    /// Runs `test` once per [`Case`]: 1, 2 and 4 threads, a call from
    /// outside the pool and one from a worker, and every length in `lens`.
    fn each_case(&self, lens: &[usize], mut test: impl FnMut(&Pool, Case)) {
        for threads in [1, 2, 4] {
            for from_worker in [false, true] {
                for &len in lens {
                    let case = Case {
                        threads,
                        from_worker,
                        len,
                    };
                    test(self.get(threads), case);
                }
            }
        }
    }
}

/// One case of [`Pools::each_case`]; displays as the assertion context.
#[derive(Debug, Clone, Copy)]
struct Case {
    threads: usize,
    from_worker: bool,
    len: usize,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (threads, from_worker, len) = (self.threads, self.from_worker, self.len);
        write!(f, "{threads} threads, from_worker {from_worker}, len {len}")
    }
}

/// Runs `op` on a worker of `pool` (inside `install`) or on this thread.
fn call_from<R: Send>(pool: &Pool, from_worker: bool, op: impl FnOnce() -> R + Send) -> R {
    if from_worker {
        pool.install(op)
    } else {
        op()
    }
}

/// `filch::blocking` on this thread still works after the calls above
/// (if the armed first item's hook outlived its call, this would call it
/// with a dangling pointer).
fn blocking_still_plain() {
    assert_eq!(filch::blocking(|| 7), 7);
}

// ---------------------------------------------------------------------------
// 1. Ten blocking items on two threads, structurally.

/// How many of the ten items must be seen inside their `blocking` at once.
/// The old probe ran the first item alone, so it could only ever see one.
const CROWD: usize = 6;

/// Ten items, each entering `filch::blocking` and waiting there until
/// [`CROWD`] items have entered. `pool.map` from outside, or `filch::map`
/// on a worker; each item's result says whether it saw the crowd.
fn ten_items_gather(pool: &Pool, from_worker: bool) {
    let inside = AtomicUsize::new(0);
    let item = |i: usize| {
        let crowded = filch::blocking(|| {
            inside.fetch_add(1, SeqCst);
            wait_until(WAIT, || inside.load(SeqCst) >= CROWD)
        });
        (i, crowded)
    };
    let got = if from_worker {
        pool.install(|| filch::map(0..10usize, item))
    } else {
        pool.map(0..10usize, item)
    };
    let order: Vec<usize> = got.iter().map(|&(i, _)| i).collect();
    assert_eq!(order, (0..10).collect::<Vec<_>>(), "results in input order");
    let alone: Vec<usize> = got
        .iter()
        .filter(|&&(_, crowded)| !crowded)
        .map(|&(i, _)| i)
        .collect();
    assert!(
        alone.is_empty(),
        "items {alone:?} (from_worker: {from_worker}) waited {WAIT:?} in `blocking` without \
         seeing {CROWD} items inside at once: the rest of the call was not shared while the \
         first item blocked"
    );
    blocking_still_plain();
}

/// Ten blocking items from outside the pool: while the first item blocks, the other
/// nine run on the pool (its 2 workers and the spares standing in for
/// them), so at least [`CROWD`] are inside `blocking` at once.
#[test]
fn ten_blocking_items_on_two_threads_run_at_once() {
    watchdog("blocking items, outside", || {
        let pool = fresh_pool(2, None);
        ten_items_gather(&pool, false);
    });
}

/// Ten blocking items from a worker (`filch::map` inside `install`).
#[test]
fn ten_blocking_items_on_two_threads_run_at_once_from_a_worker() {
    watchdog("blocking items, worker", || {
        let pool = fresh_pool(2, None);
        ten_items_gather(&pool, true);
    });
}

// ---------------------------------------------------------------------------
// 2. Order and drops, as a property.

/// Whether item `i` (not the first) enters `filch::blocking`.
fn blocks(mask: u64, i: usize) -> bool {
    (mask >> (i % 64)) & 1 == 1
}

/// Masks of blocking items: none, all, or random.
fn masks() -> impl Strategy<Value = u64> {
    prop_oneof![1 => Just(0u64), 1 => Just(u64::MAX), 3 => any::<u64>()]
}

/// Lengths of at least 2 (so there is a rest to share): the edges and
/// random ones.
fn lengths() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(2usize),
        1 => Just(3usize),
        1 => Just(10usize),
        1 => Just(1000usize),
        3 => 2..300usize,
    ]
}

/// What the items of one call share.
struct Items<'a> {
    mask: u64,
    /// Whether the first item waits for another item to start (else it
    /// blocks briefly and counts as shared).
    wait: bool,
    /// Items started so far.
    started: AtomicUsize,
    /// Whether the first item saw another item start while it blocked.
    shared: AtomicBool,
    outputs: &'a Arc<Ledger>,
}

impl<'a> Items<'a> {
    fn new(mask: u64, wait: bool, outputs: &'a Arc<Ledger>) -> Self {
        Items {
            mask,
            wait,
            started: AtomicUsize::new(0),
            shared: AtomicBool::new(false),
            outputs,
        }
    }

    /// The mapped function: the first item blocks (until another item has
    /// started, bounded, if `wait`); the others block or not by the mask.
    fn run(&self, t: Tracked) -> Tracked {
        let i = t.value as usize;
        self.started.fetch_add(1, SeqCst);
        if i == 0 && self.wait {
            let shared = filch::blocking(|| wait_until(WAIT, || self.started.load(SeqCst) >= 2));
            self.shared.store(shared, SeqCst);
        } else if i == 0 {
            filch::blocking(|| thread::sleep(Duration::from_micros(300)));
            self.shared.store(true, SeqCst);
        } else if blocks(self.mask, i) {
            filch::blocking(thread::yield_now);
        }
        self.outputs.make(serial_f(t.value))
    }
}

/// Property: with a blocking first item, `map` and `starmap` over random
/// lengths, from outside or from a worker, on 1 to 4 threads, with random
/// other items blocking: the rest runs while the first item blocks, the
/// results are the serial ones in input order, every item runs once, and
/// every input and output is dropped exactly once.
#[test]
fn blocking_first_item_keeps_order_and_drops_exactly_once() {
    let strategy = (1..=4usize, lengths(), masks(), any::<bool>(), any::<bool>());
    let pools = Pools::new();
    check(
        "blocking first item: order and drops",
        48,
        strategy,
        move |(threads, len, mask, from_worker, starmap)| {
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let items = Items::new(mask, true, &outputs);
            let input = tracked_inputs(&inputs, len);
            let got = call_from(pool, from_worker, || {
                if starmap {
                    let pairs: Vec<(Tracked, u8)> = input.into_iter().map(|t| (t, 1)).collect();
                    pool.starmap(pairs, |t, _: u8| items.run(t))
                } else {
                    pool.map(input, |t| items.run(t))
                }
            });
            let got = values(got);
            let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
            prop_assert_eq!(got, want);
            prop_assert!(
                items.shared.load(SeqCst),
                "no other item started within {:?} while the first one blocked",
                WAIT
            );
            prop_assert_eq!(
                items.started.load(SeqCst),
                len,
                "every item runs exactly once"
            );
            prop_assert_eq!(outputs.created(), len);
            inputs.assert_balanced();
            outputs.assert_balanced();
            blocking_still_plain();
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------
// 3. and 4. Panics.

/// Where the first item panics.
#[derive(Debug, Clone, Copy)]
enum FirstPanics {
    /// Inside its `blocking` closure, after the rest was shared.
    InsideBlocking,
    /// After `blocking` returned.
    AfterBlocking,
}

/// Property: the first item panics after entering `blocking` (so the rest
/// has been shared and other items have started): its payload reaches the
/// caller, every input and every output made is dropped exactly once, and
/// the pool then maps correctly.
#[test]
fn a_panic_of_the_blocked_first_item_reaches_the_caller() {
    quiet_injected_panics();
    let strategy = (
        1..=4usize,
        lengths(),
        masks(),
        any::<bool>(),
        prop_oneof![
            Just(FirstPanics::InsideBlocking),
            Just(FirstPanics::AfterBlocking)
        ],
    );
    let pools = Pools::new();
    check(
        "blocked first item panics",
        40,
        strategy,
        move |(threads, len, mask, from_worker, where_)| {
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let started = AtomicUsize::new(0);
            let shared = AtomicBool::new(false);
            let message = format!("{INJECTED}: first item, {where_:?}");
            let item = |t: Tracked| {
                let i = t.value as usize;
                started.fetch_add(1, SeqCst);
                if i == 0 {
                    filch::blocking(|| {
                        shared.store(wait_until(WAIT, || started.load(SeqCst) >= 2), SeqCst);
                        if let FirstPanics::InsideBlocking = where_ {
                            panic!("{message}");
                        }
                    });
                    panic!("{message}");
                } else if blocks(mask, i) {
                    filch::blocking(thread::yield_now);
                }
                outputs.make(serial_f(t.value))
            };
            let input = tracked_inputs(&inputs, len);
            let caught = catch(|| call_from(pool, from_worker, || pool.map(input, item)));
            let payload = match caught {
                Ok(_) => panic!("the first item panicked, yet map returned"),
                Err(payload) => payload,
            };
            prop_assert_eq!(filch::scheduler::panic_message(&*payload), message.as_str());
            prop_assert!(shared.load(SeqCst), "the rest was not shared");
            inputs.assert_balanced();
            outputs.assert_balanced();
            blocking_still_plain();
            assert_pool_works(pool);
            Ok(())
        },
    );
}

/// Property: a later item, run by a helper, panics while the first item is
/// still blocked (it waits in `blocking` until the panic has started). The
/// helper's payload reaches the caller (if the first item then panics too,
/// one of the two), with exact drops; the pool works afterwards.
#[test]
fn a_panic_of_a_helper_while_the_first_item_blocks_reaches_the_caller() {
    quiet_injected_panics();
    let strategy = (
        1..=4usize,
        lengths(),
        0.0..1.0f64,
        masks(),
        any::<bool>(),
        any::<bool>(),
    );
    let pools = Pools::new();
    check(
        "helper panics while first item blocks",
        40,
        strategy,
        move |(threads, len, at, mask, from_worker, first_too)| {
            let k = 1 + (at * (len - 1) as f64) as usize;
            let k = k.min(len - 1);
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let panicking = AtomicBool::new(false);
            let saw_it = AtomicBool::new(false);
            let item = |t: Tracked| {
                let i = t.value as usize;
                if i == 0 {
                    let seen = filch::blocking(|| wait_until(WAIT, || panicking.load(SeqCst)));
                    saw_it.store(seen, SeqCst);
                    if first_too {
                        boom(0);
                    }
                } else if i == k {
                    panicking.store(true, SeqCst);
                    boom(k);
                } else if blocks(mask, i) {
                    filch::blocking(thread::yield_now);
                }
                outputs.make(serial_f(t.value))
            };
            let input = tracked_inputs(&inputs, len);
            let caught = catch(|| call_from(pool, from_worker, || pool.map(input, item)));
            let payload = match caught {
                Ok(_) => panic!("item {k} panicked, yet map returned"),
                Err(payload) => payload,
            };
            let index = boom_index(&*payload);
            prop_assert!(
                index == k || (first_too && index == 0),
                "payload Boom({}), expected Boom({}){}",
                index,
                k,
                if first_too { " or Boom(0)" } else { "" }
            );
            prop_assert!(
                saw_it.load(SeqCst),
                "item {} did not run while the first item blocked",
                k
            );
            inputs.assert_balanced();
            outputs.assert_balanced();
            blocking_still_plain();
            assert_pool_works(pool);
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------
// 5. try_map.

/// Which items of a `try_map` fail.
#[derive(Debug, Clone, Copy)]
enum Fails {
    /// The first item, after blocking while the rest was shared.
    First,
    /// Item `k`, while the first item blocks (it waits for the error).
    Later,
    /// Both: item `k` while the first blocks, then the first.
    Both,
}

/// Property: `try_map` whose blocking first item, or a later item while the
/// first one blocks, or both, return `Err`: the call returns one of those
/// errors (the only one if only one item fails), and every input, output
/// and error is dropped exactly once.
#[test]
fn try_map_errors_with_a_blocking_first_item() {
    let strategy = (
        1..=4usize,
        lengths(),
        0.0..1.0f64,
        masks(),
        any::<bool>(),
        prop_oneof![Just(Fails::First), Just(Fails::Later), Just(Fails::Both)],
    );
    let pools = Pools::new();
    check(
        "try_map with a blocking first item",
        48,
        strategy,
        move |(threads, len, at, mask, from_worker, fails)| {
            let k = (1 + (at * (len - 1) as f64) as usize).min(len - 1);
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let errors = Ledger::new("errors", len);
            let started = AtomicUsize::new(0);
            let failing = AtomicBool::new(false);
            let waited = AtomicBool::new(false);
            let item = |t: Tracked| -> Result<Tracked, (usize, Tracked)> {
                let i = t.value as usize;
                started.fetch_add(1, SeqCst);
                match (i, fails) {
                    (0, Fails::First) => {
                        waited.store(
                            filch::blocking(|| wait_until(WAIT, || started.load(SeqCst) >= 2)),
                            SeqCst,
                        );
                        return Err((0, errors.make(0)));
                    }
                    (0, Fails::Later | Fails::Both) => {
                        waited.store(
                            filch::blocking(|| wait_until(WAIT, || failing.load(SeqCst))),
                            SeqCst,
                        );
                        if let Fails::Both = fails {
                            return Err((0, errors.make(0)));
                        }
                    }
                    (i, Fails::Later | Fails::Both) if i == k => {
                        failing.store(true, SeqCst);
                        return Err((k, errors.make(k as u64)));
                    }
                    _ => {
                        if blocks(mask, i) {
                            filch::blocking(thread::yield_now);
                        }
                    }
                }
                Ok(outputs.make(serial_f(t.value)))
            };
            let input = tracked_inputs(&inputs, len);
            let got = call_from(pool, from_worker, || pool.try_map(input, item));
            let index = match got {
                Ok(_) => panic!("items fail ({fails:?}, k = {k}), yet try_map returned Ok"),
                Err((index, _token)) => index,
            };
            match fails {
                Fails::First => prop_assert_eq!(index, 0),
                Fails::Later => prop_assert_eq!(index, k),
                Fails::Both => prop_assert!(index == 0 || index == k, "error of item {}", index),
            }
            prop_assert!(
                waited.load(SeqCst),
                "the first item waited {:?} for other items in vain ({:?})",
                WAIT,
                fails
            );
            inputs.assert_balanced();
            outputs.assert_balanced();
            errors.assert_balanced();
            blocking_still_plain();
            assert_pool_works(pool);
            Ok(())
        },
    );
}

/// `try_map` whose first item blocks and every item succeeds: all values,
/// in order (the error-free path through the armed first item).
#[test]
fn try_map_with_a_blocking_first_item_succeeds() {
    watchdog("try_map ok", || {
        Pools::new().each_case(&[2, 3, 10, 1000], |pool, case| {
            let len = case.len as u64;
            let got: Result<Vec<u64>, String> = call_from(pool, case.from_worker, || {
                pool.try_map(0..len, |x| {
                    if x == 0 {
                        filch::blocking(|| thread::sleep(Duration::from_millis(1)));
                    }
                    Ok(serial_f(x))
                })
            });
            let want: Vec<u64> = (0..len).map(serial_f).collect();
            assert_eq!(got, Ok(want), "{case}");
        });
        blocking_still_plain();
    });
}

// ---------------------------------------------------------------------------
// 6. map_init.

/// A `map_init` state: counts the items it maps and, when dropped, adds
/// them to its call's total (and is itself counted by a ledger).
struct State<'a> {
    uses: usize,
    total: &'a AtomicUsize,
    _token: Tracked,
}

impl Drop for State<'_> {
    fn drop(&mut self) {
        self.total.fetch_add(self.uses, SeqCst);
    }
}

/// `map_init` whose first item blocks until another item has started: the
/// results are right, every item goes through exactly one state, every
/// state is dropped once, and `init` ran at least once.
///
/// (Not asserted: `init` at most once per item. A call whose rest was
/// shared then makes one more state for the items past its size hint,
/// which usually maps nothing, as the probe's shared phase did before: two
/// items can see three `init`s.)
#[test]
fn map_init_with_a_blocking_first_item() {
    watchdog("map_init", || {
        Pools::new().each_case(&[2, 3, 10, 1000], |pool, case| {
            let len = case.len;
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let states = Ledger::new("states", 4 * len + 8);
            let inits = AtomicUsize::new(0);
            let total = AtomicUsize::new(0);
            let started = AtomicUsize::new(0);
            let shared = AtomicBool::new(false);
            let input = tracked_inputs(&inputs, len);
            let got = call_from(pool, case.from_worker, || {
                pool.map_init(
                    input,
                    || State {
                        uses: 0,
                        total: &total,
                        _token: states.make(inits.fetch_add(1, SeqCst) as u64),
                    },
                    |state: &mut State<'_>, t: Tracked| {
                        state.uses += 1;
                        started.fetch_add(1, SeqCst);
                        if t.value == 0 {
                            shared.store(
                                filch::blocking(|| wait_until(WAIT, || started.load(SeqCst) >= 2)),
                                SeqCst,
                            );
                        }
                        outputs.make(serial_f(t.value))
                    },
                )
            });
            let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
            assert_eq!(values(got), want, "{case}");
            assert!(shared.load(SeqCst), "the rest was not shared: {case}");
            assert!(inits.load(SeqCst) >= 1, "init never ran: {case}");
            assert_eq!(
                total.load(SeqCst),
                len,
                "items mapped through the states: {case}"
            );
            inputs.assert_balanced();
            outputs.assert_balanced();
            states.assert_balanced();
        });
        blocking_still_plain();
    });
}

/// `starmap` with a blocking first item, on arities 2 and 3.
#[test]
fn starmap_with_a_blocking_first_item() {
    watchdog("starmap", || {
        Pools::new().each_case(&[2, 3, 10, 1000], |pool, case| {
            let len = case.len as u64;
            let first_blocks = |a: u64| {
                if a == 0 {
                    filch::blocking(|| thread::sleep(Duration::from_millis(1)));
                }
            };
            let pairs: Vec<(u64, u64)> = (0..len).map(|a| (a, a + 1)).collect();
            let got = call_from(pool, case.from_worker, || {
                pool.starmap(pairs, |a: u64, b: u64| {
                    first_blocks(a);
                    a * b
                })
            });
            let want: Vec<u64> = (0..len).map(|a| a * (a + 1)).collect();
            assert_eq!(got, want, "pairs: {case}");
            let triples: Vec<(u64, u8, String)> = (0..len).map(|a| (a, 1, a.to_string())).collect();
            let got = call_from(pool, case.from_worker, || {
                pool.starmap(triples, |a: u64, b: u8, s: String| {
                    first_blocks(a);
                    format!("{s}:{}", a + u64::from(b))
                })
            });
            let want: Vec<String> = (0..len).map(|a| format!("{a}:{}", a + 1)).collect();
            assert_eq!(got, want, "triples: {case}");
        });
        blocking_still_plain();
    });
}

// ---------------------------------------------------------------------------
// 7. Nesting.

/// An inner `map` over 0..8 whose first item blocks: if `wait`, until
/// another inner item has started (bounded), else briefly. The fold of its
/// results, and whether its first item saw the rest shared (`true` unless
/// it waited in vain).
fn inner_call(
    map: impl FnOnce(&(dyn Fn(u64) -> u64 + Sync)) -> Vec<u64>,
    wait: bool,
) -> (u64, bool) {
    let started = AtomicUsize::new(0);
    let shared = AtomicBool::new(true);
    let f = |x: u64| {
        started.fetch_add(1, SeqCst);
        if x == 0 {
            if wait {
                let seen = filch::blocking(|| wait_until(WAIT, || started.load(SeqCst) >= 2));
                shared.store(seen, SeqCst);
            } else {
                filch::blocking(|| thread::sleep(Duration::from_micros(300)));
            }
        }
        serial_f(x)
    };
    let got = map(&f);
    let want: Vec<u64> = (0..8).map(serial_f).collect();
    assert_eq!(got, want, "inner results");
    (got.iter().fold(0, |a, &b| a ^ b), shared.load(SeqCst))
}

/// Outer `map`s whose items (the first one first of all) run inner maps
/// whose first items block; the outer first item also blocks itself,
/// before or after its inner call, and waits for another outer item. Inner
/// calls by the free function (`filch::map`) and by the pool's method;
/// outer calls from outside and from a worker. Results right, no hang; the
/// outer call, and the inner call of the outer first item when it runs
/// first on this test's own pool, are shared while their first items block.
///
/// The inner calls of the other outer items only block briefly, without
/// waiting for their rest: they run on pool threads while the owner of a
/// call made on a worker may be waiting for its helpers on a condvar,
/// neither counted as blocked nor running jobs, so their blocking may get
/// no stand-in (a known limit, not what this file tests).
#[test]
fn nested_calls_with_blocking_first_items() {
    watchdog("nested", || {
        let pools = Pools::new();
        let want_inner = (0..8).map(serial_f).fold(0, |a, b| a ^ b);
        for threads in [1, 2, 4] {
            for from_worker in [false, true] {
                for free_inner in [false, true] {
                    for outer_blocks_first in [false, true] {
                        let pool = pools.get(threads);
                        let started = AtomicUsize::new(0);
                        let outer_shared = AtomicBool::new(false);
                        // Outside a worker `filch::map` uses the global pool,
                        // which other tests of this binary use too.
                        let own_pool = from_worker || !free_inner;
                        let inner = |wait: bool| {
                            let map = |f: &(dyn Fn(u64) -> u64 + Sync)| {
                                if free_inner {
                                    filch::map(0..8u64, f)
                                } else {
                                    pool.map(0..8u64, f)
                                }
                            };
                            inner_call(map, wait)
                        };
                        let outer = |i: usize| {
                            started.fetch_add(1, SeqCst);
                            if i != 0 {
                                return inner(false);
                            }
                            let wait = || {
                                let seen = filch::blocking(|| {
                                    wait_until(WAIT, || started.load(SeqCst) >= 2)
                                });
                                outer_shared.store(seen, SeqCst);
                            };
                            if outer_blocks_first {
                                wait();
                                inner(false)
                            } else {
                                let got = inner(own_pool);
                                wait();
                                got
                            }
                        };
                        let got = call_from(pool, from_worker, || {
                            if from_worker {
                                filch::map(0..6usize, outer)
                            } else {
                                pool.map(0..6usize, outer)
                            }
                        });
                        let case = format!(
                            "{threads} threads, from_worker {from_worker}, free_inner \
                             {free_inner}, outer_blocks_first {outer_blocks_first}"
                        );
                        assert_eq!(got.len(), 6, "{case}");
                        for (i, &(sum, inner_shared)) in got.iter().enumerate() {
                            assert_eq!(sum, want_inner, "outer item {i}: {case}");
                            assert!(inner_shared, "outer item {i}'s inner call: {case}");
                        }
                        assert!(outer_shared.load(SeqCst), "outer call: {case}");
                    }
                }
            }
        }
        blocking_still_plain();
    });
}

// ---------------------------------------------------------------------------
// 8. Small pools.

/// A 1-thread pool, and pools with no spare threads: items that block
/// (the first one longer) still finish with the right results, from outside
/// and from a worker, for `map`, `try_map` and `map_init`.
#[test]
fn small_pools_and_no_spares_do_not_deadlock() {
    watchdog("small pools", || {
        let configs = [(1, None), (1, Some(0)), (2, Some(0)), (3, Some(0))];
        for (threads, spares) in configs {
            let pool = fresh_pool(threads, spares);
            for from_worker in [false, true] {
                for len in [2u64, 3, 10, 100] {
                    let item = |x: u64| {
                        let time = if x == 0 { 2000 } else { 20 };
                        filch::blocking(|| thread::sleep(Duration::from_micros(time)));
                        serial_f(x)
                    };
                    let want: Vec<u64> = (0..len).map(serial_f).collect();
                    let case = format!(
                        "{threads} threads, spares {spares:?}, from_worker {from_worker}, len {len}"
                    );
                    let got = call_from(&pool, from_worker, || pool.map(0..len, item));
                    assert_eq!(got, want, "map: {case}");
                    let got: Result<Vec<u64>, ()> =
                        call_from(&pool, from_worker, || pool.try_map(0..len, |x| Ok(item(x))));
                    assert_eq!(got, Ok(want.clone()), "try_map: {case}");
                    let got = call_from(&pool, from_worker, || {
                        pool.map_init(0..len, || 0u64, |_: &mut u64, x| item(x))
                    });
                    assert_eq!(got, want, "map_init: {case}");
                }
            }
            assert_pool_works(&pool);
        }
        blocking_still_plain();
    });
}

// ---------------------------------------------------------------------------
// 9. Inputs of unknown or misreported length.

/// An input of unknown length (`filter`) is not armed; with a blocking
/// first item (and blocking others) the results are still right.
#[test]
fn unknown_length_with_a_blocking_first_item() {
    watchdog("unknown length", || {
        let pools = Pools::new();
        for threads in [1, 2, 4] {
            for from_worker in [false, true] {
                for len in [1u64, 2, 10, 200] {
                    let pool = pools.get(threads);
                    let got = call_from(pool, from_worker, || {
                        pool.map((0..len).filter(|_| true), |x| {
                            let time = if x == 0 { 2000 } else { 20 };
                            filch::blocking(|| thread::sleep(Duration::from_micros(time)));
                            serial_f(x)
                        })
                    });
                    let want: Vec<u64> = (0..len).map(serial_f).collect();
                    assert_eq!(got, want, "{threads} threads, len {len}");
                }
            }
        }
        blocking_still_plain();
    });
}

/// An iterator whose size hint claims an exact length that is wrong: it
/// yields `items` but says `claimed` (counting down as it goes).
struct Misreported {
    items: std::vec::IntoIter<Tracked>,
    claimed: usize,
}

impl Iterator for Misreported {
    type Item = Tracked;

    fn next(&mut self) -> Option<Tracked> {
        let next = self.items.next();
        if next.is_some() {
            self.claimed = self.claimed.saturating_sub(1);
        }
        next
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claimed, Some(self.claimed))
    }
}

/// Property: an input whose exact size hint is too short or too long, with
/// a blocking first item (so the shared rest is sized by the hint): every
/// item is mapped once, in order, and dropped once.
#[test]
fn misreported_length_with_a_blocking_first_item() {
    let strategy = (1..=4usize, 2..200usize, 2..400usize, masks(), any::<bool>());
    let pools = Pools::new();
    check(
        "misreported length",
        48,
        strategy,
        move |(threads, len, claimed, mask, from_worker)| {
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let items = Items::new(mask, true, &outputs);
            let input = Misreported {
                items: tracked_inputs(&inputs, len).into_iter(),
                claimed,
            };
            let got = call_from(pool, from_worker, || pool.map(input, |t| items.run(t)));
            let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
            prop_assert_eq!(values(got), want);
            prop_assert_eq!(
                items.started.load(SeqCst),
                len,
                "every item runs exactly once"
            );
            prop_assert!(items.shared.load(SeqCst), "the rest was not shared");
            inputs.assert_balanced();
            outputs.assert_balanced();
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------
// Concurrency and depth.

/// Several threads call `map` on one 2-thread pool at once, every call's
/// first item blocking. In the first rounds all calls come from outside
/// and each first item waits until another item of its own call has
/// started: every call is shared while its first item blocks. In the later
/// rounds half the calls are made on a worker and first items block only
/// briefly (a worker that owns a call waits for its helpers without being
/// counted as blocked, see the nesting test). Always: results right and
/// every value dropped exactly once.
#[test]
fn concurrent_callers_with_blocking_first_items() {
    watchdog("concurrent callers", || {
        let pool = fresh_pool(2, None);
        for round in 0..4u64 {
            let mixed = round >= 2;
            thread::scope(|s| {
                for caller in 0..6u64 {
                    let pool = &pool;
                    s.spawn(move || {
                        let len = 2 + ((caller * 7 + round * 13) % 60) as usize;
                        let inputs = Ledger::new("inputs", len);
                        let outputs = Ledger::new("outputs", len);
                        let items = Items::new(
                            caller.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ round,
                            !mixed,
                            &outputs,
                        );
                        let input = tracked_inputs(&inputs, len);
                        let got = call_from(pool, mixed && caller % 2 == 1, || {
                            pool.map(input, |t| items.run(t))
                        });
                        let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
                        assert_eq!(values(got), want, "caller {caller}, round {round}");
                        assert!(
                            items.shared.load(SeqCst),
                            "caller {caller}, round {round}: the rest was not shared"
                        );
                        inputs.assert_balanced();
                        outputs.assert_balanced();
                        blocking_still_plain();
                    });
                }
            });
        }
        assert_pool_works(&pool);
    });
}

/// Maps nested four deep (from outside and from a worker), the first item
/// of every call blocking briefly before it calls the next level: results
/// right, no hang.
#[test]
fn deeply_nested_blocking_first_items() {
    fn level(pool: &Pool, depth: u32, free: bool) -> u64 {
        if depth == 0 {
            return 1;
        }
        let f = |i: u64| {
            if i == 0 {
                filch::blocking(|| thread::sleep(Duration::from_micros(300)));
            }
            level(pool, depth - 1, free)
        };
        let got = if free {
            filch::map(0..3u64, f)
        } else {
            pool.map(0..3u64, f)
        };
        got.iter().sum()
    }
    watchdog("deep nesting", || {
        let pools = Pools::new();
        for threads in [1, 2, 4] {
            let pool = pools.get(threads);
            for from_worker in [false, true] {
                for free in [false, true] {
                    let got = call_from(pool, from_worker, || level(pool, 4, free));
                    assert_eq!(got, 81, "{threads} threads, from_worker {from_worker}");
                }
            }
        }
        blocking_still_plain();
    });
}
