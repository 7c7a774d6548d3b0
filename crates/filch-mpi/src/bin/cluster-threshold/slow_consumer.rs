//! `--imap`: a cluster `imap` whose consumer spends time on every result
//! (writing it to disk, say), against the time the call can take at best.
//!
//! N items of w of work each, R ranks, a consumer that spends c per result
//! (a sleep, as I/O would): the consumer alone needs N·c, the ranks alone
//! N·w/R, so the call cannot beat max(N·c, N·w/R). The bound printed is
//! 1.15 × that plus one chunk (about 5 ms of one rank's work), for c = w and
//! c = w/R. A sleep lasts longer than asked (on the 2-core VM, 80 sleeps of
//! 2 ms take 170 ms), so the consumer's own time as it ran, N·c', is
//! measured too, and the call is also compared with 1.15 × max(N·c', N·w/P)
//! plus one chunk, where P is the ranks or the machine's cores if fewer: the
//! most this machine could do.

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
    let cores = allowed_cpus().map_or(1, |(_, count)| count as u64);
    let iters = (WORK_NS as f64 * steps_per_ns).round() as u64;
    if cluster.is_root() {
        println!(
            "cluster imap, slow consumer: {ITEMS} items of {} each, {ranks} ranks × {} threads, median of {rounds} rounds",
            human(Duration::from_nanos(WORK_NS)),
            cluster.threads_per_rank()
        );
        println!("| consumer per result c | time | bound 1.15·max(N·c, N·w/R) + one chunk | time ÷ bound | consumer's own time N·c' | bound 1.15·max(N·c', N·w/P) + one chunk, P = min(R, {cores} cores) | time ÷ that bound |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
    }
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
        if cluster.is_root() {
            let time = median(samples);
            let consumed = median(consumer);
            let bound = |consumer: Duration, parallel: u64| {
                let floor = consumer.max(Duration::from_nanos(ITEMS * WORK_NS / parallel));
                floor * 115 / 100 + Duration::from_nanos(CHUNK_NS)
            };
            let nominal = bound(Duration::from_nanos(ITEMS * consumer_ns), ranks);
            let real = bound(consumed, ranks.min(cores));
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
}
