//! A global allocator that counts the bytes live and their peak, so the big-input section
//! can report what a 10^7-item map holds at once. The `filch-bench` binary installs it
//! (`#[global_allocator]` in `main.rs`); elsewhere (the criterion benches, the unit tests)
//! nothing is counted and [`peak_during`] returns `None`.
//!
//! Counting costs two relaxed atomic additions per allocation and one per free: the maps
//! measured allocate a handful of times per call, so their times do not move.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The system allocator, counting.
#[derive(Debug)]
pub struct Counting;

impl Counting {
    fn grew(size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
        if !INSTALLED.load(Ordering::Relaxed) {
            INSTALLED.store(true, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// bookkeeping beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Counting::grew(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Counting::grew(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        Counting::grew(new_size);
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `op` and returns its result with the most bytes that were live at once during it,
/// above what was live when it started; `None` if the counting allocator is not installed.
/// Other threads' allocations meanwhile count too (pool workers are meant to).
pub fn peak_during<R>(op: impl FnOnce() -> R) -> (R, Option<usize>) {
    let start = LIVE.load(Ordering::SeqCst);
    PEAK.store(start, Ordering::SeqCst);
    let out = op();
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(start);
    (out, INSTALLED.load(Ordering::SeqCst).then_some(peak))
}
