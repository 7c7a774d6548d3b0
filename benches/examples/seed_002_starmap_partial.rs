//! Seed 002, "An Example of Library Multiprocessing in Python": several arguments through a
//! pool, with `starmap` and `functools.partial`. The seed times nothing; the calls themselves,
//! Python beside filch, are in `crates/filch/examples/python_calls.rs`.
//!
//! The main job's port of it, alone: what the binding styles cost over many items:
//! `pool.starmap` over pairs against a map over tuples, `pool.map(0..n, partial(g, 2))` and
//! `partial_last(g, 3)` against the closure a Rust user writes, and `pool.imap(..).collect()`
//! against `map` and against a lazy iterator with no threads, beside the plain loop and rayon.
//!
//! ```sh
//! cargo run --release -p filch-bench --example seed_002_starmap_partial
//! ```

fn main() -> Result<(), String> {
    filch_bench::run::print_seed(filch_bench::seeds::Seed::StarmapPartial)
}
