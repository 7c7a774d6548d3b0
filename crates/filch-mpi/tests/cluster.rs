//! The cluster's behaviour across ranks: run under
//! `mpirun -np 3 <this test binary>` (`bash .ci/mpi.sh` does). Every rank
//! runs the same checks in the same order (SPMD); rank 0 asserts on the
//! results and prints `ok <check>`, and a failed assertion on any rank exits
//! that rank non-zero, which makes mpirun stop the whole job. A watchdog
//! fails a check that hangs.

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::process;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{quiet_injected_panics, Watchdog, INJECTED};
use filch_mpi::{Cluster, ClusterError};
use proptest::collection::vec;
use proptest::prelude::any;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Generous for checks that take well under a second on the 2-core machine.
const LIMIT: Duration = Duration::from_secs(60);

/// Work that depends on the item, so chunks take different times.
fn mix(x: u64) -> u64 {
    let mut h = x ^ 0x9e37_79b9_7f4a_7c15;
    for _ in 0..(x % 64) {
        h = h.rotate_left(7).wrapping_mul(0xff51_afd7_ed55_8ccd) ^ x;
    }
    h
}

/// A named behaviour, run on every rank.
type Check = fn(&Cluster);

fn main() {
    quiet_injected_panics();
    let refused = Cluster::builder().threads_per_rank(0).init().unwrap_err();
    assert!(refused.to_string().contains("0 threads"), "{refused}");
    // The checks below are about the distributed protocol, so every call
    // goes out; `small_maps_stay_on_rank_0_big_ones_go_out` checks the
    // default placement.
    let cluster = Cluster::builder()
        .threads_per_rank(1)
        .always_distribute(true)
        .init()
        .expect("MPI initialises");
    let watchdog = Watchdog::start(cluster.rank());
    let checks: &[(&str, Check)] = &[
        ("a_second_init_is_an_error", a_second_init_is_an_error),
        (
            "map_equals_serial_for_random_inputs",
            map_equals_serial_for_random_inputs,
        ),
        (
            "empty_input_gives_empty_output",
            empty_input_gives_empty_output,
        ),
        (
            "starmap_spreads_tuples_into_arguments",
            starmap_spreads_tuples_into_arguments,
        ),
        (
            "map_balances_work_across_ranks",
            map_balances_work_across_ranks,
        ),
        (
            "small_maps_stay_on_rank_0_big_ones_go_out",
            small_maps_stay_on_rank_0_big_ones_go_out,
        ),
        (
            "small_calls_in_a_row_keep_every_rank_in_step",
            small_calls_in_a_row_keep_every_rank_in_step,
        ),
        (
            "a_mismatch_in_a_call_kept_local_is_an_error_on_every_rank",
            a_mismatch_in_a_call_kept_local_is_an_error_on_every_rank,
        ),
        ("imap_yields_input_order", imap_yields_input_order),
        (
            "imap_unordered_yields_every_result_once",
            imap_unordered_yields_every_result_once,
        ),
        (
            "imap_reads_an_infinite_input_lazily",
            imap_reads_an_infinite_input_lazily,
        ),
        (
            "a_call_while_imap_is_open_is_busy",
            a_call_while_imap_is_open_is_busy,
        ),
        (
            "a_panic_on_a_worker_rank_names_it_on_every_rank",
            a_panic_on_a_worker_rank_names_it_on_every_rank,
        ),
        (
            "a_panic_on_rank_0_names_rank_0",
            a_panic_on_rank_0_names_rank_0,
        ),
        (
            "the_cluster_is_usable_after_a_panic",
            the_cluster_is_usable_after_a_panic,
        ),
        (
            "imap_reports_a_panic_once_then_ends",
            imap_reports_a_panic_once_then_ends,
        ),
        (
            "a_panicking_imap_input_reaches_rank_0s_consumer_and_ends_the_call",
            a_panicking_imap_input_reaches_rank_0s_consumer_and_ends_the_call,
        ),
        (
            "mismatched_calls_are_an_error_not_a_hang",
            mismatched_calls_are_an_error_not_a_hang,
        ),
        (
            "a_result_that_will_not_serialize_is_an_error_naming_the_rank",
            a_result_that_will_not_serialize_is_an_error_naming_the_rank,
        ),
    ];
    for (name, check) in checks {
        watchdog.arm(name, LIMIT);
        // A failed check ends this rank at once, without dropping the
        // cluster (MPI_Finalize would wait for the other ranks), so mpirun
        // stops the job instead of waiting for the watchdog.
        if panic::catch_unwind(AssertUnwindSafe(|| check(&cluster))).is_err() {
            eprintln!("FAILED {name} on rank {}", cluster.rank());
            process::exit(1);
        }
        if cluster.is_root() {
            println!("ok {name} ({} ranks)", cluster.size());
        }
    }
    watchdog.arm("a_call_rank_0_never_makes_is_an_error", LIMIT);
    if cluster.is_root() {
        // Rank 0 leaves; the others make one more call, which must fail
        // rather than wait forever for rank 0.
        drop(cluster);
        println!("{} passed, 0 failed", checks.len() + 1);
    } else {
        a_call_rank_0_never_makes_is_an_error(&cluster);
    }
}

