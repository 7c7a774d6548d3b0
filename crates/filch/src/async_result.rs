//! `apply_async` and `map_async`: one function run on the pool, with a
//! handle to collect its result, like Python's `Pool.apply_async` and
//! `AsyncResult`.
//!
//! The job and the handle share a cell that moves `Pending → Running →
//! Done → Taken` (or `Pending → Cancelled`) under a mutex. Whoever claims a
//! pending cell runs it: normally a worker, but `get` and `wait` claim it
//! themselves if no worker has started it yet, so waiting on a job that is
//! still queued (behind a busy pool, or on this very worker) cannot
//! deadlock and never costs a wake-up.
//!
//! # The job's pool
//! Work the job starts belongs to the job's pool wherever the job runs. On
//! one of its workers that holds by itself. A thread outside the pool that
//! claims the job runs it as the pool's caller (`CallerScope`), so nested
//! `filch::map`, `join`, `scope` and `spawn` go to the pool; the handle
//! keeps the pool alive for that while (a `Weak` upgraded only to run the
//! job). A worker of *another* pool does not claim the job (its nested work
//! would go to its own pool): it waits for this pool to run it.
//!
//! # Cancellation
//! A job leaves `Pending` only by being claimed or cancelled, under the
//! mutex, so exactly one happens: `cancel`, dropping the handle, or a job
//! found after [`Pool::terminate`](crate::Pool::terminate) moves it to
//! `Cancelled` and drops the function unrun; a claim runs it to the end.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use filch_scheduler::ThreadPool;

use crate::caller::CallerScope;
use crate::sync::{Condvar, Mutex};

type Payload = Box<dyn Any + Send>;

enum State<F, R> {
    Pending(F),
    Running,
    Done(Result<R, Payload>),
    Taken,
    /// Cancelled before it started: the function was dropped unrun.
    Cancelled,
}

struct Cell<F, R> {
    state: Mutex<State<F, R>>,
    done: Condvar,
}

/// The type-erased side of a cell the handle talks to.
trait AsyncCell<R>: Send + Sync {
    /// Runs the function if nobody has claimed it yet.
    fn run_if_pending(&self);
    /// Drops the function unrun if nobody has claimed it yet; whether it did.
    fn cancel_if_pending(&self) -> bool;
    /// Blocks until done, then takes the outcome; `None` if cancelled.
    fn take(&self) -> Option<Result<R, Payload>>;
    /// Blocks until done (or cancelled) or `deadline`; whether it is over.
    fn wait_until(&self, deadline: Option<Instant>) -> bool;
    /// Whether it is done.
    fn is_done(&self) -> bool;
}

impl<F: FnOnce() -> R + Send, R: Send> AsyncCell<R> for Cell<F, R> {
    fn run_if_pending(&self) {
        let f = {
            let mut state = self.state.lock();
            if !matches!(*state, State::Pending(_)) {
                return;
            }
            match std::mem::replace(&mut *state, State::Running) {
                State::Pending(f) => f,
                _ => unreachable!("checked Pending above"),
            }
        };
        let outcome = panic::catch_unwind(AssertUnwindSafe(f));
        *self.state.lock() = State::Done(outcome);
        self.done.notify_all();
    }

    fn cancel_if_pending(&self) -> bool {
        let f = {
            let mut state = self.state.lock();
            if !matches!(*state, State::Pending(_)) {
                return false;
            }
            std::mem::replace(&mut *state, State::Cancelled)
        };
        self.done.notify_all();
        drop(f); // outside the lock: the function's captures may do anything
        true
    }

    fn take(&self) -> Option<Result<R, Payload>> {
        let mut state = self.state.lock();
        while matches!(*state, State::Pending(_) | State::Running) {
            self.done.wait(&mut state);
        }
        match std::mem::replace(&mut *state, State::Taken) {
            State::Done(outcome) => Some(outcome),
            State::Cancelled => None,
            _ => unreachable!("waited for Done or Cancelled; taken once"),
        }
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.state.lock();
        while matches!(*state, State::Pending(_) | State::Running) {
            match deadline {
                None => self.done.wait(&mut state),
                Some(deadline) => {
                    if self.done.wait_until(&mut state, deadline).timed_out() {
                        return !matches!(*state, State::Pending(_) | State::Running);
                    }
                }
            }
        }
        true
    }

