//! Configuring a pool: thread count, names, stack size, pinning, hooks. Every
//! option has a documented default; `build` validates them all and reports the
//! first bad one as a [`BuildError`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::error::BuildError;
use crate::pinning::Pinning;

/// Called on a worker with its index when it starts or exits.
pub(crate) type ThreadHook = Arc<dyn Fn(usize) + Send + Sync>;
/// Called with the payload of a panic in a detached `spawn`.
pub(crate) type PanicHandler = Arc<dyn Fn(Box<dyn Any + Send>) + Send + Sync>;
/// Names worker `i`.
pub(crate) type NameFn = Box<dyn FnMut(usize) -> String>;

/// The smallest worker stack accepted: the worker loop, a few nested `join`
/// frames and a panic's unwinding need a few pages; 64 KiB leaves room.
pub const MIN_STACK_SIZE: usize = 64 * 1024;

/// The default cap on spare threads (see
/// [`ThreadPoolBuilder::max_spare_threads`]): enough for a few dozen
/// simultaneously blocked workers, each spare costing only a parked thread
/// until it retires (5 s idle).
pub const DEFAULT_MAX_SPARE_THREADS: usize = 64;

/// Builds a [`ThreadPool`](crate::ThreadPool) (`build` is in `pool.rs`).
///
/// Defaults: as many threads as [`std::thread::available_parallelism`]
/// reports (1 if it cannot tell); threads named `filch-worker-{i}`; the
/// platform's default stack size; no pinning; no start or exit hooks; panics
/// in detached `spawn`s printed to stderr (the worker keeps running).
///
/// ```
/// use filch_scheduler::ThreadPoolBuilder;
///
/// let pool = ThreadPoolBuilder::new()
///     .num_threads(3)
///     .thread_name(|i| format!("cruncher-{i}"))
///     .stack_size(1 << 20)
///     .build()?;
/// assert_eq!(pool.num_threads(), 3);
/// # Ok::<(), filch_scheduler::BuildError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct ThreadPoolBuilder {
    pub(crate) num_threads: Option<usize>,
    pub(crate) max_spare_threads: usize,
    pub(crate) thread_name: Option<NameFn>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) pinning: Pinning,
    pub(crate) start_handler: Option<ThreadHook>,
    pub(crate) exit_handler: Option<ThreadHook>,
    pub(crate) panic_handler: Option<PanicHandler>,
}

impl Default for ThreadPoolBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("num_threads", &self.num_threads)
            .field("max_spare_threads", &self.max_spare_threads)
            .field("thread_name", &self.thread_name.as_ref().map(|_| "<fn>"))
            .field("stack_size", &self.stack_size)
            .field("pinning", &self.pinning)
            .field(
                "start_handler",
                &self.start_handler.as_ref().map(|_| "<fn>"),
            )
            .field("exit_handler", &self.exit_handler.as_ref().map(|_| "<fn>"))
            .field(
                "panic_handler",
                &self.panic_handler.as_ref().map(|_| "<fn>"),
            )
            .finish()
    }
}

impl ThreadPoolBuilder {
    /// A builder with every option at its default.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPoolBuilder::new().build().unwrap();
    /// assert!(pool.num_threads() >= 1);
    /// ```
    pub fn new() -> Self {
        ThreadPoolBuilder {
            num_threads: None,
            max_spare_threads: DEFAULT_MAX_SPARE_THREADS,
            thread_name: None,
            stack_size: None,
            pinning: Pinning::Off,
            start_handler: None,
            exit_handler: None,
            panic_handler: None,
        }
    }

    /// The number of workers. More than the machine's cores is allowed; 0 is
    /// rejected by [`build`](Self::build).
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(12).build().unwrap();
    /// assert_eq!(pool.num_threads(), 12);
    /// ```
    pub fn num_threads(mut self, n: usize) -> Self {
        self.num_threads = Some(n);
        self
    }

    /// The most spare threads the pool may start to stand in for workers
    /// blocked in [`blocking`](crate::blocking) (default
    /// [`DEFAULT_MAX_SPARE_THREADS`]). 0 turns spares off; at the cap,
    /// `blocking` simply runs without a stand-in.
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPoolBuilder::new()
    ///     .num_threads(1)
    ///     .max_spare_threads(0)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.install(|| filch_scheduler::blocking(|| 7)), 7);
    /// ```
    pub fn max_spare_threads(mut self, n: usize) -> Self {
        self.max_spare_threads = n;
        self
    }

