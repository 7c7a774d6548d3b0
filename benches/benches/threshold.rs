//! Criterion version of the threshold sweep: N items of w ns of calibrated spin, mapped by
//! serial, filch, rayon and `std::thread::scope`. Ids read `spin_map_n{N}/{system}/{w_ns}`.
//!
//! A few cells only (the full grid is the `filch-bench` binary's job); small sample sizes so
//! `cargo bench -p filch-bench` stays within a couple of minutes.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use filch_bench::calibrate::Spin;
use filch_bench::run::default_threads;
use filch_bench::systems::{bench_id, MapSystem, Pools};
use filch_bench::workloads::spin;

/// Item counts benchmarked.
const NS: [usize; 2] = [100, 10_000];
/// Work per item in ns.
const WS: [u64; 3] = [10, 1_000, 100_000];
/// Cells whose serial time N×w exceeds this (ns) are skipped.
const CAP_NS: u64 = 100_000_000;

fn threshold(c: &mut Criterion) {
    let spin_rate = Spin::calibrate();
    let threads = default_threads();
    let pools = Pools::new(threads).expect("building the filch and rayon pools");
    let systems = [
        MapSystem::Serial,
        MapSystem::Filch(&pools.filch),
        MapSystem::FilchChunked(&pools.filch, 1),
        MapSystem::Rayon(&pools.rayon),
        MapSystem::StdScope(threads),
    ];
    for n in NS {
        let items: Vec<u64> = (0..n as u64).collect();
        let mut group = c.benchmark_group(format!("spin_map_n{n}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        for w in WS {
            if n as u64 * w > CAP_NS {
                continue;
            }
            let iters = spin_rate.iters_for(w);
            for sys in &systems {
                group.bench_with_input(
                    BenchmarkId::new(bench_id(&sys.label()), w),
                    &iters,
                    |b, &iters| {
                        b.iter(|| sys.map_slice(&items, |&x| spin(iters, x)));
                    },
                );
            }
        }
        group.finish();
    }
}

// `criterion_main!` is spelled out so that no undocumented `pub fn` (which
// `criterion_group!` generates) trips the workspace's `missing_docs` lint.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    threshold(&mut criterion);
    criterion.final_summary();
}