    fn is_done(&self) -> bool {
        matches!(*self.state.lock(), State::Done(_))
    }
}

/// The handle of one [`Pool::apply_async`](crate::Pool::apply_async) (or
/// [`map_async`](crate::Pool::map_async)) call.
///
/// Dropping the handle before the job has started cancels the job: it never
/// runs. Keep the handle (or use [`Pool::spawn`](crate::Pool::spawn)) for
/// fire-and-forget work.
///
/// ```
/// use std::time::Duration;
///
/// let pool = filch::Pool::new();
/// let handle = pool.apply_async(|| 6 * 7);
/// assert!(handle.wait_timeout(Duration::from_secs(5)));
/// assert!(handle.ready());
/// assert_eq!(handle.get(), 42);
/// ```
#[must_use = "dropping an `AsyncResult` cancels its job if it has not started"]
pub struct AsyncResult<R> {
    cell: Arc<dyn AsyncCell<R>>,
    pool: Weak<ThreadPool>,
}

impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.cell.is_done())
            .finish()
    }
}

impl<R> Drop for AsyncResult<R> {
    fn drop(&mut self) {
        self.cell.cancel_if_pending();
    }
}

impl<R: Send + 'static> AsyncResult<R> {
    /// Queues `f` on `pool`; a job that finds `terminated` set when it
    /// starts is cancelled instead.
    pub(crate) fn spawn<F>(pool: &Arc<ThreadPool>, terminated: &Arc<AtomicBool>, f: F) -> Self
    where
        F: FnOnce() -> R + Send + 'static,
    {
        let cell: Arc<Cell<F, R>> = Arc::new(Cell {
            state: Mutex::new(State::Pending(f)),
            done: Condvar::new(),
        });
        let job_cell = Arc::clone(&cell);
        let terminated = Arc::clone(terminated);
        pool.spawn(move || {
            if terminated.load(Ordering::Acquire) {
                job_cell.cancel_if_pending();
            } else {
                job_cell.run_if_pending();
            }
        });
        AsyncResult {
            cell,
            pool: Arc::downgrade(pool),
        }
    }

    /// Runs the job on this thread if nobody has started it and this
    /// thread may (see "The job's pool" in the module docs).
    fn claim(&self) {
        // Gone only after its shutdown ran every queued job: nothing to claim.
        let Some(pool) = self.pool.upgrade() else {
            return;
        };
        if pool.current_thread_index().is_some() {
            self.cell.run_if_pending();
        } else if filch_scheduler::current_thread_index().is_none() {
            let _caller = CallerScope::enter(&pool);
            self.cell.run_if_pending();
        }
    }

    /// Waits for the result and returns it. If no worker has started the
    /// function yet, runs it on the calling thread instead of waiting (work
    /// it starts still goes to the pool); a worker of another pool waits.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// assert_eq!(pool.apply_async(|| "done").get(), "done");
    /// ```
    ///
    /// # Panics
    /// Resumes the function's panic with its original payload. Panics if
    /// the job was cancelled by [`Pool::terminate`](crate::Pool::terminate)
    /// before it started.
    pub fn get(self) -> R {
        self.claim();
        match self.cell.take() {
            Some(Ok(value)) => value,
            Some(Err(payload)) => panic::resume_unwind(payload),
            None => panic!("filch: the job was cancelled before it ran (its pool was terminated)"),
        }
    }

    /// Waits at most `timeout` for the result: `Ok` with it, or `Err` with
    /// the handle back to wait again (Python's `get(timeout)` raises
    /// `TimeoutError` instead). Does not run the function on this thread.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = filch::Pool::new();
    /// let slow = pool.apply_async(|| { std::thread::sleep(Duration::from_millis(200)); 1 });
    /// let slow = slow.get_timeout(Duration::from_millis(1)).unwrap_err();
    /// assert_eq!(slow.get(), 1);
    /// ```
    ///
    /// # Panics
    /// As [`get`](Self::get), if the job ended within the timeout.
    pub fn get_timeout(self, timeout: Duration) -> Result<R, Self> {
        if self.wait_timeout(timeout) {
            Ok(self.get())
        } else {
            Err(self)
        }
    }

    /// Waits at most `timeout`; `true` if the result is ready (or the job
    /// was cancelled, which `get` then reports).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let handle = filch::Pool::new().apply_async(|| 1);
    /// assert!(handle.wait_timeout(Duration::from_secs(5)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.cell.wait_until(Some(Instant::now() + timeout))
    }

    /// Waits until the result is ready (or the job was cancelled), without
    /// taking it. Like [`get`](Self::get), runs a job nobody has started.
    ///
    /// ```
    /// let handle = filch::Pool::new().apply_async(|| 1);
    /// handle.wait();
    /// assert!(handle.ready());
    /// ```
    pub fn wait(&self) {
        self.claim();
        self.cell.wait_until(None);
    }

    /// Whether the result is ready (Python's `ready()`).
    ///
    /// ```
    /// let handle = filch::Pool::new().apply_async(|| 1);
    /// handle.wait();
    /// assert!(handle.ready());
    /// ```
    pub fn ready(&self) -> bool {
        self.cell.is_done()
    }

    /// Cancels the job if it has not started: `true` if it never will run
    /// (its function is dropped now), `false` if it has started or finished
    /// (it then runs to its end and its result is dropped). Dropping the
    /// handle does the same.
    ///
    /// ```
    /// let pool = filch::Pool::builder().threads(1).build()?;
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let busy = pool.apply_async(move || rx.recv().ok()); // holds the only worker
    /// let queued = pool.apply_async(|| unreachable!("cancelled before it started"));
    /// assert!(queued.cancel());
    /// tx.send(()).unwrap();
    /// assert_eq!(busy.get(), Some(()));
    /// # Ok::<(), filch::BuildError>(())
    /// ```
    pub fn cancel(self) -> bool {
        self.cell.cancel_if_pending()
    }
}

