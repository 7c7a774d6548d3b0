//! Blocking items sharing a pool with CPU-bound work : does a map
//! whose items sleep starve a CPU-bound map submitted to the same pool meanwhile?
//!
//! Per system, a CPU-bound map (items of calibrated spin) is timed **alone** and
//! **alongside** a map of sleeping items that another OS thread, started just before, runs
//! on the same pool. Two figures per system:
//!
//! * **throughput kept** = CPU map alone ÷ CPU map alongside (1.0: unaffected), formed
//!   per round from the two runs made back to back and summarised by the median over the
//!   rounds, so a slow stretch of a shared machine shifts both halves of a ratio alike;
//! * the sleeping map's own wall time, in multiples of one sleep.
//!
//! The systems differ only in how the sleeping map runs: filch with each sleep wrapped in
//! `filch::blocking`, filch without the marker, rayon (sleep inside `par_iter`, CPU map on
//! the same rayon pool), and a `std` thread per sleeping item (CPU map on the filch pool),
//! which is the reference: sleeping threads hold no pool worker at all.
//!
//! [`crate::measure::compare`] times one closure per case and cannot time one job while
//! another runs, so this module has its own small loop with the same protocol: a discarded
//! warm-up round (which also checks every output), then rounds in which the systems run in
//! the round's order (`measure::round_order`), alone and alongside adjacent (which one first
//! alternates with the round), and the median of the rounds.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::calibrate::Spin;
use crate::config::BlockingConfig;
use crate::measure::{median, round_order, Stats};
use crate::progress::Progress;
use crate::systems::{std_threads, MapSystem, Pools};
use crate::table::Table;
use crate::units::{fmt_count, fmt_ns, fmt_ratio, fmt_work};
use crate::workloads::{parity_word, sleepy_square, spin};

/// Label of the row whose sleeping items are wrapped in `filch::blocking`.
pub const MARKED_ROW: &str = "filch + blocking";

/// Label of the rayon row.
pub const RAYON_ROW: &str = "rayon";

/// How often the main thread checks whether the sleeping map has started an item.
const START_POLL: Duration = Duration::from_micros(20);

/// How the sleeping map runs (and, implicitly, which pool the CPU map uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sleeper {
    /// filch `pool.map`, each sleep inside `filch::blocking`; CPU map on the same pool.
    FilchMarked,
    /// filch `pool.map` with plain sleeps; CPU map on the same pool.
    FilchUnmarked,
    /// rayon `par_iter().map` with plain sleeps; CPU map on the same rayon pool.
    Rayon,
    /// A `std` thread per sleeping item; CPU map on the filch pool.
    ThreadPerItem,
}

impl Sleeper {
    /// Every system, in table order.
    pub const ALL: [Sleeper; 4] = [
        Sleeper::FilchMarked,
        Sleeper::FilchUnmarked,
        Sleeper::Rayon,
        Sleeper::ThreadPerItem,
    ];

    /// The label in tables.
    pub fn label(self) -> &'static str {
        match self {
            Sleeper::FilchMarked => MARKED_ROW,
            Sleeper::FilchUnmarked => "filch, unmarked",
            Sleeper::Rayon => RAYON_ROW,
            Sleeper::ThreadPerItem => "std::thread per item (CPU map on filch)",
        }
    }
}

/// One system's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedRow {
    /// The system's label.
    pub system: String,
    /// The CPU map with the pool to itself, per round.
    pub alone: Stats,
    /// The CPU map while the sleeping map runs, per round.
    pub alongside: Stats,
    /// The sleeping map's wall time (while the CPU map runs beside it), per round.
    pub sleeping: Stats,
    /// Whether every output (CPU map alone and alongside, sleeping map) was right.
    pub agrees: bool,
}

impl SharedRow {
    /// Throughput kept: the median over the rounds of that round's CPU map alone ÷
    /// alongside (the two runs were back to back). 1.0: the sleeping map did not slow it.
    pub fn kept(&self) -> f64 {
        let ratios: Vec<f64> = self
            .alone
            .samples_ns
            .iter()
            .zip(&self.alongside.samples_ns)
            .map(|(a, b)| a / b)
            .collect();
        median(&ratios)
    }

