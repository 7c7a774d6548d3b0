//! The report in Markdown: `report.md`, and stdout section by section as the run goes (the
//! same text, so the terminal and the file cannot disagree). Promises first, then the key
//! numbers, the machine, the method, every section, filch's pool statistics and every noisy
//! or wrong cell.

use std::fmt::Write as _;

use crate::big::BigResult;
use crate::blocking;
use crate::comparison::Comparison;
use crate::config::Section;
use crate::forkjoin::{idle_table, EMPTY_JOIN_TITLE, IDLE_SETTLE, ROUND_TRIP_TITLE};
use crate::measure::{FRESH_BLOCK_BYTES, NOISE_THRESHOLD};
use crate::plot::{speedup_file_name, BREAK_EVEN_FILE};
use crate::seeds::SQUARES_TITLE;
use crate::sweep::SweepResult;
use crate::table::Table;
use crate::targets;
use crate::units::{fmt_count, fmt_ns, fmt_ratio, fmt_work};

pub use crate::record::Report;

/// File name of the sweep's raw data, beside `report.md`.
pub const SWEEP_CSV: &str = "sweep.csv";

/// Above this share of the machine used by other processes, or [`STOLEN_CPU_WARNING`] taken
/// by the hypervisor, the report warns that parallel speed-ups are understated: a vCPU that
/// is not running makes a second thread worth less than a core, whatever the scheduler does.
const BUSY_MACHINE_WARNING: f64 = 0.10;
const STOLEN_CPU_WARNING: f64 = 0.05;

/// The warning for a machine that others kept busy during the run, if it was.
pub fn busy_machine_warning(r: &Report) -> Option<String> {
    let cpus = r.machine.logical_cpus;
    let others = r.others_cpu.filter(|&s| s > BUSY_MACHINE_WARNING);
    let stolen = r.stolen_cpu.filter(|&s| s > STOLEN_CPU_WARNING);
    let who = match (others, stolen) {
        (None, None) => return None,
        (Some(o), None) => format!(
            "Other processes kept {:.0}% of the {cpus} CPUs busy during this run",
            o * 100.0
        ),
        (None, Some(s)) => format!(
            "The hypervisor took {:.0}% of the {cpus} CPUs' time from this VM during this run \
             (steal)",
            s * 100.0
        ),
        (Some(o), Some(s)) => format!(
            "Other processes kept {:.0}% of the {cpus} CPUs busy and the hypervisor took {:.0}% \
             more (steal) during this run",
            o * 100.0,
            s * 100.0
        ),
    };
    Some(format!(
        "{who}: parallel speed-ups are understated and noisy. Re-run on an idle machine for \
         numbers to quote."
    ))
}

/// The big-input section's peak memory as a table.
pub fn big_peak_table(b: &BigResult) -> Table {
    let output = (b.peak_items * std::mem::size_of::<f64>()) as f64;
    let mut t = Table::new(["system", "peak bytes", "÷ output"]);
    for p in &b.peaks {
        let (bytes, ratio) = match p.bytes {
            Some(bytes) => (
                format!("{:.1} MB", bytes as f64 / 1e6),
                format!("{:.2}", bytes as f64 / output),
            ),
            None => ("n/a".to_string(), "n/a".to_string()),
        };
        t.push_row([p.name.clone(), bytes, ratio]);
    }
    t
}

/// A comparison as a Markdown subsection.
pub fn comparison_markdown(c: &Comparison) -> String {
    let mut out = format!(
        "### {}\n\n{}.\n\n{}",
        c.title,
        c.setup,
        c.table().to_markdown()
    );
    if let Some(note) = &c.note {
        let _ = write!(out, "\n{note}\n");
    }
    out + "\n"
}

/// A row's median, with its cost per unit where the comparison has one.
fn outcome_line(c: &Comparison, i: usize) -> String {
    let o = &c.outcomes[i];
    let per = (c.per.as_ref())
        .map(|p| format!(" ({} per {})", fmt_ns(o.stats.median_ns / p.count), p.unit))
        .unwrap_or_default();
    format!("{} {}{per}", o.name, fmt_ns(o.stats.median_ns))
}

