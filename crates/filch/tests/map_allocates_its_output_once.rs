//! A `map` over N items allocates its output once (none at all over an
//! owned `Vec` whose slots fit the results, whichever path the call takes),
//! plus bookkeeping that does not grow with N: no allocation or boxing per
//! item, no copy of the input, no second copy of the results. Counted with a global allocator
//! that tallies every allocation of the process (workers included), so the
//! figures are exact whichever thread did what; the probe may keep a call
//! serial or send it to the pool, and either way the bound must hold.
//!
//! One test function runs every case in turn, so no other test of this
//! binary allocates while a case is being counted.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::watchdog;
use filch::Pool;

/// Counts allocations, bytes allocated, and the peak of bytes live.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are only read by the test.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Items per call: 1.6 MB of `u64` output, enough that a copy of the
/// input or of the results would stand out against the slack below.
const N: usize = 200_000;

/// Allocations a call may make besides its output (jobs of the scheduler's
/// injector, a panic-free call's bookkeeping): a constant, not per item.
const MAX_EXTRA_ALLOCATIONS: usize = 64;

/// Bytes a call may allocate besides its output.
const MAX_EXTRA_BYTES: usize = 64 * 1024;

/// What one call allocated.
#[derive(Debug)]
struct Tally {
    allocations: usize,
    bytes: usize,
    /// The most bytes live at once during the call, above what was live
    /// before it.
    peak_above_start: usize,
}

fn tally<R>(call: impl FnOnce() -> R) -> (R, Tally) {
    let (allocations, bytes, live) = (
        ALLOCATIONS.load(Ordering::SeqCst),
        ALLOCATED.load(Ordering::SeqCst),
        LIVE.load(Ordering::SeqCst),
    );
    PEAK.store(live, Ordering::SeqCst);
    let out = call();
    let tally = Tally {
        allocations: ALLOCATIONS.load(Ordering::SeqCst) - allocations,
        bytes: ALLOCATED.load(Ordering::SeqCst) - bytes,
        peak_above_start: PEAK.load(Ordering::SeqCst).saturating_sub(live),
    };
    (out, tally)
}

fn f(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
}

/// Asserts that `tally` is one output of `n` `u64`s plus bounded extras;
/// `extra_bytes` is what the input's path may add (chunk buffers).
fn assert_output_once(what: &str, n: usize, tally: &Tally, extra_bytes: usize) {
    let output = n * std::mem::size_of::<u64>();
    assert!(
        tally.allocations <= MAX_EXTRA_ALLOCATIONS,
        "{what}: {} allocations for {n} items: more than a constant number ({tally:?})",
        tally.allocations
    );
    assert!(
        tally.bytes <= output + extra_bytes + MAX_EXTRA_BYTES,
        "{what}: {} bytes allocated for a {output}-byte output: a copy of the input or of \
         the results ({tally:?})",
        tally.bytes
    );
    assert!(
        tally.peak_above_start <= output + extra_bytes + MAX_EXTRA_BYTES,
        "{what}: {} bytes live at the peak for a {output}-byte output ({tally:?})",
        tally.peak_above_start
    );
}

/// Runs `call` on one of `pool`'s workers or on this thread, counting.
fn run_on<R: Send>(pool: &Pool, on_worker: bool, call: &(dyn Fn() -> R + Sync)) -> (R, Tally) {
    if on_worker {
        tally(|| pool.install(call))
    } else {
        tally(call)
    }
}

fn expected(n: usize) -> Vec<u64> {
    (0..n as u64).map(f).collect()
}

/// Items of the slice case: 16 MB of references, twice what two chunk
/// buffers may hold, so a whole copy of the input would show.
const SLICE_N: usize = 2_000_000;

/// What the chunks of an input that does not split by index may hold at
/// once: two buffers of `stream.rs`'s 4 MiB.
const CHUNK_BUFFERS: usize = 2 * (4 << 20);

