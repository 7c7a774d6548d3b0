//! `imap` and `imap_unordered` over an infinite input read it only a
//! bounded distance ahead of what they have yielded: counting the input's
//! `next()` calls after each result stays within the window the docs
//! promise (`4 × threads` chunks in flight, plus the chunk being yielded).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{pool, serial_f, watchdog};

/// `MAX_SERIAL_BATCH` in `imap_core.rs`: the largest batch the consumer computes
/// itself, ahead of what it has yielded, in the serial phase.
const MAX_SERIAL_BATCH: usize = 4_096;

/// `MAX_AUTO_CHUNK` in `imap_core.rs`: the largest automatic chunk.
const MAX_AUTO_CHUNK: usize = 16_384;

/// An input adapter counting how many items were pulled from it.
struct Counted<I> {
    inner: I,
    pulls: Arc<AtomicUsize>,
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        self.pulls.fetch_add(1, Ordering::SeqCst);
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

fn counted_naturals() -> (Counted<std::ops::RangeFrom<u64>>, Arc<AtomicUsize>) {
    let pulls = Arc::new(AtomicUsize::new(0));
    let input = Counted {
        inner: 0u64..,
        pulls: Arc::clone(&pulls),
    };
    (input, pulls)
}

/// Takes `k` results one at a time, checking after each that at most
/// `bound(taken)` items were pulled, and that the results are right.
fn take_checking<It: Iterator<Item = u64>>(
    mut iter: It,
    pulls: &AtomicUsize,
    k: usize,
    ordered: bool,
    bound: impl Fn(usize) -> usize,
    what: &str,
) {
    let mut seen = Vec::with_capacity(k);
    for taken in 1..=k {
        let value = iter.next().expect("an infinite input never ends");
        seen.push(value);
        let pulled = pulls.load(Ordering::SeqCst);
        let limit = bound(taken);
        assert!(
            pulled <= limit,
            "{what}: pulled {pulled} items after yielding {taken}; the bound is {limit}"
        );
    }
    if ordered {
        assert!(
            seen.iter()
                .enumerate()
                .all(|(i, &v)| v == serial_f(i as u64)),
            "{what}: results out of order"
        );
    } else {
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), k, "{what}: a result was yielded twice");
    }
}

/// With an explicit chunk size there is no serial phase: at most
/// `4 × threads` chunks are in flight beyond the one being yielded, so
/// after `k` results at most `k + (4 × threads + 1) × chunk` items are read.
#[test]
fn explicit_chunks_read_at_most_the_window_ahead() {
    watchdog("explicit chunk lookahead", || {
        for threads in [1, 2, 3, 8] {
            let pool = pool(threads);
            for chunk in [1, 3, 16, 250] {
                for ordered in [true, false] {
                    let (input, pulls) = counted_naturals();
                    let chunked = pool.with_chunk_size(chunk).unwrap();
                    let bound = |taken| taken + (4 * threads + 1) * chunk;
                    let what = format!("{threads} threads, chunk {chunk}, ordered {ordered}");
                    let k = 2_000;
                    if ordered {
                        take_checking(chunked.imap(input, serial_f), &pulls, k, true, bound, &what);
                    } else {
                        take_checking(
                            chunked.imap_unordered(input, serial_f),
                            &pulls,
                            k,
                            false,
                            bound,
                            &what,
                        );
                    }
                    // Dropped: nothing reads the input any more.
                    let after_drop = pulls.load(Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    assert_eq!(
                        pulls.load(Ordering::SeqCst),
                        after_drop,
                        "{what}: input read after the drop"
                    );
                }
            }
        }
    });
}

/// With automatic chunking, cheap items: the consumer first computes
/// serial batches of at most `MAX_SERIAL_BATCH` items, then chunks of at
/// most `MAX_AUTO_CHUNK` items go to the pool, `4 × threads` in flight
/// beyond the one being yielded. So after `k` results at most
/// `k + MAX_SERIAL_BATCH + (4 × threads + 1) × MAX_AUTO_CHUNK` items are
/// read; 300 000 results cross from the serial phase into many windows.
#[test]
fn automatic_chunks_of_cheap_items_read_a_bounded_distance_ahead() {
    watchdog("automatic lookahead, cheap items", || {
        for threads in [1, 2, 8] {
            let pool = pool(threads);
            for ordered in [true, false] {
                let (input, pulls) = counted_naturals();
                let bound = |taken| taken + MAX_SERIAL_BATCH + (4 * threads + 1) * MAX_AUTO_CHUNK;
                let what = format!("automatic, cheap, {threads} threads, ordered {ordered}");
                let k = 300_000;
                if ordered {
                    take_checking(pool.imap(input, serial_f), &pulls, k, true, bound, &what);
                } else {
                    take_checking(
                        pool.imap_unordered(input, serial_f),
                        &pulls,
                        k,
                        false,
                        bound,
                        &what,
                    );
                }
            }
        }
    });
}

/// With automatic chunking, items of 100 µs or more: the first serial batch
/// (one item) already shows the work is worth the pool, and the chunk is
/// `CHUNK_TARGET_NS / cost` = 100 µs / 100 µs, clamped to at least 1: one
/// item, or two if the probe's clock under-reads by up to 2x. So after `k`
/// results at most `k + 1 + (4 × threads + 1) × 2` items are read.
#[test]
fn automatic_chunks_of_slow_items_read_a_few_items_ahead() {
    watchdog("automatic lookahead, slow items", || {
        let slow = |x: u64| {
            std::thread::sleep(Duration::from_micros(100));
            serial_f(x)
        };
        for threads in [1, 2, 4] {
            let pool = pool(threads);
            for ordered in [true, false] {
                let (input, pulls) = counted_naturals();
                let bound = |taken| taken + 1 + (4 * threads + 1) * 2;
                let what = format!("automatic, slow, {threads} threads, ordered {ordered}");
                if ordered {
                    take_checking(pool.imap(input, slow), &pulls, 40, true, bound, &what);
                } else {
                    take_checking(
                        pool.imap_unordered(input, slow),
                        &pulls,
                        40,
                        false,
                        bound,
                        &what,
                    );
                }
            }
        }
    });
}
