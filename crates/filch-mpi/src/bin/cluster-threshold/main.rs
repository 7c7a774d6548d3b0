//! What going distributed costs on one machine: the same `map` of N items
//! of w ns each, timed as a serial loop, on a local filch pool of 2 threads,
//! and on a cluster of ranks, for w from 100 ns to 1 ms; prints
//! each one's speed-up over the loop and the work per item at which each
//! breaks even. Every rank's pool has as many threads as the local pool
//! (`--threads-per-rank` changes it), so a call the cluster keeps on rank 0
//! runs on the same pool the local column measures. Run it under MPI with two ranks:
//!
//! ```text
//! cargo build --release -p filch-mpi --features mpi --bin cluster-threshold
//! mpirun -np 2 --bind-to none target/release/cluster-threshold \
//!     [--smoke] [--items N] [--rounds R] [--work NS,NS,...] [--threads-per-rank T] [--imap]
//! ```
//!
//! `--bind-to none` matters: with two ranks OpenMPI binds each to one core,
//! which leaves rank 0's 2-thread local pool one core for both threads. The
//! bench prints the cores rank 0 may use and warns when it is fewer than 2.
//!
//! Rounds are interleaved (every system at every size, then again) and each
//! cell is the median of the rounds (three times as many for calls shorter
//! than a sample, whose rounds cost no more), so a burst of noise from
//! elsewhere on the machine lands in one round rather than in one system;
//! the last column, the cluster's time over the local pool's, is the median
//! of the rounds' own ratios, the two timed back to back. A sample of a call
//! shorter than 10 ms is that many calls back to back, averaged. The other
//! ranks only serve; rank 0 times and prints.

use std::hint::black_box;
use std::process;
use std::time::{Duration, Instant};

use filch::Pool;
use filch_mpi::Cluster;

mod slow_consumer;

/// How many times `--rounds` a cell whose call is shorter than a sample
/// ([`MIN_SAMPLE_NS`]) gets: a sample takes no longer for it, and the fixed
/// costs of calls that short make its ratios the noisiest of the sweep.
const SHORT_CALL_ROUNDS: usize = 3;

/// Threads of the local pool, and by default of every rank's pool.
const LOCAL_THREADS: usize = 2;

/// The least work one sample holds, in ns: a call shorter than this is
/// repeated within the sample (every rank computes the same count from the
/// sweep), so a single late wake-up does not decide a cell.
const MIN_SAMPLE_NS: u64 = 10_000_000;

/// Work per item for the full sweep, in ns.
const FULL_SWEEP_NS: [u64; 9] = [
    100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000,
];

/// The smoke run's sizes: one below and one above the expected break-even.
const SMOKE_SWEEP_NS: [u64; 2] = [1_000, 100_000];

/// What the command line asked for.
#[derive(Debug)]
struct Options {
    items: u64,
    rounds: usize,
    sweep: Vec<u64>,
    threads_per_rank: usize,
    /// Run the slow-consumer `imap` experiment instead of the sweep.
    imap: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        items: 1_000,
        rounds: 11,
        sweep: FULL_SWEEP_NS.to_vec(),
        threads_per_rank: LOCAL_THREADS,
        imap: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let value = args.next().ok_or(format!("{name} needs a number"))?;
            match value.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "{name} needs a positive whole number, not `{value}`"
                )),
            }
        };
        match arg.as_str() {
            "--imap" => options.imap = true,
            "--smoke" => {
                options.items = 200;
                options.rounds = 3;
                options.sweep = SMOKE_SWEEP_NS.to_vec();
            }
            "--items" => options.items = number("--items")?,
            "--work" => {
                let list = args.next().ok_or("--work needs a list of ns, like 1000,30000")?;
                options.sweep = list
                    .split(',')
                    .map(|ns| match ns.trim().parse::<u64>() {
                        Ok(ns) if ns > 0 => Ok(ns),
                        _ => Err(format!("--work needs positive whole numbers of ns, not `{ns}`")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--rounds" => options.rounds = number("--rounds")? as usize,
            "--threads-per-rank" => {
                options.threads_per_rank = number("--threads-per-rank")? as usize;
            }
            "--help" | "-h" => {
                return Err(
                    "usage: mpirun -np 2 --bind-to none cluster-threshold [--smoke] [--items N] [--rounds R] [--work NS,NS,...] [--threads-per-rank T] [--imap]"
                        .into(),
                )
            }
            other => return Err(format!("unknown option `{other}` (try --help)")),
        }
    }
    Ok(options)
}

/// About `iters` steps of integer hashing: the work of one item. Every rank
/// gets the step count with the item, so all ranks do the same work even if
/// they calibrated differently.
pub(crate) fn work(x: u64, iters: u64) -> u64 {
    let mut h = x;
    for _ in 0..iters {
        h = black_box(
            h.wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407),
        );
    }
    h
}

/// Steps of [`work`] per nanosecond on this machine (rank 0's calibration):
/// the fastest of several short trials, since on a shared machine a trial
/// can only be slowed down (preempted), never sped up.
fn calibrate() -> f64 {
    let steps = 2_000_000;
    (0..9)
        .map(|_| {
            let start = Instant::now();
            black_box(work(1, steps));
            steps as f64 / start.elapsed().as_nanos().max(1) as f64
        })
        .fold(0.0, f64::max)
}

/// The CPUs this process may run on, as Linux lists them
/// (`Cpus_allowed_list` in `/proc/self/status`), and how many they are.
pub(crate) fn allowed_cpus() -> Option<(String, usize)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let list = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))?
        .trim()
        .to_owned();
    let count = list
        .split(',')
        .map(|range| match range.split_once('-') {
            Some((lo, hi)) => {
                hi.parse::<usize>().unwrap_or(0) + 1 - lo.parse::<usize>().unwrap_or(0)
            }
            None => 1,
        })
        .sum();
    Some((list, count))
}

