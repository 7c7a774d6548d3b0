//! The systems under comparison, each behind the same two interfaces: [`MapSystem`] for
//! "apply `f` to every item of a slice, keep the order" and [`ForkJoinSystem`] for "run a
//! recursive [`ForkJoinTask`] with this system's `join`".
//!
//! | system | map | fork-join |
//! |---|---|---|
//! | serial | `iter().map(f).collect()` | plain recursion ([`SerialJoin`]); with a depth counter per fork ([`DepthCountJoin`]) |
//! | filch | `pool.map` (auto chunks), `pool.with_chunk_size(c)?.map`, `filch::map`, `pool.map` inside `pool.install` | `pool.install` + `filch::join`; `pool.with_join_context` + `JoinContext::join` |
//! | rayon | `par_iter().map(f).collect()` inside `pool.install` | `pool.install` + `rayon::join` |
//! | `std::thread::scope` | static split into `threads` contiguous pieces, threads spawned per call | — |
//!
//! Enums rather than trait objects because the operations are generic over the item and
//! closure types; dispatch is one `match` per whole run, never per item.
//!
//! Experiments that show one particular call (`starmap`, `imap`, `partial`, …) make it on
//! `filch::Pool` directly, as a user writes it; these enums cover the calls every system has.

pub mod filch_sys;
pub mod rayon_sys;
pub mod std_threads;

use rayon::prelude::*;

use crate::measure::{time_reps, Case};
use crate::workloads::{DepthCountJoin, ForkJoinTask, SerialJoin};

/// The label of [`MapSystem::FilchOnWorker`]'s column.
pub const FILCH_ON_WORKER: &str = "filch, on a worker";

