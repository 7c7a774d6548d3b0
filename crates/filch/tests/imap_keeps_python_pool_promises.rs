//! `imap` and `imap_unordered` against the promises of Python's `Pool`:
//! every result before a failure comes first, then the failure, then the
//! end (for a panic of the function and of the input iterator, however far
//! ahead the input was read); completion order for `imap_unordered`, even
//! when the consumer's own thread could have run the slow item; and
//! `next_timeout` gives up without losing the result.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{boom, boom_index, catch, quiet_injected_panics, watchdog};
use filch::{Pool, TimedOut};

fn pool(threads: usize) -> Pool {
    Pool::builder().threads(threads).build().expect("a pool")
}

/// Every way of making an ordered `imap`: default mode and chunk sizes.
fn ordered_modes() -> [Option<usize>; 4] {
    [None, Some(1), Some(7), Some(64)]
}

fn imap<'p, I, F>(
    pool: &'p Pool,
    chunk: Option<usize>,
    ordered: bool,
    input: I,
    f: F,
) -> Box<dyn Iterator<Item = u64> + 'p>
where
    I: IntoIterator<Item = u64> + 'p,
    I::IntoIter: 'p,
    F: Fn(u64) -> u64 + Send + Sync + 'static,
{
    match (chunk, ordered) {
        (None, true) => Box::new(pool.imap(input, f)),
        (None, false) => Box::new(pool.imap_unordered(input, f)),
        (Some(c), true) => Box::new(pool.with_chunk_size(c).unwrap().imap(input, f)),
        (Some(c), false) => Box::new(pool.with_chunk_size(c).unwrap().imap_unordered(input, f)),
    }
}

/// Iterates to the end: the results, the panic's index (if any), and
/// whether `next()` after the panic returned `None` three times.
fn drain(mut it: Box<dyn Iterator<Item = u64> + '_>) -> (Vec<u64>, Option<usize>, bool) {
    let mut got = Vec::new();
    loop {
        match catch(|| it.next()) {
            Ok(Some(x)) => got.push(x),
            Ok(None) => return (got, None, true),
            Err(payload) => {
                let fused = (0..3).all(|_| matches!(catch(|| it.next()), Ok(None)));
                return (got, Some(boom_index(&*payload)), fused);
            }
        }
    }
}

/// Python: `imap` over 200 cheap items whose function raises on item 100
/// yields results 0..99, then raises. So does filch in every mode and on
/// every thread count, and the iterator is over after the panic.
#[test]
fn a_panic_in_f_comes_after_every_earlier_result() {
    quiet_injected_panics();
    watchdog("panic in f", || {
        for threads in [1, 2, 3] {
            let pool = pool(threads);
            for chunk in ordered_modes() {
                for panic_at in [0u64, 1, 100, 199] {
                    let f = move |x: u64| {
                        if x == panic_at {
                            boom(x as usize)
                        } else {
                            x * x
                        }
                    };
                    let (got, panic, fused) = drain(imap(&pool, chunk, true, 0..200u64, f));
                    let want: Vec<u64> = (0..panic_at).map(|x| x * x).collect();
                    let case = format!("{threads} threads, chunk {chunk:?}, panic at {panic_at}");
                    assert_eq!(got, want, "{case}: results before the panic");
                    assert_eq!(panic, Some(panic_at as usize), "{case}: the panic");
                    assert!(fused, "{case}: next() after the panic is not None");
                }
            }
        }
    });
}

/// An input that yields `0..len` and panics with `Boom(at)` at item `at`.
fn failing_input(len: u64, at: u64) -> impl Iterator<Item = u64> {
    (0..len).map(move |x| if x == at { boom(x as usize) } else { x })
}

