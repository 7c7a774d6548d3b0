//! `Cluster` and `ClusterBuilder`: MPI initialised once per process, a
//! filch pool per rank, and the SPMD combinators `map` and `starmap` (the
//! lazy ones are in `imap.rs`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use filch::{Pool, Unpack};
use mpi::environment::Universe;
use mpi::Threading;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::backoff::Backoff;
use crate::coordinator::Coordinator;
use crate::error::ClusterError;
use crate::imap_progress::Progress;
use crate::local::elapsed_ns;
use crate::owed_ends::OwedEnds;
use crate::placement::{Placement, Plan};
use crate::serve::{serve, Worker};
use crate::transport::Transport;
use crate::wire::{self, CallId, ChunkOutcome, EndReason, ReplyHead};

/// How often, at most, rank 0 looks for the other ranks' requests in calls
/// it keeps local; in between, such a call touches no MPI at all and files
/// every rank's ending (`owed_ends.rs`). Each look is an MPI progress call,
/// and on a host with more ranks than cores OpenMPI yields the processor
/// in every progress call that finds nothing (`mpi_yield_when_idle`),
/// which handed rank 0's core to another process in the middle of its own
/// call: with 3 ranks on a 2-vCPU AMD EPYC VM, 1000 items of 100-300 ns kept
/// local took 1.22-1.26x the local pool's time looking in every call, and
/// 1.01-1.05x with rank 0 not yielding, 1.09-1.23x looking every 1 ms and
/// 1.04-1.07x every 10 ms (`cluster-threshold`). A rank that waits
/// meanwhile is idle anyway: rank 0 has all the work. A mismatch is caught
/// that much later (`owed_ends.rs`), and the endings filed between two
/// reads are those of at most 10 ms of calls. A rank's call kept local ends
/// when rank 0 next reads: in a call after those 10 ms, in one that goes
/// out, or when the `Cluster` drops (see `docs/cluster.md` for programs
/// whose ranks wait on each other outside the cluster).
const READ_REQUESTS_EVERY: Duration = Duration::from_millis(10);