/// The few numbers a reader wants first.
pub fn key_numbers(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(c) = r.find(Section::Seeds, SQUARES_TITLE) {
        let rest: Vec<String> = (1..c.outcomes.len())
            .map(|i| {
                let speedup = fmt_ratio(c.speedup(i));
                format!("{} ({speedup} vs serial)", outcome_line(c, i))
            })
            .collect();
        lines.push(format!(
            "**Tiny map (squares of {}):** {}; {}.",
            c.setup.split(' ').next().unwrap_or("?"),
            outcome_line(c, 0),
            rest.join("; ")
        ));
    }
    if let Some(s) = &r.sweep {
        let measured =
            s.ns.iter()
                .rev()
                .find(|&&n| !s.table_for(n).rows.is_empty());
        if let Some(&n) = measured {
            let parts: Vec<String> = (s.parallel_systems().iter())
                .map(|sys| format!("{sys} {}", s.break_even(n, sys).render()))
                .collect();
            lines.push(format!(
                "**Break-even work per item at N = {}:** {}.",
                fmt_count(n as u64),
                parts.join("; ")
            ));
        }
    }
    if let Some(fj) = &r.forkjoin {
        for title in [EMPTY_JOIN_TITLE, ROUND_TRIP_TITLE] {
            if let Some(c) = r.find(Section::Forkjoin, title) {
                let parts: Vec<String> =
                    (0..c.outcomes.len()).map(|i| outcome_line(c, i)).collect();
                let mut heading = c.title.clone();
                heading[..1].make_ascii_uppercase();
                lines.push(format!("**{heading}:** {}.", parts.join("; ")));
            }
        }
        if !fj.idle.is_empty() {
            let parts: Vec<String> = (fj.idle.iter())
                .map(|i| format!("{} {:.2}% of a core", i.system, i.percent_of_core()))
                .collect();
            lines.push(format!("**Idle pools:** {}.", parts.join("; ")));
        }
    }
    lines
}

/// Every warning: noisy cells and outputs that differ from the baseline.
pub fn warnings(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = &r.sweep {
        out.extend(s.warnings().into_iter().map(|w| format!("sweep: {w}")));
    }
    for section in Section::ALL {
        for c in r.comparisons(section) {
            out.extend(
                c.warnings()
                    .into_iter()
                    .map(|w| format!("{}: {w}", c.title)),
            );
        }
    }
    if let Some(b) = &r.blocking {
        out.extend(b.warnings().into_iter().map(|w| format!("blocking: {w}")));
    }
    out
}

/// The heading, the run's command line and the promises judged on it.
fn header(r: &Report, md: &mut String) {
    let sections: Vec<String> = (r.section_times.iter())
        .map(|(s, t)| format!("{} {:.1} s", s.title(), t.as_secs_f64()))
        .collect();
    let _ = writeln!(
        md,
        "# filch benchmark report\n\nProduced by `cargo run --release -p filch-bench{}{}` \
         ({} mode) in {:.0} s ({}).\n",
        if r.args.is_empty() { "" } else { " -- " },
        r.args,
        r.config.mode.name(),
        r.elapsed.as_secs_f64(),
        sections.join(", ")
    );
    if let Some(warning) = busy_machine_warning(r) {
        let _ = writeln!(md, "> **Warning:** {warning}\n");
    }
    let met = targets::evaluate(r);
    let _ = writeln!(
        md,
        "## Targets\n\nThe targets (set for a 2-core machine), read off this run's results \
         below: filch's value, rayon's from the same run where it has an equivalent. Where \
         this mode uses smaller sizes than the target's own, the target says which. \"At \
         least rayon's\" is read round by round (the two ran back to back in every round): a \
         shortfall under {:.0}% counts as a tie, and so as met, unless filch was faster in so \
         few rounds that a one-sided sign test at 5% tells it from noise. A call on a worker \
         is held to the same call from outside the same way: the median over rounds of the \
         outside call's time ÷ its own. {}.\n\n{}",
        targets::TIE_BAND * 100.0,
        targets::summary(&met),
        targets::table(&met).to_markdown()
    );
    let keys = key_numbers(r);
    if !keys.is_empty() {
        md.push_str("## Key numbers\n\n");
        keys.iter().for_each(|k| {
            let _ = writeln!(md, "- {k}");
        });
        md.push('\n');
    }
}

