//! What the `filch-bench` binary does: calibrate, build the shared pools, run the selected
//! sections, print each section to stdout as soon as it is done, and write `report.md`,
//! `sweep.csv` and the SVG plots.
//!
//! Sections run in [`RUN_ORDER`]: fork-join before the seeds because its idle-CPU
//! measurement must run before `filch::map` in seed 001 starts filch's global pool, and
//! blocking last because it leaves spare threads in the shared filch pool. The report lists
//! them in its own order regardless, and opens with the promises read off all of them,
//! which stdout prints last.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::calibrate::Spin;
use crate::config::{Config, Mode, Section};
use crate::machine::{Machine, MachineSnapshot};
use crate::plot::{break_even_chart, speedup_chart, speedup_file_name, BREAK_EVEN_FILE};
use crate::progress::Progress;
use crate::report::{busy_machine_warning, comparison_markdown, render_markdown};
use crate::report::{section_markdown, warnings};
use crate::report::{Report, SWEEP_CSV};
use crate::seeds::Seed;
use crate::systems::{filch_sys, MapSystem, Pools};
use crate::{big, blocking, forkjoin, programs, seeds, sweep, targets};

/// The order sections run in (see the module docs).
pub const RUN_ORDER: [Section; 6] = [
    Section::Sweep,
    Section::Big,
    Section::Programs,
    Section::Forkjoin,
    Section::Seeds,
    Section::Blocking,
];

/// The default output directory: `target/filch-report` under the workspace root (the
/// parent of this package's manifest directory, when that is a Cargo workspace), else
/// under the current directory.
pub fn default_out_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = (manifest.parent())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    root.join("target").join("filch-report")
}

/// The default pool size: the machine's available parallelism.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What each seed example prints: `seed`'s comparisons at the main job's quick sizes, as the
/// report shows them.
///
/// # Errors
/// A pool that cannot be built.
pub fn print_seed(seed: Seed) -> Result<(), String> {
    let config = Config::preset(Mode::Quick, default_threads(), default_out_dir());
    let pools = Pools::new(config.threads)?;
    eprintln!("timing {seed:?} against a loop, rayon and std threads, as the main job does…");
    let (cfg, plan) = (&config.seeds, &config.plan);
    for c in seeds::run_seed(seed, cfg, plan, &pools, &mut Progress::silent())? {
        println!("{}", comparison_markdown(&c));
    }
    Ok(())
}

/// Progress steps of `section` under `cfg`.
fn steps(cfg: &Config, section: Section) -> u64 {
    match section {
        Section::Sweep => cfg.sweep.cells().len() as u64,
        Section::Big => big::steps(&cfg.big),
        Section::Programs => programs::STEPS,
        Section::Seeds => seeds::steps(&cfg.seeds),
        Section::Forkjoin => forkjoin::STEPS,
        Section::Blocking => blocking::STEPS,
    }
}

/// Runs `section` into `r`.
fn run_section(
    r: &mut Report,
    section: Section,
    pools: &Pools,
    progress: &mut Progress,
) -> Result<(), String> {
    let cfg = &r.config;
    match section {
        Section::Sweep => {
            for &chunk in &cfg.sweep.chunk_sizes {
                filch_sys::check_chunk_size(&pools.filch, chunk)?;
            }
            let mut systems = vec![
                MapSystem::Serial,
                MapSystem::Filch(&pools.filch),
                MapSystem::FilchOnWorker(&pools.filch),
            ];
            let chunked = cfg.sweep.chunk_sizes.iter();
            systems.extend(chunked.map(|&c| MapSystem::FilchChunked(&pools.filch, c)));
            systems.extend([
                MapSystem::Rayon(&pools.rayon),
                MapSystem::StdScope(pools.threads()),
            ]);
            r.sweep = Some(sweep::run(
                &cfg.sweep, &cfg.plan, &r.spin, &systems, progress,
            ));
        }
        Section::Big => r.big = Some(big::run(&cfg.big, &cfg.plan, pools, progress)),
        Section::Programs => r.programs = programs::run(&cfg.programs, &cfg.plan, pools, progress),
        Section::Forkjoin => {
            r.forkjoin = Some(forkjoin::run(&cfg.forkjoin, &cfg.plan, pools, progress)?);
        }
        Section::Seeds => r.seeds = seeds::run(&cfg.seeds, &cfg.plan, pools, progress)?,
        Section::Blocking => {
            r.blocking = Some(blocking::run(&cfg.blocking, &r.spin, pools, progress));
        }
    }
    Ok(())
}

