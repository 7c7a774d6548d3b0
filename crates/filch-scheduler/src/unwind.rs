//! Panic plumbing: user panics travel to the caller as payloads; the
//! scheduler's own broken invariants abort, because unwinding through a
//! half-updated deque or latch would turn a bug into memory corruption.

use std::any::Any;

/// Aborts the process if dropped during unwinding. Placed around code that
/// must not unwind (running a job's bookkeeping, setting latches); forgotten
/// with `std::mem::forget` once that code has finished.
#[derive(Debug)]
pub(crate) struct AbortIfPanic;

impl Drop for AbortIfPanic {
    fn drop(&mut self) {
        abort_on_broken_invariant("unexpected panic inside the scheduler");
    }
}

/// Prints why and aborts: the scheduler cannot continue safely.
#[cold]
pub(crate) fn abort_on_broken_invariant(why: &str) -> ! {
    eprintln!("filch-scheduler: {why}; aborting");
    std::process::abort()
}

/// A readable message from a panic payload (`&str` or `String`), for the
/// default panic handler and error reports.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "<non-string panic payload>"
    }
}