/// A system that maps a function over a slice, keeping the input order.
#[derive(Debug, Clone, Copy)]
pub enum MapSystem<'a> {
    /// `iter().map(f).collect()` on the calling thread.
    Serial,
    /// filch's `pool.map` with automatic chunking.
    Filch(&'a filch::Pool),
    /// filch's `pool.with_chunk_size(chunk)?.map` (checked up front with
    /// [`filch_sys::check_chunk_size`]).
    FilchChunked(&'a filch::Pool, usize),
    /// `filch::map`, which runs on filch's global pool.
    FilchGlobal,
    /// `pool.install(|| pool.map(..))`: the same call made on one of the pool's workers,
    /// as a map nested in another map's item, in a `join` or in a library built on filch
    /// makes it. Timed through [`map_cases`], a batch of calls shares one `install`.
    FilchOnWorker(&'a filch::Pool),
    /// rayon's `par_iter().map(f).collect()` inside `pool.install`.
    Rayon(&'a rayon::ThreadPool),
    /// `std::thread::scope` with the slice split into this many contiguous pieces.
    StdScope(usize),
}

/// `label` as a criterion id: every character but ASCII letters and digits becomes `_`.
pub fn bench_id(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

impl MapSystem<'_> {
    /// The label used in tables, plots and (through [`bench_id`]) criterion ids.
    pub fn label(&self) -> String {
        match self {
            MapSystem::Serial => "serial".to_string(),
            MapSystem::Filch(_) => "filch".to_string(),
            MapSystem::FilchChunked(_, chunk) => format!("filch c={chunk}"),
            MapSystem::FilchGlobal => "filch::map (global)".to_string(),
            MapSystem::FilchOnWorker(_) => FILCH_ON_WORKER.to_string(),
            MapSystem::Rayon(_) => "rayon".to_string(),
            MapSystem::StdScope(_) => "std::scope".to_string(),
        }
    }

    /// `items.iter().map(f).collect()`, run by this system.
    ///
    /// # Panics
    /// If filch rejects a [`MapSystem::FilchChunked`] chunk size.
    pub fn map_slice<T, R, F>(&self, items: &[T], f: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync + Send,
    {
        match self {
            MapSystem::Serial => items.iter().map(f).collect(),
            MapSystem::Filch(pool) => pool.map(items, f),
            MapSystem::FilchChunked(pool, chunk) => pool
                .with_chunk_size(*chunk)
                .unwrap_or_else(|e| panic!("chunk size {chunk} rejected: {e}"))
                .map(items, f),
            MapSystem::FilchGlobal => filch::map(items, f),
            MapSystem::FilchOnWorker(pool) => pool.install(|| pool.map(items, f)),
            MapSystem::Rayon(pool) => pool.install(|| items.par_iter().map(f).collect()),
            MapSystem::StdScope(threads) => std_threads::map_slice(*threads, items, f),
        }
    }
}

/// A system that runs recursive fork-join tasks.
#[derive(Debug, Clone, Copy)]
pub enum ForkJoinSystem<'a> {
    /// The plain recursion: `join(a, b)` is `(a(), b())`.
    Serial,
    /// The hand-written recursion with no `join` ([`ForkJoinTask::run_plain`]).
    SerialPlain,
    /// The plain recursion with a thread-local depth counter per fork
    /// ([`DepthCountJoin`]): the fork-cost floor of an implicit-context scheduler.
    DepthCount,
    /// `pool.install(|| task)` with `filch::join` forking.
    Filch(&'a filch::Pool),
    /// `pool.with_join_context(|ctx| task)` with `JoinContext::join` forking.
    FilchContext(&'a filch::Pool),
    /// `pool.install(|| task)` with `rayon::join` forking.
    Rayon(&'a rayon::ThreadPool),
}

/// The label of [`ForkJoinSystem::SerialPlain`]'s rows.
pub const SERIAL_PLAIN_ROW: &str = "serial, plain fn";

impl ForkJoinSystem<'_> {
    /// The label used in tables (with the pool's thread count, since fork-join compares
    /// one thread against several).
    pub fn label(&self) -> String {
        match self {
            ForkJoinSystem::Serial => "serial".to_string(),
            ForkJoinSystem::SerialPlain => SERIAL_PLAIN_ROW.to_string(),
            ForkJoinSystem::DepthCount => "serial + depth count".to_string(),
            ForkJoinSystem::Filch(pool) => format!("filch ×{}", pool.threads()),
            ForkJoinSystem::FilchContext(pool) => format!("filch ctx ×{}", pool.threads()),
            ForkJoinSystem::Rayon(pool) => format!("rayon ×{}", pool.current_num_threads()),
        }
    }

    /// Runs `task` on this system.
    pub fn run<T: ForkJoinTask>(&self, task: &T) -> T::Output {
        match self {
            ForkJoinSystem::Serial => task.run::<SerialJoin>(),
            ForkJoinSystem::SerialPlain => task.run_plain(),
            ForkJoinSystem::DepthCount => task.run::<DepthCountJoin>(),
            ForkJoinSystem::Filch(pool) => filch_sys::run_task(pool, task),
            ForkJoinSystem::FilchContext(pool) => pool.with_join_context(|ctx| task.run_in(ctx)),
            ForkJoinSystem::Rayon(pool) => rayon_sys::run_task(pool, task),
        }
    }
}

/// One [`Case`] per system, each mapping `f` over `items`: the usual way an experiment
/// turns a list of systems into a comparison. [`MapSystem::FilchOnWorker`]'s batches run
/// inside one `pool.install` ([`Case::batched`]), so its samples are what the map costs
/// when called on a worker, as a map nested in a running item is, and not the trip into
/// the pool that a separate `install` per call adds (the fork-join section times that trip
/// on its own).
pub fn map_cases<'s, 'p: 's, T, R, F>(
    systems: &'s [MapSystem<'p>],
    items: &'s [T],
    f: F,
) -> Vec<Case<'s, Vec<R>>>
where
    T: Sync,
    R: Send + 's,
    F: Fn(&T) -> R + Sync + Send + Copy + 's,
{
    systems
        .iter()
        .map(|sys| {
            let run = move || sys.map_slice(items, f);
            match *sys {
                MapSystem::FilchOnWorker(pool) => Case::batched(sys.label(), run, move |reps| {
                    pool.install(|| time_reps(reps, || pool.map(items, f)))
                }),
                _ => Case::new(sys.label(), run),
            }
        })
        .collect()
}

/// The filch and rayon pools most experiments share, both of the same size.
#[derive(Debug)]
pub struct Pools {
    /// The filch pool.
    pub filch: filch::Pool,
    /// The rayon pool.
    pub rayon: rayon::ThreadPool,
}

impl Pools {
    /// A filch pool and a rayon pool of `threads` threads each.
    ///
    /// # Errors
    /// Either library's build error, as text.
    pub fn new(threads: usize) -> Result<Pools, String> {
        Ok(Pools {
            filch: filch_sys::pool(threads)?,
            rayon: rayon_sys::pool(threads)?,
        })
    }

    /// The common thread count.
    pub fn threads(&self) -> usize {
        self.rayon.current_num_threads()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_map_system_gives_the_serial_answer() {
        let pools = Pools::new(2).unwrap();
        let items: Vec<u64> = (0..1000).collect();
        let want: Vec<u64> = items.iter().map(|x| x * 3).collect();
        for sys in [
            MapSystem::Serial,
            MapSystem::Filch(&pools.filch),
            MapSystem::FilchChunked(&pools.filch, 7),
            MapSystem::FilchGlobal,
            MapSystem::FilchOnWorker(&pools.filch),
            MapSystem::Rayon(&pools.rayon),
            MapSystem::StdScope(3),
        ] {
            assert_eq!(sys.map_slice(&items, |x| x * 3), want, "{}", sys.label());
        }
        assert_eq!(pools.threads(), 2);
    }
}
