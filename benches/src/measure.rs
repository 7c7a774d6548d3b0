//! How one comparison is timed: interleaved rounds, a discarded warm-up round, batches for
//! runs too short to time alone, and the median of the rounds.
//!
//! Protocol for a set of [`Case`]s (one per system, the baseline first):
//!
//! 1. **Warm-up round** (discarded): each case runs once, timed, and its output is kept to
//!    check it equals the baseline's ([`Outcome::agrees`]). If that run was shorter than half
//!    the plan's sample target, the case runs again in batches of 2, 4, 8, … until a batch
//!    lasts that long; this settles the *repetition count* of the case so that one timed
//!    sample lasts about [`Plan::sample_target`]. `Instant::now()` costs ~50 ns on the
//!    reference machine, so a sample of a 100 ns run would be mostly clock; a batch of
//!    20 000 such runs is not.
//! 2. **Rounds**: in round `r` every case runs once (one batch), in the order of row `r` of
//!    a Williams design ([`round_order`]): over a cycle of rounds every case leads equally
//!    often and runs right after every other case equally often, so no system always
//!    follows the same neighbour (caches, turbo, a pool that just went to sleep or is still
//!    awake). A sample is the batch time divided by its repetitions.
//! 3. **Result**: median, min and max of the samples per case. Ratios are always formed
//!    between cases of the same call, never across runs.
//!
//! **Memory.** The main job maps every block of [`FRESH_BLOCK_BYTES`] or more fresh from the
//! kernel in every run of every row ([`fix_large_block_policy`]) and hands free memory back
//! before each comparison ([`release_free_memory`]), so no row reuses pages another row
//! faulted in; `docs/design.md` ("Every large block fresh, in every row") says what went
//! wrong without it.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// A cell whose `(max - min) / median` over its rounds exceeds this is flagged as noisy in
/// the report. Chosen, not measured: near break-even the systems differ by tens of percent,
/// so a round disturbed by more than 30% (a preemption, another process) is a disturbance
/// of the size of the effect being measured, and the reader should know.
pub const NOISE_THRESHOLD: f64 = 0.30;

/// How many rounds to run and how long one timed sample should last.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Timed rounds after the warm-up round.
    pub rounds: usize,
    /// Target duration of one sample; short runs are repeated in a batch to reach it.
    pub sample_target: Duration,
    /// Upper bound on the repetitions of one batch.
    pub max_reps: u64,
    /// When set, sleep this long before every timed run and never batch: used for round
    /// trips that must start from an idle, parked pool.
    pub pause: Option<Duration>,
}

impl Plan {
    /// A plan with `rounds` rounds, a sample target of `target` and no pause.
    pub fn new(rounds: usize, sample_target: Duration) -> Plan {
        Plan {
            rounds,
            sample_target,
            max_reps: 1_000_000,
            pause: None,
        }
    }

    /// The same plan with a different number of rounds.
    pub fn with_rounds(&self, rounds: usize) -> Plan {
        Plan {
            rounds,
            ..self.clone()
        }
    }
}

/// One system's run of the workload: a name and a closure performing one complete run.
pub struct Case<'a, O> {
    name: String,
    run: Box<dyn FnMut() -> O + 'a>,
    /// Times a batch of runs itself, where a batch must run somewhere other than the
    /// timing thread: see [`Case::batched`].
    batch: Option<Box<dyn FnMut(u64) -> f64 + 'a>>,
}

impl<O> std::fmt::Debug for Case<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case").field("name", &self.name).finish()
    }
}

impl<'a, O> Case<'a, O> {
    /// A case named `name` (the system's label in tables) whose one run is `run`.
    pub fn new(name: impl Into<String>, run: impl FnMut() -> O + 'a) -> Case<'a, O> {
        Case {
            name: name.into(),
            run: Box::new(run),
            batch: None,
        }
    }

    /// A case whose timed batches are run and timed by `batch`, given the repetitions,
    /// returning the batch's nanoseconds; `run` still makes the warm-up run whose output is
    /// checked. For a call that must be made on a pool's worker: the batch enters the pool
    /// once and times its calls there, so a sample is the call's cost on the worker, not
    /// the trip into the pool that each call would otherwise repeat.
    pub fn batched(
        name: impl Into<String>,
        run: impl FnMut() -> O + 'a,
        batch: impl FnMut(u64) -> f64 + 'a,
    ) -> Case<'a, O> {
        Case {
            batch: Some(Box::new(batch)),
            ..Case::new(name, run)
        }
    }

