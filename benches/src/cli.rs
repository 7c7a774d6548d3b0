//! The `filch-bench` command line, declared with `clap`'s derive: [`Options`] is what the
//! user asked for, [`Options::into_config`] turns it into a [`Config`].

use std::path::PathBuf;

use clap::Parser;

use crate::config::{Config, Mode, Section};

/// filch against a serial loop, rayon and std threads.
///
/// Each section's Markdown goes to stdout when done and a progress bar to stderr; report.md,
/// sweep.csv and the SVG plots go to the out dir.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "filch-bench", version)]
pub struct Options {
    /// Tiny sizes, 2 rounds: finishes in seconds (for CI)
    #[arg(long, visible_alias = "quick-test", group = "mode")]
    pub smoke: bool,
    /// Moderate sizes, 7 rounds: under a minute on 2 cores (the default)
    #[arg(long, group = "mode")]
    pub quick: bool,
    /// Every size, 15 rounds: several minutes on 2 cores
    #[arg(long, group = "mode")]
    pub full: bool,
    /// Where report.md and the SVG plots go [default: target/filch-report in the workspace]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Threads of the filch and rayon pools and of the std::scope split [default:
    /// available parallelism]
    #[arg(long, value_name = "N", value_parser = positive)]
    pub threads: Option<usize>,
    /// Timed rounds per comparison, after the warm-up round
    #[arg(long, value_name = "R", value_parser = positive)]
    pub rounds: Option<usize>,
    /// Sections to run (comma-separated)
    #[arg(long, value_name = "LIST", value_delimiter = ',', num_args = 1..)]
    pub only: Vec<Section>,
    /// Threshold sweep: skip cells whose serial time would exceed MS ms
    #[arg(long, value_name = "MS", value_parser = positive)]
    pub cap_ms: Option<usize>,
    /// Do not write SVG plots
    #[arg(long)]
    pub no_plots: bool,
    /// Exit with status 1 if a measured promise is not met (promises not run count as
    /// neither)
    #[arg(long)]
    pub check: bool,
    /// Passed by `cargo bench` to every bench target; ignored
    #[arg(long, hide = true)]
    pub bench: bool,
}

fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive integer, got `{text}`")),
    }
}

impl Options {
    /// The preset the mode flags pick.
    pub fn mode(&self) -> Mode {
        if self.smoke {
            Mode::Smoke
        } else if self.full {
            Mode::Full
        } else {
            Mode::Quick
        }
    }

    /// The sections `--only` selects, or every section.
    pub fn sections(&self) -> Vec<Section> {
        if self.only.is_empty() {
            Section::ALL.to_vec()
        } else {
            self.only.clone()
        }
    }

    /// The run configuration: the mode's preset with these options applied.
    /// `default_out` and `default_threads` fill in `--out` and `--threads` when absent.
    pub fn into_config(self, default_out: PathBuf, default_threads: usize) -> Config {
        let threads = self.threads.unwrap_or(default_threads);
        let out = self.out.clone().unwrap_or(default_out);
        let mut config = Config::preset(self.mode(), threads, out);
        if let Some(rounds) = self.rounds {
            config.plan.rounds = rounds;
        }
        if let Some(cap) = self.cap_ms {
            config.sweep.cap_serial_ns = (cap as u64).saturating_mul(1_000_000);
        }
        config.sections = self.sections();
        config.plots = !self.no_plots;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("filch-bench").chain(args.iter().copied()))
    }

    #[test]
    fn the_declaration_is_consistent() {
        use clap::CommandFactory;
        Options::command().debug_assert();
    }

    #[test]
    fn mode_flags_pick_the_preset_and_exclude_each_other() {
        assert_eq!(parse(&[]).unwrap().mode(), Mode::Quick);
        assert_eq!(parse(&["--full"]).unwrap().mode(), Mode::Full);
        assert_eq!(parse(&["--quick-test"]).unwrap().mode(), Mode::Smoke);
        assert!(parse(&["--full", "--quick"]).is_err());
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let err = parse(&["--threads", "0"]).unwrap_err().to_string();
        assert!(err.contains("positive") && err.contains("`0`"), "{err}");
        let err = parse(&["--only", "sweep,nope"]).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
        assert!(parse(&["--bogus"]).is_err());
    }

    #[test]
    fn only_selects_sections() {
        let o = parse(&["--only", "seeds,forkjoin"]).unwrap();
        assert_eq!(o.sections(), [Section::Seeds, Section::Forkjoin]);
        assert_eq!(parse(&[]).unwrap().sections(), Section::ALL);
    }

    #[test]
    fn options_override_the_preset() {
        let cfg = parse(&["--smoke", "--rounds=4", "--cap-ms", "7", "--no-plots"])
            .unwrap()
            .into_config(PathBuf::from("out"), 2);
        assert_eq!(cfg.mode, Mode::Smoke);
        assert_eq!(cfg.plan.rounds, 4);
        assert_eq!(cfg.sweep.cap_serial_ns, 7_000_000);
        assert!(!cfg.plots);
        assert_eq!((cfg.threads, cfg.out_dir), (2, PathBuf::from("out")));
    }
}