/// This process's place in an MPI job, with a filch pool for its share of
/// the work. Every rank runs the same program (SPMD) and makes the same
/// calls in the same order; rank 0 passes the real input and gets the
/// results, the other ranks serve chunks until the call is over.
///
/// ```no_run
/// // Run as: mpirun -np 3 ./program
/// let cluster = filch_mpi::Cluster::init()?;
/// // Only rank 0 reads the input; the others may pass anything (here the same range).
/// let squares = cluster.map(0..1_000u64, |x| x * x)?;
/// if let Some(squares) = squares {
///     // rank 0
///     assert_eq!(squares[10], 100);
/// }
/// # Ok::<(), filch_mpi::ClusterError>(())
/// ```
///
/// A `Cluster` is neither `Send` nor `Sync`: MPI is called only from the
/// thread that initialised it, and from an `imap`'s progress thread while
/// that thread alone uses MPI (see [`Cluster::imap`]). Dropping it finalises
/// MPI; MPI cannot be initialised again in the same process.
///
/// ```compile_fail
/// fn needs_send<T: Send>(_: T) {}
/// needs_send(filch_mpi::Cluster::init().unwrap()); // a Cluster stays on its thread
/// ```
pub struct Cluster {
    transport: Arc<Transport>,
    pool: Arc<Pool>,
    /// Calls made so far; the next call's sequence number is this plus one.
    calls: Cell<u64>,
    /// Rank 0's rule for keeping a `map` on its own pool (`placement.rs`).
    placement: Cell<Placement>,
    /// On rank 0, when a call kept local last read the other ranks'
    /// requests (see [`READ_REQUESTS_EVERY`]).
    requests_read: Cell<Instant>,
    /// On rank 0, the endings of calls kept local that the other ranks
    /// have not been told yet (`owed_ends.rs`).
    owed: Arc<Mutex<OwedEnds>>,
    /// On the other ranks, the endings of the next calls, already told
    /// (`owed_ends.rs`, `serve.rs`).
    told: RefCell<VecDeque<(CallId, EndReason)>>,
    /// On the other ranks, whether the last call ended without a chunk
    /// (see `serve.rs`).
    idle: Cell<bool>,
    /// An `imap` of this cluster is open on this rank.
    pub(crate) lazy_open: Cell<bool>,
    /// MPI was initialised `MPI_THREAD_SERIALIZED` or better, so an `imap`
    /// on rank 0 can make progress on a thread of its own.
    pub(crate) background: bool,
    /// On rank 0, the progress thread of the open `imap`, if it has one:
    /// joined when the `imap` ends, or at the latest when the cluster
    /// drops (an `imap` forgotten with `mem::forget`).
    pub(crate) progress: RefCell<Option<Progress>>,
    /// Keeps the cluster on its initialising thread.
    _not_send: PhantomData<*const ()>,
    /// Last field: dropped last, finalising MPI after everything else.
    _universe: Universe,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("rank", &self.rank())
            .field("size", &self.size())
            .field("threads_per_rank", &self.pool.threads())
            .field("calls", &self.calls.get())
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Initialises MPI and a pool with one thread per core on this rank's
    /// host; the same as `Cluster::builder().init()`.
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// println!("rank {} of {}", cluster.rank(), cluster.size());
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    ///
    /// # Errors
    /// [`ClusterError::AlreadyInitialized`] if MPI was initialised before in
    /// this process (a second `init`, even after the first cluster dropped);
    /// [`ClusterError::ThreadSupport`] if the MPI library cannot run a
    /// multi-threaded process; [`ClusterError::Pool`] if the pool cannot start.
    pub fn init() -> Result<Cluster, ClusterError> {
        Cluster::builder().init()
    }