    /// The sleeping map's median wall time in multiples of one sleep of `sleep_ns`.
    pub fn sleeps(&self, sleep_ns: f64) -> f64 {
        self.sleeping.median_ns / sleep_ns
    }

    /// Whether any of the three timings spread more than the noise threshold.
    pub fn is_noisy(&self) -> bool {
        self.alone.is_noisy() || self.alongside.is_noisy() || self.sleeping.is_noisy()
    }
}

/// Everything this section measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockingResult {
    /// The parameters, as one line.
    pub setup: String,
    /// One sleep, ns.
    pub sleep_ns: f64,
    /// Sleeping items.
    pub sleep_items: usize,
    /// Threads of the pools.
    pub threads: usize,
    /// One row per [`Sleeper`].
    pub rows: Vec<SharedRow>,
}

impl BlockingResult {
    /// The row labelled `system`.
    pub fn row(&self, system: &str) -> Option<&SharedRow> {
        self.rows.iter().find(|r| r.system == system)
    }

    /// The table: system, CPU map alone and alongside, throughput kept, sleeping map wall
    /// time and in sleeps, flag.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "sleeping map on",
            "CPU map alone",
            "CPU map alongside",
            "throughput kept",
            "sleeping map",
            "in sleeps",
            "flag",
        ]);
        for r in &self.rows {
            let flag = if !r.agrees {
                "WRONG OUTPUT".to_string()
            } else if r.is_noisy() {
                "noisy".to_string()
            } else {
                String::new()
            };
            t.push_row([
                r.system.clone(),
                fmt_ns(r.alone.median_ns),
                fmt_ns(r.alongside.median_ns),
                fmt_ratio(r.kept()),
                fmt_ns(r.sleeping.median_ns),
                fmt_ratio(r.sleeps(self.sleep_ns)),
                flag,
            ]);
        }
        t
    }

    /// Noisy or wrong rows, as text.
    pub fn warnings(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|r| {
                if !r.agrees {
                    Some(format!("{}: wrong output", r.system))
                } else if r.is_noisy() {
                    Some(format!(
                        "{}: noisy (spread alone {:.0}%, alongside {:.0}%, sleeping {:.0}%)",
                        r.system,
                        r.alone.spread() * 100.0,
                        r.alongside.spread() * 100.0,
                        r.sleeping.spread() * 100.0
                    ))
                } else {
                    None
                }
            })
            .collect()
    }
}

/// How to read [`BlockingResult::table`], for the report and stdout.
pub const HOW_TO_READ: &str = "How to read it: each row is one way of running the sleeping \
map. \"CPU map alone\" is the CPU-bound map with its pool to itself; \"CPU map alongside\" is \
the same map started as soon as the first sleeping item has begun, on the same pool, while \
the sleeping map runs on another OS thread. \"Throughput kept\" is alone ÷ alongside, taken \
per round (the two runs are back to back) and shown as the median over the rounds, so it can \
differ from the ratio of the two medians beside it: 1.00x means the sleepers cost the CPU map \
nothing, 0.50x that it ran at half speed (one of two workers held by a sleeper), lower that it \
waited for the sleepers to finish. \"In sleeps\" is the sleeping map's wall time in multiples \
of one sleep: about 1 when every item sleeps at once, items ÷ threads when the pool's workers \
sleep in waves. A std thread per item is the reference for both (it holds no worker at all); \
filch + blocking should match it, filch without the marker and rayon show what a pool does \
without one. Times are medians over the rounds; every round measures each system alone and \
alongside back to back, systems in an order that changes with the round, after a discarded warm-up \
round that also checks every output.";

/// Number of progress steps [`run`] reports.
pub const STEPS: u64 = 1;

