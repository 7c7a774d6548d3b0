//! The orchestration the `filch-bench` binary performs: calibrate, build the shared pools,
//! run the selected sections, print each section's tables to stdout as soon as it is done,
//! and write `report.md` and the SVG plots.
//!
//! Execution order is sweep, big inputs, fork-join, seeds, blocking — fork-join before the seeds because
//! its idle-CPU measurement must run before `filch::map` in seed 001 starts filch's global
//! pool, and blocking last because it leaves spare threads in the shared filch pool. The
//! report lists the seeds and blocking before fork-join regardless, and opens with the
//! targets read off all of them, which stdout prints last.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::big;
use crate::blocking;
use crate::calibrate::Spin;
use crate::comparison::Comparison;
use crate::config::{Config, Section};
use crate::forkjoin::{self, idle_table};
use crate::machine::{Machine, MachineSnapshot};
use crate::plot::{break_even_chart, speedup_chart, speedup_file_name, BREAK_EVEN_FILE};
use crate::programs;
use crate::progress::Progress;
use crate::report::{
    big_peak_table, busy_machine_warning, comparison_text, render_markdown, sweep_text, warnings,
    Report, SWEEP_CSV,
};
use crate::seeds;
use crate::sweep;
use crate::systems::{filch_sys, MapSystem, Pools};
use crate::targets;

/// The default output directory: `target/filch-report` under the workspace root (the
/// parent of this package's manifest directory, when that is a Cargo workspace), else
/// under the current directory.
pub fn default_out_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
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

fn total_steps(cfg: &Config) -> u64 {
    let mut steps = 1; // calibration
    if cfg.runs(Section::Sweep) {
        steps += cfg.sweep.cells().len() as u64;
    }
    if cfg.runs(Section::Forkjoin) {
        steps += forkjoin::STEPS;
    }
    if cfg.runs(Section::Seeds) {
        steps += seeds::steps(&cfg.seeds);
    }
    if cfg.runs(Section::Big) {
        steps += big::steps(&cfg.big);
    }
    if cfg.runs(Section::Programs) {
        steps += programs::STEPS;
    }
    if cfg.runs(Section::Blocking) {
        steps += blocking::STEPS;
    }
    steps + 1 // writing the report
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
    let machine = Machine::detect();
    let mut progress = Progress::new(total_steps(config));

    progress.step("calibrating the spin loop");
    let spin = Spin::calibrate();
    let pools = Pools::new(config.threads)?;
    progress.println(&format!(
        "filch-bench, {} mode\n{}spin: {:.3} iterations/ns\n",
        config.mode.name(),
        machine.table(pools.threads()).to_text(),
        spin.iters_per_ns()
    ));

    let mut times = Vec::new();
    let sweep = section(config.runs(Section::Sweep), "sweep", &mut times, || {
        for &chunk in &config.sweep.chunk_sizes {
            filch_sys::check_chunk_size(&pools.filch, chunk)?;
        }
        let mut systems = vec![
            MapSystem::Serial,
            MapSystem::Filch(&pools.filch),
            MapSystem::FilchOnWorker(&pools.filch),
        ];
        let chunked = config.sweep.chunk_sizes.iter();
        systems.extend(chunked.map(|&c| MapSystem::FilchChunked(&pools.filch, c)));
        systems.extend([
            MapSystem::Rayon(&pools.rayon),
            MapSystem::StdScope(pools.threads()),
        ]);
        let result = sweep::run(&config.sweep, &config.plan, &spin, &systems, &mut progress);
        progress.println(&sweep_text(&result));
        Ok(result)
    })?;
    let big = section(config.runs(Section::Big), "big inputs", &mut times, || {
        let result = big::run(&config.big, &config.plan, &pools, &mut progress);
        let peaks = big_peak_table(&result).to_text();
        progress.println(&(comparisons_text("big inputs", &result.comparisons) + "\n" + &peaks));
        Ok(result)
    })?;
    let programs = section(
        config.runs(Section::Programs),
        "programs",
        &mut times,
        || {
            let result = programs::run(&config.programs, &config.plan, &pools, &mut progress);
            progress.println(&comparisons_text("programs", &result));
            Ok(result)
        },
    )?;
    let forkjoin = section(
        config.runs(Section::Forkjoin),
        "fork-join",
        &mut times,
        || {
            let result = forkjoin::run(&config.forkjoin, &config.plan, &pools, &mut progress)?;
            let idle = idle_table(&result.idle).to_text();
            progress.println(&(comparisons_text("fork-join", &result.comparisons) + "\n" + &idle));
            Ok(result)
        },
    )?;
    let seeds = section(config.runs(Section::Seeds), "seeds", &mut times, || {
        let result = seeds::run(&config.seeds, &config.plan, &pools, &mut progress)?;
        progress.println(&comparisons_text("Python seeds in Rust", &result));
        Ok(result)
    })?;
    let blocking = section(
        config.runs(Section::Blocking),
        "blocking",
        &mut times,
        || {
            let result = blocking::run(&config.blocking, &spin, &pools, &mut progress);
            progress.println(&blocking::text(&result));
            Ok(result)
        },
    )?;

    progress.step("writing the report");
    let elapsed = started.elapsed();
    let (cpus, wall_secs) = (machine.logical_cpus, elapsed.as_secs_f64());
    let (others_cpu, stolen_cpu) = machine_before
        .zip(MachineSnapshot::take())
        .map(|(a, b)| {
            (
                a.others_share(&b, cpus, wall_secs),
                a.steal_share(&b, cpus, wall_secs),
            )
        })
        .unzip();
    let report = Report {
        args: args.to_string(),
        config: config.clone(),
        machine,
        spin,
        elapsed,
        section_times: times,
        sweep,
        big,
        programs: programs.unwrap_or_default(),
        seeds: seeds.unwrap_or_default(),
        forkjoin,
        blocking,
        filch_stats: pools.filch.stats().to_string(),
        plots: config.plots,
        others_cpu,
        stolen_cpu,
    };
    let path = write_outputs(&report)?;
    let met = targets::evaluate(&report);
    progress.println(&format!(
        "targets, {}\n{}",
        targets::summary(&met),
        targets::table(&met).to_text()
    ));
    if let Some(warning) = busy_machine_warning(&report) {
        progress.println(&format!("warning: {warning}"));
    }
    let warns = warnings(&report);
    if !warns.is_empty() {
        progress.println(&format!(
            "{} noisy or wrong cells (listed at the end of the report)",
            warns.len()
        ));
    }
    progress.finish();
    Ok((report, path))
}