/// A rank that makes a call after rank 0 has dropped its cluster gets
/// `RootGone` instead of a hang.
fn a_call_rank_0_never_makes_is_an_error(cluster: &Cluster) {
    let err = cluster.map(0..10u32, |x| x).unwrap_err();
    assert!(
        matches!(err, ClusterError::RootGone { rank } if rank == cluster.rank()),
        "{err}"
    );
    if cluster.rank() == 1 {
        println!("ok a_call_rank_0_never_makes_is_an_error (on rank 1)");
    }
}

/// MPI can be initialised once per process; a second `init` says so.
fn a_second_init_is_an_error(_: &Cluster) {
    let second = Cluster::init().unwrap_err();
    assert!(
        matches!(second, ClusterError::AlreadyInitialized),
        "{second}"
    );
}

/// Property: for any input, the cluster's `map` returns what a serial loop
/// returns, in order. All ranks run the same deterministic runner, so they
/// make the same calls; only rank 0 compares.
fn map_equals_serial_for_random_inputs(cluster: &Cluster) {
    let config = Config {
        cases: 48,
        max_shrink_iters: 0,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&vec(any::<u64>(), 0..3000), |input| {
        let expected: Vec<u64> = input.iter().map(|&x| mix(x)).collect();
        let got = cluster
            .map(input, mix)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Some(got) = got {
            if got != expected {
                return Err(TestCaseError::fail(format!(
                    "cluster map differs from serial: {} results, expected {}",
                    got.len(),
                    expected.len()
                )));
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("rank {}: {failure}", cluster.rank());
    }
}

fn empty_input_gives_empty_output(cluster: &Cluster) {
    let out = cluster.map(Vec::<u32>::new(), |x| x + 1).unwrap();
    assert_eq!(out, cluster.is_root().then(Vec::new));
}

fn starmap_spreads_tuples_into_arguments(cluster: &Cluster) {
    let pairs: Vec<(u32, String)> = (0..500).map(|i| (i, format!("s{i}"))).collect();
    let out = cluster
        .starmap(pairs, |n: u32, s: String| format!("{s}:{n}"))
        .unwrap();
    if let Some(out) = out {
        assert_eq!(out.len(), 500);
        assert_eq!(out[123], "s123:123");
    }
}

/// Items take 200 µs each; every rank must get a share (chunks go to
/// whoever asks), and the results come back in order with their rank.
fn map_balances_work_across_ranks(cluster: &Cluster) {
    let me = cluster.rank();
    let out = cluster
        .map(0..2000u32, move |x| {
            thread::sleep(unhurried(me, Duration::from_micros(200)));
            (x, me)
        })
        .unwrap();
    if let Some(out) = out {
        assert!(out.iter().enumerate().all(|(i, &(x, _))| x as usize == i));
        for rank in 0..cluster.size() {
            let share = out.iter().filter(|&&(_, r)| r == rank).count();
            assert!(share > 0, "rank {rank} mapped nothing");
        }
    }
}

/// By default rank 0 keeps a map too small to pay for messages on its own
/// pool, and sends a big one out; either way every rank ends the call, and
/// a panic on rank 0 in a call kept local still reaches every rank.
fn small_maps_stay_on_rank_0_big_ones_go_out(cluster: &Cluster) {
    cluster.set_always_distribute(false);
    let me = cluster.rank();
    // Whether a call stays local is decided by timing it, and a timing can
    // be thrown by a preemption on a loaded machine: of five small calls,
    // most must stay local, and every one must be right.
    let mut kept_local = 0;
    for _ in 0..5 {
        let small = cluster.map(0..1000u32, move |x| (x, me)).unwrap();
        if let Some(small) = small {
            assert!(
                small.iter().enumerate().all(|(i, &(x, _))| x as usize == i),
                "a small map's results out of order"
            );
            if small.iter().all(|&(_, r)| r == 0) {
                kept_local += 1;
            }
        }
    }
    if cluster.is_root() {
        assert!(
            kept_local >= 3,
            "only {kept_local} of 5 small maps stayed on rank 0"
        );
    }
    let panicked = cluster
        .map(0..10u32, |x| {
            assert!(x != 5, "{INJECTED} on item five");
            x
        })
        .unwrap_err();
    assert!(
        matches!(&panicked, ClusterError::Panicked { rank: 0, message } if message.contains("five")),
        "{panicked}"
    );
    // 2000 items of 200 µs: 0.4 s of work, far above the bar.
    every_rank_maps_part_of(cluster, 2000, Duration::from_micros(200));
    cluster.set_always_distribute(true);
}

/// Calls kept on rank 0 return there without waiting for the other ranks,
/// which are answered when they ask: after 300 of them in a row every rank
/// is still in step, a panic in one still reaches every rank, and the next
/// distributed call has every rank working.
fn small_calls_in_a_row_keep_every_rank_in_step(cluster: &Cluster) {
    cluster.set_always_distribute(false);
    let me = cluster.rank();
    for call in 0..300u32 {
        let out = cluster
            .map(0..50u32, move |x| x + call)
            .unwrap_or_else(|err| panic!("rank {me}: small call {call}: {err}"));
        if let Some(out) = out {
            assert_eq!(out, (call..call + 50).collect::<Vec<_>>());
        }
    }
    let err = cluster
        .map(0..10u32, |x| {
            assert!(x != 7, "{INJECTED} on item seven");
            x
        })
        .unwrap_err();
    assert!(
        matches!(&err, ClusterError::Panicked { rank: 0, message } if message.contains("seven")),
        "rank {me}: {err}"
    );
    cluster.set_always_distribute(true);
    every_rank_maps_part_of(cluster, 400, Duration::from_micros(500));
}

/// How long an item takes on rank `me` in a check that needs every rank to
/// take part: `each`, and `ROOT_SLOWER` times that on rank 0, so that a
/// rank the host deschedules for a while (3 ranks on 2 cores, one of them
/// kept busy) still asks for a chunk before rank 0 has mapped everything.
fn unhurried(me: usize, each: Duration) -> Duration {
    if me == 0 {
        each * ROOT_SLOWER
    } else {
        each
    }
}

/// See [`unhurried`].
const ROOT_SLOWER: u32 = 5;

/// Items on the ranks that must not end a call before a given rank has
/// taken part (a panic or a failure there is what the check looks for):
/// 1 ms, so that 2000 of them keep rank 0 and one other rank busy for half
/// a second at the least, while the call ends as soon as that rank has had
/// its first chunk.
const WAITING_ITEM: Duration = Duration::from_millis(1);

/// Maps `items` items that take `each` across the cluster: the results
/// come back in order and every rank mapped some.
fn every_rank_maps_part_of(cluster: &Cluster, items: u32, each: Duration) {
    let me = cluster.rank();
    let out = cluster
        .map(0..items, move |x| {
            thread::sleep(unhurried(me, each));
            (x, me)
        })
        .unwrap();
    if let Some(out) = out {
        assert!(out.iter().enumerate().all(|(i, &(x, _))| x as usize == i));
        for rank in 1..cluster.size() {
            assert!(
                out.iter().any(|&(_, r)| r == rank),
                "rank {rank} mapped nothing"
            );
        }
    }
}

/// A worker that made a different call than one rank 0 kept local is
/// caught when its request reaches rank 0: in that call if it came in
/// time, else in rank 0's next call (here one that goes out, so it hears
/// from every rank). Either way every rank gets the mismatch from one of
/// the two calls, the worker from the first, and the calls after are in
/// step again.
fn a_mismatch_in_a_call_kept_local_is_an_error_on_every_rank(cluster: &Cluster) {
    if cluster.size() == 1 {
        return;
    }
    cluster.set_always_distribute(false);
    let first = if cluster.is_root() {
        cluster.map(0..10u64, |x| x).map(|_| ())
    } else {
        cluster.map(0..10u64, |x| x.to_string()).map(|_| ())
    };
    cluster.set_always_distribute(true);
    let second = cluster.map(0..10u64, |x| x + 1).map(|_| ());
    let rank = cluster.rank();
    let mismatches: Vec<String> = [&first, &second]
        .into_iter()
        .filter_map(|outcome| match outcome {
            Err(ClusterError::Mismatch { detail, .. }) => Some(detail.clone()),
            _ => None,
        })
        .collect();
    assert!(
        !mismatches.is_empty(),
        "rank {rank}: no mismatch reported: {first:?}, {second:?}"
    );
    assert!(
        mismatches
            .iter()
            .all(|detail| detail.contains("alloc::string::String")),
        "rank {rank}: {mismatches:?}"
    );
    if !cluster.is_root() {
        assert!(
            matches!(first, Err(ClusterError::Mismatch { .. })),
            "rank {rank}: {first:?}"
        );
    }
    let again = cluster
        .map(0..10u64, |x| x * 2)
        .unwrap_or_else(|err| panic!("rank {rank}: the call after a mismatch: {err}"));
    assert_eq!(
        again,
        cluster
            .is_root()
            .then(|| (0..10u64).map(|x| x * 2).collect())
    );
}

/// Ranks finish chunks in a scrambled order (the work depends on the rank
/// and the item); `imap` still yields in input order.
fn imap_yields_input_order(cluster: &Cluster) {
    let me = cluster.rank() as u64;
    let got: Vec<u64> = cluster
        .imap(0..3000u64, move |x| {
            if (x + me) % 7 == 0 {
                thread::sleep(Duration::from_micros(300));
            }
            x * 3
        })
        .collect::<Result<_, _>>()
        .unwrap();
    if cluster.is_root() {
        assert_eq!(got, (0..3000u64).map(|x| x * 3).collect::<Vec<_>>());
    } else {
        assert!(got.is_empty());
    }
}

fn imap_unordered_yields_every_result_once(cluster: &Cluster) {
    let mut got: Vec<u64> = cluster
        .imap_unordered(0..3000u64, |x| {
            if x % 5 == 0 {
                thread::sleep(Duration::from_micros(100));
            }
            x + 1
        })
        .collect::<Result<_, _>>()
        .unwrap();
    got.sort_unstable();
    if cluster.is_root() {
        assert_eq!(got, (1..=3000u64).collect::<Vec<_>>());
    }
}

/// An infinite input is read a bounded distance ahead: while the consumer
/// holds still, the reading stops; dropping the iterator ends the call on
/// every rank, and the next call works.
fn imap_reads_an_infinite_input_lazily(cluster: &Cluster) {
    // The input runs on rank 0's progress thread: it must own what it uses.
    let pulled = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&pulled);
    let input = (0u64..).inspect(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let mut results = cluster.imap(input, |x| x * 2);
    let first: Vec<u64> = if cluster.is_root() {
        let first = results
            .by_ref()
            .take(100)
            .collect::<Result<_, _>>()
            .unwrap();
        // The read-ahead is counted in chunks (two per rank, plus two
        // finished ones queued for the consumer), and a chunk's size follows
        // the measured time per item, so how many items that is depends on
        // the schedule (a few hundred to over 10^5 for tiny items beside a
        // busy core). What does not depend on it: with the consumer
        // holding still, the reading comes to rest. A read-ahead that does
        // not stop keeps counting until the deadline.
        let rest = reading_comes_to_rest(&pulled, Duration::from_secs(20));
        // And the count at rest is within the chunk bound: the window, the
        // queue and the consumer's own chunk, each at most 2^20 items.
        let most = (2 * cluster.size() as u64 + 3) << 20;
        assert!(rest <= most, "read {rest} items ahead, bound {most}");
        first
    } else {
        results.by_ref().collect::<Result<_, _>>().unwrap()
    };
    drop(results);
    if cluster.is_root() {
        assert_eq!(first, (0..100u64).map(|x| x * 2).collect::<Vec<_>>());
    }
    let after = cluster.map(0..10u8, |x| x).unwrap();
    assert_eq!(after, cluster.is_root().then(|| (0..10u8).collect()));
}

/// Waits until `count` has not moved for 200 ms and returns it; panics if
/// it still moves after `deadline`.
fn reading_comes_to_rest(count: &AtomicU64, deadline: Duration) -> u64 {
    let start = Instant::now();
    let mut last = count.load(Ordering::Relaxed);
    let mut still_since = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(20));
        let now = count.load(Ordering::Relaxed);
        if now != last {
            last = now;
            still_since = Instant::now();
        } else if still_since.elapsed() >= Duration::from_millis(200) {
            return now;
        }
        assert!(
            start.elapsed() < deadline,
            "the input was still being read after {deadline:?} with the consumer \
             holding still ({now} items)"
        );
    }
}

/// While an `imap` is open on rank 0, another call there is refused (the
/// other ranks are inside the `imap`).
fn a_call_while_imap_is_open_is_busy(cluster: &Cluster) {
    let mut open = cluster.imap(0..100u32, |x| x);
    if cluster.is_root() {
        assert_eq!(open.next().unwrap().unwrap(), 0);
        let busy = cluster.map(0..3u32, |x| x).unwrap_err();
        assert!(matches!(busy, ClusterError::Busy), "{busy}");
        assert_eq!(open.by_ref().count(), 99);
    } else {
        assert!(open.next().is_none());
    }
}

fn injected_panic_rank(cluster: &Cluster) -> usize {
    (cluster.size() - 1).min(2)
}

/// A panic in `f` on a worker rank ends the call with an error naming that
/// rank and message, on every rank.
fn a_panic_on_a_worker_rank_names_it_on_every_rank(cluster: &Cluster) {
    let me = cluster.rank();
    let bad = injected_panic_rank(cluster);
    let err = cluster
        .map(0..2000u32, move |x| {
            if me == bad {
                panic!("{INJECTED} rank {me} refuses item {x}");
            }
            thread::sleep(WAITING_ITEM);
            x
        })
        .unwrap_err();
    match err {
        ClusterError::Panicked { rank, message } => {
            assert_eq!(rank, bad);
            assert!(
                message.starts_with(&format!("{INJECTED} rank {bad} refuses item")),
                "{message}"
            );
        }
        other => panic!("expected a panic error, got {other}"),
    }
}

fn a_panic_on_rank_0_names_rank_0(cluster: &Cluster) {
    let me = cluster.rank();
    let err = cluster
        .map(0..2000u32, move |x| {
            thread::sleep(Duration::from_micros(100));
            if me == 0 && x > 0 {
                panic!("{INJECTED} on rank 0");
            }
            x
        })
        .unwrap_err();
    assert!(
        matches!(&err, ClusterError::Panicked { rank: 0, message } if message == &format!("{INJECTED} on rank 0")),
        "{err}"
    );
}

fn the_cluster_is_usable_after_a_panic(cluster: &Cluster) {
    let out = cluster.map(0..1000u64, |x| x * x).unwrap();
    if let Some(out) = out {
        assert_eq!(out, (0..1000u64).map(|x| x * x).collect::<Vec<_>>());
    }
}

fn imap_reports_a_panic_once_then_ends(cluster: &Cluster) {
    let me = cluster.rank();
    let bad = injected_panic_rank(cluster);
    let mut results = cluster.imap(0..2000u32, move |x| {
        if me == bad {
            panic!("{INJECTED} imap on rank {me}");
        }
        thread::sleep(WAITING_ITEM);
        x
    });
    let errors: Vec<ClusterError> = results.by_ref().filter_map(Result::err).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        matches!(&errors[0], ClusterError::Panicked { rank, .. } if *rank == bad),
        "{}",
        errors[0]
    );
    assert!(results.next().is_none());
}

