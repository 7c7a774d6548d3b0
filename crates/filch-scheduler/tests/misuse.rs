//! Misuse of a `ThreadPool` gets a clear error, a documented panic or a
//! defined behaviour, never a hang or a silent default. Each test here is a
//! row of the table in `docs/reliability.md`; the rows already covered
//! elsewhere (0 threads, empty core list, stack below the minimum, a
//! disallowed core, a panicking panic handler, drop on an own worker) are
//! referenced there, not repeated here.
//!
//! This file installs a process-wide panic hook that silences the panics it
//! provokes (messages starting with `expected:`).

mod common;

use std::error::Error;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::thread;
use std::time::Duration;

use common::{assert_threads_gone, wait_for, watchdog};
use filch_scheduler::{BuildError, ThreadPool, ThreadPoolBuilder};

const LIMIT: Duration = Duration::from_secs(30);

/// Silences the panics these tests provoke; any other panic prints as usual.
fn quiet_expected_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let message = filch_scheduler::panic_message(info.payload());
            if !message.starts_with("expected:") {
                default(info);
            }
        }));
    });
}

/// A builder whose start hook counts the workers that started.
fn counting_builder() -> (ThreadPoolBuilder, Arc<AtomicUsize>) {
    let started = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&started);
    let builder = ThreadPoolBuilder::new().start_handler(move |_| {
        s.fetch_add(1, Ordering::SeqCst);
    });
    (builder, started)
}

/// A 1-thread pool (so a dead worker would hang it) still runs work.
fn assert_runs_work(pool: &ThreadPool) {
    assert_eq!(pool.install(|| 6 * 7), 42);
    let (tx, rx) = mpsc::channel();
    pool.spawn(move || tx.send(7).unwrap());
    assert_eq!(rx.recv_timeout(LIMIT), Ok(7), "a spawned job ran");
}

#[test]
fn a_thread_name_with_a_nul_byte_is_a_build_error_and_starts_no_thread() {
    watchdog("NUL in a thread name", LIMIT, || {
        let (builder, started) = counting_builder();
        let err = builder
            .num_threads(3)
            .thread_name(|i| {
                if i == 2 {
                    "nulname\0x".to_owned()
                } else {
                    format!("nulname-{i}")
                }
            })
            .build()
            .unwrap_err();
        match &err {
            BuildError::Spawn { index, source } => {
                assert_eq!(*index, 2, "names the worker with the bad name");
                assert_eq!(source.kind(), std::io::ErrorKind::InvalidInput);
            }
            other => panic!("expected BuildError::Spawn, got {other:?}"),
        }
        assert!(err.to_string().contains("NUL"), "{err}");
        assert!(err.source().is_some());
        // Workers 0 and 1 had good names: none of them may have started.
        assert_eq!(started.load(Ordering::SeqCst), 0);
        assert_threads_gone("nulname", "a failed build");
    });
}

#[test]
fn a_panicking_thread_name_function_panics_in_build_and_starts_no_thread() {
    watchdog("the name function panics", LIMIT, || {
        quiet_expected_panics();
        let (builder, started) = counting_builder();
        let builder = builder.num_threads(3).thread_name(|i| {
            if i == 2 {
                panic!("expected: no name for worker 2")
            }
            format!("panicname-{i}")
        });
        let payload = panic::catch_unwind(AssertUnwindSafe(|| builder.build())).unwrap_err();
        assert_eq!(
            filch_scheduler::panic_message(&*payload),
            "expected: no name for worker 2"
        );
        assert_eq!(started.load(Ordering::SeqCst), 0);
        assert_threads_gone("panicname", "a failed build");
    });
}