/// Runs everything `config` selects; `args` is the command line, quoted in the report.
/// Returns the report and the path of `report.md`.
///
/// # Errors
/// A pool that cannot be built, an invalid chunk size, or an output file that cannot be
/// written.
pub fn run(config: &Config, args: &str) -> Result<(Report, PathBuf), String> {
    let started = Instant::now();
    crate::measure::fix_large_block_policy();
    let machine_before = MachineSnapshot::take();
    let selected: Vec<Section> = RUN_ORDER.into_iter().filter(|&s| config.runs(s)).collect();
    let total: u64 = selected.iter().map(|&s| steps(config, s)).sum();
    let mut progress = Progress::new(total + 2); // calibration, the report

    progress.step("calibrating the spin loop");
    let spin = Spin::calibrate();
    let pools = Pools::new(config.threads)?;
    let mut r = Report::new(args, config.clone(), Machine::detect(), spin);
    progress.println(&format!(
        "filch-bench, {} mode\n\n{}\nspin: {:.3} iterations/ns\n",
        config.mode.name(),
        r.machine.table(pools.threads()).to_markdown(),
        r.spin.iters_per_ns()
    ));
    for section in selected {
        let start = Instant::now();
        run_section(&mut r, section, &pools, &mut progress)?;
        r.section_times.push((section, start.elapsed()));
        progress.println(&section_markdown(&r, section));
    }

    progress.step("writing the report");
    r.elapsed = started.elapsed();
    r.filch_stats = pools.filch.stats().to_string();
    let (cpus, wall_secs) = (r.machine.logical_cpus, r.elapsed.as_secs_f64());
    if let (Some(a), Some(b)) = (machine_before, MachineSnapshot::take()) {
        r.others_cpu = Some(a.others_share(&b, cpus, wall_secs));
        r.stolen_cpu = Some(a.steal_share(&b, cpus, wall_secs));
    }
    let path = write_outputs(&r)?;
    let met = targets::evaluate(&r);
    progress.println(&format!(
        "## Targets\n\n{}.\n\n{}",
        targets::summary(&met),
        targets::table(&met).to_markdown()
    ));
    if let Some(warning) = busy_machine_warning(&r) {
        progress.println(&format!("warning: {warning}"));
    }
    let warns = warnings(&r).len();
    if warns > 0 {
        progress.println(&format!(
            "{warns} noisy or wrong cells (listed at the end of the report)"
        ));
    }
    progress.finish();
    Ok((r, path))
}

/// Writes `report.md`, `sweep.csv` and, if enabled, the SVG plots into the configured
/// directory.
///
/// # Errors
/// I/O or drawing errors, as text naming the file.
pub fn write_outputs(r: &Report) -> Result<PathBuf, String> {
    let dir = &r.config.out_dir;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok::<_, String>(path)
    };
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if let Some(s) = &r.sweep {
        if r.config.plots {
            for &n in s.ns.iter().filter(|&&n| s.cells.iter().any(|c| c.n == n)) {
                let chart = speedup_chart(s, n, r.config.threads);
                chart.write_svg(&dir.join(speedup_file_name(n)))?;
            }
            break_even_chart(s).write_svg(&dir.join(BREAK_EVEN_FILE))?;
        }
        write(SWEEP_CSV, s.to_csv())?;
    }
    write("report.md", render_markdown(r))
}
