//! Loom models of the `imap` window (`imap_window.rs`, the protocol in
//! `imap_core.rs`): claims, waits and completions under every interleaving
//! loom explores.

use std::cell::Cell;
use std::sync::Arc;

use crate::imap_window::*;
use crate::sync::{Condvar, Mutex};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// An item that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A window of pending `chunks`, for a consumer that takes them in order
/// or not (`Window::ordered`).
fn window_of<T, R>(chunks: Vec<Vec<T>>, ordered: bool) -> Arc<Shared<Vec<T>, R>> {
    Arc::new(Shared::new(Window {
        slots: chunks.into_iter().map(|c| Some(Slot::Pending(c))).collect(),
        ordered,
        ..Window::new()
    }))
}

/// A worker running chunks while the ordered consumer takes them: every
/// chunk is computed exactly once, by one of the two, and the consumer
/// gets them in order without waiting for nobody (loom reports a
/// deadlock otherwise).
#[test]
fn ordered_consumer_and_worker_compute_each_chunk_once_in_order() {
    loom::model(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let shared = window_of::<u32, u32>(vec![vec![1], vec![2]], true);
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
        let take = || match take_chunk(&shared, true, None, Wait::Help(|items| compute(&f, items)))
        {
            Taken::Chunk(Computed {
                values,
                panic: None,
            }) => Some(values),
            Taken::Empty => None,
            _ => unreachable!("no panic, no refill without `refill_below`, no deadline"),
        };
        let first = take();
        let second = take();
        assert_eq!((first, second), (Some(vec![10]), Some(vec![20])));
        assert!(take().is_none());
        worker.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    });
}

/// An ordered consumer that does not help waits for the oldest chunk only:
/// two workers finish the two chunks in either order, the second chunk's
/// finish does not wake the consumer, and the first chunk's must (loom
/// reports a deadlock on a lost wake-up). The consumer gets them in order.
#[test]
fn an_ordered_consumer_is_woken_by_the_oldest_chunk_finishing() {
    loom::model(|| {
        let shared = window_of::<u32, u32>(vec![vec![1], vec![2]], true);
        let workers: Vec<_> = [1, 0]
            .into_iter()
            .map(|id| {
                let s2 = Arc::clone(&shared);
                thread::spawn(move || run_chunk(&s2, &|x: u32| x * 10, id))
            })
            .collect();
        let mut got = Vec::new();
        loop {
            let wait: Wait<fn(Vec<u32>) -> Computed<u32>> = Wait::Pool(None);
            match take_chunk(&shared, true, None, wait) {
                Taken::Chunk(result) => got.extend(result.values),
                Taken::Empty => break,
                _ => unreachable!("no panic, no refill, no deadline"),
            }
        }
        for worker in workers {
            worker.join().unwrap();
        }
        assert_eq!(got, [10, 20]);
    });
}

/// A chunk that blocks on a worker wakes a consumer waiting for it with
/// `Refill`, so the consumer can read ahead while the chunk waits (here
/// the chunk waits for exactly that refill). Without the hook's wake-up,
/// loom reports a deadlock.
#[test]
fn a_blocking_chunk_wakes_the_waiting_consumer_to_refill() {
    loom::model(|| {
        // 0: not started; 1: the worker runs the chunk; 2: refilled.
        let stage = Arc::new((Mutex::new(0u8), Condvar::new()));
        let shared = window_of::<u32, u32>(vec![vec![1]], true);
        let (s2, st2) = (Arc::clone(&shared), Arc::clone(&stage));
        let worker = thread::spawn(move || {
            let f = |x: u32| {
                let (lock, cond) = &*st2;
                *lock.lock() = 1;
                cond.notify_all();
                let blocked = ChunkBlocked {
                    shared: &*s2,
                    counted: Cell::new(false),
                };
                // SAFETY: `blocked` is live on this thread.
                unsafe { ChunkBlocked::<u32, u32>::hook(std::ptr::from_ref(&blocked).cast()) };
                let mut at = lock.lock();
                while *at < 2 {
                    cond.wait(&mut at);
                }
                drop(at);
                s2.window.lock().blocked -= 1; // as `run_chunk` does after
                x
            };
            run_chunk(&s2, &f, 0);
        });
        let (lock, cond) = &*stage;
        let mut at = lock.lock();
        while *at < 1 {
            cond.wait(&mut at); // the worker has claimed the chunk
        }
        drop(at);
        let mut got = None;
        while got.is_none() {
            let wait: Wait<fn(Vec<u32>) -> Computed<u32>> = Wait::Help(|_| unreachable!("claimed"));
            match take_chunk(&shared, true, Some(1), wait) {
                Taken::Chunk(result) => got = Some(result.values),
                Taken::Refill => {
                    // A real consumer pushes a chunk here; stand in for it.
                    shared.window.lock().slots.push_back(None);
                    *lock.lock() = 2;
                    cond.notify_all();
                }
                _ => unreachable!("the chunk is still in the window, with no deadline"),
            }
        }
        worker.join().unwrap();
        assert_eq!(got, Some(vec![1]));
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
        let shared = window_of::<Counted, ()>(vec![chunk], true);
        let s2 = Arc::clone(&shared);
        let worker = thread::spawn(move || run_chunk(&s2, &|item: Counted| drop(item), 0));
        let slots = std::mem::take(&mut shared.window.lock().slots);
        drop(slots);
        worker.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// An unordered consumer outside the pool does not help: it waits on
/// the window while a worker runs both chunks, and each finished chunk
/// wakes it (loom reports a deadlock on a lost wake-up).
#[test]
fn a_waiting_unordered_consumer_is_woken_by_each_finished_chunk() {
    loom::model(|| {
        let shared = window_of::<u32, u32>(vec![vec![1], vec![2]], false);
        let s2 = Arc::clone(&shared);
        let worker = thread::spawn(move || {
            run_chunk(&s2, &|x: u32| x * 10, 0);
            run_chunk(&s2, &|x: u32| x * 10, 1);
        });
        let mut got = Vec::new();
        loop {
            let wait: Wait<fn(Vec<u32>) -> Computed<u32>> = Wait::Pool(None);
            match take_chunk(&shared, false, None, wait) {
                Taken::Chunk(result) => got.extend(result.values),
                Taken::Empty => break,
                _ => unreachable!("no panic, no refill, no deadline"),
            }
        }
        worker.join().unwrap();
        got.sort_unstable();
        assert_eq!(got, [10, 20]);
    });
}

/// The input's panic sits after the chunk read before it: an unordered
/// consumer takes that chunk first, whenever the worker finishes it.
#[test]
fn an_input_panic_is_taken_after_the_chunk_before_it() {
    loom::model(|| {
        let shared = window_of::<u32, u32>(vec![vec![1]], false);
        let payload: Payload = Box::new("input failed");
        shared
            .window
            .lock()
            .slots
            .push_back(Some(Slot::Failed(payload)));
        let s2 = Arc::clone(&shared);
        let worker = thread::spawn(move || run_chunk(&s2, &|x: u32| x * 10, 0));
        let mut taken = Vec::new();
        loop {
            let wait: Wait<fn(Vec<u32>) -> Computed<u32>> = Wait::Pool(None);
            match take_chunk(&shared, false, None, wait) {
                Taken::Chunk(result) => taken.push(format!("{:?}", result.values)),
                Taken::Failed(_) => taken.push("failed".to_string()),
                Taken::Empty => break,
                _ => unreachable!("no refill, no deadline"),
            }
        }
        worker.join().unwrap();
        assert_eq!(taken, ["[10]", "failed"]);
    });
}