#[test]
fn a_stack_the_os_cannot_provide_is_a_spawn_error_and_no_thread_is_left() {
    watchdog("a stack of 2^60 bytes", LIMIT, || {
        let (builder, started) = counting_builder();
        // Far beyond any address space: the OS refuses the first thread.
        let err = builder
            .num_threads(2)
            .thread_name(|i| format!("hugestack-{i}"))
            .stack_size(1 << 60)
            .build()
            .unwrap_err();
        assert!(matches!(err, BuildError::Spawn { index: 0, .. }), "{err:?}");
        assert!(err.to_string().contains("worker thread 0"), "{err}");
        assert!(err.source().is_some(), "carries the OS error");
        assert_eq!(started.load(Ordering::SeqCst), 0);
        assert_threads_gone("hugestack", "a failed build");
    });
}

#[test]
fn a_panicking_start_handler_is_reported_and_the_worker_still_runs_jobs() {
    watchdog("the start handler panics", LIMIT, || {
        quiet_expected_panics();
        let exited = Arc::new(AtomicUsize::new(0));
        let e = Arc::clone(&exited);
        // One worker: if the hook's panic killed it, nothing could run.
        let pool = ThreadPoolBuilder::new()
            .num_threads(1)
            .start_handler(|_| panic!("expected: the start handler panics"))
            .exit_handler(move |_| {
                e.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        assert_runs_work(&pool);
        drop(pool);
        assert_eq!(
            exited.load(Ordering::SeqCst),
            1,
            "the worker exits normally"
        );
    });
}

#[test]
fn a_panicking_exit_handler_is_reported_and_drop_returns() {
    watchdog("the exit handler panics", LIMIT, || {
        quiet_expected_panics();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let pool = ThreadPoolBuilder::new()
            .num_threads(2)
            .thread_name(|i| format!("panicexit-{i}"))
            .exit_handler(move |_| {
                c.fetch_add(1, Ordering::SeqCst);
                panic!("expected: the exit handler panics")
            })
            .build()
            .unwrap();
        assert_runs_work(&pool);
        drop(pool);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_threads_gone("panicexit", "drop joins the workers");
    });
}

/// A panic payload whose own `Drop` panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("expected: a panic payload's drop panics");
    }
}

#[test]
fn a_spawn_panic_whose_payload_panics_on_drop_does_not_kill_the_worker() {
    watchdog("panic payload panics on drop", LIMIT, || {
        quiet_expected_panics();
        // Default panic handler, then a custom one that drops the payload.
        let default = ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let custom = ThreadPoolBuilder::new()
            .num_threads(1)
            .panic_handler(drop)
            .build()
            .unwrap();
        for pool in [&default, &custom] {
            for _ in 0..3 {
                pool.spawn(|| panic::panic_any(PanicsOnDrop));
            }
            assert_runs_work(pool);
        }
    });
}

