//! Four blog posts on Python's `multiprocessing` (the seeds), ported to Rust and timed on
//! the serial loop, filch, rayon and `std` threads. Each comparison's note quotes what the
//! Python author measured, so the report can say where a thread pool in Rust changes the
//! conclusion (start-up of processes vs. threads) and where it does not (too little work).
//!
//! | seed | Python | here |
//! |---|---|---|
//! | 000 | `Pool(4).map(computation, range(10**7))` | [`poly`] over 10^7 (quick 10^6) f64 |
//! | 001 | `Pool(12).map(f, 100 random ints)`, `f = x*x`; then `f` = 10^5 / 10^7 `log`s | [`square`], [`log_loop`]; 12-thread pools |
//! | 002 | `starmap(g, pairs)`, `map(partial(g, 2), range(3))` | `pool.starmap`, `filch::partial`, `partial_last` |
//! | 003 | 10 items sleeping 2 s: `Process` per item vs `Pool.map` | [`sleepy_square`], 50 ms (quick) |

use std::time::Duration;

use crate::comparison::Comparison;
use crate::config::SeedsConfig;
use crate::measure::{compare, Case, Plan};
use crate::progress::Progress;
use rayon::prelude::*;

use crate::systems::{filch_sys, map_cases, rayon_sys, std_threads, MapSystem, Pools};
use crate::units::{fmt_count, fmt_ns};
use crate::workloads::{add, log_loop, poly, random_ints, sleepy_square, square};

/// Seed for the pseudo-random inputs, fixed so every run squares the same numbers.
const RANDOM_SEED: u64 = 0x5EED_0001;

/// Title of the headline comparison (pool overhead on a tiny map), for the report summary.
pub const SQUARES_TITLE: &str = "seed 001: squares of random ints";

/// Title of the same map at [`SeedsConfig::square_items_large`] items (the overhead target's second
/// overhead target).
pub const SQUARES_LARGE_TITLE: &str = "seed 001: more squares of random ints";

/// Title prefix of the log-loop comparisons (the 10^5-iteration one comes first).
pub const LOG_LOOP_TITLE: &str = "seed 001: log loop";

/// Title of the polynomial comparison.
pub const POLY_TITLE: &str = "seed 000: polynomial map";

/// Title of the sleeping-items comparison.
pub const SLEEP_TITLE: &str = "seed 003: sleeping items";

/// Label of the seed 003 row whose items are each wrapped in `filch::blocking`.
pub const SLEEP_BLOCKING_ROW: &str = "filch + blocking";

/// Number of progress steps [`run`] reports for `cfg`.
pub fn steps(cfg: &SeedsConfig) -> u64 {
    // poly, squares, more squares, log loop, [long log loop], one per pair size, sleep
    5 + u64::from(cfg.log_long.is_some()) + cfg.pair_sizes.len() as u64
}

/// One of the four seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// 000: a polynomial mapped over 10^7 floats.
    Polynomial,
    /// 001: squares of 100 ints, then a log loop, on 12-thread pools too.
    SmallVsHeavy,
    /// 002: `starmap`, `partial` and `partial_last`, and `imap` collected.
    StarmapPartial,
    /// 003: ten sleeping items.
    SleepingItems,
}

impl Seed {
    /// The seeds in the report's order.
    pub const ALL: [Seed; 4] = [
        Seed::Polynomial,
        Seed::SmallVsHeavy,
        Seed::StarmapPartial,
        Seed::SleepingItems,
    ];
}

/// Runs every seed experiment.
///
/// # Errors
/// If an extra pool (the 12-thread ones) cannot be built.
pub fn run(
    cfg: &SeedsConfig,
    plan: &Plan,
    pools: &Pools,
    progress: &mut Progress,
) -> Result<Vec<Comparison>, String> {
    let mut out = Vec::new();
    for seed in Seed::ALL {
        out.extend(run_seed(seed, cfg, plan, pools, progress)?);
    }
    Ok(out)
}