/// Lets the workers of the system timed before go idle and park before the
/// next is timed. Without it the next pool's helpers were often woken onto
/// the core still busy with the last pool's spinning workers, and Linux
/// kept the two on one core for the whole call (seen as calls of 3 µs
/// items at serial speed, both workers on one CPU): a cost of running two
/// pools back to back, not of either system.
fn settle() {
    std::thread::sleep(Duration::from_millis(1));
}

/// The wall time of one of `reps` calls of `call` made back to back.
fn per_call(reps: u64, mut call: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..reps {
        call();
    }
    start.elapsed() / reps as u32
}

/// The median over rounds of `a`'s time ÷ `b`'s in the same round: the two
/// ran back to back in every round, so a slow spell of the host, which
/// slows both, cancels out.
fn paired_ratio(a: &[Duration], b: &[Duration]) -> f64 {
    let mut ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(f64::MIN_POSITIVE))
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(crate) fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

pub(crate) fn human(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    match ns {
        n if n < 1e3 => format!("{n:.0} ns"),
        n if n < 1e6 => format!("{:.1} µs", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

fn human_ns(ns: f64) -> String {
    human(Duration::from_nanos(ns.round() as u64))
}

/// The work per item at which a speed-up curve crosses 1, interpolated on
/// a log scale between the two sizes around the crossing.
fn break_even(sweep: &[u64], speedups: &[f64]) -> String {
    if speedups.first().is_some_and(|&s| s >= 1.0) {
        return format!("at or below {}", human_ns(sweep[0] as f64));
    }
    for i in 1..sweep.len() {
        let (s0, s1) = (speedups[i - 1], speedups[i]);
        if s0 < 1.0 && s1 >= 1.0 {
            let (l0, l1) = ((sweep[i - 1] as f64).ln(), (sweep[i] as f64).ln());
            let t = (0.0 - s0.ln()) / (s1.ln() - s0.ln());
            return format!("≈ {}", human_ns((l0 + t * (l1 - l0)).exp()));
        }
    }
    format!(
        "above {} (never reached)",
        human_ns(*sweep.last().unwrap_or(&0) as f64)
    )
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            process::exit(2);
        }
    };
    let cluster = match Cluster::builder()
        .threads_per_rank(options.threads_per_rank)
        .init()
    {
        Ok(cluster) => cluster,
        Err(err) => {
            eprintln!("cluster-threshold: {err}");
            process::exit(1);
        }
    };
    if cluster.size() < 2 && cluster.is_root() {
        eprintln!("cluster-threshold: one rank has no one to share with; run it with mpirun -np 2 or more");
    }
    let steps_per_ns = if cluster.is_root() { calibrate() } else { 0.0 };
    if options.imap {
        slow_consumer::run(&cluster, steps_per_ns, options.rounds);
        return;
    }
    let local = Pool::builder()
        .threads(LOCAL_THREADS)
        .build()
        .expect("a 2-thread pool");
    let sizes = options.sweep.len();
    let mut serial = vec![Vec::new(); sizes];
    let mut pooled = vec![Vec::new(); sizes];
    let mut clustered = vec![Vec::new(); sizes];
    let mut distributed = vec![Vec::new(); sizes];
    // Every rank skips the same cells, so every rank makes the same calls.
    let rounds_of = |ns: u64| {
        if options.items * ns < MIN_SAMPLE_NS {
            options.rounds * SHORT_CALL_ROUNDS
        } else {
            options.rounds
        }
    };
    for round in 0..options.rounds * SHORT_CALL_ROUNDS {
        for (i, &ns) in options.sweep.iter().enumerate() {
            if round >= rounds_of(ns) {
                continue;
            }
            let iters = (ns as f64 * steps_per_ns).round() as u64;
            let reps = MIN_SAMPLE_NS.div_ceil(options.items * ns).max(1);
            let items: Vec<(u64, u64)> = if cluster.is_root() {
                (0..options.items).map(|x| (x, iters)).collect()
            } else {
                Vec::new()
            };
            if cluster.is_root() {
                settle();
                serial[i].push(per_call(reps, || {
                    let out: Vec<u64> = items.iter().map(|&(x, n)| work(x, n)).collect();
                    black_box(out);
                }));
                settle();
                pooled[i].push(per_call(reps, || {
                    black_box(local.map(items.clone(), |(x, n)| work(x, n)));
                }));
            }
            // The cluster as it comes (small calls kept on rank 0), then
            // with every call sent out: what distributing itself costs.
            for (always, times) in [(false, &mut clustered), (true, &mut distributed)] {
                cluster.set_always_distribute(always);
                if cluster.is_root() {
                    settle();
                }
                times[i].push(per_call(reps, || {
                    match cluster.starmap(items.clone(), work) {
                        Ok(out) => {
                            black_box(out);
                        }
                        Err(err) => {
                            eprintln!("cluster-threshold: rank {}: {err}", cluster.rank());
                            process::exit(1);
                        }
                    }
                }));
            }
        }
    }
    if !cluster.is_root() {
        return;
    }
    println!(
        "cluster-threshold: {} items per call, median of {} interleaved rounds ({} for calls under {}); speed-up over a serial loop",
        options.items,
        options.rounds,
        options.rounds * SHORT_CALL_ROUNDS,
        human(Duration::from_nanos(MIN_SAMPLE_NS))
    );
    match allowed_cpus() {
        Some((list, count)) if count < 2 => println!(
            "WARNING: rank 0 may only use CPU {list}, so the local pool's 2 threads share one core; run mpirun with --bind-to none"
        ),
        Some((list, _)) => println!("rank 0 may use CPUs {list}"),
        None => {}
    }
    println!(
        "| work per item | serial | local pool, {LOCAL_THREADS} threads | cluster, {} ranks × {} threads | cluster, every call distributed | cluster ÷ local pool, time (median of rounds) |",
        cluster.size(),
        cluster.threads_per_rank()
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut local_speedups = Vec::new();
    let mut cluster_speedups = Vec::new();
    let mut distributed_speedups = Vec::new();
    let mut worst: Option<(u64, f64)> = None;
    for (i, &ns) in options.sweep.iter().enumerate() {
        let base = median(serial[i].clone());
        let speedup =
            |samples: &Vec<Duration>| base.as_secs_f64() / median(samples.clone()).as_secs_f64();
        local_speedups.push(speedup(&pooled[i]));
        cluster_speedups.push(speedup(&clustered[i]));
        distributed_speedups.push(speedup(&distributed[i]));
        let over_local = paired_ratio(&clustered[i], &pooled[i]);
        if worst.is_none_or(|(_, ratio)| over_local > ratio) {
            worst = Some((ns, over_local));
        }
        println!(
            "| {} | {} | {:.2}x | {:.2}x | {:.2}x | {:.2} |",
            human_ns(ns as f64),
            human(base),
            local_speedups[i],
            cluster_speedups[i],
            distributed_speedups[i],
            over_local
        );
    }
    if let Some((ns, ratio)) = worst {
        println!(
            "cluster ÷ local pool, time: worst cell {ratio:.2} at {} per item",
            human_ns(ns as f64)
        );
    }
    println!(
        "break-even work per item ({} items per call): local pool {}, cluster {}, every call distributed {}",
        options.items,
        break_even(&options.sweep, &local_speedups),
        break_even(&options.sweep, &cluster_speedups),
        break_even(&options.sweep, &distributed_speedups)
    );
}