    /// The label of the case.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs the case once, untimed.
    pub fn run_once(&mut self) -> O {
        (self.run)()
    }
}

/// Summary of one case's timed samples (nanoseconds per run).
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// One value per timed round: batch time ÷ repetitions.
    pub samples_ns: Vec<f64>,
    /// Repetitions per batch.
    pub reps: u64,
    /// Median of `samples_ns`.
    pub median_ns: f64,
    /// Fastest sample.
    pub min_ns: f64,
    /// Slowest sample.
    pub max_ns: f64,
}

impl Stats {
    /// Summarises samples taken with `reps` repetitions per batch.
    ///
    /// # Panics
    /// If `samples_ns` is empty.
    pub fn from_samples(samples_ns: Vec<f64>, reps: u64) -> Stats {
        assert!(!samples_ns.is_empty(), "no samples to summarise");
        let min_ns = samples_ns.iter().copied().fold(f64::INFINITY, f64::min);
        let max_ns = samples_ns.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Stats {
            median_ns: median(&samples_ns),
            min_ns,
            max_ns,
            samples_ns,
            reps,
        }
    }

    /// `(max - min) / median`: how far apart the rounds were, relative to the median.
    pub fn spread(&self) -> f64 {
        if self.median_ns > 0.0 {
            (self.max_ns - self.min_ns) / self.median_ns
        } else {
            0.0
        }
    }

    /// Whether the spread exceeds [`NOISE_THRESHOLD`].
    pub fn is_noisy(&self) -> bool {
        self.spread() > NOISE_THRESHOLD
    }
}

/// The result of one case within a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The case's label.
    pub name: String,
    /// Its timings.
    pub stats: Stats,
    /// Whether its output equalled the first (baseline) case's output.
    pub agrees: bool,
}

impl Outcome {
    /// The flag column of a table: `WRONG OUTPUT`, `noisy N%`, or nothing.
    pub fn flag(&self) -> String {
        if !self.agrees {
            "WRONG OUTPUT".to_string()
        } else if self.stats.is_noisy() {
            format!("noisy {:.0}%", self.stats.spread() * 100.0)
        } else {
            String::new()
        }
    }

    /// The report's warning for this outcome, if its output differed from `baseline`'s or its
    /// rounds were noisy.
    pub fn warning(&self, baseline: &str) -> Option<String> {
        if !self.agrees {
            Some(format!("{}: output differs from {baseline}", self.name))
        } else if self.stats.is_noisy() {
            let spread = self.stats.spread() * 100.0;
            Some(format!("{}: noisy (spread {spread:.0}%)", self.name))
        } else {
            None
        }
    }

    /// An agreeing outcome whose every sample is `median` ns: for tests of
    /// what is built from outcomes (report, targets).
    #[cfg(test)]
    pub(crate) fn steady(name: &str, median: f64) -> Outcome {
        Outcome {
            name: name.to_string(),
            stats: Stats::from_samples(vec![median; 3], 1),
            agrees: true,
        }
    }
}

/// The median of `values` (mean of the two middle values for an even count).
///
/// # Panics
/// If `values` is empty.
pub fn median(values: &[f64]) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// How many times faster `other` ran than `base`, read round by round: the median over
/// rounds of `base[r] ÷ other[r]`. The two ran back to back in every round (interleaved),
/// so a slow phase of a shared host, which lasts seconds and slows both, cancels out of
/// each round's ratio; a ratio of medians would divide a fast phase by a slow one. Falls
/// back to the ratio of medians if the two were not measured over the same rounds.
pub fn paired_speedup(base: &Stats, other: &Stats) -> f64 {
    let (b, o) = (&base.samples_ns, &other.samples_ns);
    if b.len() != o.len() || b.is_empty() || o.iter().any(|&x| x <= 0.0) {
        return base.median_ns / other.median_ns;
    }
    let ratios: Vec<f64> = b.iter().zip(o).map(|(b, o)| b / o).collect();
    median(&ratios)
}

