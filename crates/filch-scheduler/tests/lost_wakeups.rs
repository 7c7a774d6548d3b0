//! No wake-up is lost: whenever every worker has gone to sleep (or is on its
//! way there, at any point of the spin/yield/announce/sleep protocol), one
//! job submitted from outside is picked up promptly.

mod common;

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::{thread_state, wait_for, watchdog, workers_named};
use filch_scheduler::{ThreadPool, ThreadPoolBuilder};

/// How long one round may take before it counts as a lost wake-up. A woken
/// worker takes microseconds; this only has to outlast a loaded machine.
const ROUND_LIMIT: Duration = Duration::from_secs(5);

fn all_asleep(tids: &[u32]) -> bool {
    tids.iter().all(|&t| thread_state(t) == Some('S'))
}

/// Rounds of "let the workers go idle, then submit one job from outside".
/// Even rounds wait until the kernel shows every worker blocked; odd rounds
/// submit after a varying delay, to land in the middle of the protocol.
fn stress(pool: &ThreadPool, prefix: &str, rounds: u32) {
    let tids = workers_named(prefix, pool.num_threads());
    for round in 0..rounds {
        if round % 2 == 0 {
            // Three readings in a row, to avoid a momentary state.
            let settled = wait_for(Duration::from_secs(5), || {
                all_asleep(&tids) && all_asleep(&tids) && all_asleep(&tids)
            });
            assert!(settled, "round {round}: workers never all went to sleep");
        } else {
            let delay = Duration::from_micros(u64::from(round % 7) * 40);
            let start = Instant::now();
            while start.elapsed() < delay {
                std::hint::spin_loop();
            }
        }
        if round % 4 < 2 {
            let (tx, rx) = mpsc::channel();
            pool.spawn(move || tx.send(round).unwrap());
            match rx.recv_timeout(ROUND_LIMIT) {
                Ok(r) => assert_eq!(r, round),
                Err(_) => {
                    panic!("round {round}: a job spawned on an idle pool never ran (lost wake-up)")
                }
            }
        } else {
            // `install` blocks the caller on a latch the worker sets.
            let (tx, rx) = mpsc::channel();
            std::thread::scope(|s| {
                s.spawn(|| tx.send(pool.install(|| round)).unwrap());
                match rx.recv_timeout(ROUND_LIMIT) {
                    Ok(r) => assert_eq!(r, round),
                    Err(_) => {
                        panic!(
                            "round {round}: install on an idle pool never returned (lost wake-up)"
                        )
                    }
                }
            });
        }
    }
}

#[test]
fn one_outside_job_always_wakes_a_sleeping_two_thread_pool() {
    watchdog(
        "lost wake-up stress, 2 workers",
        Duration::from_secs(60),
        || {
            let pool = ThreadPoolBuilder::new()
                .num_threads(2)
                .thread_name(|i| format!("lw2-{i}"))
                .build()
                .unwrap();
            stress(&pool, "lw2-", 1500);
        },
    );
}

#[test]
fn one_outside_job_always_wakes_a_sleeping_oversubscribed_pool() {
    watchdog(
        "lost wake-up stress, 5 workers",
        Duration::from_secs(60),
        || {
            let pool = ThreadPoolBuilder::new()
                .num_threads(5)
                .thread_name(|i| format!("lw5-{i}"))
                .build()
                .unwrap();
            stress(&pool, "lw5-", 1500);
        },
    );
}

#[test]
fn a_worker_waiting_on_a_stolen_join_half_is_woken_when_it_finishes() {
    // The caller's worker runs out of work and sleeps on the join latch while
    // a thief runs the second half; the thief's `set` must wake it.
    let pool = Arc::new(ThreadPoolBuilder::new().num_threads(2).build().unwrap());
    for round in 0..200u64 {
        let pool = Arc::clone(&pool);
        let (a, b) = watchdog(
            "a join whose second half was stolen",
            ROUND_LIMIT,
            move || {
                pool.join(
                    || round,
                    || {
                        std::thread::sleep(Duration::from_micros(round % 5 * 200));
                        round * 2
                    },
                )
            },
        );
        assert_eq!((a, b), (round, round * 2), "round {round}");
    }
}
