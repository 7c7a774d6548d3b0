//! A call from outside the pool whose call site's last two first items were
//! long shares the rest of its input *before* running its first item, so
//! helpers start while that item runs (ten 100 µs items on two
//! threads could not reach 1.8x while the first item ran alone). The same
//! holds for `map` and `imap`, each its own call site. (`imap_unordered`
//! from outside runs no item on its consumer unless its site's items were
//! short, so its first item never runs alone there: see
//! `imap_keeps_python_pool_promises.rs`.)
//!
//! Observed structurally, not by timing: the first item waits (bounded) for
//! another item of its own call to start. Alone, it gives up; shared at
//! once, it sees one start. Every test runs under the watchdog.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::{
    boom, boom_index, catch, quiet_injected_panics, serial_f, tracked_inputs, wait_until, watchdog,
    Ledger, Tracked,
};
use filch::Pool;

/// Long enough to count as a long first item (the bar is 20 µs), short
/// enough to keep the test quick.
const LONG: Duration = Duration::from_millis(30);

/// How long the call that should be shared at once waits for a helper:
/// far beyond any wake-up, so only a broken implementation runs out.
const PATIENT: Duration = Duration::from_secs(10);

/// The first item's part: spins until another item has `started` or
/// `wait` runs out; whether one started.
fn another_started(started: &AtomicUsize, wait: Duration) -> bool {
    wait_until(wait, || started.load(SeqCst) > 0)
}

/// The APIs that keep a first-item history.
#[derive(Debug, Clone, Copy)]
enum Api {
    Map,
    Imap,
}

const APIS: [Api; 2] = [Api::Map, Api::Imap];

/// Item 0 reports whether another item of the call started while it ran
/// (waiting at most `wait`); item `i > 0` counts itself and returns
/// `10 * i`. One call site per API for every call of a test. The values
/// come back in input order.
fn call(pool: &Pool, api: Api, started: &Arc<AtomicUsize>, wait: Duration) -> Vec<u64> {
    started.store(0, SeqCst);
    match api {
        Api::Map => pool.map(0..6u64, item::<0>(started, wait)),
        Api::Imap => pool.imap(0..6u64, item::<1>(started, wait)).collect(),
    }
}

/// The item function of [`call`]; one type per `SITE`, since the history
/// is keyed by the code the closure compiles to (two APIs given the same
/// closure type share an entry).
fn item<const SITE: u8>(
    started: &Arc<AtomicUsize>,
    wait: Duration,
) -> impl Fn(u64) -> u64 + Send + Sync + 'static {
    let started = Arc::clone(started);
    move |i| {
        if i > 0 {
            started.fetch_add(1, SeqCst);
            return 10 * i;
        }
        u64::from(another_started(&started, wait))
    }
}

/// What a call returns when its first item saw (`1`) or did not see (`0`)
/// another item start.
fn expected(first_saw_another: bool) -> Vec<u64> {
    let mut values: Vec<u64> = (0..6).map(|i| 10 * i).collect();
    values[0] = u64::from(first_saw_another);
    values
}

/// Asserts that a call's first item waited `LONG` for another item in vain:
/// it ran alone, as every call without a sharing history does.
fn assert_first_item_ran_alone(pool: &Pool, api: Api, started: &Arc<AtomicUsize>, which: &str) {
    assert_eq!(
        call(pool, api, started, LONG),
        expected(false),
        "{api:?} {which}: the first item did not run alone"
    );
}

#[test]
fn after_two_long_first_items_the_next_call_shares_before_its_first_item() {
    watchdog("share at once after two long first items", || {
        let pool = Pool::builder().threads(2).build().expect("a 2-thread pool");
        let started = Arc::new(AtomicUsize::new(0));
        for api in APIS {
            // No history: the first item runs alone, twice.
            assert_first_item_ran_alone(&pool, api, &started, "call 1");
            assert_first_item_ran_alone(&pool, api, &started, "call 2");
            // Two long first items: the rest is shared before the third starts.
            assert_eq!(
                call(&pool, api, &started, PATIENT),
                expected(true),
                "{api:?} call 3: the first item ran alone"
            );
        }
    });
}

#[test]
fn one_long_first_item_is_not_enough() {
    watchdog("one long first item", || {
        let pool = Pool::builder().threads(2).build().expect("a 2-thread pool");
        let started = Arc::new(AtomicUsize::new(0));
        for api in APIS {
            assert_first_item_ran_alone(&pool, api, &started, "call 1");
            assert_first_item_ran_alone(&pool, api, &started, "call 2, after one long first item");
        }
    });
}

