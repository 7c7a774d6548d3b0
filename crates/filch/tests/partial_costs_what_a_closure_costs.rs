//! `partial` and `partial_last` are the closures a user would write: no
//! allocation when made or called, nothing but the bound value inside (a
//! boxed function would be a two-word pointer), and `map` through them
//! allocates exactly what `map` through the hand-written closure does.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::watchdog;
use filch::{partial, partial_last, Pool};

/// Counts allocations, to tell a boxed helper from a plain closure: all of
/// them, and those of threads that asked to be counted (the test's own
/// thread, while other threads of the process may allocate at any time).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTED_HERE: Cell<Option<usize>> = const { Cell::new(None) };
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        COUNTED_HERE.with(|c| c.set(c.get().map(|n| n + 1)));
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What `f` allocated on this thread.
fn allocations_here<R>(f: impl FnOnce() -> R) -> (R, usize) {
    COUNTED_HERE.with(|c| c.set(Some(0)));
    let out = f();
    let n = COUNTED_HERE.with(|c| c.replace(None)).unwrap_or(0);
    (out, n)
}

/// What `f` allocated on every thread (others' allocations may land in it).
fn allocations_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let out = f();
    (out, ALLOCATIONS.load(Ordering::SeqCst) - before)
}

fn g(a: u8, b: u8) -> u8 {
    a.wrapping_add(b)
}

fn f4(a: u8, b: u8, c: u8, d: u8) -> u8 {
    a ^ b ^ c ^ d
}

/// One test, so no other test's allocations land in the counts.
#[test]
fn partial_is_a_plain_closure() {
    watchdog("partial costs", || {
        // Made and called without allocating.
        let ((first, last, four), made) =
            allocations_here(|| (partial(g, 2), partial_last(g, 3), partial(f4, 1)));
        let (sum, called) = allocations_here(|| {
            (0..100_000u32).fold(0u32, |acc, i| {
                let b = i as u8;
                acc + u32::from(first(b)) + u32::from(last(b)) + u32::from(four((b, b, 7)))
            })
        });
        assert_eq!(made + called, 0, "partial allocated");
        assert!(sum > 0);
        // Holding the bound `u8` and nothing else: a boxed function would
        // be a fat pointer.
        assert_eq!(std::mem::size_of_val(&first), 1);
        assert_eq!(std::mem::size_of_val(&last), 1);
        assert_eq!(std::mem::size_of_val(&four), 1);

        // `map` through `partial` allocates what `map` through the closure
        // does, from outside and on a worker.
        let pool = Pool::builder().threads(2).build().unwrap();
        for on_worker in [false, true] {
            let run = |call: &(dyn Fn() -> Vec<u8> + Sync)| {
                if on_worker {
                    pool.install(call)
                } else {
                    call()
                }
            };
            // Warm up the call sites' thread-locals.
            run(&|| pool.map(0..200_000u32, |b| g(2, b as u8)));
            run(&|| pool.map((0..200_000u32).map(|b| b as u8), partial(g, 2)));
            let (by_closure, closure_allocs) =
                allocations_of(|| run(&|| pool.map((0..200_000u32).map(|b| b as u8), |b| g(2, b))));
            let (by_partial, partial_allocs) = allocations_of(|| {
                run(&|| pool.map((0..200_000u32).map(|b| b as u8), partial(g, 2)))
            });
            assert_eq!(by_partial, by_closure);
            assert!(
                partial_allocs <= closure_allocs + 2,
                "on worker {on_worker}: map through partial made {partial_allocs} allocations, \
                 through the closure {closure_allocs}"
            );
        }
    });
}