/// Rank 0's input is read on its progress thread: a panic there comes out
/// of `next()` on rank 0's own thread, the call ends on every rank (the
/// others see it end without results or error), and the next call works.
fn a_panicking_imap_input_reaches_rank_0s_consumer_and_ends_the_call(cluster: &Cluster) {
    let input = (0..3000u32).inspect(|&x| {
        assert!(x != 1500, "{INJECTED} input item 1500");
    });
    let mut results = cluster.imap(input, |x| {
        thread::sleep(Duration::from_micros(20));
        x
    });
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        results.by_ref().collect::<Result<Vec<u32>, _>>()
    }));
    drop(results);
    if cluster.is_root() {
        let payload = caught.expect_err("the input's panic reaches rank 0's consumer");
        let message = filch_mpi::panic_message(&*payload);
        assert!(message.contains("input item 1500"), "{message}");
    } else {
        let served = caught.expect("the other ranks do not panic");
        assert_eq!(
            served.expect("the call ends without error there"),
            Vec::<u32>::new()
        );
    }
    let after = cluster.map(0..10u8, |x| x).unwrap();
    assert_eq!(after, cluster.is_root().then(|| (0..10u8).collect()));
}

/// Rank 0 maps to `u64`, the others to `String`: every rank gets a
/// mismatch error naming a rank, and the calls after it are in step again.
fn mismatched_calls_are_an_error_not_a_hang(cluster: &Cluster) {
    if cluster.size() == 1 {
        return;
    }
    let err = if cluster.is_root() {
        cluster.map(0..10u64, |x| x).unwrap_err()
    } else {
        cluster.map(0..10u64, |x| x.to_string()).unwrap_err()
    };
    match &err {
        ClusterError::Mismatch { rank, detail } => {
            assert!(*rank >= 1, "{err}");
            assert!(
                detail.contains("map<u64 -> u64>") && detail.contains("alloc::string::String"),
                "{detail}"
            );
        }
        other => panic!("expected a mismatch, got {other}"),
    }
    let again = cluster
        .map(0..10u64, |x| x + 1)
        .unwrap_or_else(|err| panic!("rank {}: the call after a mismatch: {err}", cluster.rank()));
    assert_eq!(again, cluster.is_root().then(|| (1..=10u64).collect()));
}