/// The machine and how every figure was measured.
fn machine_and_method(r: &Report, md: &mut String) {
    let (cfg, threads) = (&r.config, r.config.threads);
    let mut machine = r.machine.table(threads);
    let shares = [
        ("CPU used by other processes during the run", r.others_cpu),
        (
            "CPU time stolen by the hypervisor during the run (`steal`)",
            r.stolen_cpu,
        ),
    ];
    for (what, share) in shares {
        if let Some(share) = share {
            machine.push_row([
                what.to_string(),
                format!("{:.0}% of the machine", share * 100.0),
            ]);
        }
    }
    let _ = writeln!(
        md,
        "## Machine\n\n{}\n## Method\n\n\
         - Every comparison runs its systems **interleaved**: in round *r* each system runs \
         once, in an order that changes with *r* (a Williams design: over a cycle of rounds \
         each system leads equally often and runs right after every other one equally often). \
         A first (warm-up) round is discarded; the table shows the **median of {} rounds** \
         (fewer for the slow sleeping and long-loop seeds, more for round trips), with the \
         fastest and slowest round beside it.\n\
         - Runs shorter than ~{} are repeated in a batch and the batch time divided by the \
         repetitions (`reps` column), since reading the clock costs ~50 ns; no clock is read \
         per item.\n\
         - Every ratio is **baseline time ÷ system time from the same run** (above 1: faster \
         than the baseline, normally the serial loop), never across runs, and is read **round \
         by round**: the median over rounds of the two systems' times in that round, so a slow \
         spell of the host, which slows both, cancels out.\n\
         - A cell is flagged **noisy** when (max − min) ÷ median of its rounds exceeds {:.0}%; \
         in the sweep tables a `~` marks a ratio whose system or serial rounds were noisy.\n\
         - Each system's output is compared with the baseline's once (warm-up round); a \
         mismatch is flagged `WRONG OUTPUT` / `!`.\n\
         - **Memory:** every block of {} MiB or more (a large output, an input's clone) is \
         mapped fresh from the kernel and pays its page faults in every run of every row, \
         whichever thread allocates it, as a program's first call does: glibc's mmap and trim \
         thresholds are fixed there (its defaults move with the program's history), free \
         memory is handed back before each comparison, and the fork-join tree lives in a heap \
         of its own, so that no section leaves a large hole for a later one's blocks.\n\
         - filch and rayon each get a dedicated pool of {threads} threads (rayon's global pool \
         is never used); `std::scope` splits the input into {threads} contiguous pieces and \
         spawns threads per call.\n\
         - Per-item work in the sweep is a spin loop calibrated once at start: {:.3} \
         iterations per ns on this machine.\n",
        machine.to_markdown(),
        cfg.plan.rounds,
        fmt_ns(cfg.plan.sample_target.as_nanos() as f64),
        NOISE_THRESHOLD * 100.0,
        FRESH_BLOCK_BYTES >> 20,
        r.spin.iters_per_ns()
    );
}

/// What a section's comparisons show, before them.
fn intro(section: Section) -> &'static str {
    match section {
        Section::Big => {
            "One cheap function over millions of items: seed 000's polynomial, given as a \
             slice (`pool.map(&v, f)`), an owned `Vec` (`pool.map(v, f)`, the clone it \
             consumes made inside every row's timed run, serial's included) and a range \
             (`pool.map(0..n, f)`), called from outside the pool and on one of its workers \
             (`pool.install(|| pool.map(..))`, as a map nested in another map's item or in a \
             `join` is). `std::scope pieces` writes straight into one output from one thread \
             per core, with no scheduler: where memory caps the machine, that is the limit. \
             Speed-ups are over the serial loop of the same row set."
        }
        Section::Programs => {
            "Programs in the style of rayon's demos, each written once over a parallel map \
             and run from outside the pool, inside `pool.install` (the habit rayon users \
             bring) and with rayon inside its own pool; every result is checked against the \
             serial program."
        }
        Section::Seeds => {
            "Four blog posts on Python's `multiprocessing`, ported. Python's numbers (quoted \
             in each note) include starting processes and pickling; here a pool is threads \
             sharing memory, so the question left is purely how much work an item needs."
        }
        Section::Blocking => {
            "While a map of sleeping items runs on a pool, does a CPU-bound map submitted to \
             the same pool keep its throughput?"
        }
        Section::Sweep | Section::Forkjoin => "",
    }
}

