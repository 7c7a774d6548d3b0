//! `scope`: spawn any number of jobs that may borrow from the caller's stack;
//! the scope returns only after every one of them has finished.
//!
//! The scope body runs on a worker (the caller's own, or one reached through
//! `install`). Each `spawn` boxes a job, bumps the scope's [`CountLatch`] and
//! pushes the job onto the spawning worker's deque. The count starts at one
//! for the body; when the body returns it counts itself down and the owner
//! runs other jobs until the count reaches zero.
//!
//! Panics: the first panic (the body's, else the first job's) is kept; the
//! scope still waits for every job, then resumes that panic.

use std::any::Any;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};

use crate::job::HeapJob;
use crate::latch::Latch;
use crate::registry::Registry;
use crate::sync::{Arc, Mutex};
use crate::waking_latch::CountLatch;
use crate::worker::WorkerThread;

/// A scope in which jobs borrowing data that outlives `'scope` may be spawned.
/// Created by [`scope`](crate::scope) or [`ThreadPool::scope`](crate::ThreadPool::scope).
///
/// ```
/// let mut counts = [0u32; 4];
/// filch_scheduler::scope(|s| {
///     for (i, slot) in counts.iter_mut().enumerate() {
///         s.spawn(move |_| *slot = i as u32 * 10);
///     }
/// });
/// assert_eq!(counts, [0, 10, 20, 30]);
/// ```
pub struct Scope<'scope> {
    registry: Arc<Registry>,
    count: CountLatch,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Invariant in `'scope`, like `std::thread::Scope`.
    marker: PhantomData<&'scope mut &'scope ()>,
}

impl std::fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

/// A `*const Scope` that may cross threads: the scope outlives its jobs.
struct ScopePtr<'scope>(*const Scope<'scope>);

// SAFETY: `Scope` is `Sync` (its fields are), and the pointee outlives every
// job holding this pointer because the scope waits for them all.
unsafe impl Send for ScopePtr<'_> {}

impl<'scope> ScopePtr<'scope> {
    /// # Safety
    /// The scope must still be live (true inside any of its jobs).
    unsafe fn get(&self) -> &Scope<'scope> {
        // SAFETY: forwarded from this function's contract.
        unsafe { &*self.0 }
    }
}

impl<'scope> Scope<'scope> {
    /// Spawns `job` into the scope. It may borrow anything that outlives the
    /// scope, and gets the scope to spawn more.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let total = AtomicUsize::new(0);
    /// filch_scheduler::scope(|s| {
    ///     s.spawn(|s| {
    ///         total.fetch_add(1, Ordering::Relaxed);
    ///         s.spawn(|_| { total.fetch_add(2, Ordering::Relaxed); });
    ///     });
    /// });
    /// assert_eq!(total.into_inner(), 3);
    /// ```
    pub fn spawn<F>(&self, job: F)
    where
        F: FnOnce(&Scope<'scope>) + Send + 'scope,
    {
        self.count.increment();
        let scope = ScopePtr(self);
        let heap_job = HeapJob::new(move || {
            // SAFETY: the scope waits for this job (its count includes it)
            // before returning, so it is live here.
            let scope = unsafe { scope.get() };
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| job(scope))) {
                scope.keep_panic(payload);
            }
            // SAFETY: the count latch is live (the scope is waiting on it);
            // nothing touches `scope` after this.
            unsafe { Latch::set(&scope.count) };
        });
        // SAFETY: the job borrows only data outliving 'scope, and the scope
        // does not return before the job has run (see `complete`).
        let job_ref = unsafe { heap_job.into_job_ref() };
        match WorkerThread::current() {
            Some(worker) if std::ptr::eq(worker.registry(), &*self.registry) => {
                worker.push(job_ref)
            }
            _ => self.registry.inject(job_ref),
        }
    }

    fn keep_panic(&self, payload: Box<dyn Any + Send>) {
        let mut slot = self.panic.lock();
        if slot.is_none() {
            *slot = Some(payload);
        }
    }
}

/// `scope` on a worker of the pool that should run it.
pub(crate) fn scope_in_worker<'scope, OP, R>(worker: &WorkerThread, op: OP) -> R
where
    OP: FnOnce(&Scope<'scope>) -> R + Send,
    R: Send,
{
    let scope = Scope {
        registry: Arc::clone(worker.registry_arc()),
        count: CountLatch::new(Arc::clone(worker.registry().sleep_arc()), worker.index()),
        panic: Mutex::new(None),
        marker: PhantomData,
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| op(&scope)));
    // SAFETY: the latch is live (it is `scope.count`, on this frame); this
    // counts the body itself down.
    unsafe { Latch::set(&scope.count) };
    worker.wait_until(scope.count.core());
    let job_panic = scope.panic.lock().take();
    match (result, job_panic) {
        (Err(payload), _) | (Ok(_), Some(payload)) => panic::resume_unwind(payload),
        (Ok(value), None) => value,
    }
}
