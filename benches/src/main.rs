//! `filch-bench`: `cargo run --release -p filch-bench -- [--smoke|--quick|--full] [--help]`.
//!
//! Parses the command line and hands over to [`filch_bench::run`]; everything else lives
//! in the library so the criterion benches can share it.

use std::process::ExitCode;

use clap::Parser;
use filch_bench::alloc_count::Counting;
use filch_bench::cli::Options;
use filch_bench::{run, targets};

/// Counts live bytes, for the big-input section's peak memory.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() -> ExitCode {
    let options = Options::parse();
    let check = options.check;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = options.into_config(run::default_out_dir(), run::default_threads());
    match run::run(&config, &args.join(" ")) {
        Ok((report, path)) => {
            eprintln!(
                "report written to {} ({:.1} s)",
                path.display(),
                report.elapsed.as_secs_f64()
            );
            let missed = targets::missed(&targets::evaluate(&report));
            if check && !missed.is_empty() {
                eprintln!("filch-bench: {} promises not met:", missed.len());
                for goal in &missed {
                    eprintln!("  {goal}");
                }
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("filch-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
