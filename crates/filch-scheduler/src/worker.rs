//! One worker thread: its deque, the newest of its open `join` frames, the
//! find-work order (local, peers in random order, injector) and the loops
//! that run jobs until shutdown or until a latch is set.
//!
//! # Private frames and promotion
//!
//! `join(a, b)` does not publish every `b`. It keeps `b`'s job private on
//! its own stack frame, linked to the worker's older open frames
//! (`fork_latch.rs`), and runs `a`. Only when nothing of this worker's is
//! on offer (its public deque is empty) does it **promote** its *oldest*
//! private frame: push that frame's job onto the crossbeam deque where
//! thieves look. So the biggest piece of work this worker has is always on
//! offer, and re-offered as soon as a thief takes it. The offer changes only
//! when the offered frame is stolen or closes, so a balanced tree of `n`
//! forks publishes O(depth) times, not `n` times: most forks cost a few
//! stores and an emptiness check, no read-modify-write and no fence. (A
//! flat loop of joins publishes and reclaims on every fork: a deque push and
//! pop, still cheaper than a fork that always publishes.)
//!
//! Invariant (the *prefix* rule): promoted frames are always the oldest
//! end of a chain, because promotion takes the oldest private frame. So
//! when a frame is still private after `a`, it is certain no other thread
//! has a reference to it; when it is promoted, every older frame of its
//! chain is too.

use std::cell::Cell;
use std::ptr;
use std::sync::mpsc;

use crossbeam_deque::{Steal, Worker};

use crate::error::BuildError;
use crate::events::event;
use crate::fork_latch::{oldest_private, ForkLatch};
use crate::job::JobRef;
use crate::latch::CoreLatch;
use crate::pinning;
use crate::registry::Registry;
use crate::sleep::IdleOutcome;
use crate::spare::Wakeup;
use crate::stats::Counter;
use crate::sync::Arc;

thread_local! {
    static CURRENT: Cell<*const WorkerThread> = const { Cell::new(ptr::null()) };
}

/// The thread-local state of a worker.
#[derive(Debug)]
pub(crate) struct WorkerThread {
    deque: Worker<JobRef>,
    registry: Arc<Registry>,
    index: usize,
    /// The newest open frame of the implicit `join`'s chain, or null; see
    /// the module docs.
    newest_frame: Cell<*const ForkLatch>,
    /// A spare standing in for blocked workers (`spare.rs`).
    spare: bool,
    /// xorshift state for choosing steal victims.
    rng: Cell<u64>,
}

/// Clears the thread-local pointer when the worker exits, even by panic.
struct CurrentGuard;

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(ptr::null()));
    }
}