    /// A builder for a cluster with options; see [`ClusterBuilder`].
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::builder().threads_per_rank(1).init()?;
    /// assert_eq!(cluster.threads_per_rank(), 1);
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder {
            threads_per_rank: None,
            always_distribute: false,
        }
    }

    /// Whether every `map` and `starmap` goes across the cluster. By
    /// default (`false`) rank 0 first maps a few items itself and keeps a
    /// call whose work is too small to pay for messages on its own pool
    /// (the other ranks still end the call in step); `true` sends every
    /// call out unprobed, for programs that know their calls are big or
    /// that need the other ranks to run `f`. Only rank 0's setting counts.
    /// `imap` always distributes.
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// cluster.set_always_distribute(true);
    /// assert!(cluster.always_distributes());
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn set_always_distribute(&self, always: bool) {
        let mut placement = self.placement.get();
        placement.always_distribute = always;
        self.placement.set(placement);
    }

    /// Whether every `map` goes across the cluster unprobed; see
    /// [`set_always_distribute`](Self::set_always_distribute).
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::builder().always_distribute(true).init()?;
    /// assert!(cluster.always_distributes());
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn always_distributes(&self) -> bool {
        self.placement.get().always_distribute
    }

    /// This process's rank, from 0 to `size() - 1`.
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// assert!(cluster.rank() < cluster.size());
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn rank(&self) -> usize {
        self.transport.rank()
    }

    /// The number of ranks in the job (`mpirun -np N`).
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// assert!(cluster.size() >= 1);
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn size(&self) -> usize {
        self.transport.size()
    }

    /// Whether this is rank 0, the one that gets the results.
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// assert_eq!(cluster.is_root(), cluster.rank() == 0);
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// The threads of this rank's pool.
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::builder().threads_per_rank(2).init()?;
    /// assert_eq!(cluster.threads_per_rank(), 2);
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn threads_per_rank(&self) -> usize {
        self.pool.threads()
    }

    /// This rank's local pool, for work that stays on this rank.
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// let local: Vec<u32> = cluster.pool().map(0..4u32, |x| x + 1);
    /// assert_eq!(local, [1, 2, 3, 4]);
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The link to the other ranks (an `Arc`, to share with an `imap`'s
    /// progress thread).
    pub(crate) fn transport(&self) -> &Arc<Transport> {
        &self.transport
    }

    /// What a worker rank serves a call with (`serve.rs`).
    pub(crate) fn worker(&self) -> Worker<'_> {
        Worker {
            transport: &self.transport,
            pool: &self.pool,
            idle: &self.idle,
            told: &self.told,
        }
    }

    /// Endings owed to the other ranks (`owed_ends.rs`).
    pub(crate) fn owed(&self) -> &Arc<Mutex<OwedEnds>> {
        &self.owed
    }

    /// This rank's pool, to share with an `imap`'s progress thread.
    pub(crate) fn pool_arc(&self) -> &Arc<Pool> {
        &self.pool
    }

    /// Stops and joins the progress thread of an `imap`, if one runs: it
    /// ends its call on every rank first.
    pub(crate) fn stop_progress(&self) {
        let progress = self.progress.borrow_mut().take();
        if let Some(progress) = progress {
            progress.stop();
        }
    }

    /// Starts call number `calls + 1` of `kind` from `T` to `R`.
    pub(crate) fn begin<T, R>(&self, kind: &str) -> Result<CallId, ClusterError> {
        if self.lazy_open.get() {
            return Err(ClusterError::Busy);
        }
        let seq = self.calls.get() + 1;
        self.calls.set(seq);
        Ok(CallId::new::<T, R>(seq, kind))
    }

    /// Applies `f` to every item across all ranks, like
    /// [`filch::Pool::map`]: on rank 0, `Ok(Some(results))` in input order;
    /// on the other ranks `Ok(None)` once the call is over. Only rank 0
    /// reads `items`; the other ranks drop theirs unread, so they may pass
    /// the same expression or an empty one (`Vec::new()`).
    ///
    /// Every rank must call `map` here, with the same `f`: functions cannot
    /// cross the wire, so each rank applies its own copy to the chunks it is
    /// sent. Rank 0 collects the input first (its length balances the tail).
    ///
    /// ```no_run
    /// // mpirun -np 3 ./program
    /// let cluster = filch_mpi::Cluster::init()?;
    /// let input = if cluster.is_root() { (0..100u32).collect() } else { Vec::new() };
    /// match cluster.map(input, |x| x.to_string())? {
    ///     Some(out) => assert_eq!(out[42], "42"),
    ///     None => assert!(!cluster.is_root()),
    /// }
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    ///
    /// # Errors
    /// On every rank: [`ClusterError::Panicked`] naming the rank and message
    /// if `f` panicked anywhere (chunks out on other ranks finish; no new ones
    /// start); [`ClusterError::Mismatch`] if the ranks are not making the
    /// same call; [`ClusterError::Wire`] if items or results fail to
    /// (de)serialise; [`ClusterError::Busy`] on a rank whose `imap` is open.
    /// The cluster stays usable after any of these.
    pub fn map<I, F, R>(&self, items: I, f: F) -> Result<Option<Vec<R>>, ClusterError>
    where
        I: IntoIterator,
        I::Item: Serialize + DeserializeOwned + Send,
        F: Fn(I::Item) -> R + Sync + Send,
        R: Serialize + DeserializeOwned + Send,
    {
        let call = self.begin::<I::Item, R>("map")?;
        self.run_map(&call, items, &f)
    }

    /// Like [`map`](Self::map), with each item a tuple spread into `f`'s
    /// arguments (1 to 6), like [`filch::Pool::starmap`].
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::init()?;
    /// if let Some(sums) = cluster.starmap(vec![(1, 2), (3, 4)], |a: i32, b: i32| a + b)? {
    ///     assert_eq!(sums, [3, 7]);
    /// }
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    ///
    /// # Errors
    /// As [`map`](Self::map).
    pub fn starmap<I, F, R>(&self, items: I, f: F) -> Result<Option<Vec<R>>, ClusterError>
    where
        I: IntoIterator,
        I::Item: Unpack<F, Output = R> + Serialize + DeserializeOwned + Send,
        F: Sync + Send,
        R: Serialize + DeserializeOwned + Send,
    {
        let call = self.begin::<I::Item, R>("starmap")?;
        self.run_map(&call, items, &|args: I::Item| args.call(&f))
    }

    fn run_map<I, F, R>(
        &self,
        call: &CallId,
        items: I,
        f: &F,
    ) -> Result<Option<Vec<R>>, ClusterError>
    where
        I: IntoIterator,
        I::Item: Serialize + DeserializeOwned + Send,
        F: Fn(I::Item) -> R + Sync + Send,
        R: Serialize + DeserializeOwned + Send,
    {
        if !self.is_root() {
            drop(items);
            return serve::<I::Item, R, F>(self.worker(), call, f).map(|()| None);
        }
        let items: Vec<I::Item> = items.into_iter().collect();
        let mut placement = self.placement.get();
        let plan = placement.plan(&self.pool, f, items, self.size());
        self.placement.set(placement);
        match plan {
            // Kept local: the other ranks are answered without waiting.
            Plan::Local(outcome) => {
                let items = match &outcome {
                    ChunkOutcome::Done { results, .. } => results.len(),
                    _ => 0,
                };
                let none = Vec::<I::Item>::new().into_iter();
                let mut coordinator =
                    Coordinator::new(&self.transport, &self.owed, call.clone(), none, None);
                coordinator.start_with(items, outcome);
                let read = self.requests_read.get().elapsed() >= READ_REQUESTS_EVERY;
                if read {
                    self.requests_read.set(Instant::now());
                }
                coordinator.end_without_waiting(read);
                coordinator.into_results().map(Some)
            }
            Plan::Distribute {
                first,
                rest,
                local_estimate_ns,
            } => {
                let start = Instant::now();
                let mut coordinator =
                    Coordinator::new(&self.transport, &self.owed, call.clone(), rest, None);
                if let Some((items, outcome)) = first {
                    coordinator.start_with(items, outcome);
                }
                coordinator.run_to_end(&self.pool, f);
                placement.learn(local_estimate_ns, elapsed_ns(start));
                self.placement.set(placement);
                coordinator.into_results().map(Some)
            }
        }
    }
}