/// Runs one seed's experiments.
///
/// # Errors
/// If an extra pool (seed 001's 12-thread ones) cannot be built.
pub fn run_seed(
    seed: Seed,
    cfg: &SeedsConfig,
    plan: &Plan,
    pools: &Pools,
    progress: &mut Progress,
) -> Result<Vec<Comparison>, String> {
    let mut out = Vec::new();
    match seed {
        Seed::Polynomial => {
            progress.step("seed 000: polynomial");
            out.push(seed000_poly(cfg, plan, pools));
        }
        Seed::SmallVsHeavy => {
            progress.step("seed 001: squares");
            out.push(seed001_squares(cfg, cfg.square_items, plan, pools));
            progress.step("seed 001: more squares");
            out.push(seed001_squares(cfg, cfg.square_items_large, plan, pools));
            let over = cfg.oversubscribed_threads;
            let oversubscribed = (&filch_sys::pool(over)?, &rayon_sys::pool(over)?);
            progress.step("seed 001: log loop");
            let loop_size = (cfg.log_items, cfg.log_iters);
            out.push(seed001_log_loop(loop_size, plan, pools, oversubscribed));
            if let Some(long) = cfg.log_long {
                progress.step("seed 001: long log loop");
                let plan = plan.with_rounds(plan.rounds.min(5));
                out.push(seed001_log_loop(long, &plan, pools, oversubscribed));
            }
        }
        Seed::StarmapPartial => {
            for &n in &cfg.pair_sizes {
                progress.step(&format!("seed 002: starmap/partial, {n} items"));
                out.extend(seed002(n, plan, pools));
            }
        }
        Seed::SleepingItems => {
            progress.step("seed 003: sleeping items");
            let plan = plan.with_rounds(cfg.sleep_rounds);
            out.push(seed003_sleep(cfg.sleep_items, cfg.sleep, &plan, pools));
        }
    }
    Ok(out)
}

fn threads_note(pools: &Pools) -> String {
    format!("{} threads", pools.threads())
}

/// Seed 000: the polynomial over `0..n` as f64.
fn seed000_poly(cfg: &SeedsConfig, plan: &Plan, pools: &Pools) -> Comparison {
    let inputs: Vec<f64> = (0..cfg.poly_items).map(|i| i as f64).collect();
    let systems = [
        MapSystem::Serial,
        MapSystem::Filch(&pools.filch),
        MapSystem::FilchOnWorker(&pools.filch),
        MapSystem::Rayon(&pools.rayon),
        MapSystem::StdScope(pools.threads()),
    ];
    let outcomes = compare(map_cases(&systems, &inputs, |&z| poly(z)), plan);
    Comparison::new(
        POLY_TITLE,
        format!(
            "{} f64 inputs, x=z²+0.5; y=x²+0.6; y²+0.7, {}",
            fmt_count(cfg.poly_items as u64),
            threads_note(pools)
        ),
        outcomes,
    )
    .per(cfg.poly_items as f64, "item")
    .note(
        "Python, 10^7 inputs: Pool(4) 52.8 s vs serial 89.4 s (1.7x); 10 inputs: \
         0.157 s vs 0.00018 s. Compiled, the polynomial costs about a nanosecond per item \
         (per item column): compare with the threshold sweep's break-even work per item \
         at this N to see why a pool gains little or nothing here.",
    )
}