/// One measurement of one system: the CPU map's time, the sleeping map's time (alongside
/// only) and whether the outputs were right.
struct Sample {
    cpu_ns: f64,
    sleeping_ns: f64,
    agrees: bool,
}

/// The section's workload: the CPU items and their expected outputs, the sleeping items
/// and theirs.
struct Work<'a> {
    pools: &'a Pools,
    cpu_items: Vec<u64>,
    iters: u64,
    cpu_expected: Vec<u64>,
    sleep_items: Vec<u64>,
    sleep_expected: Vec<&'static str>,
    nap: Duration,
}

impl Work<'_> {
    fn cpu_map(&self, sys: Sleeper) -> Vec<u64> {
        let iters = self.iters;
        let f = move |&x: &u64| spin(black_box(iters), x);
        match sys {
            Sleeper::Rayon => MapSystem::Rayon(&self.pools.rayon).map_slice(&self.cpu_items, f),
            _ => self.pools.filch.map(&self.cpu_items, f),
        }
    }

    /// The sleeping map; `started` counts items that began (before their sleep).
    fn sleeping_map(&self, sys: Sleeper, started: &AtomicUsize) -> Vec<&'static str> {
        let nap = self.nap;
        let plain = |&x: &u64| {
            started.fetch_add(1, Ordering::Release);
            sleepy_square(x, nap)
        };
        let items = &self.sleep_items;
        match sys {
            Sleeper::FilchMarked => self.pools.filch.map(items, |&x| {
                started.fetch_add(1, Ordering::Release);
                filch::blocking(|| sleepy_square(x, nap))
            }),
            Sleeper::FilchUnmarked => self.pools.filch.map(items, plain),
            Sleeper::Rayon => MapSystem::Rayon(&self.pools.rayon).map_slice(items, plain),
            Sleeper::ThreadPerItem => std_threads::thread_per_item(items, plain),
        }
    }

    fn alone(&self, sys: Sleeper) -> Sample {
        let start = Instant::now();
        let out = self.cpu_map(sys);
        let cpu_ns = start.elapsed().as_nanos() as f64;
        Sample {
            cpu_ns,
            sleeping_ns: f64::NAN,
            agrees: out == self.cpu_expected,
        }
    }

    /// Starts the sleeping map on another thread, waits until its first item has begun
    /// (so the CPU map really is submitted to a pool the sleepers already occupy), then
    /// times the CPU map, then waits for the sleeping map.
    fn alongside(&self, sys: Sleeper) -> Sample {
        let started = AtomicUsize::new(0);
        thread::scope(|scope| {
            let sleeping = scope.spawn(|| {
                let start = Instant::now();
                let out = self.sleeping_map(sys, &started);
                (start.elapsed().as_nanos() as f64, out)
            });
            while started.load(Ordering::Acquire) == 0 && !sleeping.is_finished() {
                thread::sleep(START_POLL);
            }
            let start = Instant::now();
            let out = self.cpu_map(sys);
            let cpu_ns = start.elapsed().as_nanos() as f64;
            let (sleeping_ns, slept) = sleeping
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            Sample {
                cpu_ns,
                sleeping_ns,
                agrees: out == self.cpu_expected && slept == self.sleep_expected,
            }
        })
    }
}