/// What a call shared from outside may allocate for its claims: each of
/// its participants (this thread and one helper on a 2-thread pool) has a
/// buffer of at most 128 KiB (`shared_call.rs`), grown as its claims
/// double, so at most twice that allocated in all. A bound set by the pool,
/// not by the input: a copy of the input (1.6 MB) would still show.
const CLAIM_BUFFERS: usize = 2 * 2 * (128 << 10);

/// Runs every case from a worker and from this thread (outside the pool).
#[test]
fn maps_allocate_their_output_once() {
    watchdog("allocations", || {
        let pool = Pool::builder().threads(2).build().unwrap();
        let chunked = pool.with_chunk_size(4096).unwrap();
        let want = expected(N);
        let slice_want = expected(SLICE_N);
        // Warm up: the pool's threads, thread-locals and the probe's
        // per-site history are allocated once, on first use.
        for _ in 0..3 {
            drop(pool.map((0..N as u64).collect::<Vec<_>>(), f));
            drop(pool.install(|| pool.map(0..N as u64, f)));
            drop(chunked.map(0..N as u64, f));
        }
        for on_worker in [true, false] {
            let run = |call: &(dyn Fn() -> Vec<u64> + Sync)| run_on(&pool, on_worker, call);
            let place = if on_worker {
                "on a worker"
            } else {
                "from outside"
            };
            // A call from outside may be shared with a helper rather than
            // handed to the pool or kept serial (the probe's choice).
            let claims = if on_worker { 0 } else { CLAIM_BUFFERS };

            // An owned Vec whose items' slots fit the results: mapped in
            // place, its buffer the result, no output allocated.
            let (got, t, buffer) = {
                let input: Vec<u64> = (0..N as u64).collect();
                let buffer = input.as_ptr() as usize;
                let input = std::sync::Mutex::new(Some(input));
                let (got, t) = run(&|| pool.map(input.lock().unwrap().take().unwrap(), f));
                (got, t, buffer)
            };
            assert_eq!(got, want);
            assert_eq!(
                got.as_ptr() as usize,
                buffer,
                "map over a Vec<u64> to u64s, {place}: the result is not the input's buffer"
            );
            assert_output_once(&format!("map over a Vec, {place}"), 0, &t, claims);

            // An owned Vec whose slots do not fit the results: split in
            // place, its buffer freed at the end.
            let (got, t) = {
                let input: Vec<u64> = (0..N as u64).collect();
                let input = std::sync::Mutex::new(Some(input));
                let call = || pool.map(input.lock().unwrap().take().unwrap(), |x| (f(x), x));
                run_on(&pool, on_worker, &call)
            };
            assert!(got.iter().zip(&want).all(|(g, w)| g.0 == *w));
            // Pairs: an output of twice the size.
            assert_output_once(
                &format!("map over a Vec to pairs, {place}"),
                2 * N,
                &t,
                claims,
            );

            let (got, t) = run(&|| pool.map(0..N as u64, f));
            assert_eq!(got, want);
            assert_output_once(&format!("map over a range, {place}"), N, &t, claims);

            let (got, t) = run(&|| chunked.map(0..N as u64, f));
            assert_eq!(got, want);
            assert_output_once(&format!("chunked map over a range, {place}"), N, &t, claims);

            let (got, t) = run(&|| pool.try_map(0..N as u64, |x| Ok::<_, ()>(f(x))).unwrap());
            assert_eq!(got, want);
            assert_output_once(&format!("try_map over a range, {place}"), N, &t, claims);

            let (got, t) = run(&|| pool.map_init(0..N as u64, || 1u64, |k, x| f(x) * *k));
            assert_eq!(got, want);
            assert_output_once(&format!("map_init over a range, {place}"), N, &t, claims);

            // A slice's iterator does not split by index: it is read in
            // bounded chunks (or claims), never copied whole.
            let input: Vec<u64> = (0..SLICE_N as u64).collect();
            let (got, t) = run(&|| pool.map(&input, |&x| f(x)));
            assert!(
                got == slice_want,
                "map over a slice, {place}: wrong results"
            );
            let what = format!("map over a slice, {place}");
            assert_output_once(&what, SLICE_N, &t, CHUNK_BUFFERS + claims);
        }
    });
}