/// loom models of the claim-or-wait cell: run with
/// `RUSTFLAGS="--cfg loom" cargo test -p filch --release --lib loom`.
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};

    fn counting_cell(runs: &Arc<AtomicUsize>) -> Arc<Cell<impl FnOnce() -> u32 + Send, u32>> {
        let counted = Arc::clone(runs);
        Arc::new(Cell {
            state: Mutex::new(State::Pending(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                42u32
            })),
            done: Condvar::new(),
        })
    }

    /// The pool's job and the handle's claim (as `get` makes it) race to
    /// run the function: it runs exactly once, `take` returns its result,
    /// and nobody waits forever.
    #[test]
    fn a_claim_and_the_pool_job_run_the_function_exactly_once() {
        loom::model(|| {
            let runs = Arc::new(AtomicUsize::new(0));
            let cell = counting_cell(&runs);
            let job = Arc::clone(&cell);
            let pool_job = loom::thread::spawn(move || job.run_if_pending());
            cell.run_if_pending();
            assert_eq!(cell.take().map(|r| r.ok()), Some(Some(42)));
            pool_job.join().unwrap();
            assert_eq!(runs.load(Ordering::SeqCst), 1);
        });
    }

    /// `cancel` races the pool's job: either the job ran (once) and
    /// `cancel` reports `false`, or it never runs and `cancel` reports
    /// `true`; `take` then returns the result or `None`, without hanging.
    #[test]
    fn cancel_and_the_pool_job_agree_on_whether_it_ran() {
        loom::model(|| {
            let runs = Arc::new(AtomicUsize::new(0));
            let cell = counting_cell(&runs);
            let job = Arc::clone(&cell);
            let pool_job = loom::thread::spawn(move || job.run_if_pending());
            let cancelled = cell.cancel_if_pending();
            let outcome = cell.take().map(|r| r.ok());
            pool_job.join().unwrap();
            let ran = runs.load(Ordering::SeqCst);
            if cancelled {
                assert_eq!((ran, outcome), (0, None));
            } else {
                assert_eq!((ran, outcome), (1, Some(Some(42))));
            }
        });
    }
}
