//! `join` recursion gives exact answers: a fib tree with no cutoff, sums
//! split down to single items, and linear chains thousands of joins deep.

mod common;

use std::time::Duration;

use common::watchdog;
use filch_scheduler::{join, ThreadPoolBuilder};

const LIMIT: Duration = Duration::from_secs(30);

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = join(|| fib(n - 1), || fib(n - 2));
    a + b
}

fn fib_serial(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

/// Sums `values` by halving down to single items, one `join` per split.
fn sum(values: &[u64]) -> u64 {
    match values {
        [] => 0,
        [x] => *x,
        _ => {
            let (left, right) = values.split_at(values.len() / 2);
            let (a, b) = join(|| sum(left), || sum(right));
            a + b
        }
    }
}

/// `depth` nested joins; the recursion continues in the first half.
fn chain_left(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    let (a, b) = join(|| chain_left(depth - 1), || depth);
    a + b
}

/// `depth` nested joins; the recursion continues in the second half, the
/// one a thief may take, so the chain hops between workers.
fn chain_right(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    let (a, b) = join(|| depth, || chain_right(depth - 1));
    a + b
}

#[test]
fn fib_through_join_without_cutoff_is_exact() {
    watchdog("fib(27) through join", LIMIT, || {
        for threads in [1, 2, 4] {
            let pool = ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for n in [0, 1, 2, 10, 20, 27] {
                assert_eq!(
                    pool.install(|| fib(n)),
                    fib_serial(n),
                    "fib({n}) on {threads} threads"
                );
            }
        }
    });
}

#[test]
fn sum_split_to_single_items_is_exact() {
    watchdog("sum split to single items", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let values: Vec<u64> = (1..=1_000_000).collect();
        assert_eq!(pool.install(|| sum(&values)), 1_000_000 * 1_000_001 / 2);
        assert_eq!(pool.install(|| sum(&values[..1])), 1);
        assert_eq!(pool.install(|| sum(&[])), 0);
    });
}

#[test]
fn linear_chains_thousands_of_joins_deep_are_exact() {
    const DEPTH: u64 = 10_000;
    watchdog("linear join chains", LIMIT, || {
        let pool = common::deep_stack_pool();
        let expected = DEPTH * (DEPTH + 1) / 2;
        for _ in 0..5 {
            assert_eq!(pool.install(|| chain_left(DEPTH)), expected);
            assert_eq!(pool.install(|| chain_right(DEPTH)), expected);
        }
    });
}

#[test]
fn pool_join_from_outside_returns_both_results() {
    watchdog("ThreadPool::join from outside", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let left = vec![1u64; 1000];
        let right = vec![2u64; 1000];
        // Borrowing the caller's stack from both halves.
        let (a, b) = pool.join(|| sum(&left), || sum(&right));
        assert_eq!((a, b), (1000, 2000));
        let (s, n) = pool.join(|| String::from("left"), || fib(15));
        assert_eq!((s.as_str(), n), ("left", 610));
    });
}

#[test]
fn join_in_a_worker_of_another_pool_is_exact() {
    watchdog("join across two pools", LIMIT, || {
        let outer = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let inner = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let got = outer.install(|| {
            let (a, b) = join(|| inner.install(|| fib(20)), || fib(20));
            let (c, d) = inner.join(|| fib(18), || outer.install(|| fib(18)));
            a + b + c + d
        });
        assert_eq!(got, 2 * fib_serial(20) + 2 * fib_serial(18));
    });
}
