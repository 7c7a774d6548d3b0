//! Command-line parsing for the `filch-bench` binary: a small hand-written parser (the
//! option set is tiny and fixed), producing [`Options`] that [`Options::into_config`] turns
//! into a [`Config`].

use std::path::PathBuf;

use crate::config::{Config, Mode, Sections};

/// The `--help` text.
pub const HELP: &str = "\
filch-bench: filch against a serial loop, rayon and std threads

USAGE:
    cargo run --release -p filch-bench -- [OPTIONS]

MODES (pick one; default --quick):
        --smoke, --quick-test  tiny sizes, 2 rounds: finishes in seconds (for CI)
        --quick                moderate sizes, 7 rounds: under a minute on 2 cores
        --full                 every size, 15 rounds: about 4 minutes on 2 cores

OPTIONS:
        --out DIR       where report.md and the SVG plots go
                        (default: <workspace>/target/filch-report)
        --threads N     threads of the filch and rayon pools and of the std::scope split
                        (default: available parallelism)
        --rounds R      timed rounds per comparison, after the warm-up round
        --only LIST     comma-separated sections to run: sweep,big,programs,seeds,forkjoin,blocking
        --cap-ms MS     threshold sweep: skip cells whose serial time would exceed MS ms
        --no-plots      do not write SVG plots
        --check         exit with status 1 if a measured promise (the targets table) is
                        not met; promises not run count as neither
    -h, --help          print this help

OUTPUT:
    tables on stdout, a progress bar on stderr; report.md, sweep.csv and *.svg in the
    out dir
";

