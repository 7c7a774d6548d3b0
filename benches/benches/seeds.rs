//! Criterion version of the Python seeds, serial and rayon beside filch:
//!
//! * `map_squares/{system}/100` — seed 001's squares of 100 random ints (pool overhead);
//! * `poly/{system}/100000` — seed 000's polynomial;
//! * `log_loop/{system}/16x10000` — seed 001's logarithm loop;
//! * `starmap/{system}/10000`, `partial/{system}/10000` — seed 002;
//! * `sleep/{system}/10x5ms` — seed 003's sleeping items.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use filch_bench::run::default_threads;
use filch_bench::systems::{bench_id, std_threads, MapSystem, Pools};
use filch_bench::workloads::{add, log_loop, poly, random_ints, sleepy_square, square};
use rayon::prelude::*;

fn group<'c>(
    c: &'c mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g
}

fn seeds(c: &mut Criterion) {
    let threads = default_threads();
    let pools = Pools::new(threads).expect("building the filch and rayon pools");
    let systems = [
        MapSystem::Serial,
        MapSystem::Filch(&pools.filch),
        MapSystem::Rayon(&pools.rayon),
        MapSystem::StdScope(threads),
    ];

    let ints = random_ints(100, 0, 1000, 1);
    let mut g = group(c, "map_squares");
    for sys in &systems {
        g.bench_function(BenchmarkId::new(bench_id(&sys.label()), 100), |b| {
            b.iter(|| sys.map_slice(&ints, |&x| square(x)))
        });
    }
    g.finish();

    let zs: Vec<f64> = (0..100_000).map(f64::from).collect();
    let mut g = group(c, "poly");
    for sys in &systems {
        g.bench_function(BenchmarkId::new(bench_id(&sys.label()), zs.len()), |b| {
            b.iter(|| sys.map_slice(&zs, |&z| poly(z)))
        });
    }
    g.finish();

    let xs: Vec<f64> = random_ints(16, 1, 1000, 2)
        .into_iter()
        .map(|x| x as f64)
        .collect();
    let mut g = group(c, "log_loop");
    for sys in &systems {
        g.bench_function(BenchmarkId::new(bench_id(&sys.label()), "16x10000"), |b| {
            b.iter(|| sys.map_slice(&xs, |&x| log_loop(x, 10_000)))
        });
    }
    g.finish();

    let pairs: Vec<(i64, i64)> = (0..10_000).map(|i| (2 * i + 1, 2 * i + 2)).collect();
    let mut g = group(c, "starmap");
    g.bench_function(BenchmarkId::new("serial", pairs.len()), |b| {
        b.iter(|| MapSystem::Serial.map_slice(&pairs, |&(a, b)| add(a, b)))
    });
    g.bench_function(BenchmarkId::new("filch", pairs.len()), |b| {
        b.iter(|| pools.filch.starmap(pairs.iter().copied(), add))
    });
    g.bench_function(BenchmarkId::new("rayon", pairs.len()), |b| {
        b.iter(|| MapSystem::Rayon(&pools.rayon).map_slice(&pairs, |&(a, b)| add(a, b)))
    });
    g.finish();

    let n = 10_000i64;
    let mut g = group(c, "partial");
    g.bench_function(BenchmarkId::new("serial", n), |b| {
        b.iter(|| (0..n).map(|x| add(2, x)).collect::<Vec<_>>())
    });
    g.bench_function(BenchmarkId::new("filch", n), |b| {
        b.iter(|| pools.filch.map(0..n, filch::partial(add, 2)))
    });
    g.bench_function(BenchmarkId::new("rayon", n), |b| {
        b.iter(|| {
            let rayon = &pools.rayon;
            rayon.install(|| {
                (0..n)
                    .into_par_iter()
                    .map(|x| add(2, x))
                    .collect::<Vec<_>>()
            })
        })
    });
    g.finish();

    let items: Vec<u64> = (0..10).collect();
    let nap = Duration::from_millis(5);
    let mut g = group(c, "sleep");
    for sys in [systems[0], systems[1], systems[2]] {
        g.bench_function(BenchmarkId::new(bench_id(&sys.label()), "10x5ms"), |b| {
            b.iter(|| sys.map_slice(&items, |&x| sleepy_square(x, nap)))
        });
    }
    g.bench_function(BenchmarkId::new("thread_per_item", "10x5ms"), |b| {
        b.iter(|| std_threads::thread_per_item(&items, |&x| sleepy_square(x, nap)))
    });
    g.finish();
}

// `criterion_main!` is spelled out so that no undocumented `pub fn` (which
// `criterion_group!` generates) trips the workspace's `missing_docs` lint.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    seeds(&mut criterion);
    criterion.final_summary();
}
