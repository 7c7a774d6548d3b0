//! The state a pool's workers share: their stealers, the injector for
//! outside submissions, the sleep state, the terminate flag and the hooks.
//! Also how work enters the pool from outside (`inject`, `in_worker`).

use std::any::Any;
use std::sync::mpsc;
use std::thread::JoinHandle;

use crossbeam_deque::{Injector, Stealer, Worker};
use crossbeam_utils::CachePadded;

use crate::builder::{PanicHandler, ThreadHook, ThreadPoolBuilder, MIN_STACK_SIZE};
use crate::error::BuildError;
use crate::job::{JobRef, StackJob};
use crate::latch::LockLatch;
use crate::pinning;
use crate::sleep::Sleep;
use crate::spare::Spares;
use crate::spread::BusyCpus;
use crate::stats::{PoolStats, WorkerCounters};
use crate::sync::{Arc, AtomicBool, Ordering};
use crate::unwind;
use crate::waking_latch::WorkerLatch;
use crate::worker::WorkerThread;

/// What other threads may touch of one worker.
#[derive(Debug)]
pub(crate) struct WorkerInfo {
    pub(crate) stealer: Stealer<JobRef>,
    pub(crate) counters: CachePadded<WorkerCounters>,
    pub(crate) core: Option<usize>,
}

/// A pool's shared state; workers and handles hold it by `Arc`.
pub(crate) struct Registry {
    /// Every slot: the workers first, then the spares (`spare.rs`).
    pub(crate) workers: Box<[WorkerInfo]>,
    /// How many of `workers` are regular workers.
    num_threads: usize,
    pub(crate) spares: Spares,
    stack_size: Option<usize>,
    injector: Injector<JobRef>,
    sleep: Arc<Sleep>,
    /// Where workers run jobs, so a woken one can keep off (`spread.rs`).
    pub(crate) busy_cpus: BusyCpus,
    terminate: AtomicBool,
    start_handler: Option<ThreadHook>,
    exit_handler: Option<ThreadHook>,
    panic_handler: Option<PanicHandler>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("workers", &self.workers.len())
            .field("terminate", &self.terminate)
            .finish_non_exhaustive()
    }
}

/// What each starting worker reports back to `build`.
type StartReport = Result<(), BuildError>;

impl Registry {
    /// Validates `builder`, starts the workers, and waits until each has
    /// reported that it started (and pinned, if asked).
    pub(crate) fn start(
        mut builder: ThreadPoolBuilder,
    ) -> Result<(Arc<Registry>, Vec<JoinHandle<()>>), BuildError> {
        let n = builder.resolved_num_threads()?;
        if let Some(requested) = builder.stack_size {
            if requested < MIN_STACK_SIZE {
                return Err(BuildError::StackTooSmall {
                    requested,
                    minimum: MIN_STACK_SIZE,
                });
            }
        }
        let cores = pinning::plan(&builder.pinning, n)?;
        let max_spares = builder.max_spare_threads;
        let mut deques: Vec<Worker<JobRef>> =
            (0..n + max_spares).map(|_| Worker::new_lifo()).collect();
        let workers = deques
            .iter()
            .zip(cores.iter().copied().chain(std::iter::repeat(None)))
            .map(|(deque, core)| WorkerInfo {
                stealer: deque.stealer(),
                counters: CachePadded::new(WorkerCounters::default()),
                core,
            })
            .collect();
        let spare_deques = deques.split_off(n);
        let registry = Arc::new(Registry {
            workers,
            num_threads: n,
            spares: Spares::new(n, spare_deques),
            stack_size: builder.stack_size,
            injector: Injector::new(),
            sleep: Arc::new(Sleep::new(n + max_spares)),
            busy_cpus: BusyCpus::new(n + max_spares),
            terminate: AtomicBool::new(false),
            start_handler: builder.start_handler.take(),
            exit_handler: builder.exit_handler.take(),
            panic_handler: builder.panic_handler.take(),
        });

        // Every name is made and checked before any thread starts: `std`
        // panics on a name with a NUL byte, and a panic here after some
        // workers started would leave them running with nobody to stop them
        // (found by `crates/filch-scheduler/tests/misuse.rs`). A panicking
        // name function likewise unwinds before any thread exists.
        let names: Vec<String> = (0..n)
            .map(|index| match builder.thread_name.as_mut() {
                Some(name) => name(index),
                None => format!("filch-worker-{index}"),
            })
            .collect();
        if let Some(index) = names.iter().position(|name| name.contains('\0')) {
            return Err(BuildError::Spawn {
                index,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "thread names may not contain a NUL byte",
                ),
            });
        }