/// Parsed command-line options; `None` means "the mode's default".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The preset.
    pub mode: Mode,
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--threads`.
    pub threads: Option<usize>,
    /// `--rounds`.
    pub rounds: Option<usize>,
    /// `--only`.
    pub sections: Option<Sections>,
    /// `--cap-ms`.
    pub cap_ms: Option<u64>,
    /// `--no-plots` unset.
    pub plots: bool,
    /// `--check`: fail the run if a measured target is not met.
    pub check: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mode: Mode::Quick,
            out: None,
            threads: None,
            rounds: None,
            sections: None,
            cap_ms: None,
            plots: true,
            check: false,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the benchmarks.
    Run(Options),
    /// Print [`HELP`] and exit.
    Help,
}

/// Parses the arguments after the program name.
///
/// # Errors
/// A message naming the offending argument and what would be accepted.
pub fn parse<I, S>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut opts = Options::default();
    let mut args = args.into_iter().map(Into::into);
    while let Some(arg) = args.next() {
        // Accept both `--out DIR` and `--out=DIR`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--smoke" | "--quick-test" => opts.mode = Mode::Smoke,
            "--quick" => opts.mode = Mode::Quick,
            "--full" => opts.mode = Mode::Full,
            "--no-plots" => opts.plots = false,
            "--check" => opts.check = true,
            "--out" => opts.out = Some(PathBuf::from(value("--out")?)),
            "--threads" => opts.threads = Some(positive("--threads", &value("--threads")?)?),
            "--rounds" => opts.rounds = Some(positive("--rounds", &value("--rounds")?)?),
            "--cap-ms" => opts.cap_ms = Some(positive("--cap-ms", &value("--cap-ms")?)? as u64),
            "--only" => opts.sections = Some(parse_sections(&value("--only")?)?),
            // `cargo bench` passes `--bench` to every bench target, harness or not.
            "--bench" => {}
            other => {
                return Err(format!(
                    "unknown argument `{other}` (try --help for the list of options)"
                ))
            }
        }
    }
    Ok(Command::Run(opts))
}

fn positive(name: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{name} expects a positive integer, got `{text}`")),
    }
}

/// Parses `--only`'s comma-separated list.
///
/// # Errors
/// An unknown section name, or an empty list.
pub fn parse_sections(list: &str) -> Result<Sections, String> {
    let mut sections = Sections::NONE;
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name {
            "sweep" => sections.sweep = true,
            "seeds" => sections.seeds = true,
            "big" => sections.big = true,
            "programs" => sections.programs = true,
            "forkjoin" => sections.forkjoin = true,
            "blocking" => sections.blocking = true,
            other => {
                return Err(format!(
                "--only: unknown section `{other}` (expected sweep, big, programs, seeds, forkjoin or blocking)"
            ))
            }
        }
    }
    if sections == Sections::NONE {
        return Err(
            "--only needs at least one of sweep, big, programs, seeds, forkjoin, blocking"
                .to_string(),
        );
    }
    Ok(sections)
}

impl Options {
    /// The run configuration: the mode's preset with these options applied.
    /// `default_out` and `default_threads` fill in `--out` and `--threads` when absent.
    pub fn into_config(self, default_out: PathBuf, default_threads: usize) -> Config {
        let threads = self.threads.unwrap_or(default_threads);
        let mut config = Config::preset(self.mode, threads, self.out.unwrap_or(default_out));
        if let Some(rounds) = self.rounds {
            config.plan.rounds = rounds;
        }
        if let Some(sections) = self.sections {
            config.sections = sections;
        }
        if let Some(cap) = self.cap_ms {
            config.sweep.cap_serial_ns = cap.saturating_mul(1_000_000);
        }
        config.plots = self.plots;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse(args.iter().copied()).unwrap() {
            Command::Run(o) => o,
            Command::Help => panic!("unexpected help"),
        }
    }

    #[test]
    fn no_arguments_mean_quick_defaults() {
        assert_eq!(run(&[]), Options::default());
        assert_eq!(run(&[]).mode, Mode::Quick);
    }

    #[test]
    fn mode_flags_and_aliases() {
        assert_eq!(run(&["--full"]).mode, Mode::Full);
        assert_eq!(run(&["--smoke"]).mode, Mode::Smoke);
        assert_eq!(run(&["--quick-test"]).mode, Mode::Smoke);
        assert_eq!(run(&["--full", "--quick"]).mode, Mode::Quick);
    }

    #[test]
    fn check_is_off_unless_asked_for() {
        assert!(!run(&["--full"]).check);
        assert!(run(&["--smoke", "--check"]).check);
    }

    #[test]
    fn values_in_both_spellings() {
        let o = run(&[
            "--out",
            "a/b",
            "--threads=3",
            "--rounds",
            "9",
            "--cap-ms=20",
        ]);
        assert_eq!(o.out, Some(PathBuf::from("a/b")));
        assert_eq!(o.threads, Some(3));
        assert_eq!(o.rounds, Some(9));
        assert_eq!(o.cap_ms, Some(20));
    }

    #[test]
    fn help_wins_wherever_it_is() {
        assert_eq!(parse(["--full", "-h"]).unwrap(), Command::Help);
        assert_eq!(parse(["--help"]).unwrap(), Command::Help);
    }

    #[test]
    fn bad_arguments_are_named_in_the_error() {
        let err = parse(["--bogus"]).unwrap_err();
        assert!(err.contains("--bogus"), "{err}");
        let err = parse(["--threads", "0"]).unwrap_err();
        assert!(err.contains("positive") && err.contains('0'), "{err}");
        let err = parse(["--out"]).unwrap_err();
        assert!(err.contains("needs a value"), "{err}");
        let err = parse(["--only", "sweep,nope"]).unwrap_err();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn only_selects_sections() {
        let o = run(&["--only", "seeds,forkjoin"]);
        assert_eq!(
            o.sections,
            Some(Sections {
                seeds: true,
                forkjoin: true,
                ..Sections::NONE
            })
        );
        assert_eq!(
            run(&["--only", "blocking"]).sections,
            Some(Sections {
                blocking: true,
                ..Sections::NONE
            })
        );
        assert!(parse(["--only", ","]).is_err());
    }

    #[test]
    fn options_override_the_preset() {
        let cfg = run(&["--smoke", "--rounds", "4", "--cap-ms", "7", "--no-plots"])
            .into_config(PathBuf::from("out"), 2);
        assert_eq!(cfg.mode, Mode::Smoke);
        assert_eq!(cfg.plan.rounds, 4);
        assert_eq!(cfg.sweep.cap_serial_ns, 7_000_000);
        assert!(!cfg.plots);
        assert_eq!(cfg.threads, 2);
        assert_eq!(cfg.out_dir, PathBuf::from("out"));
    }
}
