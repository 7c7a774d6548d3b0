//! loom models of the sleep/wake protocol (`sleep.rs`) and the latches
//! (`latch.rs`). Run with
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p filch-scheduler --release --lib loom_tests
//! ```
//!
//! crossbeam-deque is not loom-aware, so the queues are a stand-in: a loom
//! `AtomicUsize` counting queued jobs. Pushing is an increment followed by
//! [`Sleep::new_work`], as in `WorkerThread::push` and `Registry::inject`;
//! popping is a CAS decrement. Every worker loop below is the shape of
//! `WorkerThread::idle_until_work`. A lost wake-up leaves a worker waiting on
//! its condvar with nobody to wake it, which loom reports as a deadlock.
//!
//! Model 6 checks the spare hand-off of `spare.rs`: a spare that parks while
//! a worker enters `blocking` is either handed the work or was never
//! counted, and the counters return to zero.
//!
//! Model 7 checks a `join` frame (`fork_latch.rs`, the same for both joins): published from
//! `PRIVATE`, it runs exactly once, by its owner or by a thief that never
//! sees it private, and a thief's result is visible to the owner.
//!
//! `CountLatch` needs a `Registry`, which starts real threads, so model 5 is
//! a line-by-line transcription of `CountLatch::set` over the same
//! `CoreLatch` and `Sleep` (keep it in step with `latch.rs`).

use crate::latch::{CoreLatch, Latch, LockLatch};
use crate::sleep::{IdleOutcome, Sleep};
use crate::sync::{Arc, AtomicBool, AtomicUsize, Ordering};
use loom::thread;

/// The stand-in queue: a count of queued jobs.
#[derive(Debug, Default)]
struct Queue {
    jobs: AtomicUsize,
}

impl Queue {
    /// Queue one job and post it, as `WorkerThread::push` does.
    fn push(&self, sleep: &Sleep) {
        self.jobs.fetch_add(1, Ordering::Release);
        sleep.new_work();
    }

    /// Take one job, if any.
    fn try_pop(&self) -> bool {
        let mut current = self.jobs.load(Ordering::Acquire);
        while current > 0 {
            match self.jobs.compare_exchange(
                current,
                current - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
        false
    }
}

/// The idle loop of worker `index` with no latch: search, then
/// `no_work_found`, until it pops a job (`true`), or `stop` says to leave and
/// one last search finds nothing (`false`).
fn idle_until_job(sleep: &Sleep, queue: &Queue, index: usize, stop: impl Fn() -> bool) -> bool {
    let mut idle = sleep.start_looking();
    let found = loop {
        if queue.try_pop() {
            break true;
        }
        if stop() {
            // As the worker does: one more search after seeing the flag.
            break queue.try_pop();
        }
        // `may_sleep` runs under the sleep mutex, as in the worker.
        let outcome = sleep.no_work_found(&mut idle, index, None, || !stop());
        if outcome == IdleOutcome::Declined {
            continue; // the next iteration sees `stop`
        }
    };
    sleep.stop_looking(idle);
    found
}

/// Model 1: one sleepy worker, one outside poster, one job. The worker must
/// find the job whichever step of the protocol the post lands in.
#[test]
fn one_job_is_never_lost_to_a_sleeping_worker() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(1));
        let queue = Arc::new(Queue::default());
        let poster = {
            let (sleep, queue) = (Arc::clone(&sleep), Arc::clone(&queue));
            thread::spawn(move || queue.push(&sleep))
        };
        assert!(idle_until_job(&sleep, &queue, 0, || false));
        poster.join().unwrap();
        assert_eq!(sleep.sleeping_workers(), 0);
    });
}

/// Model 1b: two workers, each leaving after one job; one poster pushes two
/// jobs. Two posts must wake two sleepers (or be seen by their searches).
#[test]
fn two_jobs_reach_two_sleeping_workers() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(2));
        let queue = Arc::new(Queue::default());
        let other = {
            let (sleep, queue) = (Arc::clone(&sleep), Arc::clone(&queue));
            thread::spawn(move || assert!(idle_until_job(&sleep, &queue, 1, || false)))
        };
        let poster = {
            let (sleep, queue) = (Arc::clone(&sleep), Arc::clone(&queue));
            thread::spawn(move || {
                queue.push(&sleep);
                queue.push(&sleep);
            })
        };
        assert!(idle_until_job(&sleep, &queue, 0, || false));
        other.join().unwrap();
        poster.join().unwrap();
    });
}