#[test]
fn dropping_a_pool_on_its_own_worker_runs_the_queued_work_and_every_worker_exits() {
    // `shutdown.rs` shows drop on an own worker does not deadlock; this adds
    // that the work queued behind the dropping job still runs.
    const QUEUED: usize = 200;
    watchdog("drop on an own worker with work queued", LIMIT, || {
        let exited = Arc::new(AtomicUsize::new(0));
        let e = Arc::clone(&exited);
        let pool = ThreadPoolBuilder::new()
            .num_threads(2)
            .exit_handler(move |_| {
                e.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(Mutex::new(None::<ThreadPool>));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        {
            let mut guard = slot.lock().unwrap();
            let pool = guard.insert(pool);
            let in_job = Arc::clone(&slot);
            pool.spawn(move || {
                release_rx.recv().unwrap();
                let pool = in_job.lock().unwrap().take().expect("handed over");
                drop(pool); // returns at once: a thread cannot join itself
            });
            for _ in 0..QUEUED {
                let ran = Arc::clone(&ran);
                pool.spawn(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                });
            }
        }
        release_tx.send(()).unwrap();
        assert!(
            wait_for(Duration::from_secs(20), || exited.load(Ordering::SeqCst)
                == 2),
            "workers did not exit (exited: {})",
            exited.load(Ordering::SeqCst)
        );
        assert_eq!(ran.load(Ordering::SeqCst), QUEUED, "queued work ran once");
        assert!(slot.lock().unwrap().is_none());
    });
}

#[test]
fn drop_waits_for_a_job_that_has_not_returned_and_runs_what_it_submits_meanwhile() {
    watchdog("drop with a blocked job", LIMIT, || {
        let exited = Arc::new(AtomicUsize::new(0));
        let e = Arc::clone(&exited);
        let pool = ThreadPoolBuilder::new()
            .num_threads(2)
            .exit_handler(move |_| {
                e.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let (entered_tx, entered_rx) = mpsc::channel::<()>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let late = Arc::new(AtomicUsize::new(0));
        let l = Arc::clone(&late);
        pool.spawn(move || {
            entered_tx.send(()).unwrap();
            // Blocks until the test has seen drop still waiting.
            release_rx.recv().unwrap();
            // Submitting to the pool while it shuts down: a detached spawn,
            // a join and a scope, all from this worker. All of it runs.
            let l2 = Arc::clone(&l);
            filch_scheduler::spawn(move || {
                l2.fetch_add(1, Ordering::SeqCst);
            });
            let (a, b) = filch_scheduler::join(|| 1, || 2);
            l.fetch_add(a + b, Ordering::SeqCst);
            filch_scheduler::scope(|s| {
                for _ in 0..10 {
                    s.spawn(|_| {
                        l.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
        });
        entered_rx.recv().unwrap();
        let (dropped_tx, dropped_rx) = mpsc::channel::<()>();
        let dropper = thread::spawn(move || {
            drop(pool);
            dropped_tx.send(()).unwrap();
        });
        assert_eq!(
            dropped_rx.recv_timeout(Duration::from_millis(200)),
            Err(mpsc::RecvTimeoutError::Timeout),
            "drop returned while a job was still running"
        );
        release_tx.send(()).unwrap();
        dropped_rx.recv().unwrap();
        dropper.join().unwrap();
        // Drop returned only after the job and everything it submitted ran.
        assert_eq!(late.load(Ordering::SeqCst), 1 + 3 + 10);
        assert_eq!(exited.load(Ordering::SeqCst), 2);
    });
}

/// The body of a child process, which it aborts: run only by
/// `a_job_that_overflows_its_stack_aborts_the_process_with_a_message`
/// (with `--ignored`), never as a test of its own.
#[test]
#[ignore = "the body of a child process that aborts; run by a_job_that_overflows_its_stack_aborts_the_process_with_a_message"]
fn child_body_stack_overflow_in_a_job() {
    assert_eq!(
        std::env::var_os("FILCH_MISUSE_CHILD").as_deref(),
        Some("stack_overflow".as_ref()),
        "run only as the child of the stack-overflow test"
    );
    fn deep(n: u64) -> u64 {
        let pad = std::hint::black_box([n; 64]);
        if n == 0 {
            return pad[0];
        }
        deep(n - 1).wrapping_add(std::hint::black_box(pad[1]))
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(1)
        .stack_size(filch_scheduler::MIN_STACK_SIZE)
        .thread_name(|i| format!("overflow-{i}"))
        .build()
        .unwrap();
    // About 50 MB of stack: overflows the 64 KiB stack.
    let v = pool.install(|| deep(100_000));
    println!("not reached: {v}");
}

#[test]
fn a_job_that_overflows_its_stack_aborts_the_process_with_a_message() {
    watchdog("stack overflow in a child", LIMIT, || {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_body_stack_overflow_in_a_job",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("FILCH_MISUSE_CHILD", "stack_overflow")
            .output()
            .expect("run the child");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "the child survived: {stderr}");
        {
            use std::os::unix::process::ExitStatusExt;
            // Rust's guard page handler prints and aborts (SIGABRT).
            assert_eq!(
                output.status.signal(),
                Some(6),
                "{:?} {stderr}",
                output.status
            );
        }
        assert!(
            stderr.contains("has overflowed its stack") && stderr.contains("overflow-0"),
            "stderr names the overflow and the worker: {stderr}"
        );
    });
}