        let (report_tx, report_rx) = mpsc::channel::<StartReport>();
        let mut handles = Vec::with_capacity(n);
        let mut failure = None;
        for ((index, deque), name) in deques.into_iter().enumerate().zip(names) {
            let mut thread = std::thread::Builder::new().name(name);
            if let Some(bytes) = builder.stack_size {
                thread = thread.stack_size(bytes);
            }
            let registry = Arc::clone(&registry);
            let report = report_tx.clone();
            match thread.spawn(move || WorkerThread::run(registry, index, deque, report)) {
                Ok(handle) => handles.push(handle),
                Err(source) => {
                    failure = Some(BuildError::Spawn { index, source });
                    break;
                }
            }
        }
        drop(report_tx);
        for _ in 0..handles.len() {
            match report_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    failure.get_or_insert(err);
                }
                Err(_) => unwind::abort_on_broken_invariant("a worker died before reporting"),
            }
        }
        if let Some(err) = failure {
            registry.terminate();
            for handle in handles {
                let _ = handle.join();
            }
            return Err(err);
        }
        Ok((registry, handles))
    }

    /// Number of workers (spares not included).
    #[inline]
    pub(crate) fn num_threads(&self) -> usize {
        self.num_threads
    }

    /// Step 1 of the spare protocol (`spare.rs`): a worker enters `blocking`.
    pub(crate) fn enter_blocking(self: &Arc<Self>) {
        self.spares
            .enter_blocking(|slot, deque| self.start_spare(slot, deque));
    }

    /// Step 2: a worker leaves `blocking`; nudges a surplus spare to park.
    pub(crate) fn leave_blocking(&self) {
        if self.spares.leave_blocking() {
            self.sleep
                .wake_one_in(self.num_threads..self.spares.visible());
        }
    }

    /// Starts a spare thread on `slot`; gives the deque back if the OS
    /// refuses the thread.
    fn start_spare(
        self: &Arc<Self>,
        slot: usize,
        deque: Worker<JobRef>,
    ) -> Result<JoinHandle<()>, Worker<JobRef>> {
        let cell = Arc::new(parking_lot::Mutex::new(Some(deque)));
        let mut thread = std::thread::Builder::new().name(format!("filch-spare-{slot}"));
        if let Some(bytes) = self.stack_size {
            thread = thread.stack_size(bytes);
        }
        let (registry, handed) = (Arc::clone(self), Arc::clone(&cell));
        let spawned = thread.spawn(move || {
            let deque = handed
                .lock()
                .take()
                .unwrap_or_else(|| unwind::abort_on_broken_invariant("spare deque missing"));
            WorkerThread::run_spare(registry, slot, deque);
        });
        match spawned {
            Ok(handle) => Ok(handle),
            Err(_) => match cell.lock().take() {
                Some(deque) => Err(deque),
                None => unwind::abort_on_broken_invariant(
                    "spare deque taken by a thread that never started",
                ),
            },
        }
    }

    /// Spare threads started so far, for shutdown to join.
    pub(crate) fn take_spare_handles(&self) -> Vec<JoinHandle<()>> {
        self.spares.terminate()
    }

    /// The sleep, shared: latches keep it alive past their last access.
    pub(crate) fn sleep_arc(&self) -> &Arc<Sleep> {
        &self.sleep
    }

    #[inline]
    pub(crate) fn sleep(&self) -> &Sleep {
        &self.sleep
    }

    /// Submits a job from outside the pool (or from another pool).
    pub(crate) fn inject(&self, job: JobRef) {
        self.injector.push(job);
        self.sleep.new_work();
    }

    /// Takes a job (and a batch more into `into`) from the injector.
    pub(crate) fn steal_injected(&self, into: &Worker<JobRef>) -> Option<JobRef> {
        loop {
            match self.injector.steal_batch_and_pop(into) {
                crossbeam_deque::Steal::Success(job) => return Some(job),
                crossbeam_deque::Steal::Empty => return None,
                crossbeam_deque::Steal::Retry => continue,
            }
        }
    }

    /// Starts shutdown: workers finish all queued work, then exit.
    pub(crate) fn terminate(&self) {
        self.terminate.store(true, Ordering::SeqCst);
        self.sleep.wake_all();
        // Parked spares exit too; their handles stay for `take_spare_handles`.
        self.spares.terminate_parked();
    }

    #[inline]
    pub(crate) fn terminating(&self) -> bool {
        self.terminate.load(Ordering::SeqCst)
    }

    /// Runs the start hook. A panic in it is caught and reported: an
    /// uncaught one killed the worker before its loop began, so a pool whose
    /// every worker died that way hung on the first job (found by
    /// `crates/filch-scheduler/tests/misuse.rs`).
    pub(crate) fn run_start_handler(&self, index: usize) {
        if let Some(hook) = &self.start_handler {
            catch_hook_panic("start handler", index, || hook(index));
        }
    }

    /// Runs the exit hook; a panic in it is caught and reported, as for the
    /// start hook, so the worker still exits normally.
    pub(crate) fn run_exit_handler(&self, index: usize) {
        if let Some(hook) = &self.exit_handler {
            catch_hook_panic("exit handler", index, || hook(index));
        }
    }

    /// Hands a detached job's panic to the handler. A panicking handler is
    /// caught and reported: it must not take the worker down. Payloads are
    /// dropped under `catch_unwind` too: a payload whose `Drop` panics used
    /// to unwind out of the job and kill the worker (with the default
    /// handler), hanging a 1-thread pool (found by `tests/misuse.rs`).
    pub(crate) fn handle_panic(&self, payload: Box<dyn Any + Send>) {
        match &self.panic_handler {
            Some(handler) => {
                let handler = Arc::clone(handler);
                let call = std::panic::AssertUnwindSafe(move || handler(payload));
                if let Err(inner) = std::panic::catch_unwind(call) {
                    eprintln!(
                        "filch: the pool's panic handler itself panicked ({}); the worker keeps running",
                        unwind::panic_message(&*inner)
                    );
                    drop_payload(inner);
                }
            }
            None => {
                eprintln!(
                    "filch: a spawned job panicked: {}; the worker keeps running",
                    unwind::panic_message(&*payload)
                );
                drop_payload(payload);
            }
        }
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let snapshot = |(slot, w): (usize, &WorkerInfo)| {
            let mut stats = w.counters.snapshot(w.core);
            stats.spare = self.spares.is_spare(slot);
            stats
        };
        PoolStats {
            workers: self.workers[..self.spares.visible()]
                .iter()
                .enumerate()
                .map(snapshot)
                .collect(),
        }
    }

    /// Runs `op` on a worker of this pool: inline if the caller is one,
    /// otherwise by injecting it and waiting.
    pub(crate) fn in_worker<OP, R>(self: &Arc<Self>, op: OP) -> R
    where
        OP: FnOnce(&WorkerThread) -> R + Send,
        R: Send,
    {
        match WorkerThread::current() {
            Some(worker) if std::ptr::eq(worker.registry(), &**self) => op(worker),
            Some(worker) => self.in_worker_cross(worker, op),
            None => self.in_worker_cold(op),
        }
    }

    /// From a thread outside any pool: inject and block on a condvar.
    #[cold]
    fn in_worker_cold<OP, R>(self: &Arc<Self>, op: OP) -> R
    where
        OP: FnOnce(&WorkerThread) -> R + Send,
        R: Send,
    {
        let job = StackJob::new(on_the_worker_that_runs_it(op), LockLatch::new());
        // SAFETY: `job` stays on this frame until `wait` returns, which is
        // after the job ran and set its latch.
        self.inject(unsafe { job.as_job_ref() });
        job.latch.wait();
        // SAFETY: the latch is set, so the result is written and no other
        // thread touches the job any more.
        unsafe { job.into_result() }.into_return_value()
    }

    /// From a worker of another pool: inject here, and keep that worker busy
    /// with its own pool's jobs while it waits.
    #[cold]
    fn in_worker_cross<OP, R>(self: &Arc<Self>, current: &WorkerThread, op: OP) -> R
    where
        OP: FnOnce(&WorkerThread) -> R + Send,
        R: Send,
    {
        let job = StackJob::new(
            on_the_worker_that_runs_it(op),
            WorkerLatch::new(current.registry().sleep_arc(), current.index()),
        );
        // SAFETY: `job` stays on this frame until `wait_until` returns, which
        // is after the job ran and set its latch.
        self.inject(unsafe { job.as_job_ref() });
        current.wait_until(job.latch.core());
        // SAFETY: the latch is set: the result is written, nobody touches it.
        unsafe { job.into_result() }.into_return_value()
    }
}