/// Model 2: a worker waits for a `CoreLatch` (a stolen `join` half) with no
/// other work; the thief sets it the way `FrameLatch::set` does (waking the
/// owner whose index it finds in the latch). The worker
/// must wake, and must see what the thief wrote before setting. The owner
/// is worker 1 of 2, so a latch that lost or garbled the owner's index
/// would wake the wrong worker and leave the owner asleep.
#[test]
fn a_set_latch_wakes_its_sleeping_owner() {
    const OWNER: usize = 1;
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(2));
        let queue = Arc::new(Queue::default());
        let latch = Arc::new(CoreLatch::new());
        let result = Arc::new(AtomicUsize::new(0));
        let thief = {
            let (sleep, latch, result) =
                (Arc::clone(&sleep), Arc::clone(&latch), Arc::clone(&result));
            thread::spawn(move || {
                result.store(42, Ordering::Relaxed); // the job's result
                                                     // SAFETY: `latch` is kept alive by this thread's `Arc`.
                if let Some(owner) = unsafe { CoreLatch::set(&*latch) } {
                    sleep.wake_specific(owner);
                }
            })
        };
        // `WorkerThread::idle_until_work(Some(latch))`, inside `wait_until`.
        let mut idle = sleep.start_looking();
        loop {
            if latch.probe() {
                break;
            }
            assert!(!queue.try_pop(), "no job was ever queued");
            let _ = sleep.no_work_found(&mut idle, OWNER, Some(&latch), || true);
        }
        sleep.stop_looking(idle);
        assert_eq!(
            result.load(Ordering::Relaxed),
            42,
            "the result is visible once the latch is set"
        );
        thief.join().unwrap();
    });
}

/// Model 3: termination. A worker in the main loop (`may_sleep` checks the
/// terminate flag) must run the job queued before shutdown and then exit
/// after `terminate` sets the flag and calls `wake_all`.
#[test]
fn terminate_wakes_and_ends_an_idle_worker() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(1));
        let queue = Arc::new(Queue::default());
        let terminate = Arc::new(AtomicBool::new(false));
        let pool = {
            let (sleep, queue, terminate) = (
                Arc::clone(&sleep),
                Arc::clone(&queue),
                Arc::clone(&terminate),
            );
            thread::spawn(move || {
                queue.push(&sleep);
                // `Registry::terminate`.
                terminate.store(true, Ordering::SeqCst);
                sleep.wake_all();
            })
        };
        // `WorkerThread::main_loop`.
        let mut ran = 0;
        while idle_until_job(&sleep, &queue, 0, || terminate.load(Ordering::SeqCst)) {
            ran += 1;
        }
        assert_eq!(ran, 1, "the job queued before shutdown runs exactly once");
        pool.join().unwrap();
    });
}

/// Model 4: a `LockLatch` between an outside thread waiting in `install` and
/// the worker that ran its job.
#[test]
fn a_lock_latch_releases_its_waiter_with_the_result_visible() {
    loom::model(|| {
        let latch = Arc::new(LockLatch::new());
        let result = Arc::new(AtomicUsize::new(0));
        let worker = {
            let (latch, result) = (Arc::clone(&latch), Arc::clone(&result));
            thread::spawn(move || {
                result.store(7, Ordering::Relaxed);
                // SAFETY: `latch` is kept alive by this thread's `Arc`.
                unsafe { Latch::set(&*latch) };
            })
        };
        latch.wait();
        assert_eq!(result.load(Ordering::Relaxed), 7);
        worker.join().unwrap();
    });
}

/// `CountLatch::set`, transcribed over the same `CoreLatch` and `Sleep`
/// (a real `CountLatch` needs a `Registry`).
fn count_latch_set(counter: &AtomicUsize, core: &CoreLatch, sleep: &Sleep, owner: usize) {
    let remaining = counter.fetch_sub(1, Ordering::AcqRel) - 1;
    // SAFETY: `core` is live: the owner waits for it.
    if remaining == 0 && unsafe { CoreLatch::set(core) }.is_some() {
        sleep.wake_specific(owner);
    }
}

/// Model 5: a scope with two jobs. The owner counts its body down and waits;
/// the jobs count down from other threads. The owner must wake exactly when
/// both are done and see both jobs' writes.
#[test]
fn a_count_latch_wakes_its_owner_after_the_last_job() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(1));
        let counter = Arc::new(AtomicUsize::new(1)); // the body
        let core = Arc::new(CoreLatch::new());
        let writes = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let jobs: Vec<_> = (0..2)
            .map(|j| {
                counter.fetch_add(1, Ordering::Relaxed); // `CountLatch::increment`
                let (sleep, counter, core, writes) = (
                    Arc::clone(&sleep),
                    Arc::clone(&counter),
                    Arc::clone(&core),
                    Arc::clone(&writes),
                );
                thread::spawn(move || {
                    writes[j].store(1, Ordering::Relaxed);
                    count_latch_set(&counter, &core, &sleep, 0);
                })
            })
            .collect();
        // The body returns: count it down, then wait (`scope_in_worker`).
        count_latch_set(&counter, &core, &sleep, 0);
        let mut idle = sleep.start_looking();
        while !core.probe() {
            let _ = sleep.no_work_found(&mut idle, 0, Some(&core), || true);
        }
        sleep.stop_looking(idle);
        assert_eq!(counter.load(Ordering::Relaxed), 0);
        assert_eq!(
            writes[0].load(Ordering::Relaxed) + writes[1].load(Ordering::Relaxed),
            2
        );
        for job in jobs {
            job.join().unwrap();
        }
    });
}

