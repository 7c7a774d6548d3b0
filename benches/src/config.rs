//! What each mode measures. A [`Config`] is everything one run of the binary needs; it is
//! built from a [`Mode`] preset and then adjusted by command-line options.
//!
//! The presets are sized for the 2-core reference machine: `smoke` finishes in a few
//! seconds (CI), `quick` (the default) in about a minute, `full` in several minutes.

use std::path::PathBuf;
use std::time::Duration;

use crate::measure::Plan;

/// A preset size of the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tiny sizes, 2 rounds: checks that everything runs (CI).
    Smoke,
    /// The default: every experiment at moderate sizes, ~1 minute.
    Quick,
    /// Every size the study asks for, 15 rounds.
    Full,
}

impl Mode {
    /// Lower-case name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Smoke => "smoke",
            Mode::Quick => "quick",
            Mode::Full => "full",
        }
    }
}

/// One section of the run, as `--only` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// The threshold sweep.
    Sweep,
    /// Big inputs: millions of cheap items, from outside the pool and on a worker.
    Big,
    /// Whole programs (n-body, matrix multiply, life, sieve, Pythagorean triples).
    Programs,
    /// The four Python seeds.
    Seeds,
    /// Fork-join, round trips and idle CPU.
    Forkjoin,
    /// Blocking items sharing a pool with CPU-bound work.
    Blocking,
}

impl Section {
    /// Every section, in the report's order.
    pub const ALL: [Section; 6] = [
        Section::Sweep,
        Section::Big,
        Section::Programs,
        Section::Seeds,
        Section::Blocking,
        Section::Forkjoin,
    ];

    /// The section's heading.
    pub fn title(self) -> &'static str {
        match self {
            Section::Sweep => "Threshold sweep",
            Section::Big => "Big inputs",
            Section::Programs => "Whole programs",
            Section::Seeds => "Python seeds in Rust",
            Section::Forkjoin => "Fork-join",
            Section::Blocking => "Blocking items beside CPU-bound work",
        }
    }
}

/// Sizes of the threshold sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    /// Item counts N.
    pub ns: Vec<usize>,
    /// Work per item w, in ns.
    pub ws: Vec<u64>,
    /// Cells whose serial time N×w would exceed this (ns) are skipped.
    pub cap_serial_ns: u64,
    /// Explicit filch chunk sizes measured beside automatic chunking.
    pub chunk_sizes: Vec<usize>,
}

impl SweepConfig {
    /// Whether cell (n, w) is measured: its estimated serial time n×w is within the cap.
    pub fn includes(&self, n: usize, w: u64) -> bool {
        (n as u128) * u128::from(w) <= u128::from(self.cap_serial_ns)
    }

    /// The measured cells, N-major, in ascending w.
    pub fn cells(&self) -> Vec<(usize, u64)> {
        self.ns
            .iter()
            .flat_map(|&n| self.ws.iter().map(move |&w| (n, w)))
            .filter(|&(n, w)| self.includes(n, w))
            .collect()
    }
}

/// Sizes of the big-input section (`big.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct BigConfig {
    /// Items of the per-shape comparisons.
    pub sizes: Vec<usize>,
    /// Items of the other eager forms.
    pub forms_items: usize,
    /// Items of the peak-memory maps.
    pub peak_items: usize,
}

/// Sizes of the whole programs (`programs.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramsConfig {
    /// n-body: bodies.
    pub bodies: usize,
    /// n-body: steps.
    pub steps: usize,
    /// Matrix multiply: rows and columns.
    pub matrix: usize,
    /// Game of life: the side of the torus.
    pub life: usize,
    /// Game of life: generations.
    pub generations: usize,
    /// Segmented sieve: the limit.
    pub sieve: usize,
    /// Pythagorean triples: the largest hypotenuse.
    pub pythagoras: usize,
}

