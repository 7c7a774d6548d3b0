//! The record of one run of the main job: everything its sections measured, filled in
//! section by section as the run goes, which `report.rs` renders and `targets.rs` judges.

use std::time::Duration;

use crate::big::BigResult;
use crate::blocking::BlockingResult;
use crate::calibrate::Spin;
use crate::comparison::Comparison;
use crate::config::{Config, Section};
use crate::forkjoin::ForkJoinResult;
use crate::machine::Machine;
use crate::sweep::SweepResult;

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// The arguments the binary was started with.
    pub args: String,
    /// The configuration used.
    pub config: Config,
    /// The machine.
    pub machine: Machine,
    /// The spin calibration.
    pub spin: Spin,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Wall time of each section that ran, in execution order.
    pub section_times: Vec<(Section, Duration)>,
    /// The threshold sweep, if run.
    pub sweep: Option<SweepResult>,
    /// Big inputs, if run.
    pub big: Option<BigResult>,
    /// Whole programs (empty if not run).
    pub programs: Vec<Comparison>,
    /// The seeds (empty if not run).
    pub seeds: Vec<Comparison>,
    /// Fork-join, if run.
    pub forkjoin: Option<ForkJoinResult>,
    /// Blocking items beside CPU-bound work, if run.
    pub blocking: Option<BlockingResult>,
    /// `pool.stats()` of the shared filch pool at the end of the run.
    pub filch_stats: String,
    /// Share (0–1) of the machine other processes kept busy during the run, if known.
    pub others_cpu: Option<f64>,
    /// Share (0–1) of the machine's CPU time the hypervisor stole during the run.
    pub stolen_cpu: Option<f64>,
}

impl Report {
    /// A record with nothing measured yet.
    pub fn new(args: &str, config: Config, machine: Machine, spin: Spin) -> Report {
        Report {
            args: args.to_string(),
            config,
            machine,
            spin,
            elapsed: Duration::ZERO,
            section_times: Vec::new(),
            sweep: None,
            big: None,
            programs: Vec::new(),
            seeds: Vec::new(),
            forkjoin: None,
            blocking: None,
            filch_stats: String::new(),
            others_cpu: None,
            stolen_cpu: None,
        }
    }

    /// The comparisons `section` produced (none for the sweep and blocking, whose results
    /// have shapes of their own, or for a section that did not run).
    pub fn comparisons(&self, section: Section) -> &[Comparison] {
        match section {
            Section::Big => self.big.as_ref().map_or(&[], |b| &b.comparisons),
            Section::Programs => &self.programs,
            Section::Seeds => &self.seeds,
            Section::Forkjoin => self.forkjoin.as_ref().map_or(&[], |f| &f.comparisons),
            Section::Sweep | Section::Blocking => &[],
        }
    }

    /// The comparison of `section` whose title starts with `title`.
    pub fn find(&self, section: Section, title: &str) -> Option<&Comparison> {
        let list = self.comparisons(section);
        list.iter().find(|c| c.title.starts_with(title))
    }
}