/// Python: an input iterator that raises at item 3 gives 0, 1, 4, then the
/// exception. The input is read ahead of the consumer, but its panic is
/// held until the consumer reaches its place, in both orders: every item
/// before it is yielded, nothing after it is read, and then the iterator is
/// over (a caller that catches the panic and goes on gets `None`).
#[test]
fn a_panic_in_the_input_is_held_until_its_place() {
    quiet_injected_panics();
    watchdog("panic in the input", || {
        for threads in [1, 2, 3] {
            let pool = pool(threads);
            for chunk in ordered_modes() {
                for ordered in [true, false] {
                    for at in [0u64, 3, 100, 199] {
                        // Slow enough that the window reads ahead of the
                        // consumer before it reaches item `at`.
                        let f = |x: u64| {
                            if x % 16 == 0 {
                                thread::sleep(Duration::from_micros(200));
                            }
                            x * x
                        };
                        let it = imap(&pool, chunk, ordered, failing_input(400, at), f);
                        let (mut got, panic, fused) = drain(it);
                        if !ordered {
                            got.sort_unstable();
                        }
                        let want: Vec<u64> = (0..at).map(|x| x * x).collect();
                        let case = format!(
                            "{threads} threads, chunk {chunk:?}, ordered {ordered}, input panics at {at}"
                        );
                        assert_eq!(got, want, "{case}: results before the panic");
                        assert_eq!(panic, Some(at as usize), "{case}: the panic");
                        assert!(fused, "{case}: next() after the panic is not None");
                    }
                }
            }
        }
    });
}

/// The first `next()` does not panic for an input that fails at item 3: it
/// returns item 0's result (the read-ahead panic is not raised early).
#[test]
fn the_first_next_returns_before_a_later_input_panic() {
    quiet_injected_panics();
    watchdog("first next before input panic", || {
        let pool = pool(2);
        for chunk in ordered_modes() {
            let mut it = imap(&pool, chunk, true, failing_input(10, 3), |x| x * x);
            assert_eq!(catch(|| it.next()).ok(), Some(Some(0)), "chunk {chunk:?}");
        }
    });
}

/// Python: `imap_unordered` over [600 ms, 20 ms x 5] yields a 20 ms result
/// after about 20 ms. On 2 threads filch yields a short item first in every
/// run, in default mode and with a chunk size of 1, even though the
/// consumer's thread could have taken the long item itself. The long item
/// waits for a release (at most 600 ms) so that runs do not queue behind
/// each other; the time limit is generous against a loaded machine.
#[test]
fn imap_unordered_yields_in_completion_order() {
    watchdog("completion order", || {
        let pool = pool(2);
        for run in 0..20 {
            for chunk in [None, Some(1)] {
                let release = Arc::new(AtomicBool::new(false));
                let long = Arc::clone(&release);
                let f = move |x: u64| {
                    let until = Instant::now()
                        + if x == 0 {
                            Duration::from_millis(600)
                        } else {
                            Duration::from_millis(20)
                        };
                    while Instant::now() < until && !(x == 0 && long.load(Ordering::Relaxed)) {
                        thread::sleep(Duration::from_millis(1));
                    }
                    x
                };
                let start = Instant::now();
                let mut it = imap(&pool, chunk, false, 0..6u64, f);
                let first = it.next();
                let waited = start.elapsed();
                release.store(true, Ordering::Relaxed);
                let case = format!("run {run}, chunk {chunk:?}");
                assert!(
                    matches!(first, Some(1..=5)),
                    "{case}: first result {first:?}, not a short item's"
                );
                assert!(
                    waited < Duration::from_millis(400),
                    "{case}: first result after {waited:?}, behind the long item"
                );
                let mut rest: Vec<u64> = it.collect();
                rest.extend(first);
                rest.sort_unstable();
                assert_eq!(rest, [0, 1, 2, 3, 4, 5], "{case}: all results");
            }
        }
    });
}