/// Sizes of the seed experiments.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedsConfig {
    /// Seed 000: f64 inputs to the polynomial.
    pub poly_items: usize,
    /// Seed 001: random ints to square (the seed uses 100).
    pub square_items: usize,
    /// Seed 001: the same squares at a size where the overhead target expects the pool to nearly pay
    /// (1,000: at most 1.3x the serial loop's time).
    pub square_items_large: usize,
    /// Seed 001: items of the log loop.
    pub log_items: usize,
    /// Seed 001: iterations per item of the log loop (the seed uses 100 000).
    pub log_iters: u64,
    /// Seed 001's second log loop (items, iterations), 10^7 iterations in the seed.
    pub log_long: Option<(usize, u64)>,
    /// Seed 001: the "more workers than cores" pool size (the seed uses 12).
    pub oversubscribed_threads: usize,
    /// Seed 002: sizes of the starmap and partial experiments (the seed's own size first).
    pub pair_sizes: Vec<usize>,
    /// Seed 003: items that sleep (the seed uses 10).
    pub sleep_items: usize,
    /// Seed 003: sleep per item (the seed uses 2 s).
    pub sleep: Duration,
    /// Seed 003: timed rounds (each round costs about 2 × items × sleep).
    pub sleep_rounds: usize,
}

/// Sizes of the fork-join experiments.
#[derive(Debug, Clone, PartialEq)]
pub struct ForkJoinConfig {
    /// `fib(n)` with no cut-off.
    pub fib_n: u32,
    /// Levels of the perfect binary tree (2^levels − 1 nodes).
    pub tree_levels: u32,
    /// Empty joins per timed run.
    pub empty_joins: u64,
    /// Calls into the pool from a thread outside it, per timed run.
    pub outside_calls: u64,
    /// Rounds of the idle round-trip experiment.
    pub round_trips: usize,
    /// Sleep before each round trip so the pool has parked.
    pub round_trip_pause: Duration,
    /// How long an idle pool is watched for CPU use.
    pub idle_window: Duration,
}

/// Sizes of the blocking-beside-CPU experiment ([`crate::blocking`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockingConfig {
    /// Items of the CPU-bound map.
    pub cpu_items: usize,
    /// Spin per CPU item, ns.
    pub cpu_work_ns: u64,
    /// Items of the sleeping map (the target's own: 10).
    pub sleep_items: usize,
    /// Sleep per item (the target's own: 200 ms).
    pub sleep: Duration,
    /// Timed rounds after the warm-up round.
    pub rounds: usize,
}

/// Everything one run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The preset this started from.
    pub mode: Mode,
    /// Threads of the filch and rayon pools (and pieces of the `std::scope` split).
    pub threads: usize,
    /// Where `report.md` and the SVGs go.
    pub out_dir: PathBuf,
    /// Whether to write SVG plots.
    pub plots: bool,
    /// Which experiments run.
    pub sections: Vec<Section>,
    /// Rounds and sample length for most comparisons.
    pub plan: Plan,
    /// Threshold sweep sizes.
    pub sweep: SweepConfig,
    /// Seed sizes.
    pub seeds: SeedsConfig,
    /// Fork-join sizes.
    pub forkjoin: ForkJoinConfig,
    /// Blocking-beside-CPU sizes.
    pub blocking: BlockingConfig,
    /// Big inputs.
    pub big: BigConfig,
    /// Whole programs.
    pub programs: ProgramsConfig,
}