/// Model 6: `Spares` hand-off. A spare thread (slot 1, already running, so
/// not on the free list) parks; meanwhile a worker enters and leaves
/// `blocking`, and the pool then shuts down. The worker's `enter_blocking`
/// either hands off to the parked spare (which must then wake with
/// `HandOff`) or finds nobody parked and no free slot (it must then take its
/// `active` count back). Either way nothing deadlocks and the counters
/// return to zero.
#[test]
fn a_parking_spare_is_handed_work_or_never_counted() {
    use crate::spare::{Spares, Wakeup};

    loom::model(|| {
        // One spare slot whose thread is "running": its deque is not free.
        let spares = Arc::new(Spares::with_slots(1, 1, Vec::new()));
        let spare = {
            let spares = Arc::clone(&spares);
            thread::spawn(move || {
                let first = spares.park(1);
                if first == Wakeup::HandOff {
                    // Active now: it gives its place back once nobody is
                    // blocked, then parks until shutdown.
                    while !spares.try_deactivate() {
                        thread::yield_now();
                    }
                    assert_eq!(spares.park(1), Wakeup::Terminate);
                }
                first
            })
        };
        // The model's "start a thread" always fails: only a hand-off helps.
        spares.enter_blocking(|_, deque| Err(deque));
        let _ = spares.leave_blocking();
        spares.terminate_parked();
        let first = spare.join().unwrap();
        assert!(matches!(first, Wakeup::HandOff | Wakeup::Terminate));
        assert!(
            !spares.surplus(),
            "active spares outnumber blocked workers at the end"
        );
    });
}

/// Model 7: a `join` frame. The owner publishes a private frame
/// (`PRIVATE` → `UNSET`, then the push), runs `a` (nothing here), and closes
/// the frame as both joins do: not private any more, so it pops
/// the queue (taken back: it runs `b` itself) or waits on the latch,
/// sleeping if need be. A thief pops and runs `b`. Exactly one of them runs
/// it; the thief never sees the latch private; a thief's result is visible
/// once the owner sees the latch set.
#[test]
fn a_published_join_frame_runs_once_and_its_result_is_seen() {
    const OWNER: usize = 1;
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(2));
        let queue = Arc::new(Queue::default());
        let latch = Arc::new(CoreLatch::new_private(0));
        let result = Arc::new(AtomicUsize::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        assert!(latch.is_private());
        let thief = {
            let (sleep, queue, latch, result, runs) = (
                Arc::clone(&sleep),
                Arc::clone(&queue),
                Arc::clone(&latch),
                Arc::clone(&result),
                Arc::clone(&runs),
            );
            thread::spawn(move || {
                if queue.try_pop() {
                    assert!(!latch.is_private(), "a thief saw a frame still private");
                    runs.fetch_add(1, Ordering::Relaxed);
                    result.store(42, Ordering::Relaxed);
                    // SAFETY: `latch` is kept alive by this thread's `Arc`.
                    if let Some(owner) = unsafe { CoreLatch::set(&*latch) } {
                        sleep.wake_specific(owner);
                    }
                }
            })
        };
        // `publish_oldest_private`: the state first, then the push.
        latch.publish();
        queue.push(&sleep);
        // Closing the frame: `is_private` is false, so `reclaim_or_wait`.
        assert!(!latch.is_private());
        if queue.try_pop() {
            runs.fetch_add(1, Ordering::Relaxed);
        } else {
            let mut idle = sleep.start_looking();
            while !latch.probe() {
                let _ = sleep.no_work_found(&mut idle, OWNER, Some(&latch), || true);
            }
            sleep.stop_looking(idle);
            assert_eq!(
                result.load(Ordering::Relaxed),
                42,
                "the thief's result is visible"
            );
        }
        thief.join().unwrap();
        assert_eq!(
            runs.load(Ordering::Relaxed),
            1,
            "the frame ran exactly once"
        );
    });
}
