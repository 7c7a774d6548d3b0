//! Ten blocking items on two threads, structurally.

use super::*;

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
