//! Fork-join and idle costs: what one `join`, one wake-up and one idle second cost.
//!
//! * `fib(n)` through `join` with no cut-off, and a sum over a perfect binary tree, at 1 and
//!   at `threads` threads, filch (its implicit `join` and `JoinContext::join`) beside rayon,
//!   against the plain recursion;
//! * the cost of a `join` of two empty closures inside `install`;
//! * the round trip to a pool that has had time to park: filch `apply_async(|| 1).get()`,
//!   rayon `spawn` + channel, and a raw `Mutex` + `Condvar` ping-pong as the floor;
//! * the CPU an idle pool burns, read per thread from `/proc` (see [`crate::machine::ThreadTimes`]).

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use crate::comparison::Comparison;
use crate::config::ForkJoinConfig;
use crate::machine::ThreadTimes;
use crate::measure::{compare, Case, Plan};
use crate::progress::Progress;
use crate::systems::std_threads::{self, PingPong};
use crate::systems::{filch_sys, rayon_sys};
use crate::systems::{ForkJoinSystem, MapSystem, Pools};
use crate::table::Table;
use crate::units::{fmt_count, fmt_ns};
use crate::workloads::{fib_joins, EmptyJoinsTask, FibTask, ForkJoinTask, Tree, TreeSumTask};

/// How long a freshly built pool is left alone before its idle CPU is measured, so that
/// start-up and the warm-up map are over and the workers had time to park.
pub const IDLE_SETTLE: Duration = Duration::from_millis(50);

/// Title of the empty-join comparison, for the report summary.
pub const EMPTY_JOIN_TITLE: &str = "empty join";

/// Title of the comparison of calls into a pool from a thread outside it.
pub const OUTSIDE_CALLS_TITLE: &str = "calls into the pool from outside";

/// Title of the round-trip comparison, for the report summary.
pub const ROUND_TRIP_TITLE: &str = "round trip to a parked pool";

/// The tree sum's row for plain scoped threads, one per subtree.
pub const TREE_STD_ROW: &str = "std::scope subtrees";

/// CPU burnt by an idle pool over a window of wall time.
#[derive(Debug, Clone, PartialEq)]
pub struct IdleCpu {
    /// The pool, e.g. `filch ×2`.
    pub system: String,
    /// Threads the pool added to the process.
    pub threads_seen: usize,
    /// CPU time of those threads during the window.
    pub cpu_ns: u64,
    /// Length of the window.
    pub wall_ns: u64,
    /// Where the CPU time was read.
    pub source: &'static str,
}

impl IdleCpu {
    /// CPU time as a percentage of one core over the window.
    pub fn percent_of_core(&self) -> f64 {
        100.0 * self.cpu_ns as f64 / self.wall_ns.max(1) as f64
    }
}

/// The idle-CPU table.
pub fn idle_table(rows: &[IdleCpu]) -> Table {
    let mut t = Table::new(["idle pool", "threads", "CPU used", "over", "% of one core"]);
    for r in rows {
        t.push_row([
            r.system.clone(),
            r.threads_seen.to_string(),
            fmt_ns(r.cpu_ns as f64),
            fmt_ns(r.wall_ns as f64),
            format!("{:.2}%", r.percent_of_core()),
        ]);
    }
    t
}

/// Everything this module measures.
#[derive(Debug, Clone, PartialEq)]
pub struct ForkJoinResult {
    /// fib, tree sum, empty join, round trip.
    pub comparisons: Vec<Comparison>,
    /// Idle CPU per pool.
    pub idle: Vec<IdleCpu>,
}

/// What the `serial, plain fn` and `serial + depth count` rows of the fib and tree tables
/// are.
const DEPTH_COUNT_NOTE: &str = "`serial` runs the same source as the schedulers with `join(a, b)` \
     being `(a(), b())` in a call of its own; `serial, plain fn` is the hand-written \
     recursion, which the compiler cuts differently; the overhead targets are judged \
     against whichever of the two is faster. `serial + depth count` is the plain recursion with one \
     thread-local counter raised before each fork's first half and restored after it: the \
     least per-fork bookkeeping a `join` without an explicit context can do, so the floor \
     for filch ×1 (`filch::join`) on this machine. `filch ctx` rows fork with \
     `JoinContext::join`, which is handed its worker as an argument and so is not bound \
     by that floor.";

/// Number of progress steps [`run`] reports.
pub const STEPS: u64 = 7;

