//! Seed 003, "Using Multiprocessing to Make Python Code Faster": ten items
//! that each square a number, sleep, and print whether the square is
//! zero, even or odd, run three ways: a for-loop (20 s), one
//! `multiprocessing.Process` per item (2.2 s) and `Pool().map` (4.2 s).
//!
//! Here: the for-loop, one `std::thread` per item (what the Process class
//! does), `Pool::map` on a pool with one thread per core, and the same map
//! on a pool with one thread per item. Times are also given in sleeps, so
//! they read the same at any scale.
//!
//! Scaled: each item sleeps 200 ms instead of the seed's 2 s, so the whole
//! example takes about 4 s.
//!
//! Run it from the workspace root with:
//!
//! ```sh
//! cargo run --release --example seed_003_sleeping_items
//! ```

use std::thread;
use std::time::{Duration, Instant};

use filch::Pool;

/// What each item sleeps (the seed: 2 s).
const NAP: Duration = Duration::from_millis(200);

/// The number of items (as in the seed).
const ITEMS: u64 = 10;

/// The seed's `basic_func(x)`.
fn basic_func(x: u64) -> &'static str {
    if x == 0 {
        "zero"
    } else if x % 2 == 0 {
        "even"
    } else {
        "odd"
    }
}

/// The seed's `multiprocessing_func(x)`, returning its line instead of
/// printing it, so the parallel versions can be checked against the loop.
fn multiprocessing_func(x: u64) -> String {
    let y = x * x;
    thread::sleep(NAP);
    format!("{x} squared results in a/an {} number", basic_func(y))
}

/// The same item without the sleep (the seed's suggestion for where Pool
/// beats Process).
fn awake_func(x: u64) -> String {
    format!("{x} squared results in a/an {} number", basic_func(x * x))
}

/// Times `run`, prints "That took ..." and returns the lines it produced.
fn report(title: &str, run: impl FnOnce() -> Vec<String>) -> (Vec<String>, Duration) {
    let start = Instant::now();
    let lines = run();
    let took = start.elapsed();
    println!(
        "{title:<46} That took {:.3} seconds = {:.1} sleeps",
        took.as_secs_f64(),
        took.as_secs_f64() / NAP.as_secs_f64()
    );
    (lines, took)
}

fn main() {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "seed 003: {ITEMS} items that each sleep {} ms, on {cores} cores",
        NAP.as_millis()
    );
    println!();

    // 1. The for-loop, printing as it goes like the seed.
    let start = Instant::now();
    let mut expected = Vec::new();
    for i in 0..ITEMS {
        let line = multiprocessing_func(i);
        println!("{line}");
        expected.push(line);
    }
    let loop_time = start.elapsed();
    println!();
    println!(
        "{:<46} That took {:.3} seconds = {:.1} sleeps",
        "for-loop:",
        loop_time.as_secs_f64(),
        loop_time.as_secs_f64() / NAP.as_secs_f64()
    );

    // 2. One thread per item, like one multiprocessing.Process per item.
    let (lines, per_item) = report("one std::thread per item (the Process class):", || {
        thread::scope(|s| {
            let handles: Vec<_> = (0..ITEMS)
                .map(|i| s.spawn(move || multiprocessing_func(i)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("an item panicked"))
                .collect()
        })
    });
    assert_eq!(lines, expected);

    // 3. Pool().map, one worker per core.
    let pool = Pool::new();
    let threads = pool.threads();
    let title = format!("Pool::new() ({threads} threads), pool.map:");
    let (lines, pooled) = report(&title, || pool.map(0..ITEMS, multiprocessing_func));
    assert_eq!(lines, expected);

    let (lines, pooled_fixed) = report("Pool::new(), with_chunk_size(1).map:", || {
        pool.with_chunk_size(1)
            .expect("1 is a valid chunk size")
            .map(0..ITEMS, multiprocessing_func)
    });
    assert_eq!(lines, expected);

    // 4. The same pool, with the sleep marked as blocking: spares stand in.
    let marked = |i: u64| filch::blocking(|| multiprocessing_func(i));
    let (lines, blocking_auto) = report("Pool::new(), map with filch::blocking:", || {
        pool.map(0..ITEMS, marked)
    });
    assert_eq!(lines, expected);
    let (lines, blocking_fixed) = report("Pool::new(), with_chunk_size(1) + blocking:", || {
        pool.with_chunk_size(1)
            .expect("1 is a valid chunk size")
            .map(0..ITEMS, marked)
    });
    assert_eq!(lines, expected);

    // 5. A pool sized for waiting, not for the cores.
    let waiting = Pool::builder()
        .threads(ITEMS as usize)
        .build()
        .expect("could not start the pool");
    let title = format!("{ITEMS}-thread pool, pool.map:");
    let (lines, wide) = report(&title, || waiting.map(0..ITEMS, multiprocessing_func));
    assert_eq!(lines, expected);
    let title = format!("{ITEMS}-thread pool, with_chunk_size(1).map:");
    let (lines, wide_fixed) = report(&title, || {
        waiting
            .with_chunk_size(1)
            .expect("1 is a valid chunk size")
            .map(0..ITEMS, multiprocessing_func)
    });
    assert_eq!(lines, expected);

    // 6. The seed's suggestion: remove the sleep.
    let before = pool.stats().total().jobs;
    let awake = pool.map(0..ITEMS, awake_func);
    let awake_jobs = pool.stats().total().jobs - before;
    assert_eq!(awake, expected);

    let sleeps = |d: Duration| d.as_secs_f64() / NAP.as_secs_f64();
    println!();
    println!("What filch did (and did not do) differently:");
    println!(
        "- Unmarked, a sleeping item holds its worker. On {threads} threads \
         the map took {:.1} sleeps: one for the first item, which filch runs alone on the \
         calling thread to time it, then {} items on {threads} threads. With \
         with_chunk_size(1) there is no such probe: {:.1} sleeps, {ITEMS}/{threads} like \
         Python's Pool.",
        sleeps(pooled),
        ITEMS - 1,
        sleeps(pooled_fixed)
    );
    println!(
        "- With the sleep wrapped in filch::blocking, a spare thread stands in for each \
         sleeping worker and takes the map's remaining items: {:.1} sleeps (the first item \
         still runs alone to be timed), and {:.1} with with_chunk_size(1), as fast as a \
         thread per item, on a pool of {threads}.",
        sleeps(blocking_auto),
        sleeps(blocking_fixed)
    );
    println!(
        "- A thread per item (the Process class) took {:.1} sleeps: every item waits at \
         once. A thread costs microseconds to start, not a process's milliseconds, so \
         for a handful of blocking items that is the right tool.",
        sleeps(per_item)
    );
    println!(
        "- A pool sized for waiting rather than for the cores, a thread per item, took \
         {:.1} sleeps (the probe's first item, then the rest at once), and {:.1} with \
         with_chunk_size(1), where every item waits at once as with a thread per item.",
        sleeps(wide),
        sleeps(wide_fixed)
    );
    println!(
        "- filch is for CPU-bound work. Remove the sleep, as the seed suggests, and the items \
         are too small to share: the map ran on the calling thread ({awake_jobs} jobs \
         reached a worker)."
    );
}
