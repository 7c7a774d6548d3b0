//! Jobs: the type-erased unit of work that travels through deques.
//!
//! A [`JobRef`] is two words, a data pointer and the function that runs it, so
//! pushing one allocates nothing. [`StackJob`] lives in the frame of the
//! thread that waits for it (`join`'s second half, `install`); [`HeapJob`] is
//! boxed for work nobody waits on in place (`spawn`, scope spawns).

use std::any::Any;
use std::cell::UnsafeCell;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::panic::{self, AssertUnwindSafe};

use crate::latch::Latch;
use crate::unwind;

/// Something a [`JobRef`] can point at.
pub(crate) trait Job {
    /// Runs the job.
    ///
    /// # Safety
    /// `this` must point to a live job that has not run yet; it runs at most
    /// once, and the caller must not touch it afterwards (it may be freed).
    unsafe fn execute(this: *const Self);
}

/// A type-erased pointer to a job and the function that runs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JobRef {
    pointer: *const (),
    execute_fn: unsafe fn(*const ()),
}

// SAFETY: a JobRef is only created from jobs whose closures and results are
// `Send` (enforced by the bounds of `StackJob`/`HeapJob` users), and the job it
// points to is executed exactly once, by whichever thread holds the ref.
unsafe impl Send for JobRef {}

impl JobRef {
    /// Erases `data` into a job reference.
    ///
    /// # Safety
    /// `data` must stay valid until the ref is executed, and the ref must be
    /// executed at most once.
    #[inline]
    pub(crate) unsafe fn new<T: Job>(data: *const T) -> JobRef {
        JobRef {
            pointer: data.cast::<()>(),
            execute_fn: Self::trampoline::<T>(),
        }
    }

    /// The type-erased function that runs a `T` behind a `*const ()`.
    #[inline]
    pub(crate) fn trampoline<T: Job>() -> unsafe fn(*const ()) {
        /// Monomorphic trampoline: restores the type erased in `JobRef::new`.
        unsafe fn call<T: Job>(pointer: *const ()) {
            // SAFETY: `pointer` came from a `*const T` (in `JobRef::new` or
            // `from_parts`), and the caller of `execute` upholds
            // `Job::execute`'s contract.
            unsafe { T::execute(pointer.cast::<T>()) }
        }
        call::<T>
    }

    /// Reassembles a ref from a job's address and its
    /// [`trampoline`](Self::trampoline), stored apart (a context `join`
    /// frame keeps only the function, its address being the job's).
    ///
    /// # Safety
    /// As [`new`](Self::new), and `execute_fn` must be
    /// `trampoline::<T>()` for the `T` that `pointer` points to.
    #[inline]
    pub(crate) unsafe fn from_parts(
        pointer: *const (),
        execute_fn: unsafe fn(*const ()),
    ) -> JobRef {
        JobRef {
            pointer,
            execute_fn,
        }
    }

    /// Whether two refs point at the same job (the data pointer identifies
    /// it; function pointers are not guaranteed unique, so they are ignored).
    #[inline]
    pub(crate) fn same_job(self, other: JobRef) -> bool {
        std::ptr::eq(self.pointer, other.pointer)
    }

    /// Runs the job this ref points to.
    ///
    /// # Safety
    /// The job must still be live and must not have run before.
    #[inline]
    pub(crate) unsafe fn execute(self) {
        // SAFETY: forwarded from this function's contract.
        unsafe { (self.execute_fn)(self.pointer) }
    }
}

/// The outcome of a job, carried back to whoever waits for it.
#[derive(Debug)]
pub(crate) enum JobResult<T> {
    /// Returned normally.
    Ok(T),
    /// Panicked; the payload is resumed at the waiting caller.
    Panic(Box<dyn Any + Send>),
}

impl<T> JobResult<T> {
    /// Runs `f`, capturing a panic instead of unwinding.
    #[inline]
    pub(crate) fn call(f: impl FnOnce() -> T) -> Self {
        match panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(value) => JobResult::Ok(value),
            Err(payload) => JobResult::Panic(payload),
        }
    }

    /// Returns the value or resumes the panic at the caller.
    ///
    /// # Panics
    /// Resumes the job's panic with its original payload.
    pub(crate) fn into_return_value(self) -> T {
        match self {
            JobResult::Ok(value) => value,
            JobResult::Panic(payload) => panic::resume_unwind(payload),
        }
    }
}

/// What a [`StackJob`] runs. Any `FnOnce() -> R`; a context `join`'s second
/// half is a closure that wants the context of whoever runs it, so it wraps
/// the closure in a type of its own (`join_context.rs`) whose `run` makes one.
pub(crate) trait JobBody {
    /// What running it returns.
    type Output;
    /// Runs it on the thread that executes the job.
    fn run(self) -> Self::Output;
}

impl<R, F: FnOnce() -> R> JobBody for F {
    type Output = R;
    #[inline]
    fn run(self) -> R {
        self()
    }
}

/// A job on the waiting thread's stack: the closure, its result slot and the
/// latch that tells the waiter it finished.
///
/// `repr(C)` with the latch first: a job's address is its latch's, which
/// lets a context `join` frame (`join_context.rs`) find its job from the latch it
/// links into the frame chain.
///
/// To keep forks cheap it has no drop glue: its closure must be consumed
/// exactly once, by [`execute`](Job::execute) (a thief ran it), by
/// [`take_func`](Self::take_func) (the owner runs it inline) or by
/// [`drop_func`](Self::drop_func) (nobody will); and its result exists only
/// once it was executed, when [`into_result`](Self::into_result) takes it.
#[repr(C)]
pub(crate) struct StackJob<L, F, R> {
    /// Set once `result` is written; the waiter may free `self` right after.
    pub(crate) latch: L,
    func: UnsafeCell<ManuallyDrop<F>>,
    result: UnsafeCell<MaybeUninit<JobResult<R>>>,
}