/// Runs the fork-join experiments on `pools` and on 1-thread pools built here.
///
/// The idle-CPU measurement runs first, before anything has started filch's global pool,
/// so no thread outside the measured pool can be mistaken for it.
///
/// # Errors
/// If a 1-thread pool cannot be built.
pub fn run(
    cfg: &ForkJoinConfig,
    plan: &Plan,
    pools: &Pools,
    progress: &mut Progress,
) -> Result<ForkJoinResult, String> {
    let threads = pools.threads();
    progress.step("idle CPU of parked pools");
    let warm: Vec<u64> = (0..1_000).collect();
    let idle = vec![
        idle_cpu(
            &format!("filch ×{threads}"),
            cfg.idle_window,
            || filch_sys::pool(threads),
            |p| {
                black_box(p.map(&warm, |x| x + 1));
            },
        )?,
        idle_cpu(
            &format!("rayon ×{threads}"),
            cfg.idle_window,
            || rayon_sys::pool(threads),
            |p| {
                black_box(MapSystem::Rayon(p).map_slice(&warm, |x| x + 1));
            },
        )?,
    ];

    let (filch1, rayon1) = (filch_sys::pool(1)?, rayon_sys::pool(1)?);
    let systems = [
        ForkJoinSystem::Serial,
        ForkJoinSystem::SerialPlain,
        ForkJoinSystem::DepthCount,
        ForkJoinSystem::Filch(&filch1),
        ForkJoinSystem::Filch(&pools.filch),
        ForkJoinSystem::FilchContext(&filch1),
        ForkJoinSystem::FilchContext(&pools.filch),
        ForkJoinSystem::Rayon(&rayon1),
        ForkJoinSystem::Rayon(&pools.rayon),
    ];
    let mut comparisons = Vec::new();

    progress.step(&format!("fork-join: fib({})", cfg.fib_n));
    let fib = FibTask(cfg.fib_n);
    let joins = fib_joins(cfg.fib_n);
    comparisons.push(
        Comparison::new(
            format!("fib({}) via join, no cut-off", cfg.fib_n),
            format!("{} joins of ~ns tasks", fmt_count(joins)),
            compare(task_cases(&systems, &fib), plan),
        )
        .per(joins as f64, "join")
        .note(format!(
            "Every task is a few ns of work: this is scheduler overhead, nothing else. {DEPTH_COUNT_NOTE}"
        )),
    );

    progress.step(&format!("fork-join: tree sum, {} levels", cfg.tree_levels));
    let tree = Tree::perfect_in_own_heap(cfg.tree_levels);
    let nodes = Tree::perfect_nodes(cfg.tree_levels);
    let sum = TreeSumTask(&tree);
    let mut tree_cases = task_cases(&systems, &sum);
    let tree_ref = &tree;
    tree_cases.push(Case::new(TREE_STD_ROW, move || {
        std_threads::tree_sum(tree_ref, threads)
    }));
    comparisons.push(
        Comparison::new(
            format!("binary tree sum, 2^{} − 1 nodes", cfg.tree_levels),
            format!(
                "{} heap nodes, sum = value + join(sum(left), sum(right))",
                fmt_count(nodes)
            ),
            compare(tree_cases, plan),
        )
        .per(nodes as f64, "node")
        .note(format!(
            "Leaves return their value without a join; the tree is built once, untimed. \
             {DEPTH_COUNT_NOTE} `{TREE_STD_ROW}` sums the subtrees below the top level(s) on \
             one scoped thread each, no scheduler: where memory latency caps the walk, the \
             limit for {threads} threads."
        )),
    );
    drop(tree);

    progress.step("fork-join: empty join");
    let empties = EmptyJoinsTask(cfg.empty_joins);
    comparisons.push(
        Comparison::new(
            EMPTY_JOIN_TITLE,
            format!(
                "{} × join(|| 1, || 0) in a loop inside install",
                fmt_count(cfg.empty_joins)
            ),
            compare(task_cases(&systems, &empties), plan),
        )
        .per(cfg.empty_joins as f64, "join")
        .note("The serial row is one out-of-line call running both closures: the floor, not a competitor."),
    );
    drop((filch1, rayon1));

    progress.step("uneven work: skewed items, nested maps, Mandelbrot rows");
    let big = cfg.tree_levels >= 16;
    comparisons.extend(crate::uneven::run(
        crate::uneven::UnevenConfig::new(big),
        plan,
        pools,
    ));

    progress.step("fork-join: calls from outside the pool");
    comparisons.push(
        Comparison::new(
            OUTSIDE_CALLS_TITLE,
            format!(
                "{} × pool.join(|| 1, || 0), pool.install(|| 1) or pool.scope, one after another \
                 from a thread outside a {}-thread pool",
                fmt_count(cfg.outside_calls),
                pools.threads()
            ),
            compare(outside_call_cases(pools, cfg.outside_calls), plan),
        )
        .per(cfg.outside_calls as f64, "call")
        .note(
            "Each call sends a job into the pool and waits for it. The serial row runs both \
             closures on the calling thread: the floor, not a competitor.",
        ),
    );

    progress.step("round trip to a parked pool");
    let ping = PingPong::start();
    let trip_plan = Plan {
        rounds: cfg.round_trips,
        pause: Some(cfg.round_trip_pause),
        ..plan.clone()
    };
    let trips = compare(
        vec![
            Case::new("std Mutex+Condvar ping-pong", || ping.round_trip()),
            Case::new("filch apply_async(|| 1).get()", || {
                pools.filch.apply_async(|| 1u64).get()
            }),
            Case::new("rayon spawn + channel", || {
                rayon_sys::spawn_round_trip(&pools.rayon)
            }),
        ],
        &trip_plan,
    );
    drop(ping);
    comparisons.push(
        Comparison::new(
            ROUND_TRIP_TITLE,
            format!(
                "one job to a pool idle for {} before each of {} rounds",
                fmt_ns(cfg.round_trip_pause.as_nanos() as f64),
                cfg.round_trips
            ),
            trips,
        )
        .note(
            "Mostly the cost of waking a parked thread and being woken back. Over this many \
             rounds the slowest one is always far from the median (a preemption, a timer \
             tick), so the noisy flag says little here: read the median.",
        ),
    );
    Ok(ForkJoinResult { comparisons, idle })
}