/// Runs a user hook on worker `index`; a panic in it is reported on stderr
/// and does not unwind into the worker loop.
fn catch_hook_panic(what: &str, index: usize, hook: impl FnOnce()) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(hook)) {
        eprintln!(
            "filch: the pool's {what} panicked on worker {index} ({}); the panic is ignored",
            unwind::panic_message(&*payload)
        );
        drop_payload(payload);
    }
}

/// Drops a panic payload without letting a panicking `Drop` unwind into the
/// worker. The payload of such a second panic is dropped the same way; after
/// [`PAYLOAD_DROP_ATTEMPTS`] panicking drops in a row the last payload is
/// leaked (never dropped), so this always ends.
fn drop_payload(mut payload: Box<dyn Any + Send>) {
    for _ in 0..PAYLOAD_DROP_ATTEMPTS {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(next) => {
                eprintln!("filch: dropping a panic payload panicked too");
                payload = next;
            }
        }
    }
    eprintln!("filch: giving up on a chain of panicking payload drops; the last one is leaked");
    std::mem::forget(payload);
}

/// Chained panicking payload drops tolerated before leaking: one is the
/// realistic case (a payload whose `Drop` panics with a string); the bound
/// only has to be finite.
const PAYLOAD_DROP_ATTEMPTS: usize = 4;

/// Wraps `op` for injection: it gets the worker that picks the job up.
fn on_the_worker_that_runs_it<OP, R>(op: OP) -> impl FnOnce() -> R
where
    OP: FnOnce(&WorkerThread) -> R,
{
    || {
        let worker = WorkerThread::current()
            .unwrap_or_else(|| unwind::abort_on_broken_invariant("injected job ran off-pool"));
        op(worker)
    }
}