/// `next_timeout` returns `Err(TimedOut)` while the next result is still
/// being computed, keeps the iterator usable, and then returns the result:
/// nothing is lost to a timeout. An ordered consumer does not run the slow
/// item itself while it waits with a deadline.
#[test]
fn next_timeout_gives_up_in_time_and_loses_nothing() {
    watchdog("next_timeout", || {
        let pool = pool(2);
        for ordered in [true, false] {
            for chunk in [None, Some(1)] {
                let f = |x: u64| {
                    thread::sleep(Duration::from_millis(if x == 0 { 300 } else { 1 }));
                    x + 1
                };
                let mut timeouts = 0;
                let mut got = Vec::new();
                let mut it: Box<dyn FnMut(Duration) -> Result<Option<u64>, TimedOut>> =
                    match (ordered, chunk) {
                        (true, None) => {
                            let mut it = pool.imap(0..4u64, f);
                            Box::new(move |t| it.next_timeout(t))
                        }
                        (true, Some(c)) => {
                            let mut it = pool.with_chunk_size(c).unwrap().imap(0..4u64, f);
                            Box::new(move |t| it.next_timeout(t))
                        }
                        (false, None) => {
                            let mut it = pool.imap_unordered(0..4u64, f);
                            Box::new(move |t| it.next_timeout(t))
                        }
                        (false, Some(c)) => {
                            let mut it =
                                pool.with_chunk_size(c).unwrap().imap_unordered(0..4u64, f);
                            Box::new(move |t| it.next_timeout(t))
                        }
                    };
                let start = Instant::now();
                loop {
                    match it(Duration::from_millis(20)) {
                        Ok(Some(x)) => got.push(x),
                        Ok(None) => break,
                        Err(TimedOut) => timeouts += 1,
                    }
                }
                let case = format!("ordered {ordered}, chunk {chunk:?}");
                assert!(timeouts > 0, "{case}: never timed out on a 300 ms item");
                let total = start.elapsed();
                assert!(total < Duration::from_secs(5), "{case}: took {total:?}");
                if !ordered {
                    got.sort_unstable();
                }
                assert_eq!(got, [1, 2, 3, 4], "{case}: every result, once");
            }
        }
    });
}

/// The timeout is kept: a `next_timeout` of 20 ms on a 300 ms item returns
/// long before the item is done, from a thread outside the pool.
#[test]
fn next_timeout_returns_before_the_item_is_done() {
    watchdog("next_timeout keeps time", || {
        let pool = pool(2);
        let mut it = pool.imap(0..2u64, |x| {
            thread::sleep(Duration::from_millis(300));
            x
        });
        let start = Instant::now();
        assert_eq!(it.next_timeout(Duration::from_millis(20)), Err(TimedOut));
        let waited = start.elapsed();
        assert!(
            waited < Duration::from_millis(250),
            "waited {waited:?}: the consumer ran the item itself"
        );
        assert_eq!(it.collect::<Vec<_>>(), [0, 1]);
    });
}

/// `fold` (behind `sum`, `count`, `for_each`) drains whole chunks at a
/// time: it sees every result once, in input order for `imap`, and a panic
/// of `f` reaches it after the results before the panicking item.
#[test]
fn fold_sees_every_result_and_the_panic_after_them() {
    quiet_injected_panics();
    watchdog("fold", || {
        for threads in [1, 2, 3] {
            let pool = pool(threads);
            for chunk in ordered_modes() {
                for n in [0u64, 1, 5_000, 100_000] {
                    let case = format!("{threads} threads, chunk {chunk:?}, {n} items");
                    let seen: Vec<u64> = match chunk {
                        None => pool.imap(0..n, |x| x * 3).fold(Vec::new(), |mut v, x| {
                            v.push(x);
                            v
                        }),
                        Some(c) => pool.with_chunk_size(c).unwrap().imap(0..n, |x| x * 3).fold(
                            Vec::new(),
                            |mut v, x| {
                                v.push(x);
                                v
                            },
                        ),
                    };
                    assert_eq!(seen, (0..n).map(|x| x * 3).collect::<Vec<_>>(), "{case}");
                    let sum: u64 = pool.imap_unordered(0..n, |x| x * 3).sum();
                    assert_eq!(
                        sum,
                        (0..n).map(|x| x * 3).sum::<u64>(),
                        "{case}: unordered sum"
                    );
                }
                let mut before = Vec::new();
                let f = |x: u64| {
                    if x == 1_500 {
                        boom(1_500)
                    }
                    x
                };
                // The concrete iterator, whose own `fold` runs (a boxed one
                // would fall back to `next`).
                let outcome = catch(|| match chunk {
                    None => pool.imap(0..2_000u64, f).for_each(|x| before.push(x)),
                    Some(c) => pool
                        .with_chunk_size(c)
                        .unwrap()
                        .imap(0..2_000u64, f)
                        .for_each(|x| before.push(x)),
                });
                let payload = outcome.expect_err("the panic reaches for_each");
                assert_eq!(boom_index(&*payload), 1_500);
                assert_eq!(before, (0..1_500).collect::<Vec<_>>(), "chunk {chunk:?}");
            }
        }
    });
}
