//! Criterion version of the big-input section: seed 000's polynomial over a slice, an owned
//! `Vec` and a range, from outside the pool and on a worker, beside rayon and `std::scope`
//! pieces; and the other eager forms over a slice. Ids read `big_{shape}_n{N}/{system}` and
//! `big_form_{form}_n{N}/{system}`.
//!
//! 10^6 items (the binary's quick mode adds 10^7, `--full` 10^8); small sample sizes so
//! `cargo bench -p filch-bench` stays within a few minutes.

use std::time::Duration;

use criterion::Criterion;
use filch_bench::big::{form_cases, shape_cases, Form, Shape};
use filch_bench::run::default_threads;
use filch_bench::systems::{bench_id, Pools};

/// Items per call.
const N: usize = 1_000_000;

fn big(c: &mut Criterion) {
    let pools = Pools::new(default_threads()).expect("building the filch and rayon pools");
    let inputs: Vec<f64> = (0..N).map(|i| i as f64).collect();
    let pairs: Vec<(f64, f64)> = inputs.iter().map(|&z| (z, 1.0)).collect();
    let groups = Shape::ALL
        .iter()
        .map(|&shape| {
            (
                format!("big_{}_n{N}", bench_id(shape.name())),
                shape_cases(shape, &inputs, N, &pools),
            )
        })
        .chain(Form::ALL.iter().map(|&form| {
            (
                format!("big_form_{}_n{N}", bench_id(form.name())),
                form_cases(form, &inputs, &pairs, &pools),
            )
        }));
    for (name, cases) in groups {
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        for mut case in cases {
            let label = bench_id(case.name());
            group.bench_function(label, |b| b.iter(|| case.run_once()));
        }
        group.finish();
    }
}

// `criterion_main!` is spelled out so that no undocumented `pub fn` (which
// `criterion_group!` generates) trips the workspace's `missing_docs` lint.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    big(&mut criterion);
    criterion.final_summary();
}
