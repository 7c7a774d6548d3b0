//! Parking idle workers without losing wake-ups.
//!
//! # The protocol
//!
//! Shared state: one `AtomicU64` holding the **jobs event counter** (JEC, high
//! 32 bits) and the number of **sleeping** workers (low 32 bits); a mutex over
//! each worker's `asleep` flag, with one condvar per worker; and `hungry`, the
//! number of workers awake and looking for work (a hint that `join` reads to
//! decide whether to publish work; it carries no correctness burden).
//!
//! A JEC that is **odd** means "some worker is about to sleep"; even means
//! nobody has announced that since the last job was posted.
//!
//! An idle worker (it found nothing in its deque, its peers' or the injector):
//! 1. spins [`SPIN_ROUNDS`] rounds, then yields [`YIELD_ROUNDS`] rounds,
//!    searching for work after each;
//! 2. **announces** it is sleepy: makes the JEC odd (CAS `+1` if it is even)
//!    and remembers that odd value `e`;
//! 3. searches for work once more (the caller's next round);
//! 4. **sleeps**: under the mutex, CASes `sleeping + 1` into the counters
//!    *only if the JEC still equals `e`*; sets its `asleep` flag and waits on
//!    its condvar until a waker clears the flag. If the JEC moved, a job was
//!    posted after step 2: it goes back to searching instead.
//!
//! A thread that posts work (pushes to a deque or the injector):
//! 1. pushes the job;
//! 2. `fence(SeqCst)`, then loads the counters;
//! 3. if the JEC is odd, CASes it to the next even value (`+1`);
//! 4. if `sleeping > 0`, wakes one sleeper: under the mutex it picks a worker
//!    whose `asleep` flag is set, clears the flag, decrements `sleeping` and
//!    notifies that worker's condvar.
//!
//! # The race it avoids
//!
//! The lost wake-up: a worker checks the queues (empty), a job is pushed and
//! the poster sees nobody asleep, then the worker sleeps with a job queued.
//! Here, the announcement (worker step 2, a SeqCst RMW followed by a SeqCst
//! fence) and the post (push, SeqCst fence, load) form a store-buffering pair:
//! either the poster's load sees the odd JEC, or the worker's step-3 search
//! sees the job. In the first case the poster bumps the JEC, and the worker's
//! step-4 CAS (on the same word, so totally ordered with the bump) either
//! fails because the JEC moved, or succeeds first, in which case the poster's
//! CAS observes `sleeping > 0` and wakes a sleeper. In the second case the
//! worker runs the job. Either way no job sits in a queue while every worker
//! sleeps.
//!
//! Posting costs a fence and a load when nobody is sleepy: no shared write on
//! the fast path.
//!
//! # Latches
//!
//! A worker waiting for a latch (a stolen `join` half, a scope) sleeps the
//! same way, but first moves its [`CoreLatch`] from `UNSET` to `SLEEPING`
//! (with its own index)
//! under the mutex. Whoever sets the latch swaps in `SET`; if the old state was
//! `SLEEPING` it calls [`Sleep::wake_specific`], which takes the mutex, so it
//! cannot run between the waiter's latch CAS and its wait (the waiter holds
//! the mutex across both, and the condvar releases it atomically).
//!
//! # Termination
//!
//! The pool sets its terminate flag, then calls [`Sleep::wake_all`]. A worker
//! in its main loop checks the flag under the mutex before waiting: either it
//! sees the flag, or `wake_all` takes the mutex after the worker is waiting
//! and wakes it.

use crate::latch::CoreLatch;
use crate::sync::{fence, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};
use crossbeam_utils::CachePadded;

/// Rounds of `spin_loop` busy-waiting before yielding: long enough that a
/// thief in a fine-grained fork-join catches the next published half without
/// a syscall (a promoted `join` half appears within ~100 ns of a request),
/// short enough that a finished burst stops burning CPU within microseconds.
#[cfg(not(loom))]
pub(crate) const SPIN_ROUNDS: u32 = 64;
/// Under loom every idle round multiplies the interleavings to explore, and
/// the protocol is the same after one round as after 64.
#[cfg(loom)]
pub(crate) const SPIN_ROUNDS: u32 = 1;

/// Rounds of `thread::yield_now` after spinning and before sleeping: on this
/// 2-core machine a yield lets a descheduled peer run; 16 rounds (~20-50 µs)
/// cover the gap between a `map`'s chunks without parking.
#[cfg(not(loom))]
pub(crate) const YIELD_ROUNDS: u32 = 16;
/// Under loom: one round, for the reason given at [`SPIN_ROUNDS`].
#[cfg(loom)]
pub(crate) const YIELD_ROUNDS: u32 = 1;

/// Busy-wait iterations per spin round.
const SPINS_PER_ROUND: u32 = 32;

const SLEEPING_ONE: u64 = 1;
const SLEEPING_MASK: u64 = 0xFFFF_FFFF;
const JEC_ONE: u64 = 1 << 32;

#[inline]
fn jec(counters: u64) -> u32 {
    (counters >> 32) as u32
}

#[inline]
fn sleeping(counters: u64) -> u32 {
    (counters & SLEEPING_MASK) as u32
}

