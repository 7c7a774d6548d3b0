//! Bad builder options are refused with a `BuildError` whose message names
//! the bad value and what would be accepted; no worker starts on error.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use filch_scheduler::{BuildError, Pinning, ThreadPoolBuilder, MIN_STACK_SIZE};

/// A builder whose start hook counts the workers that started.
fn counting_builder() -> (ThreadPoolBuilder, Arc<AtomicUsize>) {
    let started = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&started);
    let builder = ThreadPoolBuilder::new().start_handler(move |_| {
        s.fetch_add(1, Ordering::SeqCst);
    });
    (builder, started)
}

#[test]
fn zero_threads_is_refused() {
    let (builder, started) = counting_builder();
    let err = builder.num_threads(0).build().unwrap_err();
    assert!(matches!(err, BuildError::ZeroThreads), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("0 threads"), "{message}");
    assert!(message.contains("at least 1"), "{message}");
    assert!(err.source().is_none());
    assert_eq!(started.load(Ordering::SeqCst), 0);
}

#[test]
fn an_empty_core_list_is_refused() {
    let (builder, started) = counting_builder();
    let err = builder
        .num_threads(2)
        .pinning(Pinning::Cores(vec![]))
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::EmptyCoreList), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("empty"), "{message}");
    assert!(
        message.contains("PerCore"),
        "the message says what else works: {message}"
    );
    assert_eq!(started.load(Ordering::SeqCst), 0);
}

#[test]
fn a_stack_below_the_minimum_is_refused() {
    for requested in [0, 1000, MIN_STACK_SIZE - 1] {
        let (builder, started) = counting_builder();
        let err = builder
            .num_threads(1)
            .stack_size(requested)
            .build()
            .unwrap_err();
        match err {
            BuildError::StackTooSmall {
                requested: r,
                minimum,
            } => {
                assert_eq!(r, requested);
                assert_eq!(minimum, MIN_STACK_SIZE);
            }
            ref other => panic!("expected StackTooSmall, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains(&format!("{requested} bytes")),
            "names the bad size: {message}"
        );
        assert!(
            message.contains(&format!("{MIN_STACK_SIZE} bytes")),
            "names the minimum: {message}"
        );
        assert_eq!(started.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn the_minimum_stack_size_is_enough_to_run_work() {
    let pool = ThreadPoolBuilder::new()
        .num_threads(2)
        .stack_size(MIN_STACK_SIZE)
        .build()
        .unwrap();
    let (a, b) = pool.join(|| filch_scheduler::join(|| 1, || 2), || 3);
    assert_eq!((a, b), ((1, 2), 3));
    let mut v = [0; 16];
    pool.scope(|s| {
        for (i, x) in v.iter_mut().enumerate() {
            s.spawn(move |_| *x = i);
        }
    });
    assert_eq!(v, std::array::from_fn(|i| i));
}

#[test]
fn the_first_bad_option_is_reported_and_good_options_build() {
    // Zero threads is checked before the stack size.
    let err = ThreadPoolBuilder::new()
        .num_threads(0)
        .stack_size(1)
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::ZeroThreads), "{err:?}");
    // Large counts and stacks are fine.
    let pool = ThreadPoolBuilder::new()
        .num_threads(3)
        .stack_size(8 << 20)
        .build()
        .unwrap();
    assert_eq!(pool.num_threads(), 3);
    assert_eq!(pool.install(|| 2 + 2), 4);
}
