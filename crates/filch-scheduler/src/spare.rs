//! Spare workers: threads that stand in for workers blocked in
//! [`blocking`](crate::blocking), so the configured number of threads keeps
//! computing while some wait on I/O, locks or sleeps (the idea of Java's
//! `ForkJoinPool.managedBlock`).
//!
//! # The protocol
//! Two counters: `blocked`, workers inside `blocking`; `active`, spares
//! allowed to take work. The aim is `active <= blocked`, give or take the
//! job a spare is finishing.
//! 1. A worker **entering** `blocking` increments `blocked`, then, while
//!    `active < blocked`, CAS-increments `active` and provides a spare:
//!    it hands off to a parked spare, or starts a thread on a free slot. If
//!    none is left (the cap) it takes its increment back and gives up: the
//!    pool degrades to running with fewer threads, never to an error.
//! 2. A worker **leaving** decrements `blocked`; if now `active > blocked`
//!    it wakes one sleeping spare so that the spare notices.
//! 3. An **active spare** runs the worker loop. When it has nothing to do
//!    and `active > blocked`, it CAS-decrements `active` and parks.
//! 4. A **parked spare** waits on its own condvar for a hand-off (step 1)
//!    or [`SPARE_IDLE_TIMEOUT`]. A hand-off and a timeout are decided under
//!    the same mutex, so a spare that was handed work never retires; on a
//!    timeout it **retires**: its slot and deque go back to the free list and
//!    its thread exits. On shutdown it exits.
//!
//! loom checks the hand-off (`loom_tests.rs`, model 6): a spare parking while
//! a worker enters `blocking` is either handed the work or never counted.
//!
//! Spares occupy slots `workers..workers + max_spares` of the registry, so
//! their deques are stealable and their latches wakeable like any worker's;
//! stealers scan only up to the highest slot ever used.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_deque::Worker;

use crate::events::event;
use crate::job::JobRef;
use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};

/// How long a parked spare waits for a hand-off before its thread exits.
/// Long enough that a program that blocks in bursts reuses its spares,
/// short enough that an idle pool sheds them soon.
pub const SPARE_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a parked spare was told.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wakeup {
    /// Be active again (the activator already counted it in `active`).
    HandOff,
    /// Timed out: give the slot back and exit.
    Retire,
    /// The pool is shutting down: exit.
    Terminate,
}

#[derive(Debug)]
struct State {
    /// Slots with no thread, and their deques.
    free: Vec<(usize, Worker<JobRef>)>,
    /// Slots whose threads are parked.
    parked: Vec<usize>,
    /// Per spare slot: a hand-off is waiting for its parked thread.
    handed: Vec<bool>,
    /// Threads started so far (joined at shutdown).
    handles: Vec<JoinHandle<()>>,
    terminating: bool,
}

/// The spare workers of one pool.
#[derive(Debug)]
pub(crate) struct Spares {
    first_slot: usize,
    blocked: AtomicUsize,
    active: AtomicUsize,
    /// Registry slots stealers scan: the workers plus the highest spare slot
    /// ever started.
    visible: AtomicUsize,
    state: Mutex<State>,
    parked_cond: Box<[Condvar]>,
}

impl Spares {
    /// Spare slots `first_slot..first_slot + deques.len()`.
    pub(crate) fn new(first_slot: usize, deques: Vec<Worker<JobRef>>) -> Self {
        let count = deques.len();
        Self::with_slots(first_slot, count, deques)
    }

    /// `slots` spare slots, of which those with a deque in `deques` are free
    /// (a loom model starts with its spare's slot already taken).
    pub(crate) fn with_slots(first_slot: usize, slots: usize, deques: Vec<Worker<JobRef>>) -> Self {
        let count = slots;
        let mut free: Vec<(usize, Worker<JobRef>)> = deques
            .into_iter()
            .enumerate()
            .map(|(i, deque)| (first_slot + i, deque))
            .collect();
        // Hand out the lowest slots first: `visible` then stays small.
        free.reverse();
        Spares {
            first_slot,
            blocked: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            visible: AtomicUsize::new(first_slot),
            state: Mutex::new(State {
                free,
                parked: Vec::new(),
                handed: vec![false; count],
                handles: Vec::new(),
                terminating: false,
            }),
            parked_cond: (0..count).map(|_| Condvar::new()).collect(),
        }
    }

    /// Slots stealers should scan.
    #[inline]
    pub(crate) fn visible(&self) -> usize {
        self.visible.load(Ordering::Acquire)
    }