/// What one worker's idle loop remembers between rounds.
#[derive(Debug)]
pub(crate) struct IdleState {
    rounds: u32,
    /// The odd JEC this worker announced, once it is sleepy.
    announced: Option<u32>,
}

/// What [`Sleep::no_work_found`] did, for the caller's stats.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum IdleOutcome {
    /// Spun, yielded or announced; search again.
    Searched,
    /// Slept and was woken; search again.
    Slept,
    /// Was about to sleep, but work was posted or the latch was set
    /// meanwhile; search again.
    Abandoned,
    /// The caller asked not to sleep (its `may_sleep` said no).
    Declined,
}

/// The shared sleep state of one pool.
#[derive(Debug)]
pub(crate) struct Sleep {
    counters: CachePadded<AtomicU64>,
    hungry: CachePadded<AtomicUsize>,
    asleep: Mutex<Vec<bool>>,
    condvars: Box<[Condvar]>,
}

thread_local! {
    /// The sleep of the pool this thread is a worker (or spare) of, set by
    /// [`Sleep::enter_worker`] for the thread's whole run; null elsewhere.
    static THIS_WORKERS_SLEEP: std::cell::Cell<*const Sleep> =
        const { std::cell::Cell::new(std::ptr::null()) };
}

/// Clears [`THIS_WORKERS_SLEEP`] when a worker's run ends (or unwinds).
pub(crate) struct WorkerSleepGuard;

impl Drop for WorkerSleepGuard {
    fn drop(&mut self) {
        THIS_WORKERS_SLEEP.with(|s| s.set(std::ptr::null()));
    }
}

impl Sleep {
    /// Marks this thread as a worker of the pool whose sleep this is, until
    /// the guard drops: what [`of_this_worker`](Self::of_this_worker)
    /// returns meanwhile. The pool's `Arc` held by the worker keeps `self`
    /// alive for that long.
    pub(crate) fn enter_worker(&self) -> WorkerSleepGuard {
        THIS_WORKERS_SLEEP.with(|s| s.set(self));
        WorkerSleepGuard
    }

