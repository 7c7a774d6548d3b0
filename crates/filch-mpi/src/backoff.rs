//! Waiting politely for a message. OpenMPI's blocking receive spins a core
//! at 100% for as long as it waits; a rank waiting between calls would then
//! steal a core from rank 0's serial code (or from the pool of another rank
//! on the same host). So every wait here polls with a non-blocking probe and
//! backs off: a few spins (replies usually come within microseconds), then
//! yields, then sleeps that grow to [`MAX_SLEEP`].

use std::thread;
use std::time::Duration;

/// Polls that only spin before the first yield: ~1–5 µs of waiting, which
/// covers a reply from a rank that is polling too.
const SPIN_POLLS: u32 = 64;

/// Polls that yield before the first sleep.
const YIELD_POLLS: u32 = 128;

/// The first sleep; sleeps double from here.
const FIRST_SLEEP: Duration = Duration::from_micros(5);

/// The longest sleep between polls: bounds how late a waiting rank notices
/// a message (and so the start-up cost of a call) while costing a
/// sleeping rank only ~10k wake-ups a second.
pub(crate) const MAX_SLEEP: Duration = Duration::from_micros(100);

/// The first sleep of a [`sleepy`](Backoff::sleepy) wait.
const SLEEPY_FIRST_SLEEP: Duration = Duration::from_micros(50);

/// The longest sleep of a [`sleepy`](Backoff::sleepy) wait: each poll is an
/// MPI progress call (over TCP, system calls), and a rank polling every
/// 100 µs while rank 0 runs call after call on its own pool took a quarter
/// of the time of 300 ns × 1000-item calls from rank 0's pool on a shared
/// host.
const SLEEPY_MAX_SLEEP: Duration = Duration::from_micros(500);

/// The state of one wait; `reset` it when something happened.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    polls: u32,
    /// Sleeps from the first poll, longer ones (see [`Backoff::sleepy`]).
    sleepy: bool,
}

impl Backoff {
    /// A fresh wait.
    pub(crate) fn new() -> Backoff {
        Backoff::default()
    }

    /// A wait that expects no answer soon: it sleeps from the first poll,
    /// from 50 µs up to 500 µs, leaving the cores to the ranks that compute.
    pub(crate) fn sleepy() -> Backoff {
        Backoff {
            polls: 0,
            sleepy: true,
        }
    }

    /// Something arrived: the next wait starts by spinning again.
    pub(crate) fn reset(&mut self) {
        self.polls = 0;
        self.sleepy = false;
    }

    /// Waits a little before the next poll, longer the longer nothing came.
    pub(crate) fn snooze(&mut self) {
        let polls = self.polls;
        self.polls = self.polls.saturating_add(1);
        if self.sleepy {
            let sleep = SLEEPY_FIRST_SLEEP * 2u32.pow(polls.min(16));
            thread::sleep(sleep.min(SLEEPY_MAX_SLEEP));
        } else if polls < SPIN_POLLS {
            std::hint::spin_loop();
        } else if polls < SPIN_POLLS + YIELD_POLLS {
            thread::yield_now();
        } else {
            thread::sleep(sleep_after(polls - SPIN_POLLS - YIELD_POLLS));
        }
    }
}

/// The `n`-th sleep of a wait: doubling from [`FIRST_SLEEP`] to [`MAX_SLEEP`].
fn sleep_after(n: u32) -> Duration {
    (FIRST_SLEEP * 2u32.pow(n.min(16))).min(MAX_SLEEP)
}
