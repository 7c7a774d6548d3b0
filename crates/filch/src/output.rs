//! Room for a call's results: the output `Vec` is reserved in one piece,
//! and on Linux, when the process opted in, a large one is advised for
//! transparent huge pages before anything is written to it.
//!
//! Why it can pay: a big output is fresh memory (glibc maps any block above
//! its mmap threshold, at most 32 MiB, straight from the kernel), and every
//! 4 KiB page of it costs a fault on its first write. Writing 80 MB of
//! results (10^7 `f64`s) on the 2-vCPU Xeon VM took 40–46 ms on one thread
//! and 21–25 ms on two with 4 KiB pages, 21–22 ms and 10–12 ms with 2 MiB
//! pages (a scratch harness: `Vec::with_capacity`, then `thread::scope`
//! halves writing `sqrt(i)`, medians of 9, five runs). Below the threshold,
//! blocks come from the heap already faulted in, and the advice changes
//! nothing (3·10^6 `f64`s: the same time either way).
//!
//! Why it is off by default: where free memory in 2 MiB blocks goes back
//! to a hypervisor (that VM's balloon device reports free pages), a huge
//! page reused after the memory sat free for a few seconds is faulted in
//! again on the host, and costs far more than the 4 KiB faults it saves.
//! On that VM a `map` of 10^8 cheap items from outside the pool, its output
//! advised, took 0.44–1.1 s (four of five rounds over 0.9 s) after 3 s
//! idle, against 0.38–0.49 s for the serial loop and 0.21–0.24 s for the
//! same map unadvised; back to back, advised, it took 0.11 s (a scratch
//! crate depending on filch, one round = idle, map, loop). A default that
//! can lose to the loop by 2.5x is the wrong default, so the advice is an
//! opt-in for machines where huge pages are known to stay cheap.
//!
//! The advice is `madvise(MADV_HUGEPAGE)` over the whole 2 MiB pages inside
//! the block's unwritten part; it takes effect only where the system's
//! transparent huge pages are `madvise` or `always`, and otherwise is
//! ignored.

use std::sync::atomic::{AtomicBool, Ordering};

/// Outputs at least this large are advised.
const ADVISE_FROM_BYTES: usize = 4 << 20;

/// Whether outputs are advised; std's atomic even under loom, as no model
/// reaches it.
static ADVISE: AtomicBool = AtomicBool::new(false);

/// Whether `map` and the other eager combinators ask the kernel for
/// transparent huge pages for outputs of 4 MiB and more (Linux only; off by
/// default).
///
/// On a machine where huge pages are cheap to fault in, this makes the
/// first writes to a large output about twice as fast (each fault maps
/// 2 MiB instead of 4 KiB), which is most of the work of a cheap function
/// over millions of items: on a 2-vCPU VM, a `map` of 10^7 cheap items went
/// from about 1.7x the serial loop's speed to about 3x. But on a virtual
/// machine that returns free memory to its host (a balloon device with free
/// page reporting), a huge page reused after a few idle seconds is faulted
/// in on the host again, and the same VM ran a `map` of 10^8 items 2.5x
/// *slower* than the loop after 3 s idle. So it stays off unless turned on;
/// turn it on where measurements on the target machine (`filch-bench`'s
/// big-input section, with and without) show it pays. The system's
/// `transparent_hugepage/defrag` setting also decides whether a huge-page
/// fault may compact memory first, a rare stall. Turning it off again
/// stops new advice; heap memory advised before keeps it when reused.
///
/// ```
/// filch::set_huge_page_outputs(true);
/// let pool = filch::Pool::new();
/// assert_eq!(pool.map(0..3, |x| x * 2), [0, 2, 4]);
/// filch::set_huge_page_outputs(false);
/// ```
pub fn set_huge_page_outputs(enabled: bool) {
    ADVISE.store(enabled, Ordering::Relaxed);
}

/// Makes room for `additional` more results in `out`, exactly, advising the
/// new room for huge pages if it is large.
#[inline]
pub(crate) fn reserve<R>(out: &mut Vec<R>, additional: usize) {
    let before = (out.as_ptr(), out.capacity());
    out.reserve_exact(additional);
    if (out.as_ptr(), out.capacity()) != before {
        advise_spare(out);
    }
}

/// A `Vec` with room for `n` results, advised as [`reserve`] does.
#[inline]
pub(crate) fn with_capacity<R>(n: usize) -> Vec<R> {
    let mut out = Vec::with_capacity(n);
    advise_spare(&mut out);
    out
}

/// Advises the unwritten part of `out` for huge pages if it is large.
#[inline]
fn advise_spare<R>(out: &mut Vec<R>) {
    let bytes = std::mem::size_of_val(out.spare_capacity_mut());
    if bytes >= ADVISE_FROM_BYTES && ADVISE.load(Ordering::Relaxed) {
        advise_huge_pages(out.spare_capacity_mut().as_mut_ptr() as usize, bytes);
    }
}

#[cfg(target_os = "linux")]
#[cold]
fn advise_huge_pages(start: usize, bytes: usize) {
    const HUGE_PAGE: usize = 2 << 20;
    let first = start.next_multiple_of(HUGE_PAGE);
    let end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        // SAFETY: `first..end` lies within the allocation the caller's
        // `Vec` owns (its unwritten capacity), so the call touches no
        // other memory; `MADV_HUGEPAGE` is advice only: it changes how the
        // pages are backed, never their contents. The result is ignored:
        // a kernel without transparent huge pages refuses it, harmlessly.
        let _ =
            unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: usize, _bytes: usize) {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn room_is_exact_and_keeps_what_was_written() {
        let mut out: Vec<u64> = with_capacity(3);
        assert!(out.capacity() >= 3);
        out.extend([1, 2, 3]);
        // Large enough to be advised, twice over.
        reserve(&mut out, ADVISE_FROM_BYTES);
        assert!(out.capacity() >= 3 + ADVISE_FROM_BYTES);
        assert_eq!(out, [1, 2, 3]);
        out.extend(0..ADVISE_FROM_BYTES as u64);
        assert_eq!(out.len(), 3 + ADVISE_FROM_BYTES);
        assert_eq!(out[3 + 12_345], 12_345);
    }

    #[test]
    fn zero_sized_results_are_never_advised() {
        let mut out: Vec<()> = with_capacity(usize::MAX / 2);
        reserve(&mut out, 10);
        out.push(());
        assert_eq!(out.len(), 1);
    }
}