/// Work sizes of the sweep: 1 ns to 1 ms per item, by decades.
pub const ALL_WS: [u64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// `values[0]` in smoke mode, `values[1]` in quick, `values[2]` in full.
fn by_mode<T>(mode: Mode, values: [T; 3]) -> T {
    let [smoke, quick, full] = values;
    match mode {
        Mode::Smoke => smoke,
        Mode::Quick => quick,
        Mode::Full => full,
    }
}

impl Config {
    /// Whether `section` runs.
    pub fn runs(&self, section: Section) -> bool {
        self.sections.contains(&section)
    }

    /// The preset for `mode` with `threads` threads, writing to `out_dir`.
    pub fn preset(mode: Mode, threads: usize, out_dir: PathBuf) -> Config {
        let pick = |values: [usize; 3]| by_mode(mode, values);
        let ms = |values: [u64; 3]| Duration::from_millis(by_mode(mode, values));
        let decades = |k: u32| (1..=k).map(|e| 10usize.pow(e)).collect::<Vec<_>>();
        Config {
            mode,
            threads,
            out_dir,
            plots: true,
            sections: Section::ALL.to_vec(),
            plan: Plan::new(
                pick([2, 7, 15]),
                Duration::from_micros(by_mode(mode, [200, 5_000, 5_000])),
            ),
            sweep: SweepConfig {
                ns: by_mode(mode, [vec![10, 1_000], decades(7), decades(8)]),
                ws: by_mode(mode, [vec![10, 1_000], ALL_WS.to_vec(), ALL_WS.to_vec()]),
                cap_serial_ns: by_mode(mode, [2_000_000, 50_000_000, 200_000_000]),
                chunk_sizes: by_mode(mode, [vec![1], vec![1, 64], vec![1, 64, 1024]]),
            },
            seeds: SeedsConfig {
                poly_items: pick([10_000, 10_000_000, 10_000_000]),
                square_items: 100,
                square_items_large: 1_000,
                log_items: pick([10, 100, 100]),
                log_iters: by_mode(mode, [1_000, 100_000, 100_000]),
                log_long: by_mode(mode, [None, None, Some((10, 10_000_000))]),
                oversubscribed_threads: 12,
                pair_sizes: vec![2, pick([1_000, 100_000, 1_000_000])],
                sleep_items: 10,
                sleep: ms([2, 50, 200]),
                sleep_rounds: pick([1, 3, 5]),
            },
            forkjoin: ForkJoinConfig {
                fib_n: by_mode(mode, [12, 25, 30]),
                tree_levels: by_mode(mode, [10, 20, 23]),
                empty_joins: by_mode(mode, [1_000, 100_000, 1_000_000]),
                outside_calls: by_mode(mode, [200, 20_000, 500_000]),
                round_trips: pick([5, 100, 200]),
                round_trip_pause: ms([1, 5, 5]),
                idle_window: ms([100, 1_000, 1_000]),
            },
            // The CPU map's ~200 µs items are big enough that chunking is not the question
            // and small enough that it spreads over the whole of the sleepers' run: 4 ms of
            // CPU work beside 2 ms sleeps (smoke), 100 ms beside 50 ms (quick), 200 ms beside
            // the blocking target's own 200 ms sleeps (full).
            blocking: BlockingConfig {
                cpu_items: pick([20, 500, 1_000]),
                cpu_work_ns: 200_000,
                sleep_items: 10,
                sleep: ms([2, 50, 200]),
                rounds: pick([1, 3, 7]),
            },
            big: BigConfig {
                sizes: by_mode(
                    mode,
                    [
                        vec![10_000],
                        vec![1_000_000, 10_000_000],
                        decades(8)[5..].to_vec(),
                    ],
                ),
                forms_items: pick([10_000, 10_000_000, 10_000_000]),
                peak_items: pick([10_000, 10_000_000, 10_000_000]),
            },
            programs: if mode == Mode::Smoke {
                ProgramsConfig {
                    bodies: 64,
                    steps: 2,
                    matrix: 32,
                    life: 32,
                    generations: 2,
                    sieve: 100_000,
                    pythagoras: 300,
                }
            } else {
                ProgramsConfig {
                    bodies: 2_000,
                    steps: 5,
                    matrix: 384,
                    life: 512,
                    generations: 20,
                    sieve: 20_000_000,
                    pythagoras: 12_000,
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_over_the_serial_cap_are_skipped() {
        let sweep = SweepConfig {
            ns: vec![10, 1_000],
            ws: vec![1_000, 1_000_000],
            cap_serial_ns: 50_000_000,
            chunk_sizes: vec![],
        };
        // 1000 items × 1 ms = 1 s > 50 ms: skipped; the other three fit.
        assert_eq!(
            sweep.cells(),
            vec![(10, 1_000), (10, 1_000_000), (1_000, 1_000)]
        );
    }

    #[test]
    fn presets_grow_from_smoke_to_full() {
        let p = |m| Config::preset(m, 2, PathBuf::from("x"));
        let (s, q, f) = (p(Mode::Smoke), p(Mode::Quick), p(Mode::Full));
        assert!(s.sweep.cells().len() < q.sweep.cells().len());
        assert!(q.sweep.cells().len() < f.sweep.cells().len());
        assert!(s.plan.rounds < q.plan.rounds && q.plan.rounds < f.plan.rounds);
        assert!(f.seeds.log_long.is_some() && q.seeds.log_long.is_none());
        assert_eq!(q.forkjoin.fib_n, 25);
        assert_eq!(f.forkjoin.tree_levels, 23);
    }
}