/// The order in which `cases` cases run in round `round`: row `round` of a Williams design.
/// The first row is 0, 1, n−1, 2, n−2, …; row `r` adds `r` to each entry (mod n); for an
/// odd n, the rows of every second cycle of n rounds run backwards. Over n rounds (2n for
/// an odd n) every case runs once in every position and right after every other case
/// equally often. A plain rotation has the first property only: it keeps each case's
/// predecessor the same in every round, and the bench then always timed the map made on
/// a worker right after the same map from outside, whose run had just left the pool's
/// workers awake, and the map from outside right after serial, whose run let them sleep.
pub fn round_order(round: usize, cases: usize) -> Vec<usize> {
    let n = cases.max(1);
    let first = |i: usize| match i {
        0 => 0,
        odd if odd % 2 == 1 => odd.div_ceil(2),
        even => n - even / 2,
    };
    let mut row: Vec<usize> = (0..cases).map(|i| (first(i) + round) % n).collect();
    if n % 2 == 1 && (round / n) % 2 == 1 {
        row.reverse();
    }
    row
}

/// Repetitions per batch so that one batch lasts about `target_ns`, given that `reps_done`
/// repetitions took `elapsed_ns`. At least 1, at most `max_reps`.
pub fn reps_for(elapsed_ns: f64, reps_done: u64, target_ns: f64, max_reps: u64) -> u64 {
    let per_run = elapsed_ns / reps_done.max(1) as f64;
    if per_run <= 0.0 || !per_run.is_finite() {
        return max_reps.max(1);
    }
    let wanted = (target_ns / per_run).ceil();
    (wanted as u64).clamp(1, max_reps.max(1))
}

/// Nanoseconds that `reps` back-to-back runs of `run` take, each output kept opaque to the
/// optimiser.
pub fn time_reps<O>(reps: u64, mut run: impl FnMut() -> O) -> f64 {
    let start = Instant::now();
    for _ in 0..reps {
        black_box(run());
    }
    start.elapsed().as_nanos() as f64
}

fn time_batch<O>(case: &mut Case<'_, O>, reps: u64) -> f64 {
    match &mut case.batch {
        Some(batch) => batch(reps),
        None => time_reps(reps, &mut case.run),
    }
}

/// Blocks at least this large are mapped fresh from the kernel on every allocation
/// ([`fix_large_block_policy`]).
pub const FRESH_BLOCK_BYTES: usize = 4 << 20;

/// Fixes glibc's policy for large blocks for the whole process: every block of
/// [`FRESH_BLOCK_BYTES`] or more is mapped fresh from the kernel and unmapped when freed, and
/// free memory above that size at a heap's top goes back too. glibc's default moves the first
/// threshold with the program's history and applies it per arena, so whether a large output
/// reused faulted-in pages depended on which thread allocated it. Nothing where the allocator
/// is not glibc's.
pub fn fix_large_block_policy() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes the allocator's tuning parameters; it is safe to call
    // at any time and leaves every live block as it is.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, FRESH_BLOCK_BYTES as libc::c_int);
        libc::mallopt(libc::M_TRIM_THRESHOLD, FRESH_BLOCK_BYTES as libc::c_int);
    }
}

/// Returns the allocator's free memory to the system (glibc's `malloc_trim`, every arena),
/// so the next allocation of a large block gets fresh pages wherever it is made; nothing
/// where the allocator is not glibc's.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases memory the allocator holds free; it is
    // thread-safe and touches no live block.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Times `cases` by the protocol in the module docs. `cases[0]` is the baseline whose