impl WorkerThread {
    /// The calling thread's worker, if it is one.
    #[inline]
    pub(crate) fn current() -> Option<&'static WorkerThread> {
        let worker = CURRENT.with(Cell::get);
        // SAFETY: the pointer is set by `run` to a `WorkerThread` that lives
        // on that thread's stack until `run` returns, and cleared (by
        // `CurrentGuard`) before it does; only this thread reads it.
        unsafe { worker.as_ref() }
    }

    /// The calling thread's worker, for a caller that knows it is one: a
    /// thread-local read and no test.
    ///
    /// # Safety
    /// The calling thread must be a worker still inside its run loop (as a
    /// fork is after its first half, having started on one).
    #[inline]
    pub(crate) unsafe fn current_unchecked() -> &'static WorkerThread {
        // SAFETY: set by `run` for as long as the worker runs, which the
        // caller promises it still does; see `current`.
        unsafe { &*CURRENT.with(Cell::get) }
    }

    /// The body of a worker thread.
    pub(crate) fn run(
        registry: Arc<Registry>,
        index: usize,
        deque: Worker<JobRef>,
        report: mpsc::Sender<Result<(), BuildError>>,
    ) {
        if let Some(core) = registry.workers[index].core {
            if !pinning::pin_current(core) {
                let _ = report.send(Err(BuildError::PinRefused { index, core }));
                return;
            }
        }
        let seed = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let worker = WorkerThread {
            deque,
            registry,
            index,
            newest_frame: Cell::new(ptr::null()),
            spare: false,
            rng: Cell::new(seed),
        };
        CURRENT.with(|c| c.set(&worker));
        let _guard = CurrentGuard;
        let _sleep = worker.registry.sleep().enter_worker();
        let _ = report.send(Ok(()));
        drop(report);
        worker.registry.run_start_handler(index);
        worker.main_loop();
        worker.registry.run_exit_handler(index);
    }

    /// The body of a spare thread on `slot` (`spare.rs`). It starts
    /// active (its starter counted it) and runs until it retires or the pool
    /// shuts down; a retiring spare gives its slot and deque back.
    pub(crate) fn run_spare(registry: Arc<Registry>, slot: usize, deque: Worker<JobRef>) {
        let seed = (slot as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let worker = WorkerThread {
            deque,
            registry,
            index: slot,
            newest_frame: Cell::new(ptr::null()),
            spare: true,
            rng: Cell::new(seed),
        };
        CURRENT.with(|c| c.set(&worker));
        let guard = CurrentGuard;
        let sleep = worker.registry.sleep().enter_worker();
        worker.registry.run_start_handler(slot);
        let retire = worker.spare_loop();
        worker.registry.run_exit_handler(slot);
        drop(sleep);
        drop(guard);
        if retire {
            let WorkerThread {
                deque, registry, ..
            } = worker;
            registry.spares.give_back(slot, deque);
        }
    }

    /// Steps 3 and 4 of the spare protocol; `true` if the spare retires
    /// (rather than exiting for shutdown).
    fn spare_loop(&self) -> bool {
        let spares = &self.registry.spares;
        loop {
            if let Some(job) = self.find_work() {
                self.execute_outermost(job);
                continue;
            }
            if self.registry.terminating() {
                return false;
            }
            if self.deque.is_empty() && spares.try_deactivate() {
                match spares.park(self.index) {
                    Wakeup::HandOff => continue,
                    Wakeup::Retire => return true,
                    Wakeup::Terminate => return false,
                }
            }
            if let Some(job) = self.idle_until_work(None) {
                self.execute_outermost(job);
            }
        }
    }

    #[inline]
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    #[inline]
    pub(crate) fn registry_arc(&self) -> &Arc<Registry> {
        &self.registry
    }

    #[inline]
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    #[inline]
    fn bump(&self, counter: Counter) {
        self.registry.workers[self.index].counters.bump(counter);
    }

    /// Pushes a job others may steal, and posts it.
    #[inline]
    pub(crate) fn push(&self, job: JobRef) {
        self.deque.push(job);
        self.registry.sleep().new_work();
    }

    /// Runs a job taken from a deque or the injector.
    #[inline]
    pub(crate) fn execute(&self, job: JobRef) {
        self.bump(Counter::Jobs);
        // SAFETY: every `JobRef` in a deque or the injector is live and is
        // removed from there exactly once (by pop or steal), so this is its
        // only execution.
        unsafe { job.execute() }
    }

    /// Runs `job` from a worker's own loop, with no frame of this thread
    /// open: every frame a job opens on the implicit `join`'s chain is
    /// closed, and the chain emptied or restored, by the time it returns
    /// (debug builds check it; a frame left behind would dangle).
    #[inline]
    fn execute_outermost(&self, job: JobRef) {
        self.execute(job);
        debug_assert!(
            self.newest_frame().is_null(),
            "a job left a frame on its worker's join chain"
        );
    }

    /// Local, then peers in random order, then the injector.
    fn find_work(&self) -> Option<JobRef> {
        self.deque
            .pop()
            .or_else(|| self.steal_from_peers())
            .or_else(|| {
                let job = self.registry.steal_injected(&self.deque);
                if job.is_some() {
                    self.bump(Counter::Steals);
                    event!(worker = self.index, "took an injected job");
                }
                job
            })
    }

    fn next_random(&self) -> u64 {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x
    }

    fn steal_from_peers(&self) -> Option<JobRef> {
        let peers = &self.registry.workers;
        let n = self.registry.spares.visible();
        if n <= 1 {
            return None;
        }
        let start = (self.next_random() % n as u64) as usize;
        loop {
            let mut retry = false;
            for victim in (start..n).chain(0..start).filter(|&v| v != self.index) {
                match peers[victim].stealer.steal() {
                    Steal::Success(job) => {
                        self.bump(Counter::Steals);
                        event!(worker = self.index, victim, "stole a job");
                        return Some(job);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => self.bump(Counter::FailedSteals),
                }
            }
            if !retry {
                return None;
            }
        }
    }

    /// Runs jobs until the pool terminates and no work is left anywhere.
    fn main_loop(&self) {
        loop {
            if let Some(job) = self.find_work() {
                self.execute_outermost(job);
                continue;
            }
            match self.idle_until_work(None) {
                Some(job) => self.execute_outermost(job),
                None => return,
            }
        }
    }

    /// Searches, spins, then sleeps until it finds a job (returned), `latch`
    /// is set (`None`), or, with no latch, the pool terminates (`None`).
    fn idle_until_work(&self, latch: Option<&CoreLatch>) -> Option<JobRef> {
        let sleep = self.registry.sleep();
        self.registry.busy_cpus.mark_idle(self.index);
        let mut idle = sleep.start_looking();
        let found = loop {
            if latch.is_some_and(CoreLatch::probe) {
                break None;
            }
            if let Some(job) = self.find_work() {
                break Some(job);
            }
            if latch.is_none() && (self.registry.terminating() || self.surplus_spare()) {
                // Search once more before leaving. The flag is set (SeqCst)
                // after the dropping thread's last submission, so a job it
                // pushed after the search above is visible now that this worker has
                // seen the flag; leaving without looking stranded such a job
                // (found by loom: `terminate_wakes_and_ends_an_idle_worker`).
                break self.find_work();
            }
            let may_sleep =
                || latch.is_some() || !(self.registry.terminating() || self.surplus_spare());
            match sleep.no_work_found(&mut idle, self.index, latch, may_sleep) {
                IdleOutcome::Slept => {
                    self.bump(Counter::Parks);
                    self.bump(Counter::Wakes);
                    event!(worker = self.index, "parked, then woken");
                    let pinned = self.registry.workers[self.index].core.is_some();
                    if !pinned && self.registry.busy_cpus.move_off_busy_peers(self.index) {
                        event!(worker = self.index, "moved off a busy peer's CPU");
                    }
                }
                IdleOutcome::Searched | IdleOutcome::Abandoned | IdleOutcome::Declined => {}
            }
        };
        sleep.stop_looking(idle);
        if found.is_some() {
            self.registry.busy_cpus.mark_busy(self.index);
        }
        found
    }

    /// A spare with more active spares than blocked workers: it should park.
    #[inline]
    fn surplus_spare(&self) -> bool {
        self.spare && self.registry.spares.surplus()
    }

    /// Runs other jobs until `latch` is set, sleeping when there are none.
    /// Never blocks the thread while there is work it could do.
    #[inline]
    pub(crate) fn wait_until(&self, latch: &CoreLatch) {
        if !latch.probe() {
            self.wait_until_cold(latch);
        }
    }

    #[cold]
    fn wait_until_cold(&self, latch: &CoreLatch) {
        // This worker's private frames could keep others busy while it waits.
        self.promote_all();
        while !latch.probe() {
            let job = self
                .find_work()
                .or_else(|| self.idle_until_work(Some(latch)));
            if let Some(job) = job {
                self.execute(job);
            }
        }
    }

    // ---- private join frames (see module docs) ----

    /// The newest open frame of the implicit `join`'s chain (null for
    /// none).
    #[inline]
    pub(crate) fn newest_frame(&self) -> *const ForkLatch {
        self.newest_frame.get()
    }

    /// Makes `frame` the newest open frame of the implicit `join`'s chain.
    /// Every frame on the chain it ends must stay open while it is the
    /// newest (`join.rs` restores the older link as each frame closes).
    #[inline]
    pub(crate) fn set_newest_frame(&self, frame: *const ForkLatch) {
        self.newest_frame.set(frame);
    }

    /// Publishes the oldest private frame of the chain that ends at
    /// `newest`. Wakes a sleeping peer only if no peer is awake to take it:
    /// an awake thief sees the frame within nanoseconds without a post. The
    /// full post (`new_work`, a SeqCst fence) is not needed for correctness
    /// here: a frame nobody takes is reclaimed by its owner, so a missed
    /// wake-up costs parallelism, never progress. Cold: a balanced
    /// recursion publishes O(depth) times, when a thief has taken what was
    /// on offer.
    ///
    /// # Safety
    /// Every frame on the chain must be open on this thread's stack, and
    /// stay in place until its owner takes it back or sees its latch set.
    #[cold]
    #[inline(never)]
    pub(crate) unsafe fn publish_oldest_private(&self, newest: *const ForkLatch) {
        // SAFETY: the caller's promise.
        if let Some(frame) = unsafe { oldest_private(newest) } {
            // SAFETY: private (found so), and in place (the caller's promise).
            self.offer_frame(unsafe { frame.publish() });
        }
    }

    /// Pushes a promoted frame's job, waking a peer as
    /// [`publish_oldest_private`](Self::publish_oldest_private) explains.
    #[inline]
    fn offer_frame(&self, job: JobRef) {
        self.deque.push(job);
        let sleep = self.registry.sleep();
        if sleep.hungry() == 0 && sleep.anyone_sleeping() {
            sleep.new_work();
        }
    }

    /// Is anything of this worker's on offer to thieves? The publication
    /// rule of both joins (`fork_latch.rs`) and of lazy splitting
    /// asks this.
    #[inline]
    pub(crate) fn offering(&self) -> bool {
        !self.deque.is_empty()
    }

    /// Publishes every private frame of the implicit `join`'s chain, oldest
    /// first (a context `join`'s chain is out of reach here: its frames stay
    /// private while their owner waits).
    pub(crate) fn promote_all(&self) {
        let mut private = Vec::new();
        let mut next = self.newest_frame();
        // SAFETY: the worker's chain holds open frames only (`join.rs` keeps
        // it so), which stay in place until their owners close them.
        while let Some(frame) = unsafe { next.as_ref() } {
            let Some(older) = frame.private_link() else {
                break;
            };
            private.push(frame);
            next = older;
        }
        let any = !private.is_empty();
        for frame in private.into_iter().rev() {
            // SAFETY: private (found so) and in place, as above.
            self.deque.push(unsafe { frame.publish() });
        }
        if any {
            self.registry.sleep().new_work();
        }
    }

    /// Would an idle worker of this pool take work if it were published?
    /// Lazy splitters poll this to decide when to split.
    #[inline]
    pub(crate) fn work_wanted(&self) -> bool {
        self.registry.sleep().hungry() > 0 && !self.offering()
    }

    /// No peer is looking for work and one is asleep (see
    /// [`crate::peer_asleep`]).
    #[inline]
    pub(crate) fn peer_asleep(&self) -> bool {
        let sleep = self.registry.sleep();
        sleep.hungry() == 0 && sleep.anyone_sleeping()
    }

    /// After `join`'s first half: take this worker's promoted `job` back from the
    /// deque (`true`: run it inline) or, if a thief has it, run other work
    /// until its `latch` is set (`false`).
    pub(crate) fn reclaim_or_wait(&self, job: JobRef, latch: &CoreLatch) -> bool {
        loop {
            if latch.probe() {
                return false;
            }
            match self.deque.pop() {
                Some(popped) if popped.same_job(job) => return true,
                Some(other) => self.execute(other),
                None => {
                    self.wait_until(latch);
                    return false;
                }
            }
        }
    }
}
