//! `Pool::imap_scope`: `imap` and `imap_unordered` over borrowed data with
//! a borrowing function give the serial results in every mode, drop every
//! result exactly once (also when the iterator is dropped early), and the
//! scope does not return while a chunk job still runs, even when the
//! iterator was leaked with `mem::forget`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use common::{pool, serial_f, watchdog, Ledger};

/// All of a scoped `imap` (or `imap_unordered`, sorted) over `data`.
fn drain<'s>(
    s: &filch::ImapScope<'_, 's>,
    data: &'s [u64],
    f: impl Fn(&'s u64) -> u64 + Send + Sync + 's,
    ordered: bool,
) -> Vec<u64> {
    if ordered {
        s.imap(data, f).collect()
    } else {
        let mut v: Vec<u64> = s.imap_unordered(data.iter(), f).collect();
        v.sort_unstable();
        v
    }
}

/// Every mode of the scoped iterators over a borrowed slice, with a
/// function that borrows a local counter: serial results, one call per
/// item consumed.
#[test]
fn scoped_imaps_over_borrowed_data_give_serial_results() {
    watchdog("scoped imap results", || {
        for threads in [1, 2, 3] {
            let pool = pool(threads);
            for len in [0usize, 1, 7, 1000, 20_000] {
                let data: Vec<u64> = (0..len as u64).collect();
                let want: Vec<u64> = data.iter().map(|&x| serial_f(x)).collect();
                for chunk in [None, Some(1), Some(64)] {
                    for ordered in [true, false] {
                        let calls = AtomicUsize::new(0);
                        let f = |&x: &u64| {
                            calls.fetch_add(1, SeqCst);
                            serial_f(x)
                        };
                        let got = match chunk {
                            None => pool.imap_scope(|s| drain(s, &data, f, ordered)),
                            Some(c) => pool
                                .with_chunk_size(c)
                                .unwrap()
                                .imap_scope(|s| drain(s, &data, f, ordered)),
                        };
                        let mut want = want.clone();
                        if !ordered {
                            want.sort_unstable();
                        }
                        let case = format!(
                            "{threads} threads, {len} items, chunk {chunk:?}, ordered {ordered}"
                        );
                        assert_eq!(got, want, "{case}");
                        assert_eq!(calls.load(SeqCst), len, "{case}: calls");
                    }
                }
            }
        }
    });
}

/// Results made by the borrowing function are each dropped once, whether
/// the iterator is drained or dropped after a few items; the inputs are
/// only borrowed, so nothing else is made or dropped.
#[test]
fn every_result_is_dropped_once() {
    watchdog("scoped imap drops", || {
        let pool = pool(2);
        let data: Vec<u64> = (0..5_000).collect();
        for take in [0usize, 3, 5_000] {
            for ordered in [true, false] {
                let outputs = Ledger::new("outputs", data.len());
                pool.imap_scope(|s| {
                    let f = |&x: &u64| outputs.make(x);
                    if ordered {
                        s.imap(&data, f).take(take).for_each(drop);
                    } else {
                        s.imap_unordered(&data, f).take(take).for_each(drop);
                    }
                });
                // The scope has waited for every chunk job: what they made
                // is dropped by now.
                outputs.assert_balanced();
                assert!(
                    outputs.created() >= take,
                    "take {take}: fewer results than taken"
                );
            }
        }
    });
}

/// A leaked iterator cannot let a job touch borrowed data after the scope:
/// the scope returns only once every chunk job has finished. The function
/// counts finished items in a borrowed counter; after the scope returns,
/// the count no longer moves.
#[test]
fn a_leaked_iterator_does_not_outlive_the_scope() {
    watchdog("scoped imap forget", || {
        let pool = pool(2);
        for ordered in [true, false] {
            let finished = AtomicUsize::new(0);
            let data: Vec<u64> = (0..64).collect();
            pool.imap_scope(|s| {
                let f = |&x: &u64| {
                    thread::sleep(Duration::from_millis(2));
                    finished.fetch_add(1, SeqCst);
                    x
                };
                if ordered {
                    let mut it = s.imap(&data, f);
                    assert_eq!(it.next(), Some(0));
                    std::mem::forget(it);
                } else {
                    let mut it = s.imap_unordered(&data, f);
                    assert!(it.next().is_some());
                    std::mem::forget(it);
                }
            });
            let at_return = finished.load(SeqCst);
            thread::sleep(Duration::from_millis(50));
            assert_eq!(
                finished.load(SeqCst),
                at_return,
                "ordered {ordered}: a chunk job ran after the scope returned"
            );
            drop(data);
        }
    });
}

/// Every old value of a scoped `imap` (or `imap_unordered`) over
/// `data.iter_mut()` that marks each element it is handed, sorted.
fn mark_all<'s>(s: &filch::ImapScope<'_, 's>, data: &'s mut [u64], ordered: bool) -> Vec<u64> {
    let f = |x: &mut u64| {
        let was = *x;
        *x += 1_000_000;
        was
    };
    let mut old: Vec<u64> = if ordered {
        s.imap(data.iter_mut(), f).collect()
    } else {
        s.imap_unordered(data.iter_mut(), f).collect()
    };
    old.sort_unstable();
    old
}

/// A slice's `iter_mut` is cut into disjoint pieces: every element is
/// handed out exactly once, to exactly one item, in every mode, with
/// automatic and with small fixed chunks (each item marks its element and
/// returns its old value, so a repeated or skipped element shows in both).
#[test]
fn iter_mut_hands_each_element_to_one_item() {
    watchdog("scoped imap over iter_mut", || {
        let pool = pool(2);
        let small = std::num::NonZeroUsize::new(64).expect("not zero");
        for ordered in [true, false] {
            for fixed in [false, true] {
                for len in [0usize, 1, 7, 1_000, 40_000] {
                    let mut data: Vec<u64> = (0..len as u64).collect();
                    let old = if fixed {
                        pool.chunked(small)
                            .imap_scope(|s| mark_all(s, &mut data, ordered))
                    } else {
                        pool.imap_scope(|s| mark_all(s, &mut data, ordered))
                    };
                    let want: Vec<u64> = (0..len as u64).collect();
                    let case = format!("ordered {ordered}, fixed chunks {fixed}, {len} items");
                    assert_eq!(old, want, "{case}: old values");
                    let marked: Vec<u64> = want.iter().map(|x| x + 1_000_000).collect();
                    assert_eq!(data, marked, "{case}: each marked once");
                }
            }
        }
    });
}