    /// The sleep of the pool this thread works for, if it is a worker: for
    /// a latch set on a worker to wake a peer without naming the registry.
    #[inline]
    pub(crate) fn of_this_worker() -> Option<&'static Sleep> {
        let sleep = THIS_WORKERS_SLEEP.with(std::cell::Cell::get);
        // SAFETY: set by `enter_worker` from a `Sleep` that the worker's
        // `Arc` of its registry keeps alive for the whole run, and cleared
        // by the guard before the run ends; only this thread reads it. The
        // `'static` is never observable past the caller's use.
        unsafe { sleep.as_ref() }
    }

    /// Sleep state for `workers` workers.
    pub(crate) fn new(workers: usize) -> Self {
        Sleep {
            counters: CachePadded::new(AtomicU64::new(0)),
            hungry: CachePadded::new(AtomicUsize::new(0)),
            asleep: Mutex::new(vec![false; workers]),
            condvars: (0..workers).map(|_| Condvar::new()).collect(),
        }
    }

    /// Whether any worker is asleep (a relaxed hint, no fence).
    #[inline]
    pub(crate) fn anyone_sleeping(&self) -> bool {
        sleeping(self.counters.load(Ordering::Relaxed)) > 0
    }

    /// How many workers are awake and looking for work right now (a hint).
    #[inline]
    pub(crate) fn hungry(&self) -> usize {
        self.hungry.load(Ordering::Relaxed)
    }

    /// A worker starts looking for work.
    #[inline]
    pub(crate) fn start_looking(&self) -> IdleState {
        self.hungry.fetch_add(1, Ordering::Relaxed);
        IdleState {
            rounds: 0,
            announced: None,
        }
    }

    /// A worker stops looking (it found work, or its latch was set).
    #[inline]
    pub(crate) fn stop_looking(&self, _idle: IdleState) {
        self.hungry.fetch_sub(1, Ordering::Relaxed);
    }

    /// One idle round found nothing: spin, yield, announce or sleep.
    ///
    /// `latch` is the latch the worker waits for, if any. `may_sleep` runs
    /// under the sleep mutex just before waiting; returning `false` declines
    /// (the main loop uses it to see the terminate flag).
    pub(crate) fn no_work_found(
        &self,
        idle: &mut IdleState,
        worker: usize,
        latch: Option<&CoreLatch>,
        may_sleep: impl FnOnce() -> bool,
    ) -> IdleOutcome {
        if idle.rounds < SPIN_ROUNDS {
            idle.rounds += 1;
            for _ in 0..SPINS_PER_ROUND {
                std::hint::spin_loop();
            }
            return IdleOutcome::Searched;
        }
        if idle.rounds < SPIN_ROUNDS + YIELD_ROUNDS {
            idle.rounds += 1;
            yield_now();
            return IdleOutcome::Searched;
        }
        match idle.announced {
            None => {
                idle.announced = Some(self.announce_sleepy());
                IdleOutcome::Searched
            }
            Some(announced) => {
                let outcome = self.sleep(announced, worker, latch, may_sleep);
                if matches!(outcome, IdleOutcome::Slept | IdleOutcome::Abandoned) {
                    idle.rounds = 0;
                    idle.announced = None;
                }
                outcome
            }
        }
    }

    /// Worker step 2: make the JEC odd and return it.
    fn announce_sleepy(&self) -> u32 {
        let mut current = self.counters.load(Ordering::SeqCst);
        let announced = loop {
            if jec(current) % 2 == 1 {
                break jec(current);
            }
            match self.counters.compare_exchange_weak(
                current,
                current.wrapping_add(JEC_ONE),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => break jec(current).wrapping_add(1),
                Err(actual) => current = actual,
            }
        };
        // Pairs with the poster's fence: see "The race it avoids".
        fence(Ordering::SeqCst);
        announced
    }

    /// Worker step 4.
    fn sleep(
        &self,
        announced: u32,
        worker: usize,
        latch: Option<&CoreLatch>,
        may_sleep: impl FnOnce() -> bool,
    ) -> IdleOutcome {
        let mut asleep = self.asleep.lock();
        if let Some(latch) = latch {
            if !latch.try_mark_sleeping(worker) {
                return IdleOutcome::Abandoned; // set meanwhile: go and see
            }
        }
        if !may_sleep() {
            if let Some(latch) = latch {
                latch.unmark_sleeping(worker);
            }
            return IdleOutcome::Declined;
        }
        let mut current = self.counters.load(Ordering::SeqCst);
        loop {
            if jec(current) != announced {
                // Work was posted after this worker announced: search again.
                if let Some(latch) = latch {
                    latch.unmark_sleeping(worker);
                }
                return IdleOutcome::Abandoned;
            }
            match self.counters.compare_exchange_weak(
                current,
                current + SLEEPING_ONE,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        asleep[worker] = true;
        // A sleeper is not a thief `join` should publish for: it would not
        // see the work before a wake-up anyway (see `WorkerThread::promote_oldest`).
        self.hungry.fetch_sub(1, Ordering::Relaxed);
        while asleep[worker] {
            self.condvars[worker].wait(&mut asleep);
        }
        self.hungry.fetch_add(1, Ordering::Relaxed);
        // The waker cleared this worker's flag and decremented `sleeping`.
        if let Some(latch) = latch {
            latch.unmark_sleeping(worker);
        }
        IdleOutcome::Slept
    }

    /// Poster steps 2 to 4, after `count` jobs were pushed.
    #[inline]
    pub(crate) fn new_work(&self) {
        fence(Ordering::SeqCst);
        let counters = self.counters.load(Ordering::SeqCst);
        if jec(counters) % 2 == 1 || sleeping(counters) > 0 {
            self.new_work_cold(counters);
        }
    }

    #[cold]
    fn new_work_cold(&self, mut counters: u64) {
        while jec(counters) % 2 == 1 {
            match self.counters.compare_exchange_weak(
                counters,
                counters.wrapping_add(JEC_ONE),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => break,
                Err(actual) => counters = actual,
            }
        }
        if sleeping(self.counters.load(Ordering::SeqCst)) > 0 {
            self.wake_one();
        }
    }

    /// Wakes one sleeping worker, if any. Returns whether one was woken.
    pub(crate) fn wake_one(&self) -> bool {
        let mut asleep = self.asleep.lock();
        match asleep.iter().position(|&a| a) {
            Some(worker) => {
                self.wake_locked(&mut asleep, worker);
                true
            }
            None => false,
        }
    }

    /// Wakes one asleep worker among `slots`, if any (a surplus spare).
    pub(crate) fn wake_one_in(&self, slots: std::ops::Range<usize>) {
        let mut asleep = self.asleep.lock();
        let end = slots.end.min(asleep.len());
        if let Some(worker) = (slots.start..end).find(|&w| asleep[w]) {
            self.wake_locked(&mut asleep, worker);
        }
    }

    /// Wakes `worker` if it is asleep (its latch was set).
    pub(crate) fn wake_specific(&self, worker: usize) {
        let mut asleep = self.asleep.lock();
        if asleep[worker] {
            self.wake_locked(&mut asleep, worker);
        }
    }

    /// Wakes every sleeping worker (termination).
    pub(crate) fn wake_all(&self) {
        let mut asleep = self.asleep.lock();
        for worker in 0..asleep.len() {
            if asleep[worker] {
                self.wake_locked(&mut asleep, worker);
            }
        }
    }

    fn wake_locked(&self, asleep: &mut [bool], worker: usize) {
        asleep[worker] = false;
        self.counters.fetch_sub(SLEEPING_ONE, Ordering::SeqCst);
        self.condvars[worker].notify_one();
    }

    /// Number of workers asleep right now (the loom models check it; only
    /// compiled for them, else it is dead code in the unit-test build).
    #[cfg(all(test, loom))]
    pub(crate) fn sleeping_workers(&self) -> u32 {
        sleeping(self.counters.load(Ordering::SeqCst))
    }
}

#[cfg(not(loom))]
fn yield_now() {
    std::thread::yield_now();
}

#[cfg(loom)]
fn yield_now() {
    loom::thread::yield_now();
}
