//! `filch-bench`: how much work per item a thread pool needs before it pays.
//!
//! The crate is both the `filch-bench` binary (`cargo run --release -p filch-bench`) and a
//! library that the criterion benches in `benches/benches/` share. Every experiment runs the
//! same workload on several *systems* — a plain serial loop, filch, rayon and `std` threads —
//! and reports each system's time as a ratio to the serial loop measured in the same run.
//!
//! Module map (one concept per file):
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | command-line parsing and the `--help` text |
//! | [`config`] | what each mode (smoke, quick, full) measures: sizes, rounds, caps |
//! | [`calibrate`] | turning "w ns of work per item" into a loop count, measured once |
//! | [`workloads`] | the work itself: spin, the seeds' functions, fib, the tree, [`workloads::Joiner`] |
//! | [`systems`] | serial, filch, rayon and `std` threads behind one interface each |
//! | [`measure`] | interleaved rounds, warm-up, batching of tiny runs, medians, noise |
//! | [`comparison`] | one workload on several systems, as ratios to the baseline |
//! | [`sweep`] | the threshold sweep over items × work per item, and break-even work |
//! | [`big`] | big inputs: millions of cheap items by shape and form, in place, reducing, peak memory |
//! | [`programs`] | whole programs in the style of rayon's demos |
//! | [`seeds`] | the four Python multiprocessing seeds, ported |
//! | [`forkjoin`] | fib, tree sum, empty join, async round trip, idle CPU |
//! | [`uneven`] | uneven items, nested maps, Mandelbrot rows |
//! | [`blocking`] | sleeping items sharing a pool with CPU-bound work |
//! | [`record`] | everything a run measured, filled in section by section |
//! | [`targets`] | every target, read off this run's results |
//! | [`alloc_count`] | the counting allocator behind the peak-memory figures |
//! | [`machine`] | what machine the numbers came from, what else ran on it, per-thread CPU time |
//! | [`units`] | formatting nanoseconds, ratios and work sizes |
//! | [`table`] | tables rendered as Markdown |
//! | [`report`] | the Markdown report, also printed to stdout section by section |
//! | [`plot`] | SVG charts |
//! | [`progress`] | the progress bar on stderr |
//! | [`run`] | the orchestration the binary performs |

pub mod alloc_count;
pub mod big;
pub mod blocking;
pub mod calibrate;
pub mod cli;
pub mod comparison;
pub mod config;
pub mod forkjoin;
pub mod machine;
pub mod measure;
pub mod plot;
pub mod programs;
pub mod progress;
pub mod record;
pub mod report;
pub mod run;
pub mod seeds;
pub mod sweep;
pub mod systems;
pub mod table;
pub mod targets;
pub mod uneven;
pub mod units;
pub mod workloads;