/// One section as Markdown: empty if it did not run.
pub fn section_markdown(r: &Report, section: Section) -> String {
    let comparisons = r.comparisons(section);
    let ran = match section {
        Section::Sweep => r.sweep.is_some(),
        Section::Blocking => r.blocking.is_some(),
        _ => !comparisons.is_empty(),
    };
    if !ran {
        return String::new();
    }
    let mut md = format!("## {}\n\n", section.title());
    if !intro(section).is_empty() {
        md = md + intro(section) + "\n\n";
    }
    if let (Section::Sweep, Some(s)) = (section, &r.sweep) {
        sweep_markdown(&mut md, s, r.config.plots);
    }
    if let (Section::Blocking, Some(b)) = (section, &r.blocking) {
        let table = b.table().to_markdown();
        let _ = writeln!(md, "{}.\n\n{table}\n{}\n", b.setup, blocking::HOW_TO_READ);
    }
    comparisons
        .iter()
        .for_each(|c| md.push_str(&comparison_markdown(c)));
    if let (Section::Big, Some(b)) = (section, &r.big) {
        let _ = writeln!(
            md,
            "### Peak memory of one map of {} items\n\nThe most bytes live at once during one \
             call, above what was live before it (input excluded, except the owned `Vec` row, \
             which consumes its clone); the output alone is {:.1} MB.\n\n{}",
            fmt_count(b.peak_items as u64),
            (b.peak_items * std::mem::size_of::<f64>()) as f64 / 1e6,
            big_peak_table(b).to_markdown()
        );
    }
    if let (Section::Forkjoin, Some(fj)) = (section, &r.forkjoin) {
        let source = fj.idle.first().map_or("n/a", |i| i.source);
        let _ = writeln!(
            md,
            "### CPU burnt by an idle pool\n\nA pool is built, runs one small map, is left \
             alone {}, then the CPU time of its threads is read before and after sleeping; \
             source: {source}.\n\n{}",
            fmt_ns(IDLE_SETTLE.as_nanos() as f64),
            idle_table(&fj.idle).to_markdown()
        );
    }
    md
}

/// The whole report.
pub fn render_markdown(r: &Report) -> String {
    let mut md = String::new();
    header(r, &mut md);
    machine_and_method(r, &mut md);
    for section in Section::ALL {
        md.push_str(&section_markdown(r, section));
    }
    let _ = writeln!(
        md,
        "## filch pool statistics\n\n`pool.stats()` of the shared filch pool at the end of \
         the run:\n\n```text\n{}\n```\n\n## Noisy or wrong cells\n",
        r.filch_stats.trim_end()
    );
    let warns = warnings(r);
    if warns.is_empty() {
        md.push_str("None.\n");
    }
    warns.iter().for_each(|w| {
        let _ = writeln!(md, "- {w}");
    });
    md
}