/// Seed 001, first half: `x * x` over `items` random ints — the headline overhead case at
/// the seed's own 100 items; at [`SeedsConfig::square_items_large`] it shows how fast the
/// overhead is amortised. Only the seed's own size gets the "new pool" rows.
fn seed001_squares(cfg: &SeedsConfig, items: usize, plan: &Plan, pools: &Pools) -> Comparison {
    let own_size = items == cfg.square_items;
    let inputs = random_ints(items, 0, 1000, RANDOM_SEED);
    let over = cfg.oversubscribed_threads;
    let systems = [
        MapSystem::Serial,
        MapSystem::Filch(&pools.filch),
        MapSystem::FilchGlobal,
        MapSystem::Rayon(&pools.rayon),
        MapSystem::StdScope(pools.threads()),
    ];
    let f = |&x: &i64| square(x);
    let mut cases = map_cases(&systems, &inputs, f);
    let inputs = &inputs;
    if own_size {
        cases.push(Case::new(
            format!("new filch pool ×{over} + map"),
            move || {
                filch_sys::pool(over)
                    .expect("a new filch pool")
                    .map(inputs, f)
            },
        ));
        cases.push(Case::new(
            format!("new rayon pool ×{over} + map"),
            move || {
                MapSystem::Rayon(&rayon_sys::pool(over).expect("a new rayon pool"))
                    .map_slice(inputs, f)
            },
        ));
    }
    Comparison::new(
        if own_size {
            SQUARES_TITLE
        } else {
            SQUARES_LARGE_TITLE
        },
        format!(
            "{} ints in [0, 1000), f(x) = x*x, {} (filch::map uses the global pool)",
            fmt_count(items as u64),
            threads_note(pools)
        ),
        compare(cases, plan),
    )
    .note(if own_size {
        "Python: Pool(12).map 0.472 s vs a for-loop 0.0025 s (0.005x), the pool's time \
         including starting 12 processes. The 'new pool ×12' rows are the Rust equivalent \
         of that (threads instead of processes); the warm-pool rows are the per-call cost."
    } else {
        "Ten times the seed's size, still far too little work to split: the overhead target asks that \
         a map called from outside the pool cost at most 1.3x the serial loop here (3x at \
         the seed's 100 items), i.e. that a pool notice when splitting cannot pay."
    })
}

/// Seed 001, second half: `iters` logarithms per item, on the shared pools and on pools with
/// more threads than cores.
fn seed001_log_loop(
    (items, iters): (usize, u64),
    plan: &Plan,
    pools: &Pools,
    (filch_over, rayon_over): (&filch::Pool, &rayon::ThreadPool),
) -> Comparison {
    let inputs: Vec<f64> = random_ints(items, 1, 1000, RANDOM_SEED)
        .into_iter()
        .map(|x| x as f64)
        .collect();
    let f = move |&x: &f64| log_loop(x, iters);
    let systems = [
        MapSystem::Serial,
        MapSystem::Filch(&pools.filch),
        MapSystem::Rayon(&pools.rayon),
        MapSystem::StdScope(pools.threads()),
    ];
    let mut cases = map_cases(&systems, &inputs, f);
    let over = filch_over.threads();
    let inputs_ref = &inputs;
    let filch = &pools.filch;
    cases.push(Case::new("filch imap", move || {
        filch
            .imap(inputs_ref.clone(), move |x: f64| log_loop(x, iters))
            .collect::<Vec<_>>()
    }));
    cases.push(Case::new("filch imap_unordered", move || {
        // Completion order: each result carries its index and is put back
        // in place (O(n)), so the output check compares like with like.
        let indexed: Vec<(usize, f64)> = inputs_ref.iter().copied().enumerate().collect();
        let done =
            filch.imap_unordered(indexed, move |(i, x): (usize, f64)| (i, log_loop(x, iters)));
        let mut restored = vec![0.0; inputs_ref.len()];
        for (i, value) in done {
            restored[i] = value;
        }
        restored
    }));
    cases.push(Case::new(format!("filch ×{over}"), move || {
        filch_over.map(inputs_ref, f)
    }));
    cases.push(Case::new(format!("rayon ×{over}"), move || {
        MapSystem::Rayon(rayon_over).map_slice(inputs_ref, f)
    }));
    let python = if iters >= 10_000_000 {
        "Python, 10^7 iterations: Pool(12) 12.6 s vs serial 53.5 s (4.3x on 8 cores)."
    } else {
        "Python, 10^5 iterations: Pool(12) 1.39 s vs serial 1.99 s (1.4x on 8 cores)."
    };
    Comparison::new(
        format!("{LOG_LOOP_TITLE}, {} iterations", fmt_count(iters)),
        format!(
            "{items} items, each {} × ln, {}; ×{over} = more workers than cores",
            fmt_count(iters),
            threads_note(pools)
        ),
        compare(cases, plan),
    )
    .per(items as f64, "item")
    .note(format!(
        "{python} Each item is far more work than any break-even point, so the ideal \
         speed-up is the thread count ({}); the ×{over} rows show what time-slicing {over} \
         threads on {} cores costs.",
        pools.threads(),
        pools.threads()
    ))
}

