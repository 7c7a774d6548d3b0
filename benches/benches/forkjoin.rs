//! Criterion version of the fork-join experiments, serial and rayon beside filch:
//!
//! * `fib/{system}_{threads}` — `fib(20)` via `join`, no cut-off;
//! * `tree_sum/{system}_{threads}` — a perfect binary tree of 2^16 − 1 nodes;
//! * `join_empty/{system}_{threads}` — 1000 joins of empty closures per iteration;
//! * `round_trip/{system}/hot` — one job to the pool and back, back to back (the parked-pool
//!   round trip needs a sleep between rounds and is measured by the `filch-bench` binary).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use filch_bench::run::default_threads;
use filch_bench::systems::std_threads::PingPong;
use filch_bench::systems::{bench_id, ForkJoinSystem, Pools};
use filch_bench::systems::{filch_sys, rayon_sys};
use filch_bench::workloads::{EmptyJoinsTask, FibTask, ForkJoinTask, Tree, TreeSumTask};

/// `fib(FIB_N)`: ~11 000 joins.
const FIB_N: u32 = 20;
/// Tree levels: 65 535 nodes.
const TREE_LEVELS: u32 = 16;
/// Empty joins per iteration.
const EMPTY_JOINS: u64 = 1_000;

fn configure<'c>(
    c: &'c mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    group
}

fn bench_task<T: ForkJoinTask>(
    c: &mut Criterion,
    name: &str,
    systems: &[ForkJoinSystem<'_>],
    task: &T,
) {
    let mut group = configure(c, name);
    for sys in systems {
        group.bench_function(bench_id(&sys.label()), |b| b.iter(|| sys.run(task)));
    }
    group.finish();
}

fn forkjoin(c: &mut Criterion) {
    let pools = Pools::new(default_threads()).expect("building the filch and rayon pools");
    let filch1 = filch_sys::pool(1).expect("building a 1-thread filch pool");
    let rayon1 = rayon_sys::pool(1).expect("building a 1-thread rayon pool");
    let systems = [
        ForkJoinSystem::Serial,
        ForkJoinSystem::Filch(&filch1),
        ForkJoinSystem::Filch(&pools.filch),
        ForkJoinSystem::FilchContext(&filch1),
        ForkJoinSystem::FilchContext(&pools.filch),
        ForkJoinSystem::Rayon(&rayon1),
        ForkJoinSystem::Rayon(&pools.rayon),
    ];
    bench_task(c, "fib", &systems, &FibTask(FIB_N));
    let tree = Tree::perfect(TREE_LEVELS);
    bench_task(c, "tree_sum", &systems, &TreeSumTask(&tree));
    bench_task(c, "join_empty", &systems, &EmptyJoinsTask(EMPTY_JOINS));

    let ping = PingPong::start();
    let mut group = configure(c, "round_trip");
    group.bench_function(BenchmarkId::new("condvar", "hot"), |b| {
        b.iter(|| ping.round_trip())
    });
    group.bench_function(BenchmarkId::new("filch", "hot"), |b| {
        b.iter(|| pools.filch.apply_async(|| 1u64).get())
    });
    group.bench_function(BenchmarkId::new("rayon", "hot"), |b| {
        b.iter(|| rayon_sys::spawn_round_trip(&pools.rayon))
    });
    group.finish();
}

// `criterion_main!` is spelled out so that no undocumented `pub fn` (which
// `criterion_group!` generates) trips the workspace's `missing_docs` lint.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    forkjoin(&mut criterion);
    criterion.final_summary();
}