fn task_cases<'a, T: ForkJoinTask>(
    systems: &'a [ForkJoinSystem<'a>],
    task: &'a T,
) -> Vec<Case<'a, T::Output>> {
    systems
        .iter()
        .map(|sys| Case::new(sys.label(), move || sys.run(task)))
        .collect()
}

/// Builds a pool, runs `warm` on it, waits [`IDLE_SETTLE`], then measures the CPU time of
/// the threads it added to the process over `window`.
fn idle_cpu<P>(
    system: &str,
    window: Duration,
    build: impl FnOnce() -> Result<P, String>,
    warm: impl Fn(&P),
) -> Result<IdleCpu, String> {
    let before = ThreadTimes::now();
    let pool = build()?;
    warm(&pool);
    thread::sleep(IDLE_SETTLE);
    let start_cpu = ThreadTimes::now();
    let added: Vec<i32> = start_cpu
        .ns
        .keys()
        .filter(|tid| !before.ns.contains_key(tid))
        .copied()
        .collect();
    let start = Instant::now();
    thread::sleep(window);
    let end_cpu = ThreadTimes::now();
    let wall_ns = start.elapsed().as_nanos() as u64;
    drop(pool);
    Ok(IdleCpu {
        system: system.to_string(),
        threads_seen: added.len(),
        cpu_ns: start_cpu.spent_since(&end_cpu, &added),
        wall_ns,
        source: start_cpu.source,
    })
}

/// `calls` calls into each pool from this thread (outside both), summing what they return.
fn outside_call_cases(pools: &Pools, calls: u64) -> Vec<Case<'_, u64>> {
    let (filch, rayon) = (&pools.filch, &pools.rayon);
    let one = || black_box(1u64);
    let zero = || black_box(0u64);
    let pair = |(a, b): (u64, u64)| a + b;
    vec![
        Case::new("serial", move || {
            (0..calls).map(|_| pair((one(), zero()))).sum()
        }),
        Case::new("filch pool.join", move || {
            (0..calls).map(|_| pair(filch.join(one, zero))).sum()
        }),
        Case::new("rayon pool.join", move || {
            (0..calls).map(|_| pair(rayon.join(one, zero))).sum()
        }),
        Case::new("filch pool.install", move || {
            (0..calls).map(|_| filch.install(one)).sum()
        }),
        Case::new("rayon pool.install", move || {
            (0..calls).map(|_| rayon.install(one)).sum()
        }),
        Case::new("filch pool.scope", move || {
            (0..calls).map(|_| filch.scope(|_| one())).sum()
        }),
        Case::new("rayon pool.scope", move || {
            (0..calls).map(|_| rayon.scope(|_| one())).sum()
        }),
    ]
}