/// The row of the closure a Rust user writes instead of `partial`.
pub const FILCH_CLOSURE_ROW: &str = "filch map(closure)";

/// The row of the same map made lazily and collected.
pub const IMAP_COLLECT_ROW: &str = "filch imap(..).collect()";

/// The row of a lazy iterator with no threads, collected: the floor for the imap row.
pub const LAZY_FLOOR_ROW: &str = "std buffered iterator .collect()";

/// Items per buffer of [`LAZY_FLOOR_ROW`]: the largest batch `imap` computes on its consumer.
const LAZY_FLOOR_CHUNK: usize = 4_096;

/// Seed 002 at size `n`: `starmap` over pairs, `map(partial(g, 2))`, `map(partial_last(g, 3))`.
fn seed002(n: usize, plan: &Plan, pools: &Pools) -> Vec<Comparison> {
    let threads = threads_note(pools);
    let (filch, rayon) = (&pools.filch, &pools.rayon);

    // starmap over (1, 2), (3, 4), …: the seed's own pairs for n = 2.
    let pairs: Vec<(i64, i64)> = (0..n as i64).map(|i| (2 * i + 1, 2 * i + 2)).collect();
    let pairs_ref = &pairs;
    let star = compare(
        vec![
            Case::new("serial", || {
                pairs_ref
                    .iter()
                    .map(|&(a, b)| add(a, b))
                    .collect::<Vec<_>>()
            }),
            Case::new("filch starmap", || {
                filch.starmap(pairs_ref.iter().copied(), add)
            }),
            Case::new("filch map (tuple)", || {
                filch.map(pairs_ref, |&(a, b)| add(a, b))
            }),
            Case::new("rayon", || {
                MapSystem::Rayon(rayon).map_slice(pairs_ref, |&(a, b)| add(a, b))
            }),
        ],
        plan,
    );

    let m = n.max(3) as i64;
    let partial = compare(
        vec![
            Case::new("serial", || (0..m).map(|b| add(2, b)).collect::<Vec<_>>()),
            Case::new("filch map(partial)", || {
                filch.map(0..m, filch::partial(add, 2))
            }),
            Case::new(FILCH_CLOSURE_ROW, || filch.map(0..m, |b| add(2, b))),
            Case::new(IMAP_COLLECT_ROW, || {
                filch.imap(0..m, |b| add(2, b)).collect::<Vec<_>>()
            }),
            Case::new(LAZY_FLOOR_ROW, || {
                std_threads::Buffered::new(0..m, |b| add(2, b), LAZY_FLOOR_CHUNK)
                    .collect::<Vec<_>>()
            }),
            Case::new("rayon", || {
                rayon.install(|| {
                    (0..m)
                        .into_par_iter()
                        .map(|b| add(2, b))
                        .collect::<Vec<_>>()
                })
            }),
        ],
        plan,
    );
    let partial_last = compare(
        vec![
            Case::new("serial", || (0..m).map(|a| add(a, 3)).collect::<Vec<_>>()),
            Case::new("filch map(partial_last)", || {
                filch.map(0..m, filch::partial_last(add, 3))
            }),
            Case::new(FILCH_CLOSURE_ROW, || filch.map(0..m, |a| add(a, 3))),
            Case::new("rayon", || {
                rayon.install(|| {
                    (0..m)
                        .into_par_iter()
                        .map(|a| add(a, 3))
                        .collect::<Vec<_>>()
                })
            }),
        ],
        plan,
    );
    vec![
        Comparison::new(
            format!(
                "seed 002: starmap g(a, b) = a + b, {} pairs",
                fmt_count(n as u64)
            ),
            format!("pairs (1, 2), (3, 4), …, {threads}"),
            star,
        )
        .note("Python: pool.starmap(g, [(1, 2), (3, 4)]) -> [3, 7]; no timing given."),
        Comparison::new(
            format!(
                "seed 002: map(partial(g, 2)), {} items",
                fmt_count(m as u64)
            ),
            format!("range(0, {m}), {threads}"),
            partial,
        )
        .note(format!(
            "Python: pool.map(partial(g, 2), range(3)) -> [2, 3, 4]. `{LAZY_FLOOR_ROW}` is a \
             lazy iterator with no threads that maps {LAZY_FLOOR_CHUNK} items at a time into \
             a buffer: collecting any lazy iterator calls `next` once per item, which is the \
             floor for `{IMAP_COLLECT_ROW}` however cheap the items."
        )),
        Comparison::new(
            format!(
                "seed 002: map(partial_last(g, 3)), {} items",
                fmt_count(m as u64)
            ),
            format!("range(0, {m}), {threads}"),
            partial_last,
        )
        .note("Python: pool.map(partial(g, b=3), range(3)) -> [3, 4, 5]."),
    ]
}