/// Runs the section on `pools` (both of the configured size).
pub fn run(
    cfg: &BlockingConfig,
    spin_rate: &Spin,
    pools: &Pools,
    progress: &mut Progress,
) -> BlockingResult {
    progress.step("blocking items beside CPU-bound work");
    let iters = spin_rate.iters_for(cfg.cpu_work_ns);
    let cpu_items: Vec<u64> = (0..cfg.cpu_items as u64).collect();
    let cpu_expected = cpu_items.iter().map(|&x| spin(iters, x)).collect();
    let sleep_items: Vec<u64> = (0..cfg.sleep_items as u64).collect();
    let sleep_expected = sleep_items.iter().map(|&x| parity_word(x * x)).collect();
    let work = Work {
        pools,
        cpu_items,
        iters,
        cpu_expected,
        sleep_items,
        sleep_expected,
        nap: cfg.sleep,
    };

    let systems = Sleeper::ALL;
    let mut agrees = [true; Sleeper::ALL.len()];
    let mut alone = vec![Vec::with_capacity(cfg.rounds); systems.len()];
    let mut alongside = vec![Vec::with_capacity(cfg.rounds); systems.len()];
    let mut sleeping = vec![Vec::with_capacity(cfg.rounds); systems.len()];
    // Round 0 is the warm-up: outputs checked, times discarded.
    for round in 0..=cfg.rounds.max(1) {
        for i in round_order(round, systems.len()) {
            let sys = systems[i];
            let (a, b) = if round % 2 == 0 {
                let a = work.alone(sys);
                (a, work.alongside(sys))
            } else {
                let b = work.alongside(sys);
                (work.alone(sys), b)
            };
            agrees[i] &= a.agrees && b.agrees;
            if round > 0 {
                alone[i].push(a.cpu_ns);
                alongside[i].push(b.cpu_ns);
                sleeping[i].push(b.sleeping_ns);
            }
        }
    }

    let rows = systems
        .iter()
        .enumerate()
        .map(|(i, sys)| SharedRow {
            system: sys.label().to_string(),
            alone: Stats::from_samples(std::mem::take(&mut alone[i]), 1),
            alongside: Stats::from_samples(std::mem::take(&mut alongside[i]), 1),
            sleeping: Stats::from_samples(std::mem::take(&mut sleeping[i]), 1),
            agrees: agrees[i],
        })
        .collect();
    let sleep_ns = cfg.sleep.as_nanos() as f64;
    BlockingResult {
        setup: format!(
            "CPU map: {} items of {} spin ({} serial); sleeping map: {} items of {} sleep; \
             one {}-thread pool per library; {} round(s)",
            fmt_count(cfg.cpu_items as u64),
            fmt_work(cfg.cpu_work_ns),
            fmt_ns(cfg.cpu_items as f64 * cfg.cpu_work_ns as f64),
            cfg.sleep_items,
            fmt_ns(sleep_ns),
            pools.threads(),
            cfg.rounds.max(1)
        ),
        sleep_ns,
        sleep_items: cfg.sleep_items,
        threads: pools.threads(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(v: f64) -> Stats {
        Stats::from_samples(vec![v; 3], 1)
    }

    #[test]
    fn kept_is_alone_over_alongside_and_sleeps_are_wall_over_one_sleep() {
        let row = SharedRow {
            system: MARKED_ROW.into(),
            alone: stats(50.0),
            alongside: stats(100.0),
            sleeping: stats(260.0),
            agrees: true,
        };
        assert_eq!(row.kept(), 0.5);
        assert_eq!(row.sleeps(200.0), 1.3);
        let result = BlockingResult {
            setup: "s".into(),
            sleep_ns: 200.0,
            sleep_items: 10,
            threads: 2,
            rows: vec![row],
        };
        let t = result.table();
        assert_eq!(t.rows[0][3], "0.500x");
        assert_eq!(t.rows[0][5], "1.30x");
        assert!(result.row(MARKED_ROW).is_some() && result.row("x").is_none());
        assert!(result.warnings().is_empty());
    }

    #[test]
    fn a_tiny_run_measures_every_system_with_right_outputs() {
        let pools = Pools::new(2).unwrap();
        let cfg = BlockingConfig {
            cpu_items: 8,
            cpu_work_ns: 1_000,
            sleep_items: 4,
            sleep: Duration::from_millis(1),
            rounds: 1,
        };
        let r = run(&cfg, &Spin::with_rate(1.0), &pools, &mut Progress::silent());
        assert_eq!(r.rows.len(), Sleeper::ALL.len());
        for row in &r.rows {
            assert!(row.agrees, "{}", row.system);
            // Four 1 ms sleeps: at least one sleep, whatever the system.
            assert!(row.sleeps(r.sleep_ns) >= 1.0, "{}", row.system);
        }
    }
}