    /// Whether `slot` is a spare's.
    #[inline]
    pub(crate) fn is_spare(&self, slot: usize) -> bool {
        slot >= self.first_slot
    }

    /// Step 1. `start` starts a thread on a free slot (with its deque) and
    /// returns its handle, or gives the deque back on failure.
    pub(crate) fn enter_blocking(
        &self,
        start: impl Fn(usize, Worker<JobRef>) -> Result<JoinHandle<()>, Worker<JobRef>>,
    ) {
        let blocked = self.blocked.fetch_add(1, Ordering::SeqCst) + 1;
        let mut active = self.active.load(Ordering::SeqCst);
        while active < blocked {
            match self.active.compare_exchange(
                active,
                active + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => {
                    if !self.provide_spare(&start) {
                        self.active.fetch_sub(1, Ordering::SeqCst);
                    }
                    return;
                }
                Err(actual) => active = actual,
            }
        }
    }

    /// Hands off to a parked spare or starts one; `false` if neither is
    /// possible (cap reached, shutting down, or the OS refused a thread).
    fn provide_spare(
        &self,
        start: &impl Fn(usize, Worker<JobRef>) -> Result<JoinHandle<()>, Worker<JobRef>>,
    ) -> bool {
        let mut state = self.state.lock();
        if state.terminating {
            return false;
        }
        if let Some(slot) = state.parked.pop() {
            state.handed[slot - self.first_slot] = true;
            self.parked_cond[slot - self.first_slot].notify_one();
            event!(
                spare = slot,
                "handed a parked spare the place of a blocked worker"
            );
            return true;
        }
        let Some((slot, deque)) = state.free.pop() else {
            return false;
        };
        self.visible.fetch_max(slot + 1, Ordering::AcqRel);
        match start(slot, deque) {
            Ok(handle) => {
                state.handles.push(handle);
                event!(spare = slot, "started a spare for a blocked worker");
                true
            }
            Err(deque) => {
                state.free.push((slot, deque));
                false
            }
        }
    }

    /// Step 2; returns whether a spare should be nudged to park.
    pub(crate) fn leave_blocking(&self) -> bool {
        let blocked = self.blocked.fetch_sub(1, Ordering::SeqCst) - 1;
        self.active.load(Ordering::SeqCst) > blocked
    }

    /// Step 3: an idle spare parks if there are more active spares than
    /// blocked workers; `true` if it took itself out of `active`.
    pub(crate) fn try_deactivate(&self) -> bool {
        let mut active = self.active.load(Ordering::SeqCst);
        while active > self.blocked.load(Ordering::SeqCst) {
            match self.active.compare_exchange(
                active,
                active - 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(actual) => active = actual,
            }
        }
        false
    }

    /// Whether an idle spare should stop looking for work and park.
    #[inline]
    pub(crate) fn surplus(&self) -> bool {
        self.active.load(Ordering::SeqCst) > self.blocked.load(Ordering::SeqCst)
    }

    /// Step 4, on the spare's own thread.
    pub(crate) fn park(&self, slot: usize) -> Wakeup {
        let index = slot - self.first_slot;
        let mut state = self.state.lock();
        state.parked.push(slot);
        let deadline = Instant::now() + SPARE_IDLE_TIMEOUT;
        loop {
            if state.handed[index] {
                state.handed[index] = false;
                return Wakeup::HandOff;
            }
            if state.terminating {
                state.parked.retain(|&s| s != slot);
                return Wakeup::Terminate;
            }
            if Instant::now() >= deadline {
                state.parked.retain(|&s| s != slot);
                return Wakeup::Retire;
            }
            self.parked_cond[index].wait_until(&mut state, deadline);
        }
    }

    /// A retiring spare gives its slot back.
    pub(crate) fn give_back(&self, slot: usize, deque: Worker<JobRef>) {
        self.state.lock().free.push((slot, deque));
    }

    /// Shutdown: no new spares; parked ones exit.
    pub(crate) fn terminate_parked(&self) {
        let mut state = self.state.lock();
        state.terminating = true;
        for &slot in &state.parked {
            self.parked_cond[slot - self.first_slot].notify_one();
        }
    }

    /// Shutdown: as [`terminate_parked`](Self::terminate_parked), and hands
    /// over every spare thread started, to be joined.
    pub(crate) fn terminate(&self) -> Vec<JoinHandle<()>> {
        self.terminate_parked();
        std::mem::take(&mut self.state.lock().handles)
    }
}