/// Seed 003: `items` items that each sleep `nap`.
fn seed003_sleep(items: usize, nap: Duration, plan: &Plan, pools: &Pools) -> Comparison {
    let inputs: Vec<u64> = (0..items as u64).collect();
    let f = move |&x: &u64| sleepy_square(x, nap);
    let systems = [
        MapSystem::Serial,
        MapSystem::Filch(&pools.filch),
        MapSystem::FilchChunked(&pools.filch, 1),
        MapSystem::Rayon(&pools.rayon),
    ];
    let mut cases = map_cases(&systems, &inputs, f);
    let inputs_ref = &inputs;
    cases.insert(
        1,
        Case::new("std::thread per item", move || {
            std_threads::thread_per_item(inputs_ref, f)
        }),
    );
    // The sleep marked with `filch::blocking`: spares stand in for the
    // sleeping workers.
    let marked = move |&x: &u64| filch::blocking(|| sleepy_square(x, nap));
    let filch = &pools.filch;
    cases.push(Case::new(SLEEP_BLOCKING_ROW, move || {
        filch.map(inputs_ref, marked)
    }));
    cases.push(Case::new("filch c=1 + blocking", move || {
        MapSystem::FilchChunked(filch, 1).map_slice(inputs_ref, marked)
    }));
    // The lazy iterators, auto chunking, each item marked the same way. imap_unordered
    // yields in completion order: each result carries its index and is put back in
    // place (O(n)), so the output check compares like with like.
    cases.push(Case::new("filch imap + blocking", move || {
        filch
            .imap(inputs_ref.clone(), move |x: u64| {
                filch::blocking(|| sleepy_square(x, nap))
            })
            .collect::<Vec<_>>()
    }));
    cases.push(Case::new("filch imap_unordered + blocking", move || {
        let indexed: Vec<(usize, u64)> = inputs_ref.iter().copied().enumerate().collect();
        let done = filch.imap_unordered(indexed, move |(i, x): (usize, u64)| {
            (i, filch::blocking(|| sleepy_square(x, nap)))
        });
        let mut restored = vec![""; inputs_ref.len()];
        for (i, word) in done {
            restored[i] = word;
        }
        restored
    }));
    let threads = pools.threads();
    let waves = items.div_ceil(threads);
    Comparison::new(
        SLEEP_TITLE,
        format!(
            "{items} items, each squares and sleeps {}, {threads} threads",
            fmt_ns(nap.as_nanos() as f64)
        ),
        compare(cases, plan),
    )
    .note(format!(
        "Python, 10 × 2 s: serial 20.0 s, Process per item 2.2 s. Sleeping needs no core, so \
         a thread per item finishes in about one sleep ({}), while a pool of {threads} \
         workers needs at least {waves} sleeps ({}) — more if its chunks are uneven. With \
         `filch::blocking` around the sleep (the `+ blocking` rows: map, chunk size 1, imap, \
         imap_unordered), spare threads stand in for sleeping workers, so a pool can come \
         close to one sleep too; the blocking target asks for at most 1.3 sleeps.",
        fmt_ns(nap.as_nanos() as f64),
        fmt_ns((nap * waves as u32).as_nanos() as f64),
    ))
}