#[test]
fn another_call_site_does_not_inherit_the_history() {
    watchdog("history is per call site", || {
        let pool = Pool::builder().threads(2).build().expect("a 2-thread pool");
        let started = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            call(&pool, Api::Map, &started, LONG);
        }
        // A different closure: its own site, with no history.
        started.store(0, SeqCst);
        let first_saw_another = pool.map(0..6u64, |i| {
            if i > 0 {
                started.fetch_add(1, SeqCst);
                return false;
            }
            another_started(&started, LONG)
        })[0];
        assert!(!first_saw_another, "a new call site was shared at once");
    });
}

#[test]
fn a_one_thread_pool_never_shares_at_once() {
    watchdog("1-thread pool", || {
        let pool = Pool::builder().threads(1).build().expect("a 1-thread pool");
        let started = Arc::new(AtomicUsize::new(0));
        for api in APIS {
            for n in 1..=3 {
                // From outside, a 1-thread pool's calls run on the caller: a
                // helper would only contend with it.
                assert_first_item_ran_alone(&pool, api, &started, &format!("call {n}"));
            }
        }
    });
}

/// The item function of [`call_that_may_panic`], one type per `SITE`: item
/// 0 waits (at most `wait`) for another item to start, then panics if
/// `panic_now` is set; every other item counts itself. Outputs are tracked.
fn tracked_item<const SITE: u8>(
    started: &Arc<AtomicUsize>,
    panic_now: &Arc<AtomicBool>,
    outputs: &Arc<Ledger>,
    wait: Duration,
) -> impl Fn(Tracked) -> Tracked + Send + Sync + 'static {
    let (started, panic_now, outputs) = (
        Arc::clone(started),
        Arc::clone(panic_now),
        Arc::clone(outputs),
    );
    move |t: Tracked| {
        if t.value > 0 {
            started.fetch_add(1, SeqCst);
        } else if another_started(&started, wait) && panic_now.load(SeqCst) {
            boom(0);
        }
        outputs.make(serial_f(t.value))
    }
}

/// One call of `api` over 6 tracked inputs through [`tracked_item`]; the
/// outputs' values, or the panic it resumed.
fn call_that_may_panic(
    pool: &Pool,
    api: Api,
    started: &Arc<AtomicUsize>,
    panic_now: &Arc<AtomicBool>,
    wait: Duration,
) -> Result<Vec<u64>, Box<dyn std::any::Any + Send>> {
    const LEN: usize = 6;
    started.store(0, SeqCst);
    let inputs = Ledger::new("inputs", LEN);
    let outputs = Ledger::new("outputs", LEN);
    let input = tracked_inputs(&inputs, LEN);
    let got = catch(|| {
        let values: Vec<Tracked> = match api {
            Api::Map => pool.map(
                input,
                tracked_item::<10>(started, panic_now, &outputs, wait),
            ),
            Api::Imap => {
                let f = tracked_item::<11>(started, panic_now, &outputs, wait);
                pool.imap(input, f).collect()
            }
        };
        let mut values: Vec<u64> = values.into_iter().map(|t| t.value).collect();
        values.sort_unstable();
        values
    });
    // Chunks a panic left running finish in the background.
    inputs.settle();
    outputs.settle();
    got
}

/// A call shared at once whose first item panics after other items have
/// started: the caller gets the first item's payload, every input and
/// every output made is dropped exactly once, and the next call works.
#[test]
fn a_panic_of_the_first_item_after_sharing_at_once_reaches_the_caller() {
    quiet_injected_panics();
    watchdog("first item panics after sharing at once", || {
        let pool = Pool::builder().threads(2).build().expect("a 2-thread pool");
        let started = Arc::new(AtomicUsize::new(0));
        let panic_now = Arc::new(AtomicBool::new(false));
        let mut want: Vec<u64> = (0..6).map(serial_f).collect();
        want.sort_unstable();
        for api in APIS {
            panic_now.store(false, SeqCst);
            for n in 1..=2 {
                let got = call_that_may_panic(&pool, api, &started, &panic_now, LONG);
                assert_eq!(got.ok(), Some(want.clone()), "{api:?} call {n}");
            }
            panic_now.store(true, SeqCst);
            let got = call_that_may_panic(&pool, api, &started, &panic_now, PATIENT);
            let payload = got.expect_err("call 3's first item panics once another item started");
            assert_eq!(
                boom_index(&*payload),
                0,
                "{api:?}: the first item's payload"
            );
            panic_now.store(false, SeqCst);
            let got = call_that_may_panic(&pool, api, &started, &panic_now, PATIENT);
            assert_eq!(
                got.ok(),
                Some(want.clone()),
                "{api:?}: the call after the panic"
            );
        }
    });
}
