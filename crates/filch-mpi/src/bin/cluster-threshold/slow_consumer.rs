//! `--imap`: a cluster `imap` whose consumer spends time on every result
//! (writing it to disk, say), against the time the call can take at best.
//!
//! N items of w of work each, R ranks, a consumer that spends c per result
//! (a sleep, as I/O would): the consumer alone needs N·c, the ranks alone
//! N·w/R, so the call cannot beat max(N·c, N·w/R). The bound printed is
//! 1.15 × that plus one chunk (about 5 ms of one rank's work), for c = w and
//! c = w/R. A sleep lasts longer than asked (on the 2-core VM, 80 sleeps of
//! 2 ms take 170 ms), so the consumer's own time as it ran, N·c', is
//! measured too. And R ranks of T threads may be more than the machine has
//! cores for (3 ranks on the 2-core VM): what the machine can do with the
//! work is measured as well, after the calls, by the same N items spun by
//! R·T plain `std::thread`s on rank 0, with no filch and no MPI, while the
//! other ranks sleep (polling, they took a fifth more of its time). The
//! call is then compared with 1.15 × max(N·c', that time) plus one chunk:
//! the most this machine could do.

use std::hint::black_box;
use std::process;
use std::thread;
use std::time::{Duration, Instant};

use filch_mpi::Cluster;

use crate::{allowed_cpus, human, median, work};

/// Items per call.
const ITEMS: u64 = 80;

/// Work per item, ns.
const WORK_NS: u64 = 2_000_000;

/// About one chunk of one rank's work, ns (the chunk sizer aims at 5 ms).
const CHUNK_NS: u64 = 5_000_000;

/// Runs the experiment for c = w and c = w/R and prints a table on rank 0.
pub(crate) fn run(cluster: &Cluster, steps_per_ns: f64, rounds: usize) {
    let ranks = cluster.size() as u64;
    let streams = cluster.size() * cluster.threads_per_rank();
    let iters = (WORK_NS as f64 * steps_per_ns).round() as u64;
    let mut rows = Vec::new();
    for (label, consumer_ns) in [("c = w", WORK_NS), ("c = w/R", WORK_NS / ranks)] {
        let mut samples = Vec::with_capacity(rounds);
        let mut consumer = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let mut consumed = Duration::ZERO;
            let items: Vec<(u64, u64)> = if cluster.is_root() {
                (0..ITEMS).map(|x| (x, iters)).collect()
            } else {
                Vec::new()
            };
            let start = Instant::now();
            for result in cluster.imap(items, |(x, n)| work(x, n)) {
                match result {
                    Ok(value) => {
                        black_box(value);
                        let asleep = Instant::now();
                        thread::sleep(Duration::from_nanos(consumer_ns));
                        consumed += asleep.elapsed();
                    }
                    Err(err) => {
                        eprintln!("cluster-threshold: rank {}: {err}", cluster.rank());
                        process::exit(1);
                    }
                }
            }
            samples.push(start.elapsed());
            consumer.push(consumed);
        }
        rows.push((label, consumer_ns, median(samples), median(consumer)));
    }
    let cores = allowed_cpus().map_or(1, |(_, count)| count);
    if !cluster.is_root() {
        // Out of the way while rank 0 measures the floor: about as long as
        // it takes, plus a quarter.
        let floor = Duration::from_nanos(ITEMS * WORK_NS / streams.min(cores) as u64);
        thread::sleep(floor * rounds as u32 * 5 / 4);
        return;
    }
    let plain = median((0..rounds).map(|_| plain_threads(streams, iters)).collect());
    println!(
        "cluster imap, slow consumer: {ITEMS} items of {} each, {ranks} ranks × {} threads, median of {rounds} rounds",
        human(Duration::from_nanos(WORK_NS)),
        cluster.threads_per_rank()
    );
    println!(
        "the same items spun by {streams} plain threads on rank 0, no filch, the other ranks asleep: {} ({cores} cores)",
        human(plain)
    );
    println!("| consumer per result c | time | bound 1.15·max(N·c, N·w/R) + one chunk | time ÷ bound | consumer's own time N·c' | bound 1.15·max(N·c', plain threads) + one chunk | time ÷ that bound |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let bound = |consumer: Duration, work: Duration| {
        consumer.max(work) * 115 / 100 + Duration::from_nanos(CHUNK_NS)
    };
    for (label, consumer_ns, time, consumed) in rows {
        let nominal = bound(
            Duration::from_nanos(ITEMS * consumer_ns),
            Duration::from_nanos(ITEMS * WORK_NS / ranks),
        );
        let real = bound(consumed, plain);
        println!(
            "| {label} = {} | {} | {} | {:.2} | {} | {} | {:.2} |",
            human(Duration::from_nanos(consumer_ns)),
            human(time),
            human(nominal),
            time.as_secs_f64() / nominal.as_secs_f64(),
            human(consumed),
            human(real),
            time.as_secs_f64() / real.as_secs_f64()
        );
    }
}

/// The wall time of the experiment's items spun by `streams` plain threads,
/// item `i` on thread `i % streams`: what this machine does with the work
/// when nothing but the work runs.
fn plain_threads(streams: usize, iters: u64) -> Duration {
    let start = Instant::now();
    thread::scope(|scope| {
        for first in 0..streams as u64 {
            scope.spawn(move || {
                for x in (first..ITEMS).step_by(streams) {
                    black_box(work(x, iters));
                }
            });
        }
    });
    start.elapsed()
}