impl<L: Latch, F: JobBody<Output = R>, R> StackJob<L, F, R> {
    /// Wraps `func` with the latch that will announce its completion.
    #[inline]
    pub(crate) fn new(func: F, latch: L) -> Self {
        StackJob {
            latch,
            func: UnsafeCell::new(ManuallyDrop::new(func)),
            result: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// A reference other threads can run.
    ///
    /// # Safety
    /// `self` must not move or be dropped until the job has run (its latch is
    /// set) or the ref has been taken back unexecuted.
    #[inline]
    pub(crate) unsafe fn as_job_ref(&self) -> JobRef {
        // SAFETY: forwarded from this function's contract.
        unsafe { JobRef::new(self) }
    }

    /// Takes the closure back to run it inline (the ref was never executed).
    ///
    /// # Safety
    /// No other thread may be running or about to run this job (the caller
    /// took the only `JobRef` back, or never published it), and the closure
    /// must not have been consumed yet.
    #[inline]
    pub(crate) unsafe fn take_func(&self) -> F {
        // SAFETY: per the contract, this thread has exclusive access and the
        // closure is still there; it is read out exactly once.
        unsafe { ManuallyDrop::take(&mut *self.func.get()) }
    }

    /// Drops the closure unrun.
    ///
    /// # Safety
    /// As [`take_func`](Self::take_func).
    pub(crate) unsafe fn drop_func(&self) {
        // SAFETY: as in `take_func`.
        unsafe { ManuallyDrop::drop(&mut *self.func.get()) }
    }

    /// Drops the result of an executed job without reading it.
    ///
    /// # Safety
    /// As [`into_result`](Self::into_result), and the result must not be
    /// read afterwards.
    pub(crate) unsafe fn drop_result(&self) {
        // SAFETY: per the contract the result is initialised and unread.
        unsafe { (*self.result.get()).assume_init_drop() }
    }

    /// The result, once the latch is set, read out of a job that stays in
    /// place (its owner then forgets it, as a context `join` does).
    ///
    /// # Safety
    /// As [`into_result`](Self::into_result), and the result must not be
    /// read or dropped again.
    pub(crate) unsafe fn read_result(&self) -> JobResult<R> {
        // SAFETY: `execute` initialised the result before setting the latch,
        // and per the contract this is its only read.
        unsafe { (*self.result.get()).assume_init_read() }
    }

    /// The result, once the latch is set.
    ///
    /// # Safety
    /// The job must have been executed and its latch observed set (which
    /// orders the result write before this read); no thread may still
    /// touch the job.
    pub(crate) unsafe fn into_result(self) -> JobResult<R> {
        // SAFETY: `execute` initialised the result before setting the latch.
        unsafe { self.result.into_inner().assume_init() }
    }
}

impl<L: Latch, F: JobBody<Output = R>, R> Job for StackJob<L, F, R> {
    unsafe fn execute(this: *const Self) {
        // SAFETY: `JobRef::execute`'s contract: `this` is live and runs once,
        // so this thread has exclusive access to `func` and `result` until the
        // latch is set, and the closure has not been consumed (the owner only
        // consumes it after taking the ref back).
        let this = unsafe { &*this };
        let abort = unwind::AbortIfPanic;
        // SAFETY: as above.
        let func = unsafe { this.take_func() };
        let result = JobResult::call(|| func.run());
        // SAFETY: as above, exclusive access until the latch is set below.
        unsafe { (*this.result.get()).write(result) };
        // SAFETY: `this` is live until this call returns; `set` is the last
        // access (the waiter may free the job as soon as it observes it).
        unsafe { Latch::set(&this.latch) };
        std::mem::forget(abort);
    }
}

/// A boxed job nobody waits on in place; freed after it runs.
pub(crate) struct HeapJob<F> {
    func: F,
}

impl<F: FnOnce() + Send> HeapJob<F> {
    /// Boxes `func` into a job.
    pub(crate) fn new(func: F) -> Box<Self> {
        Box::new(HeapJob { func })
    }

    /// Leaks the box into a job ref; running the ref frees it.
    ///
    /// # Safety
    /// Any data `func` borrows must outlive the job's execution (for `'static`
    /// closures this is automatic; scopes wait for their jobs).
    pub(crate) unsafe fn into_job_ref(self: Box<Self>) -> JobRef {
        let raw = Box::into_raw(self);
        // SAFETY: the box stays allocated until `execute` reclaims it, and
        // the borrow condition is forwarded from this function's contract.
        unsafe { JobRef::new(raw) }
    }
}

impl<F: FnOnce() + Send> Job for HeapJob<F> {
    unsafe fn execute(this: *const Self) {
        // SAFETY: `this` came from `Box::into_raw` in `into_job_ref`, and the
        // ref runs once, so reclaiming the box here is the only reclaim.
        let this = unsafe { Box::from_raw(this.cast_mut()) };
        // Every heap job catches its user's panics (`spawn_in`, scope
        // spawns), so a panic escaping here is the scheduler's bug (or a
        // panic payload whose `Drop` panicked): abort with a message rather
        // than let it kill the worker silently and hang its pool.
        let abort = unwind::AbortIfPanic;
        (this.func)();
        std::mem::forget(abort);
    }
}