fn sweep_markdown(md: &mut String, s: &SweepResult, plots: bool) {
    let _ = writeln!(
        md,
        "N items, each a calibrated spin of w ns, mapped by each system; cells show \
         **speed-up over serial** (serial time ÷ system time). Cells whose serial time N × w \
         would exceed {} are skipped. `~` = noisy, `!` = wrong output.\n\n\
         ### Break-even work per item\n\n\
         The smallest measured w at which the system beats serial; `≈` is the crossing \
         interpolated on a log scale between that w and the one below; `*` means the \
         speed-up falls back to ≤ 1 at some larger w; `> w` means never within the measured \
         range.\n\n{}",
        fmt_ns(s.cap_serial_ns as f64),
        s.break_even_table().to_markdown()
    );
    if plots {
        let _ = writeln!(md, "![break-even work per item]({BREAK_EVEN_FILE})\n");
    }
    for &n in &s.ns {
        let t = s.table_for(n);
        if t.rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            md,
            "### N = {} items\n\n{}\n<details><summary>Median time per run of each \
             system</summary>\n\n{}\n</details>\n",
            fmt_count(n as u64),
            t.to_markdown(),
            s.times_table_for(n).to_markdown()
        );
        if plots {
            let _ = writeln!(
                md,
                "![speed-up vs work per item, N = {}]({})\n",
                fmt_count(n as u64),
                speedup_file_name(n)
            );
        }
    }
    let ws: Vec<String> = s.ws.iter().map(|&w| fmt_work(w)).collect();
    let _ = writeln!(
        md,
        "Every cell and system, with min and max, is in [`sweep.csv`]({SWEEP_CSV}). Work sizes \
         measured: {}.\n",
        ws.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::calibrate::Spin;
    use crate::config::{Config, Mode};
    use crate::machine::Machine;
    use crate::measure::Outcome;

    fn report() -> Report {
        let config = Config::preset(Mode::Smoke, 2, PathBuf::from("out"));
        let mut r = Report::new("--smoke", config, Machine::fixture(), Spin::with_rate(1.0));
        r.config.plots = false;
        r.elapsed = Duration::from_secs(3);
        r.section_times = vec![(Section::Seeds, Duration::from_secs(2))];
        r.seeds = vec![Comparison::new(
            SQUARES_TITLE,
            "100 ints",
            vec![
                Outcome::steady("serial", 100.0),
                Outcome::steady("filch", 5_000.0),
            ],
        )];
        r.filch_stats = "jobs: 3".into();
        r.others_cpu = Some(0.02);
        r.stolen_cpu = Some(0.01);
        r
    }

    #[test]
    fn report_has_every_section_and_the_headline() {
        let md = render_markdown(&report());
        for heading in [
            "# filch benchmark report",
            "## Targets",
            "## Key numbers",
            "## Machine",
            "## Method",
            "## Python seeds in Rust",
            "## filch pool statistics",
            "## Noisy or wrong cells",
        ] {
            assert!(md.contains(heading), "missing {heading}");
        }
        assert!(!md.contains("## Fork-join"), "a section that did not run");
        assert!(
            md.contains("--smoke` (smoke mode) in 3 s (Python seeds in Rust 2.0 s)"),
            "{md}"
        );
        assert!(
            md.contains(
                "**Tiny map (squares of 100):** serial 100 ns; filch 5.00 µs (0.0200x vs serial)."
            ),
            "{md}"
        );
        assert!(md.contains("jobs: 3"));
    }

    #[test]
    fn a_busy_machine_is_called_out_at_the_top() {
        let mut r = report();
        assert!(!render_markdown(&r).contains("Warning"));
        r.others_cpu = Some(0.45);
        let md = render_markdown(&r);
        let warning = md
            .find("> **Warning:** Other processes kept 45% of the 2 CPUs")
            .unwrap();
        assert!(warning < md.find("## Key numbers").unwrap());
        // Time the hypervisor took counts too, alone or beside other processes.
        r.others_cpu = Some(0.02);
        r.stolen_cpu = Some(0.2);
        let md = render_markdown(&r);
        assert!(md.contains("> **Warning:** The hypervisor took 20% of the 2 CPUs' time"));
        assert!(
            md.contains(
                "| CPU time stolen by the hypervisor during the run (`steal`) | 20% of the machine"
            ),
            "{md}"
        );
        r.others_cpu = Some(0.3);
        assert!(render_markdown(&r).contains("busy and the hypervisor took 20% more (steal)"));
    }

    #[test]
    fn wrong_outputs_are_listed() {
        let mut r = report();
        r.seeds[0].outcomes[1].agrees = false;
        let w = warnings(&r);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("filch: output differs from serial"));
    }
}