/// Runs one section if it is `on`, adding its wall time to `times` under `name`.
fn section<T>(
    on: bool,
    name: &str,
    times: &mut Vec<(String, Duration)>,
    run: impl FnOnce() -> Result<T, String>,
) -> Result<Option<T>, String> {
    if !on {
        return Ok(None);
    }
    let start = Instant::now();
    let result = run()?;
    times.push((name.to_string(), start.elapsed()));
    Ok(Some(result))
}

/// A section's comparisons as plain text under its title.
fn comparisons_text(title: &str, comparisons: &[Comparison]) -> String {
    let mut text = format!("{title}\n");
    for c in comparisons {
        text.push('\n');
        text.push_str(&comparison_text(c));
    }
    text
}

/// Writes `report.md` and, if enabled, the SVG plots into the configured directory.
///
/// # Errors
/// I/O or drawing errors, as text naming the file.
pub fn write_outputs(report: &Report) -> Result<PathBuf, String> {
    let dir = &report.config.out_dir;
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if report.plots {
        if let Some(s) = &report.sweep {
            for &n in &s.ns {
                if s.cells.iter().any(|c| c.n == n) {
                    speedup_chart(s, n, report.config.threads)
                        .write_svg(&dir.join(speedup_file_name(n)))?;
                }
            }
            break_even_chart(s).write_svg(&dir.join(BREAK_EVEN_FILE))?;
        }
    }
    if let Some(s) = &report.sweep {
        let csv = dir.join(SWEEP_CSV);
        fs::write(&csv, s.to_csv()).map_err(|e| format!("writing {}: {e}", csv.display()))?;
    }
    let path = dir.join("report.md");
    fs::write(&path, render_markdown(report))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}