impl Cluster {
    /// Waits for the request of every rank owed endings (`owed_ends.rs`)
    /// and answers it; a request of a call rank 0 never made is told rank 0
    /// is gone.
    fn settle_owed_ends(&self) {
        let mut owed = self.owed.lock().unwrap_or_else(PoisonError::into_inner);
        let mut backoff = Backoff::new();
        while !owed.is_empty() {
            let Some((rank, bytes)) = self.transport.try_receive_any() else {
                backoff.snooze();
                continue;
            };
            backoff.reset();
            let head = match owed.settle_request(rank, &bytes).into_reply() {
                Some((head, mismatch)) => {
                    // No call is left to fail on rank 0: say it here, as
                    // the other rank's call fails with it.
                    if let Some(err) = mismatch.and_then(EndReason::into_error) {
                        eprintln!("{err} (found as rank 0 dropped its cluster)");
                    }
                    head
                }
                None => ReplyHead::Shutdown,
            };
            if let Ok(reply) = wire::encode(0, &head, &()) {
                self.transport.send(rank, reply);
            }
        }
    }
}

impl Drop for Cluster {
    /// Stops an `imap`'s progress thread if one still runs; on rank 0,
    /// answers the ranks owed endings of calls it kept local (waiting for
    /// their requests: every rank makes the same calls), then tells any
    /// rank still waiting in a call that rank 0 never made that no answer
    /// will come ([`ClusterError::RootGone`]); then MPI is finalised.
    fn drop(&mut self) {
        self.stop_progress();
        if self.is_root() {
            self.settle_owed_ends();
            if let Ok(bytes) = wire::encode(0, &ReplyHead::Shutdown, &()) {
                for rank in 1..self.size() {
                    self.transport.send(rank, bytes.clone());
                }
            }
        }
    }
}

