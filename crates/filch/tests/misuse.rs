//! Misuse of a `filch::Pool` gets a clear error, a documented panic or a
//! defined behaviour, never a hang or a silent default. Each test is a row
//! of the table in `docs/reliability.md`; rows covered elsewhere (chunk size
//! 0 and 0 threads in `invalid_configuration_is_an_error.rs`, the scheduler's
//! rows in `crates/filch-scheduler/tests/`) are referenced there.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{assert_pool_works, quiet_injected_panics, wait_until, watchdog, INJECTED, SETTLE};
use filch::{BuildError, Pinning, Pool};

#[test]
fn a_core_that_is_not_there_is_a_build_error_naming_it_and_the_allowed_cores() {
    let err = Pool::builder()
        .threads(2)
        .pinning(Pinning::Cores(vec![0, 1_000_000]))
        .build()
        .unwrap_err();
    match &err {
        BuildError::CoreNotAllowed { core, allowed } => {
            assert_eq!(*core, 1_000_000);
            assert!(!allowed.is_empty());
        }
        other => panic!("expected CoreNotAllowed, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("core 1000000"), "{message}");
    assert!(message.contains("allowed cores"), "{message}");
}

#[test]
fn a_stack_too_small_to_start_is_a_build_error_naming_both_sizes() {
    let min = filch::scheduler::MIN_STACK_SIZE;
    let err = Pool::builder().stack_size(4096).build().unwrap_err();
    assert!(
        matches!(err, BuildError::StackTooSmall { requested: 4096, minimum } if minimum == min),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("4096 bytes"), "{message}");
    assert!(message.contains(&format!("{min} bytes")), "{message}");
    // The minimum itself runs real work, `map` included.
    let pool = Pool::builder().threads(2).stack_size(min).build().unwrap();
    assert_pool_works(&pool);
}

#[test]
fn an_async_result_outlives_its_pool_and_get_returns_the_value() {
    watchdog("apply_async handle after drop", || {
        let pool = Pool::builder().threads(1).build().unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let blocker = pool.apply_async(move || release_rx.recv().unwrap());
        let queued = pool.apply_async(|| 6 * 7);
        let dropper = std::thread::spawn(move || drop(pool));
        std::thread::sleep(Duration::from_millis(50));
        release_tx.send(()).unwrap();
        dropper.join().unwrap(); // drop runs every queued job first
        assert!(queued.ready(), "drop returned with a queued job unrun");
        assert_eq!(queued.get(), 42);
        blocker.get();
    });
}

#[test]
fn the_last_arc_of_a_pool_dropped_inside_its_own_job_runs_all_work_and_the_workers_exit() {
    const JOBS: usize = 100;
    watchdog("last Arc<Pool> dropped on a worker", || {
        let exited = Arc::new(AtomicUsize::new(0));
        let e = Arc::clone(&exited);
        let pool = Arc::new(
            Pool::builder()
                .threads(2)
                .exit_handler(move |_| {
                    e.fetch_add(1, Ordering::SeqCst);
                })
                .build()
                .unwrap(),
        );
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..JOBS {
            let (pool_ref, ran) = (Arc::clone(&pool), Arc::clone(&ran));
            pool.spawn(move || {
                // Each job holds a clone; whichever drops last drops the
                // pool on its own worker, which cannot join itself.
                let v = pool_ref.map(0..10u64, |x| x + 1);
                assert_eq!(v.iter().sum::<u64>(), 55);
                ran.fetch_add(1, Ordering::SeqCst);
                drop(pool_ref);
            });
        }
        drop(pool); // now only the jobs hold it
        wait_until(SETTLE, || exited.load(Ordering::SeqCst) >= 2);
        assert_eq!(exited.load(Ordering::SeqCst), 2, "both workers exited");
        assert_eq!(ran.load(Ordering::SeqCst), JOBS);
    });
}

#[test]
fn a_panicking_panic_handler_leaves_the_pool_working() {
    watchdog("PoolBuilder::panic_handler panics", || {
        quiet_injected_panics();
        let handled = Arc::new(AtomicUsize::new(0));
        let h = Arc::clone(&handled);
        let pool = Pool::builder()
            .threads(1)
            .panic_handler(move |_| {
                h.fetch_add(1, Ordering::SeqCst);
                panic!("{INJECTED}: the panic handler panics")
            })
            .build()
            .unwrap();
        for i in 0..3 {
            pool.spawn(move || panic!("{INJECTED}: spawned job {i}"));
        }
        // The spawns are detached: wait for the single worker to get to them.
        wait_until(SETTLE, || handled.load(Ordering::SeqCst) >= 3);
        assert_eq!(handled.load(Ordering::SeqCst), 3);
        // The one worker survived all three: `install` needs it.
        assert_eq!(pool.install(filch::current_thread_index), Some(0));
        assert_pool_works(&pool);
    });
}