/// A result whose `Serialize` fails: made on a worker rank, it cannot be
/// sent back. (Rank 0's own results never cross the wire.)
#[derive(Debug, serde::Deserialize)]
struct Unsendable(u32);

impl serde::Serialize for Unsendable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(format!(
            "{INJECTED} {} will not serialize",
            self.0
        )))
    }
}

/// Results that fail to encode on a worker end the call on every rank with
/// a wire error naming that rank, and the next call works.
fn a_result_that_will_not_serialize_is_an_error_naming_the_rank(cluster: &Cluster) {
    let me = cluster.rank();
    let out = cluster.map(0..2000u32, move |x| {
        thread::sleep(match me {
            0 => WAITING_ITEM,
            _ => Duration::from_micros(50),
        });
        Unsendable(x)
    });
    if cluster.size() == 1 {
        assert_eq!(out.unwrap().unwrap().len(), 2000);
    } else {
        match out {
            Err(ClusterError::Wire { rank, detail }) => {
                assert!(rank >= 1, "rank {rank}: {detail}");
                // postcard drops the impl's own message; the type is named.
                assert!(detail.contains("Unsendable"), "{detail}");
            }
            other => panic!("expected a wire error, got {other:?}"),
        }
    }
    let again = cluster.map(0..10u32, |x| x * 2).unwrap();
    assert_eq!(
        again,
        cluster
            .is_root()
            .then(|| (0..10u32).map(|x| x * 2).collect())
    );
}
