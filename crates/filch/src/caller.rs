//! The pool a thread that is no worker is working for: set for the whole of
//! an eager call it makes to a pool (the probe's items and its part of a
//! shared call, `driver.rs`, `shared_call.rs`), while it computes items as
//! an `imap`'s consumer (`imap_core.rs`), and while it runs a job that
//! `AsyncResult::get` claimed, so that free functions called inside
//! (`filch::map`, `join`, `scope`, `spawn`) use that pool, as they would on
//! one of its workers, rather than the global pool.

use std::cell::Cell;

use filch_scheduler::ThreadPool;

thread_local! {
    /// See the module docs.
    static CALLER_OF: Cell<*const ThreadPool> = const { Cell::new(std::ptr::null()) };
}

/// The pool set by the innermost [`CallerScope`] on this thread, if any.
#[inline]
pub(crate) fn caller_pool() -> Option<&'static ThreadPool> {
    let pool = CALLER_OF.with(Cell::get);
    // SAFETY: the pointer is set only by a live `CallerScope`, whose pool
    // outlives it (it borrows it), and is restored when the scope ends, even
    // by unwinding; only this thread reads it. The `'static` is never
    // observable beyond the scope: callers use the reference at once.
    unsafe { pool.as_ref() }
}

/// While alive, makes `pool` the current pool of this (non-worker) thread.
pub(crate) struct CallerScope<'p> {
    previous: *const ThreadPool,
    marker: std::marker::PhantomData<&'p ThreadPool>,
}

impl<'p> CallerScope<'p> {
    #[inline]
    pub(crate) fn enter(pool: &'p ThreadPool) -> Self {
        let previous = CALLER_OF.with(|c| c.replace(pool));
        CallerScope {
            previous,
            marker: std::marker::PhantomData,
        }
    }
}

impl Drop for CallerScope<'_> {
    #[inline]
    fn drop(&mut self) {
        CALLER_OF.with(|c| c.set(self.previous));
    }
}

thread_local! {
    /// Whether a call made in an item this thread ran, for the call it is
    /// working on, went parallel (`driver.rs`, `NestWatch`).
    static ITEMS_WENT_PARALLEL: Cell<bool> = const { Cell::new(false) };
}

/// Sets whether a call made in an item this thread ran went parallel, and
/// returns what it was.
#[inline]
pub(crate) fn swap_items_went_parallel(value: bool) -> bool {
    ITEMS_WENT_PARALLEL.with(|c| c.replace(value))
}
