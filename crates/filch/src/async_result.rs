//! `apply_async`: one function run on the pool, with a handle to collect
//! its result, like Python's `Pool.apply_async` and `AsyncResult`.
//!
//! The job and the handle share a cell that moves `Pending → Running →
//! Done → Taken` under a mutex. Whoever claims a pending cell runs it:
//! normally a worker, but `get` claims it itself if no worker has started it
//! yet, so waiting on a job that is still queued (behind a busy pool, or on
//! this very worker) cannot deadlock and never costs a wake-up.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sync::{Condvar, Mutex};

type Payload = Box<dyn Any + Send>;

enum State<F, R> {
    Pending(F),
    Running,
    Done(Result<R, Payload>),
    Taken,
}

struct Cell<F, R> {
    state: Mutex<State<F, R>>,
    done: Condvar,
}

/// The type-erased side of a cell the handle talks to.
trait AsyncCell<R>: Send + Sync {
    /// Runs the function if nobody has claimed it yet.
    fn run_if_pending(&self);
    /// Blocks until done, then takes the outcome.
    fn take(&self) -> Result<R, Payload>;
    /// Blocks until done or `deadline`; whether it is done.
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

    fn take(&self) -> Result<R, Payload> {
        let mut state = self.state.lock();
        while !matches!(*state, State::Done(_)) {
            self.done.wait(&mut state);
        }
        match std::mem::replace(&mut *state, State::Taken) {
            State::Done(outcome) => outcome,
            _ => unreachable!("waited for Done"),
        }
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.state.lock();
        while !matches!(*state, State::Done(_)) {
            match deadline {
                None => self.done.wait(&mut state),
                Some(deadline) => {
                    if self.done.wait_until(&mut state, deadline).timed_out() {
                        return matches!(*state, State::Done(_));
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

/// The handle of one [`Pool::apply_async`](crate::Pool::apply_async) call.
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
pub struct AsyncResult<R> {
    cell: Arc<dyn AsyncCell<R>>,
}

impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.cell.is_done())
            .finish()
    }
}

impl<R: Send + 'static> AsyncResult<R> {
    /// Queues `f` on `pool`.
    pub(crate) fn spawn<F>(pool: &filch_scheduler::ThreadPool, f: F) -> Self
    where
        F: FnOnce() -> R + Send + 'static,
    {
        let cell: Arc<Cell<F, R>> = Arc::new(Cell {
            state: Mutex::new(State::Pending(f)),
            done: Condvar::new(),
        });
        let job_cell = Arc::clone(&cell);
        pool.spawn(move || job_cell.run_if_pending());
        AsyncResult { cell }
    }

    /// Waits for the result and returns it. If no worker has started the
    /// function yet, runs it on the calling thread instead of waiting.
    ///
    /// ```
    /// let pool = filch::Pool::new();
    /// assert_eq!(pool.apply_async(|| "done").get(), "done");
    /// ```
    ///
    /// # Panics
    /// Resumes the function's panic with its original payload.
    pub fn get(self) -> R {
        self.cell.run_if_pending();
        match self.cell.take() {
            Ok(value) => value,
            Err(payload) => panic::resume_unwind(payload),
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
    /// Resumes the function's panic with its original payload, if it
    /// finished by panicking within the timeout.
    pub fn get_timeout(self, timeout: Duration) -> Result<R, Self> {
        if self.wait_timeout(timeout) {
            Ok(self.get())
        } else {
            Err(self)
        }
    }

    /// Waits at most `timeout`; `true` if the result is ready.
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

    /// Waits until the result is ready, without taking it.
    ///
    /// ```
    /// let handle = filch::Pool::new().apply_async(|| 1);
    /// handle.wait();
    /// assert!(handle.ready());
    /// ```
    pub fn wait(&self) {
        self.cell.run_if_pending();
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
}

/// loom model of the claim-or-wait cell: run with
/// `RUSTFLAGS="--cfg loom" cargo test -p filch --release --lib loom`.
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};

    /// The pool's job and the handle's `get` race to claim the function: it
    /// runs exactly once, `get` returns its result, and nobody waits forever.
    #[test]
    fn get_and_the_pool_job_run_the_function_exactly_once() {
        loom::model(|| {
            let runs = Arc::new(AtomicUsize::new(0));
            let counted = Arc::clone(&runs);
            let cell = Arc::new(Cell {
                state: Mutex::new(State::Pending(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    42u32
                })),
                done: Condvar::new(),
            });
            let job = Arc::clone(&cell);
            let pool_job = loom::thread::spawn(move || job.run_if_pending());
            let handle = AsyncResult {
                cell: cell as Arc<dyn AsyncCell<u32>>,
            };
            assert_eq!(handle.get(), 42);
            pool_job.join().unwrap();
            assert_eq!(runs.load(Ordering::SeqCst), 1);
        });
    }
}