    /// Names worker `i` (visible in debuggers, `top -H`, panic messages).
    /// Every name is made before any worker starts; a name containing a NUL
    /// byte makes [`build`](Self::build) fail with [`BuildError::Spawn`].
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPoolBuilder::new()
    ///     .num_threads(1)
    ///     .thread_name(|i| format!("mine-{i}"))
    ///     .build()
    ///     .unwrap();
    /// let name = pool.install(|| std::thread::current().name().map(str::to_owned));
    /// assert_eq!(name.as_deref(), Some("mine-0"));
    /// ```
    pub fn thread_name<F: FnMut(usize) -> String + 'static>(mut self, name: F) -> Self {
        self.thread_name = Some(Box::new(name));
        self
    }

    /// Each worker's stack size in bytes; at least [`MIN_STACK_SIZE`].
    ///
    /// ```
    /// let err = filch_scheduler::ThreadPoolBuilder::new().stack_size(1024).build().unwrap_err();
    /// assert!(err.to_string().contains("1024 bytes"));
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Where workers run: see [`Pinning`]. Default [`Pinning::Off`].
    ///
    /// ```
    /// use filch_scheduler::{BuildError, Pinning, ThreadPoolBuilder};
    ///
    /// let err = ThreadPoolBuilder::new().pinning(Pinning::Cores(vec![100_000])).build().unwrap_err();
    /// assert!(matches!(err, BuildError::CoreNotAllowed { core: 100_000, .. }));
    /// ```
    pub fn pinning(mut self, pinning: Pinning) -> Self {
        self.pinning = pinning;
        self
    }

    /// Runs on each worker, with its index, before it takes any job. A
    /// panic in the hook is caught and reported on stderr; the worker still
    /// starts.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&started);
    /// let pool = filch_scheduler::ThreadPoolBuilder::new()
    ///     .num_threads(2)
    ///     .start_handler(move |_| { seen.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// drop(pool); // joins the workers, so both have started
    /// assert_eq!(started.load(Ordering::SeqCst), 2);
    /// ```
    pub fn start_handler<F: Fn(usize) + Send + Sync + 'static>(mut self, hook: F) -> Self {
        self.start_handler = Some(Arc::new(hook));
        self
    }

    /// Runs on each worker, with its index, as it exits at shutdown. A panic
    /// in the hook is caught and reported on stderr; the worker still exits
    /// normally.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let exited = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&exited);
    /// let pool = filch_scheduler::ThreadPoolBuilder::new()
    ///     .num_threads(2)
    ///     .exit_handler(move |_| { seen.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// drop(pool);
    /// assert_eq!(exited.load(Ordering::SeqCst), 2);
    /// ```
    pub fn exit_handler<F: Fn(usize) + Send + Sync + 'static>(mut self, hook: F) -> Self {
        self.exit_handler = Some(Arc::new(hook));
        self
    }

    /// Receives the payload of a panic in a detached [`spawn`](crate::ThreadPool::spawn).
    /// The worker keeps running either way. A panic inside the handler itself
    /// is caught and reported on stderr; it does not take the worker down.
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let tx = std::sync::Mutex::new(tx);
    /// let pool = filch_scheduler::ThreadPoolBuilder::new()
    ///     .num_threads(1)
    ///     .panic_handler(move |payload| {
    ///         let msg = filch_scheduler::panic_message(&*payload).to_owned();
    ///         tx.lock().unwrap().send(msg).unwrap();
    ///     })
    ///     .build()
    ///     .unwrap();
    /// pool.spawn(|| panic!("boom"));
    /// assert_eq!(rx.recv().unwrap(), "boom");
    /// ```
    pub fn panic_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(Box<dyn Any + Send>) + Send + Sync + 'static,
    {
        self.panic_handler = Some(Arc::new(handler));
        self
    }

    /// The thread count this builder asks for, defaults resolved.
    pub(crate) fn resolved_num_threads(&self) -> Result<usize, BuildError> {
        match self.num_threads {
            Some(0) => Err(BuildError::ZeroThreads),
            Some(n) => Ok(n),
            None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        }
    }
}
