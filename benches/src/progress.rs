//! Progress on stderr while the benchmarks run: an `indicatif` bar on a terminal, one plain
//! line per step otherwise (CI logs), nothing at all when disabled (tests).
//!
//! The bar is redrawn only when a step starts, never from a ticker thread, so it adds no
//! thread that could run while an experiment is timed.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress reporter counting steps (sweep cells, comparisons).
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    /// Print plain lines instead of the bar (stderr is not a terminal).
    plain: bool,
    /// Print nothing.
    silent: bool,
    done: u64,
    total: u64,
}

impl Progress {
    /// A reporter for `total` steps on stderr.
    pub fn new(total: u64) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let plain = bar.is_hidden();
        Progress {
            bar,
            plain,
            silent: false,
            done: 0,
            total,
        }
    }

    /// A reporter that prints nothing (tests, criterion).
    pub fn silent() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
            plain: false,
            silent: true,
            done: 0,
            total: 0,
        }
    }

    /// Announces the step about to run; the previous step counts as done.
    pub fn step(&mut self, what: &str) {
        if self.done > 0 {
            self.bar.inc(1);
        }
        self.done += 1;
        if self.silent {
            return;
        }
        if self.plain {
            eprintln!("[{}/{}] {what}", self.done, self.total);
        } else {
            self.bar.set_message(what.to_string());
        }
    }

    /// Prints `text` to stdout without tearing the bar.
    pub fn println(&self, text: &str) {
        if self.silent {
            return;
        }
        self.bar.suspend(|| println!("{text}"));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