/// output the others are checked against.
pub fn compare<O: PartialEq>(mut cases: Vec<Case<'_, O>>, plan: &Plan) -> Vec<Outcome> {
    let target_ns = plan.sample_target.as_nanos() as f64;
    let mut reference: Option<O> = None;
    let mut agrees = Vec::with_capacity(cases.len());
    let mut reps = Vec::with_capacity(cases.len());
    release_free_memory();

    // 1. Warm-up round: first run (output checked), then batch sizing.
    for case in cases.iter_mut() {
        if let Some(pause) = plan.pause {
            std::thread::sleep(pause);
        }
        let start = Instant::now();
        let output = (case.run)();
        let first_ns = start.elapsed().as_nanos() as f64;
        match &reference {
            None => {
                agrees.push(true);
                reference = Some(output);
            }
            Some(expected) => agrees.push(output == *expected),
        }
        if plan.pause.is_some() {
            reps.push(1);
            continue;
        }
        let (mut elapsed, mut done) = (first_ns, 1u64);
        while elapsed < target_ns / 2.0 && done < plan.max_reps {
            done = (done * 2).min(plan.max_reps);
            elapsed = time_batch(case, done);
        }
        reps.push(reps_for(elapsed, done, target_ns, plan.max_reps));
    }

    // 2. Timed rounds, each in its own order.
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(plan.rounds); cases.len()];
    for round in 0..plan.rounds.max(1) {
        for i in round_order(round, cases.len()) {
            if let Some(pause) = plan.pause {
                std::thread::sleep(pause);
            }
            let elapsed = time_batch(&mut cases[i], reps[i]);
            samples[i].push(elapsed / reps[i] as f64);
        }
    }

    // 3. Summaries.
    cases
        .iter()
        .zip(samples)
        .zip(reps.iter().zip(agrees))
        .map(|((case, samples), (&reps, agrees))| Outcome {
            name: case.name.clone(),
            stats: Stats::from_samples(samples, reps),
            agrees,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn paired_speedups_cancel_a_slow_phase_that_slowed_both() {
        // Rounds 3-5 ran on a host twice as slow; each round the system took half the
        // base's time.
        let base = Stats::from_samples(vec![100.0, 100.0, 200.0, 200.0, 200.0], 1);
        let other = Stats::from_samples(vec![50.0, 50.0, 100.0, 100.0, 100.0], 1);
        assert_eq!(paired_speedup(&base, &other), 2.0);
        let skewed = Stats::from_samples(vec![100.0, 100.0, 100.0, 200.0, 200.0], 1);
        let other = Stats::from_samples(vec![50.0, 50.0, 50.0, 100.0, 100.0], 1);
        assert_eq!(paired_speedup(&skewed, &other), 2.0);
        // Ratio of medians, by contrast: 100 / 100 = 1 for base 3 fast + 2 slow against a
        // system measured 2 fast + 3 slow.
        let late = Stats::from_samples(vec![50.0, 50.0, 100.0, 100.0, 100.0], 1);
        assert_eq!(skewed.median_ns / late.median_ns, 1.0);
        // Different round counts: ratio of medians.
        let short = Stats::from_samples(vec![25.0, 25.0, 25.0], 1);
        assert_eq!(paired_speedup(&base, &short), 200.0 / 25.0);
    }

    #[test]
    fn median_of_odd_count_is_middle_value() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
    }

    #[test]
    fn median_of_even_count_is_mean_of_middle_pair() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn median_is_not_moved_by_one_outlier() {
        assert_eq!(median(&[10.0, 11.0, 12.0, 1000.0, 9.0]), 11.0);
    }

    #[test]
    fn spread_is_range_over_median() {
        let s = Stats::from_samples(vec![80.0, 100.0, 120.0], 1);
        assert!((s.spread() - 0.4).abs() < 1e-12);
        assert!(s.is_noisy());
        let calm = Stats::from_samples(vec![95.0, 100.0, 105.0], 1);
        assert!(!calm.is_noisy());
    }

    #[test]
    fn round_orders_balance_positions_and_predecessors() {
        assert_eq!(round_order(0, 5), vec![0, 1, 4, 2, 3]);
        assert_eq!(round_order(1, 5), vec![1, 2, 0, 3, 4]);
        assert_eq!(round_order(5, 5), vec![3, 2, 4, 1, 0]);
        assert!(round_order(0, 0).is_empty());
        assert_eq!(round_order(3, 1), vec![0]);
        for n in 2..=8 {
            let cycle = if n % 2 == 0 { n } else { 2 * n };
            let mut at = vec![vec![0; n]; n]; // at[case][position]
            let mut after = vec![vec![0; n]; n]; // after[earlier][later]
            for round in 0..cycle {
                let row = round_order(round, n);
                let mut sorted = row.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "row {round} of {n}");
                for (position, &case) in row.iter().enumerate() {
                    at[case][position] += 1;
                }
                for pair in row.windows(2) {
                    after[pair[0]][pair[1]] += 1;
                }
            }
            let per_position = cycle / n;
            assert!(
                at.iter().flatten().all(|&k| k == per_position),
                "{n}: {at:?}"
            );
            let per_pair = cycle / n;
            for (a, row) in after.iter().enumerate() {
                for (b, &k) in row.iter().enumerate() {
                    assert_eq!(k, if a == b { 0 } else { per_pair }, "{n}: {a} then {b}");
                }
            }
        }
    }

    #[test]
    fn reps_fill_the_target_within_bounds() {
        // 10 runs took 1 µs -> 100 ns each -> 1 ms needs 10 000 runs.
        assert_eq!(reps_for(1_000.0, 10, 1e6, 1_000_000), 10_000);
        assert_eq!(reps_for(5e6, 1, 1e6, 1_000_000), 1);
        assert_eq!(reps_for(1.0, 1, 1e9, 500), 500);
        assert_eq!(reps_for(0.0, 1, 1e6, 64), 64);
    }

    #[test]
    fn compare_flags_a_case_whose_output_differs() {
        let cases = vec![
            Case::new("base", || vec![1, 2, 3]),
            Case::new("same", || vec![1, 2, 3]),
            Case::new("wrong", || vec![3, 2, 1]),
        ];
        let plan = Plan::new(3, Duration::from_micros(50));
        let out = compare(cases, &plan);
        let agree: Vec<bool> = out.iter().map(|o| o.agrees).collect();
        assert_eq!(agree, vec![true, true, false]);
        assert!(out.iter().all(|o| o.stats.samples_ns.len() == 3));
    }

    #[test]
    fn a_batched_case_times_its_rounds_with_its_own_batch() {
        let runs = Cell::new(0u64);
        let batched_reps = Cell::new(0u64);
        let plan = Plan::new(3, Duration::from_micros(50));
        let out = compare(
            vec![
                Case::new("base", || 7),
                Case::batched(
                    "batched",
                    || {
                        runs.set(runs.get() + 1);
                        7
                    },
                    |reps| {
                        batched_reps.set(batched_reps.get() + reps);
                        // Claims 1 µs per repetition, whatever the clock says.
                        reps as f64 * 1_000.0
                    },
                ),
            ],
            &plan,
        );
        // `run` made only the warm-up run, whose output was checked.
        assert_eq!(runs.get(), 1);
        assert!(out[1].agrees);
        // Every timed sample is the batch's own figure over its repetitions.
        assert_eq!(out[1].stats.samples_ns, vec![1_000.0; 3]);
        assert!(batched_reps.get() >= 3 * out[1].stats.reps);
    }

    #[test]
    fn compare_runs_each_case_once_per_round_when_paused() {
        let calls = Cell::new(0u32);
        let mut plan = Plan::new(4, Duration::from_millis(1));
        plan.pause = Some(Duration::from_micros(10));
        let out = compare(
            vec![Case::new("only", || calls.set(calls.get() + 1))],
            &plan,
        );
        // One warm-up run plus one per round, never batched.
        assert_eq!(calls.get(), 5);
        assert_eq!(out[0].stats.reps, 1);
    }
}