/// Configures a [`Cluster`]. Default: a pool with one thread per core of
/// this rank's host. When several ranks share a host, give each
/// `cores / ranks_on_the_host` threads so they do not oversubscribe it, and
/// mind mpirun's binding: OpenMPI may bind a rank to a single core, which
/// its threads then share (`--bind-to none` or `--map-by slot:PE=k`; see
/// `docs/cluster.md`).
///
/// ```no_run
/// let cluster = filch_mpi::Cluster::builder().threads_per_rank(4).init()?;
/// assert_eq!(cluster.threads_per_rank(), 4);
/// # Ok::<(), filch_mpi::ClusterError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `init` is called"]
pub struct ClusterBuilder {
    threads_per_rank: Option<usize>,
    always_distribute: bool,
}

impl ClusterBuilder {
    /// The threads of each rank's pool (at least 1).
    ///
    /// ```no_run
    /// let err = filch_mpi::Cluster::builder().threads_per_rank(0).init().unwrap_err();
    /// assert!(err.to_string().contains("0 threads"));
    /// ```
    pub fn threads_per_rank(self, threads: usize) -> Self {
        ClusterBuilder {
            threads_per_rank: Some(threads),
            ..self
        }
    }

    /// Sends every `map` across the cluster without probing whether it pays;
    /// see [`Cluster::set_always_distribute`].
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::builder().always_distribute(true).init()?;
    /// assert!(cluster.always_distributes());
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    pub fn always_distribute(self, always: bool) -> Self {
        ClusterBuilder {
            always_distribute: always,
            ..self
        }
    }

    /// Builds the pool, then initialises MPI (a bad option is reported
    /// before MPI is touched, so `init` may be retried with a good one).
    ///
    /// ```no_run
    /// let cluster = filch_mpi::Cluster::builder().init()?;
    /// assert!(filch_mpi::Cluster::init().is_err()); // MPI is initialised once per process
    /// # drop(cluster);
    /// # Ok::<(), filch_mpi::ClusterError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Cluster::init`].
    pub fn init(self) -> Result<Cluster, ClusterError> {
        let mut builder = Pool::builder().thread_name(|i| format!("filch-mpi-worker-{i}"));
        if let Some(threads) = self.threads_per_rank {
            builder = builder.threads(threads);
        }
        let pool = builder.build()?;
        let (universe, provided) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or(ClusterError::AlreadyInitialized)?;
        if provided < Threading::Funneled {
            return Err(ClusterError::ThreadSupport {
                provided: format!("{provided:?}"),
            });
        }
        let transport = Transport::new(universe.world());
        let ranks = transport.size();
        Ok(Cluster {
            transport: Arc::new(transport),
            pool: Arc::new(pool),
            calls: Cell::new(0),
            placement: Cell::new(Placement::new(self.always_distribute)),
            // The first call kept local reads: ranks that asked early are
            // answered in it.
            requests_read: Cell::new(
                Instant::now()
                    .checked_sub(READ_REQUESTS_EVERY)
                    .unwrap_or_else(Instant::now),
            ),
            owed: Arc::new(Mutex::new(OwedEnds::new(ranks))),
            told: RefCell::new(VecDeque::new()),
            idle: Cell::new(false),
            lazy_open: Cell::new(false),
            background: provided >= Threading::Serialized,
            progress: RefCell::new(None),
            _not_send: PhantomData,
            _universe: universe,
        })
    }
}
